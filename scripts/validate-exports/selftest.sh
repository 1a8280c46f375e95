#!/usr/bin/env bash
# End-to-end check of the exporters with the real importers, on the sample
# capture of tests/it/export.rs: starts upstream.js on a free port, writes
# every format pointed at it (the ignored `write_exports_for_validation`
# test), runs run.sh on the files, and checks that newman's and bru's
# requests reached the upstream.
# Usage: scripts/validate-exports/selftest.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
upstream_pid=""
cleanup() {
  if [ -n "$upstream_pid" ]; then kill "$upstream_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

UPSTREAM_LOG="$work/requests.log" node "$here/upstream.js" 0 >"$work/upstream.out" 2>&1 &
upstream_pid=$!
for _ in $(seq 50); do
  if grep -q '^listening ' "$work/upstream.out"; then break; fi
  sleep 0.1
done
address="$(sed -n 's/^listening //p' "$work/upstream.out")"
if [ -z "$address" ]; then
  echo "FAIL upstream.js did not start:" >&2
  cat "$work/upstream.out" >&2
  exit 1
fi

mkdir -p "$work/exports"
if ! (cd "$root" && LLMSPY_EXPORT_DIR="$work/exports" LLMSPY_EXPORT_UPSTREAM="$address" \
  cargo test --quiet --test it write_exports_for_validation -- --ignored) >"$work/cargo.log" 2>&1; then
  echo "FAIL writing the sample exports:" >&2
  cat "$work/cargo.log" >&2
  exit 1
fi

"$here/run.sh" "$work/exports"

# newman and bru each send every request of the sample capture.
expected=$(($(node -e '
  const c = require(process.argv[1]);
  const n = (items) => items.reduce((s, i) => s + (i.item ? n(i.item) : 1), 0);
  console.log(n(c.item));' "$work/exports/sample.postman.json") * 2))
arrived=$(wc -l <"$work/requests.log" 2>/dev/null || echo 0)
if [ "$arrived" -ne "$expected" ]; then
  echo "FAIL the upstream saw $arrived requests; newman and bru should have sent $expected" >&2
  exit 1
fi
echo "selftest: $arrived requests reached the upstream"
