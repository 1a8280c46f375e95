#!/usr/bin/env bash
# Load and faults through a real llmspy (release build): 1,000 concurrent
# SSE streams of 100 events with 100 upstream resets and 100 vanishing
# clients among them, then a 1 GiB download and a 1 GiB upload. Prints a
# table of what arrived, what was captured and llmspy's resident memory.
# Not part of .ci/run: figures are for reading (docs/benchmarks.md).
#
#   bash scripts/bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
exec cargo bench --bench load
