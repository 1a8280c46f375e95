#!/usr/bin/env bash
# Instructions llmspy executes per relayed request, counted by callgrind:
# the figure to compare two builds by when a change is too small for the
# req/s of scripts/bench/relay-vs-nginx.sh to show through a busy machine's
# noise (a few percent). It counts user-space instructions only, in every
# llmspy thread (the relay workers and the capture), not time, not the
# kernel's work, and not what waiting costs.
#
# Against nginx over TLS on loopback (the 26-byte answer of the nginx
# bench), `oha -c CONNS -n N` with keep-alive through llmspy --no-tui
# --no-history under valgrind, counted after a warm-up of WARM requests.
# Each oha run opens its connections anew, so the handshakes of CONNS
# connections (about 1.3M instructions each side) are part of the figure:
# keep N the same when comparing.
#
#   scripts/bench/relay-instructions.sh                       # this checkout
#   scripts/bench/relay-instructions.sh OLD_BIN NEW_BIN       # side by side
#
# With BODY_KB=K the requests are Anthropic Messages calls instead: a POST
# of a conversation of about K KiB to /v1/messages, answered with a short
# message, so the figure holds what capture spends analysing LLM traffic
# (valgrind makes that slow: BODY_KB=200 N=300 WARM=50 CONNS=4 takes about
# ten minutes for two builds).
#
# Environment: N (3000), WARM (1000), CONNS (16), BODY_KB (unset: GET /),
# KEEP (1: keep the callgrind files and say where, for callgrind_annotate),
# HTTP2 (1: oha and the upstream speak HTTP/2, and so does llmspy both ways).
# Installs valgrind (apt-get) if missing.
set -euo pipefail

N=${N:-3000}
WARM=${WARM:-1000}
CONNS=${CONNS:-16}
NGINX_WORKERS=1
UP_PORT=${PORT_BASE:-18470}
SPY_PORT=$((UP_PORT + 1))
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/llmspy-bench}

if [ $# -eq 0 ]; then
    unset LLMSPY_BIN
else
    LLMSPY_BIN=$1
fi
# shellcheck source=nginx.bash
. "$(dirname "$0")/nginx.bash"
command -v valgrind >/dev/null || as_root apt-get install -y valgrind >/dev/null
BINS=("$@")
[ $# -eq 0 ] && BINS=("$LLMSPY_BIN")

# nginx offers HTTP/2 only when asked, so the HTTP/1.1 figure's setup stays
# as it was.
if [ "${HTTP2:-}" != 1 ]; then
    H2_LISTEN=""; H2_DIRECTIVE=""
fi
MESSAGE='{"id":"msg_bench","type":"message","role":"assistant","model":"claude-bench","content":[{"type":"text","text":"Done."}],"stop_reason":"end_turn","usage":{"input_tokens":1200,"output_tokens":3}}'
nginx_conf upstream "
    server {
        listen 127.0.0.1:$UP_PORT ssl$H2_LISTEN;
        $H2_DIRECTIVE
        location = / { default_type text/plain; return 200 \"hello from nginx upstream\n\"; }
        location = /v1/messages { default_type application/json; return 200 '$MESSAGE'; }
    }"
REQUEST=(https://localhost:$UP_PORT/)
if [ -n "${BODY_KB:-}" ]; then
    # Turns of plain text, as an agent's conversation grows.
    python3 - "$BODY_KB" >"$DIR/request.json" <<'PY'
import json, sys
kb = int(sys.argv[1])
turn = "The build failed in the parser module; here is the log and the diff. " * 14
messages, size = [], 0
while size < kb * 1024:
    role = "user" if len(messages) % 2 == 0 else "assistant"
    messages.append({"role": role, "content": [{"type": "text", "text": turn}]})
    size += len(turn) + 60
if messages[-1]["role"] != "user":
    messages.append({"role": "user", "content": "Go on."})
print(json.dumps({"model": "claude-bench", "max_tokens": 1024, "system": "You are terse.", "messages": messages}))
PY
    REQUEST=(-m POST -D "$DIR/request.json" -H "content-type: application/json"
        -H "anthropic-version: 2023-06-01" -H "x-api-key: sk-bench" "https://localhost:$UP_PORT/v1/messages")
fi
mkdir -p "$DIR"/upstream-{body,proxy,fcgi,uwsgi,scgi} "$DIR/llmspy-ca"
"$NGINX" -p "$DIR" -c "$DIR/upstream.conf" 2>>"$DIR/nginx.log" &
PIDS+=($!)

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

OHA_HTTP=()
[ "${HTTP2:-}" = 1 ] && OHA_HTTP=(--http2)
load() { # requests
    "$OHA" "${OHA_HTTP[@]}" -c "$CONNS" -n "$1" --no-tui --insecure --output-format json \
        -x "http://127.0.0.1:$SPY_PORT" "${REQUEST[@]}" |
        jq '[.statusCodeDistribution[]] | add // 0'
}

# Until llmspy has closed every client connection (none established or
# waiting for it to close): under valgrind it takes a while, and a client
# connection keeps its upstream connection until it ends (pinned.rs), so
# the counted run would otherwise open new upstream connections where the
# warm-up's are about to be parked.
settled() {
    for _ in $(seq 1 600); do
        [ "$(ss -Htn state established state close-wait "( sport = :$SPY_PORT )" | wc -l)" = 0 ] && return
        sleep 0.1
    done
    say "llmspy still holds client connections after the warm-up"
}

count() { # binary -> instructions per request
    local bin=$1 out="$DIR/callgrind.$2"
    # LLMSPY_BIN is the bench's, not llmspy's (it warns of it).
    env -u LLMSPY_BIN HOME="$DIR/home" XDG_CONFIG_HOME="$DIR/home" XDG_DATA_HOME="$DIR/home" \
        LLMSPY_CA_DIR="$DIR/llmspy-ca" valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$bin" --listen "127.0.0.1:$SPY_PORT" --no-tui --no-history \
        --upstream-ca "$DIR/ca.pem" >"$DIR/llmspy-$2.log" 2>&1 &
    local pid=$!
    PIDS+=($pid)
    for _ in $(seq 1 600); do listening "$SPY_PORT" && break; sleep 0.1; done
    listening "$SPY_PORT" || { say "llmspy did not listen; see $DIR/llmspy-$2.log"; exit 1; }
    load "$WARM" >/dev/null
    settled
    callgrind_control -z "$pid" >/dev/null 2>&1
    local ok
    ok=$(load "$N")
    callgrind_control -d "$pid" >/dev/null 2>&1
    kill "$pid"; wait "$pid" 2>/dev/null || true
    [ "$ok" = "$N" ] || say "only $ok of $N requests answered 200-599"
    local total
    total=$(callgrind_annotate "$out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
    echo $((total / ok))
}

printf '%-50s %14s\n' "llmspy build" "instr/request"
first=""
for i in "${!BINS[@]}"; do
    per=$(count "${BINS[$i]}" "$i")
    printf '%-50s %14s' "${BINS[$i]}" "$per"
    if [ -n "$first" ]; then
        awk -v a="$first" -v b="$per" 'BEGIN { printf "   %.3f× the first\n", b / a }'
    else
        echo
        first=$per
    fi
done
if [ "${KEEP:-0}" = 1 ]; then
    trap - EXIT
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    say "callgrind files kept in $DIR (callgrind_annotate $DIR/callgrind.0.1)"
fi
