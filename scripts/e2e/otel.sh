#!/usr/bin/env bash
# OpenTelemetry export end to end, against a receiver built on the official
# opentelemetry-proto package (scripts/otel/receiver.py, OTLP/HTTP and gRPC).
#
# llmspy answers an agent's traffic from mock expectations
# (scripts/otel/expectations.json): two Anthropic turns with an MCP
# tools/call between them, and a streamed OpenAI chat, all sent with curl
# through the proxy. Four llmspy runs, told apart by OTEL_SERVICE_NAME:
#   http     --otlp URL (HTTP/protobuf): spans, attributes, traces, metrics
#   content  --otlp-content: messages present, secrets still absent
#   grpc     OTEL_EXPORTER_OTLP_ENDPOINT + OTEL_EXPORTER_OTLP_PROTOCOL=grpc
#   late     the collector is down while traffic flows; the relay answers,
#            llmspy stays up, and the spans arrive once a collector listens
# scripts/otel/check.py checks each. Loopback only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/scripts/otel"
venv="${LLMSPY_OTEL_VENV:-$root/.venv-otel}"
py="$venv/bin/python"
start=$SECONDS

E2E_NAME=otel.sh
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
e2e_workdir
e2e_no_proxy
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_EXPORTER_OTLP_PROTOCOL \
  OTEL_EXPORTER_OTLP_HEADERS OTEL_SERVICE_NAME OTEL_RESOURCE_ATTRIBUTES

e2e_venv "$venv" "opentelemetry-proto and grpcio" "$here/requirements.txt"
bin="$(e2e_binary "$work/build.log")"

secret="sk-ant-api03-otel-e2e-secret-0123456789"
body_secret="pw-otel-e2e-body-secret-42"

# wait_for FILE LOG: until FILE exists (bounded).
wait_for() {
  e2e_wait_for 300 test -s "$1" || die "timed out waiting for $(basename "$1")" "$2"
}

start_receiver() { # OUT HTTP_PORT GRPC_PORT
  "$py" "$here/receiver.py" "$1" "$2" "$3" "$secret" "$body_secret" >"$1.log" 2>&1 &
  pids+=($!)
  wait_for "$1/ready" "$1.log"
}

addr=""
start_llmspy() { # NAME ARGS…
  local name="$1"
  shift
  OTEL_SERVICE_NAME="llmspy-$name" e2e_llmspy "$work/$name.out" "$work/$name.log" \
    --listen 127.0.0.1:0 --ca-dir "$work/ca" --init "$here/expectations.json" "$@"
  addr="$llmspy_addr"
}

stop_llmspy() { # NAME: SIGTERM, which flushes the exporter
  kill -TERM "$llmspy_pid"
  wait "$llmspy_pid" || die "llmspy ($1) did not stop cleanly" "$work/$1.log"
}

agent() { # NAME: the agent's calls through llmspy, each answered
  local c=(curl -sS --fail --max-time 20 --noproxy '' -x "http://$addr" --cacert "$work/ca/llmspy-ca.pem"
    -H "content-type: application/json")
  "${c[@]}" -H "x-api-key: $secret" https://api.anthropic.test/v1/messages \
    -d "{\"model\":\"claude-t\",\"max_tokens\":256,\"password\":\"$body_secret\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Oslo?\"}]}" \
    >"$work/$1.turn1" || die "turn 1 through llmspy ($1)" "$work/$1.log"
  grep -q mcp__weather__forecast "$work/$1.turn1" || die "turn 1 answer ($1)" "$work/$1.turn1"
  "${c[@]}" -H "mcp-session-id: sess-42" https://mcp.weather.test/mcp \
    -d '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"forecast","arguments":{"city":"Oslo"}}}' \
    >"$work/$1.mcp" || die "MCP call through llmspy ($1)" "$work/$1.log"
  "${c[@]}" -H "x-api-key: $secret" https://api.anthropic.test/v1/messages \
    -d '{"model":"claude-t","max_tokens":256,"messages":[{"role":"user","content":"Weather in Oslo?"},{"role":"assistant","content":[{"type":"text","text":"Let me look."},{"type":"tool_use","id":"toolu_1","name":"mcp__weather__forecast","input":{"city":"Oslo"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"}]}]}' \
    >"$work/$1.turn2" || die "turn 2 through llmspy ($1)" "$work/$1.log"
  "${c[@]}" -N -H "authorization: Bearer $secret" https://api.openai.test/v1/chat/completions \
    -d '{"model":"gpt-t","stream":true,"messages":[{"role":"user","content":"Hi"}]}' \
    >"$work/$1.chat" || die "streamed chat through llmspy ($1)" "$work/$1.log"
  grep -q '\[DONE\]' "$work/$1.chat" || die "the streamed chat was cut ($1)" "$work/$1.chat"
}

check() { # NAME MODE [metrics]
  "$py" "$here/check.py" "$work/rx" "llmspy-$1" "${@:2}" >>"$work/summary" 2>"$work/$1.check" ||
    die "what the receiver got from llmspy ($1) is wrong" "$work/$1.check" "$work/$1.log"
}

start_receiver "$work/rx" 0 0
http_port="$(cat "$work/rx/http_port")"
grpc_port="$(cat "$work/rx/grpc_port")"

start_llmspy http --otlp "http://127.0.0.1:$http_port"
agent http
stop_llmspy http
check http no-content metrics

start_llmspy content --otlp "http://127.0.0.1:$http_port" --otlp-content
agent content
stop_llmspy content
check content content

OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$grpc_port" OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
  start_llmspy grpc
agent grpc
stop_llmspy grpc
check grpc no-content

# A collector that is not there yet: the relay answers and llmspy stays up.
late_port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
start_llmspy late --otlp "http://127.0.0.1:$late_port"
agent late
kill -0 "$llmspy_pid" || die "llmspy exited while the collector was down" "$work/late.log"
# The first export attempt fails a moment after the traffic; its error shows in the status.
export_error() {
  curl -sS --noproxy '*' -X PUT "http://$addr/llmspy/status" |
    "$py" -c 'import json, sys; print(json.load(sys.stdin)["otlp"]["lastError"] or "")'
}
error=""
for _ in $(seq 1 100); do
  error="$(export_error)"
  [ -n "$error" ] && break
  sleep 0.1
done
[ -n "$error" ] || die "no export error reported while the collector was down" "$work/late.log"
start_receiver "$work/rx-late" "$late_port" 0
for _ in $(seq 1 300); do
  [ "$(cat "$work/rx-late/traces.jsonl" 2>/dev/null | wc -l)" -gt 0 ] &&
    "$py" "$here/check.py" "$work/rx-late" llmspy-late no-content >/dev/null 2>&1 && break
  sleep 0.1
done
stop_llmspy late
"$py" "$here/check.py" "$work/rx-late" llmspy-late no-content >>"$work/summary" 2>"$work/late.check" ||
  die "the spans did not arrive once the collector came up" "$work/late.check" "$work/late.log"

cat "$work/summary"
echo "otel.sh: OTLP export checked over HTTP and gRPC, with and without content, and across a collector outage in $((SECONDS - start)) s"
