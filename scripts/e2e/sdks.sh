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
# (scripts/sdk/check.py). Loopback only. Quiet on success: one table.
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

work="$(mktemp -d)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

E2E_NAME=sdks.sh
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"

# Nothing here may go through a proxy the caller happens to have set.
e2e_no_proxy

# 1. The virtualenv, reinstalled when the pins change.
# shellcheck source=../sdk/venv.bash
. "$sdk/venv.bash"
sdk_venv "$venv" "$work/pip.log" ||
  die "installing the SDKs into $venv failed" "$work/pip.log"

# 2. llmspy, the release build the other scripts share.
bin="$(e2e_binary "$work/build.log")"

# 3. The fake upstream: writes its CA, then its port once it listens.
"$py" "$sdk/upstream.py" "$work/up" >"$work/upstream.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  [ -s "$work/up/port" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || die "the fake upstream exited" "$work/upstream.log"
  sleep 0.1
done
[ -s "$work/up/port" ] || die "the fake upstream did not start within 30 s" "$work/upstream.log"
up_port="$(cat "$work/up/port")"

# 4. llmspy on a free loopback port, trusting the upstream's CA. A port
# taken between choosing and binding makes llmspy exit: try again.
echo '{}' >"$work/config.json"
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
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
ready=""
for _attempt in 1 2 3; do
  port="$(free_port)"
  "$bin" --no-tui --listen "127.0.0.1:$port" --ca-dir "$work/ca" \
    --upstream-ca "$work/up/ca.pem" --config "$work/config.json" >"$work/llmspy.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do
    if status "$port"; then
      ready=1
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$ready" ] && break
  kill "$pid" 2>/dev/null || true
done
[ -n "$ready" ] || die "llmspy did not answer PUT /llmspy/status" "$work/llmspy.log"

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
if [ -n "${SDK_E2E_VERBOSE:-}" ]; then
  cat "$work/upstream.log" "$work/llmspy.log" >&2
fi
echo "sdks.sh: all SDK scenarios passed through llmspy in $((SECONDS - start)) s"
