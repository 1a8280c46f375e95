#!/usr/bin/env bash
# Check llmspy's exports with the tools that import them:
#   DIR/*.har                    har-validator (HAR 1.2 schema)
#   DIR/*openapi*.json|yaml|yml  openapi-spec-validator
#   DIR/*.postman.json           newman run   (sends every request)
#   DIR/*.bruno.zip              unzipped, every .bru parsed by Bruno's own
#                                parser, then bru run (sends every request)
#
# newman and bru really send the exported requests, so the URLs in the
# exports must point at an upstream that is running (for example
# `node scripts/validate-exports/upstream.js PORT`). Both runs must send as
# many requests as the collection holds, so a request an importer skipped
# counts as a failure.
#
# Installs what it needs into the project on first use (and again when the
# pinned versions change): scripts/validate-exports/node_modules via
# `npm ci`, and a Python venv at .venv-validate (override with
# LLMSPY_VALIDATE_VENV). Needs node >= 18, npm, python3 with venv, unzip.
#
# Quiet on success (one summary line); on failure prints each tool's
# output for the file that failed, and exits 1. Exit 2: bad usage or an
# install that failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 DIR   (a directory holding exported files)" >&2
  exit 2
fi
dir="$(cd "$1" && pwd)"
venv="${LLMSPY_VALIDATE_VENV:-$root/.venv-validate}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=0
checked=()

fail() {
  echo "FAIL $1" >&2
  if [ -s "$2" ]; then sed 's/^/    /' "$2" >&2; fi
  failed=1
}

# Install the node tools when the lock file changed since the last install.
install_node() {
  local stamp="$here/node_modules/.llmspy-installed-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json"; then
    return
  fi
  if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1; then
    fail "npm ci in $here" "$work/npm.log"
    exit 2
  fi
  cp "$here/package-lock.json" "$stamp"
}

# Create the venv and install openapi-spec-validator when requirements changed.
install_python() {
  local stamp="$venv/.llmspy-installed-requirements"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$here/requirements.txt"; then
    return
  fi
  if ! { python3 -m venv "$venv" &&
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"; } \
    >"$work/pip.log" 2>&1; then
    fail "installing openapi-spec-validator into $venv" "$work/pip.log"
    exit 2
  fi
  cp "$here/requirements.txt" "$stamp"
}

shopt -s nullglob
hars=("$dir"/*.har)
openapis=("$dir"/*openapi*.json "$dir"/*openapi*.yaml "$dir"/*openapi*.yml)
postmans=("$dir"/*.postman.json)
brunos=("$dir"/*.bruno.zip)
shopt -u nullglob

total=$((${#hars[@]} + ${#openapis[@]} + ${#postmans[@]} + ${#brunos[@]}))
if [ "$total" -eq 0 ]; then
  echo "FAIL nothing to validate in $dir (expected *.har, *openapi*.json, *.postman.json, *.bruno.zip)" >&2
  exit 1
fi

if [ $((${#hars[@]} + ${#postmans[@]} + ${#brunos[@]})) -gt 0 ]; then
  install_node
fi
if [ ${#openapis[@]} -gt 0 ]; then
  install_python
fi

for f in "${hars[@]}"; do
  if node "$here/validate-har.js" "$f" >"$work/har.log" 2>&1; then
    checked+=("HAR $(basename "$f")")
  else
    fail "HAR 1.2 schema: $f" "$work/har.log"
  fi
done

for f in "${openapis[@]}"; do
  if "$venv/bin/openapi-spec-validator" "$f" >"$work/openapi.log" 2>&1; then
    checked+=("OpenAPI $(basename "$f")")
  else
    fail "openapi-spec-validator: $f" "$work/openapi.log"
  fi
done

for f in "${postmans[@]}"; do
  report="$work/newman.json"
  if ! "$here/node_modules/.bin/newman" run "$f" --reporters cli,json --color off \
    --reporter-json-export "$report" --timeout-request 30000 >"$work/newman.log" 2>&1; then
    fail "newman run $f" "$work/newman.log"
    continue
  fi
  # Every item must have been sent: compare with the collection's requests.
  if ! node "$here/check-counts.js" postman "$f" "$report" >"$work/count.log" 2>&1; then
    fail "newman run $f" "$work/count.log"
    continue
  fi
  checked+=("Postman $(basename "$f")")
done

for f in "${brunos[@]}"; do
  coll="$work/bruno-$(basename "$f" .zip)"
  mkdir -p "$coll"
  if ! unzip -q "$f" -d "$coll" >"$work/unzip.log" 2>&1; then
    fail "unzip $f" "$work/unzip.log"
    continue
  fi
  if ! node "$here/check-bruno.js" "$coll" >"$work/parse.log" 2>&1; then
    fail "Bruno's parser (collection from $f)" "$work/parse.log"
    continue
  fi
  report="$work/bru.json"
  if ! (cd "$coll" && "$here/node_modules/.bin/bru" run -r --output "$report" --format json) \
    >"$work/bru.log" 2>&1; then
    fail "bru run (collection from $f)" "$work/bru.log"
    continue
  fi
  if ! node "$here/check-counts.js" bruno "$coll" "$report" >"$work/count.log" 2>&1; then
    fail "bru run (collection from $f)" "$work/count.log"
    continue
  fi
  checked+=("Bruno $(basename "$f")")
done

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "exports valid: ${checked[*]}"
