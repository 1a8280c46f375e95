#!/usr/bin/env bash
# Long fuzzing runs with cargo-fuzz (needs a nightly toolchain and
# `cargo install cargo-fuzz`). Each target runs for SECONDS (default 600),
# starting from the seed corpus taken from fixtures/ (written by
# tests/it/fuzz.rs), and reports the runs it made. A panic, a hang (any
# input over 10 s) or an allocation past the RSS limit stops it with the
# input saved under fuzz/artifacts/TARGET/.
#
#   bash fuzz/run.sh            # every target, 10 minutes each
#   bash fuzz/run.sh 60 socks5  # one target, one minute
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sniff socks5 sse grpc llm mcp filter expectations har saved)
fi

FUZZ_SEEDS_DIR="$PWD/fuzz/corpus" cargo test -q --test it fuzz::write_seed_corpus >/dev/null
mkdir -p fuzz/logs
cd fuzz
for target in "${targets[@]}"; do
  printf '==> %s for %s s\n' "$target" "$seconds"
  cargo +nightly fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    >"logs/$target.log" 2>&1 || { tail -40 "logs/$target.log"; exit 1; }
  grep -E '^Done [0-9]+ runs' "logs/$target.log" || tail -3 "logs/$target.log"
done
