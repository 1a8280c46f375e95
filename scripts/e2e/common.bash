# Sourced by the end-to-end scripts (its name does not end in .sh, so
# .ci/run does not run it on its own). Set E2E_NAME and `work` first.
#
#   die MSG [FILE…]       say what failed, show the tail of each log, exit 1
#   e2e_no_proxy          forget any proxy the caller's shell has set
#   e2e_binary [LOG]      print llmspy's path: $LLMSPY_BIN, or a fresh
#                         release build (its output to LOG)

die() {
  echo "$E2E_NAME: FAIL: $1" >&2
  local f
  for f in "${@:2}"; do
    if [ -s "$f" ]; then
      echo "--- $(basename "$f") (last 40 lines)" >&2
      tail -n 40 "$f" >&2
    fi
  done
  exit 1
}

e2e_no_proxy() {
  unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy NO_PROXY no_proxy
}

e2e_binary() {
  local log="${1:-/dev/null}" root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  local bin="${LLMSPY_BIN:-}"
  if [ -z "$bin" ]; then
    (cd "$root" && timeout 1200 cargo build --release --quiet --bin llmspy) >"$log" 2>&1 ||
      die "cargo build --release failed" "$log"
    bin="${CARGO_TARGET_DIR:-$root/target}/release/llmspy"
  fi
  [ -x "$bin" ] || die "no llmspy binary at $bin"
  printf '%s\n' "$bin"
}
