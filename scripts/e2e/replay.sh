#!/usr/bin/env bash
# Record once, replay offline, with the real SDKs (scripts/sdk/replay.py):
# the Anthropic and OpenAI SDKs and boto3's bedrock-runtime (binary event
# streams) through llmspy to the fake upstream; the
# fixture from `llmspy record` and PUT /llmspy/fixtures/record, with no
# secret in it; the official MCP client on /llmspy/mcp; a stdio MCP server
# under `llmspy mcp-stdio`; then a fresh llmspy with only
# `--init fixture.json --replay-strict` and no upstream, answering the SDKs
# exactly as recorded. Loopback only. Quiet on success: one line.
#
# Environment: LLMSPY_BIN (use this binary instead of building the release
# one), LLMSPY_SDK_VENV (default .venv-sdk, shared with sdks.sh),
# REPLAY_E2E_KEEP=DIR (keep the fixtures and logs in DIR).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
sdk="$root/scripts/sdk"
venv="${LLMSPY_SDK_VENV:-$root/.venv-sdk}"
start=$SECONDS

E2E_NAME=replay.sh
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
e2e_workdir "${REPLAY_E2E_KEEP:-}"

# Nothing here may go through a proxy the caller happens to have set.
e2e_no_proxy

e2e_venv "$venv" "the SDKs"

bin="$(e2e_binary "$work/build.log")"

# replay.py starts and stops every process itself; `timeout` bounds it
# and its TERM makes it stop them.
timeout --kill-after=10 120 "$venv/bin/python" "$sdk/replay.py" --bin "$bin" --work "$work/run" \
  >"$work/replay.out" 2>"$work/replay.err" &
pids=($!)
rc=0
wait "${pids[0]}" || rc=$?
pids=()
if [ "$rc" -eq 124 ]; then
  die "timed out after 120 s" "$work/replay.err" "$work/run/llmspy-record.log" \
    "$work/run/llmspy-replay.log" "$work/run/upstream.log"
fi
if [ "$rc" -ne 0 ]; then
  cat "$work/replay.err" >&2
  die "record and replay failed ($((SECONDS - start)) s)"
fi
cat "$work/replay.out"
