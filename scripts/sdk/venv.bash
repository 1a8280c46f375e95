# Sourced by the scripts in scripts/e2e that run the real Python SDKs: the
# shared virtualenv, reinstalled when the pins in requirements.txt change.
#
#   sdk_venv VENV LOG [REQS]   make VENV hold REQS (default
#                        scripts/sdk/requirements.txt); pip's output goes to
#                        LOG; non-zero on failure.

sdk_venv() {
  local venv="$1" log="$2"
  local reqs="${3:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/requirements.txt}"
  local stamp="$venv/.llmspy-sdk-requirements"
  if [ -x "$venv/bin/python" ] && cmp -s "$stamp" "$reqs"; then
    return 0
  fi
  rm -rf "$venv"
  { python3 -m venv "$venv" &&
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$reqs"; } >"$log" 2>&1 ||
    return 1
  cp "$reqs" "$stamp"
}
