#!/usr/bin/env bash
# Timed fuzzing on stable Rust (release build): every llmspy::fuzz target,
# or the ones named, for SECONDS each (default 600), with a 10 s limit per
# case (hang) and a 256 MiB allocation cap per case. Prints cases run per
# target; a finding stops the run with its input under fuzz/artifacts/.
#
#   bash scripts/bench/fuzz.sh                 # everything, 10 minutes each
#   bash scripts/bench/fuzz.sh 60 sniff socks5 # two targets, a minute each
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-600}"
shift || true
LLMSPY_FUZZ_SECONDS="$seconds" exec cargo bench --bench fuzz -- "$@"
