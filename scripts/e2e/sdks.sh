#!/usr/bin/env bash
# The real SDKs through the real proxy.
#
# Installs the pinned Python SDKs (anthropic, openai, google-genai, ollama,
# mcp, boto3) into .venv-sdk, starts a fake HTTPS upstream on 127.0.0.1 with
# its own CA (scripts/sdk/upstream.py: every provider's wire format, plain and
# streamed, Bedrock's event streams, Vertex AI and Azure OpenAI paths, a
# real MCP server at /mcp, a WebSocket echo and a scripted OpenAI Realtime
# session, over TLS and plain HTTP), starts llmspy in front of it,
# runs each SDK through llmspy with the variables `llmspy env` prints, and
# checks what each SDK received and what llmspy captured and extracted
# (scripts/sdk/check.py), then a gRPC call and an error status through llmspy
# (scripts/sdk/grpc_check.py). Loopback only. Quiet on success: one table.
#
# Environment: LLMSPY_BIN (use this binary instead of building the release
# one), LLMSPY_SDK_VENV (default .venv-sdk), SDK_E2E_VERBOSE=1 (show logs),
# SDK_E2E_DUMP=FILE (keep what llmspy's retrieve API returned).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
sdk="$root/scripts/sdk"
venv="${LLMSPY_SDK_VENV:-$root/.venv-sdk}"
py="$venv/bin/python"
start=$SECONDS

E2E_NAME=sdks.sh
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
e2e_workdir

# Nothing here may go through a proxy the caller happens to have set.
e2e_no_proxy

# 1. The virtualenv, reinstalled when the pins change.
e2e_venv "$venv" "the SDKs"

# 2. llmspy, the release build the other scripts share.
bin="$(e2e_binary "$work/build.log")"

# 3. The fake upstream: writes its CA, then its port once it listens.
"$py" "$sdk/upstream.py" "$work/up" >"$work/upstream.log" 2>&1 &
pids+=($!)
e2e_await "${pids[0]}" 300 test -s "$work/up/port" ||
  die "the fake upstream exited or wrote no port within 30 s" "$work/upstream.log"
up_port="$(cat "$work/up/port")"

# 4. llmspy on a loopback port it picks, trusting the upstream's CA; its
# control API must answer.
echo '{}' >"$work/config.json"
status() {
  "$py" - "$1" <<'EOF'
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/llmspy/status", data=b"", method="PUT")
try:
    with opener.open(req, timeout=1) as r:
        sys.exit(0 if r.status == 200 else 1)
except OSError:
    sys.exit(1)
EOF
}
e2e_llmspy "$work/llmspy.log" "$work/llmspy.log" --listen 127.0.0.1:0 --ca-dir "$work/ca" \
  --upstream-ca "$work/up/ca.pem" --config "$work/config.json"
port="${llmspy_addr##*:}"
e2e_await "$llmspy_pid" 100 status "$port" ||
  die "llmspy did not answer PUT /llmspy/status" "$work/llmspy.log"

# 5. The SDKs, through llmspy: the variables `llmspy env` prints, and no
# NO_PROXY exemption for localhost.
eval "$("$bin" env --listen "127.0.0.1:$port" --ca-dir "$work/ca")"
unset NO_PROXY no_proxy
[ -n "${HTTPS_PROXY:-}" ] && [ -s "${SSL_CERT_FILE:-}" ] ||
  die "llmspy env did not set HTTPS_PROXY and SSL_CERT_FILE"

rc=0
"$py" "$sdk/check.py" \
  --upstream "https://localhost:$up_port" \
  --llmspy "http://127.0.0.1:$port" \
  --state "$work/up" \
  --pricing "$root/assets/pricing.json" \
  ${SDK_E2E_DUMP:+--dump "$SDK_E2E_DUMP"} >"$work/check.out" 2>"$work/check.err" || rc=$?
cat "$work/check.out"
if [ "$rc" -ne 0 ] || [ -n "${SDK_E2E_VERBOSE:-}" ]; then
  cat "$work/check.err" >&2
fi
if [ "$rc" -ne 0 ]; then
  die "real SDKs through llmspy: mismatches above ($((SECONDS - start)) s)" \
    "$work/upstream.log" "$work/llmspy.log"
fi
# 6. gRPC (Vertex AI's SDK speaks it by default): a grpcio server on
# loopback with the fake upstream's leaf, a grpcio client through llmspy.
"$py" "$sdk/grpc_check.py" --state "$work/up" --llmspy "http://127.0.0.1:$port" \
  --ca "$work/ca/llmspy-ca.pem" >"$work/grpc.out" 2>"$work/grpc.err" ||
  die "gRPC through llmspy: $(cat "$work/grpc.err")" "$work/llmspy.log"
cat "$work/grpc.out"
if [ -n "${SDK_E2E_VERBOSE:-}" ]; then
  cat "$work/upstream.log" "$work/llmspy.log" >&2
fi
echo "sdks.sh: all SDK scenarios passed through llmspy in $((SECONDS - start)) s"
