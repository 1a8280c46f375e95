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
# --no-history under valgrind, counted after a warm-up of 1,000 requests.
# Each oha run opens its connections anew, so the handshakes of CONNS
# connections (about 1.3M instructions each side) are part of the figure:
# keep N the same when comparing.
#
#   scripts/bench/relay-instructions.sh                       # this checkout
#   scripts/bench/relay-instructions.sh OLD_BIN NEW_BIN       # side by side
#
# Environment: N (3000), CONNS (16), KEEP (1: keep the callgrind files and
# say where, for callgrind_annotate). Installs valgrind (apt-get) if missing.
set -euo pipefail

N=${N:-3000}
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

nginx_conf upstream "
    server {
        listen 127.0.0.1:$UP_PORT ssl;
        location = / { default_type text/plain; return 200 \"hello from nginx upstream\n\"; }
    }"
mkdir -p "$DIR"/upstream-{body,proxy,fcgi,uwsgi,scgi} "$DIR/llmspy-ca"
"$NGINX" -p "$DIR" -c "$DIR/upstream.conf" 2>>"$DIR/nginx.log" &
PIDS+=($!)

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

load() { # requests
    "$OHA" -c "$CONNS" -n "$1" --no-tui --insecure --output-format json \
        -x "http://127.0.0.1:$SPY_PORT" "https://localhost:$UP_PORT/" |
        jq '[.statusCodeDistribution[]] | add // 0'
}

count() { # binary -> instructions per request
    local bin=$1 out="$DIR/callgrind.$2"
    HOME="$DIR/home" XDG_CONFIG_HOME="$DIR/home" XDG_DATA_HOME="$DIR/home" \
        LLMSPY_CA_DIR="$DIR/llmspy-ca" valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$bin" --listen "127.0.0.1:$SPY_PORT" --no-tui --no-history \
        --upstream-ca "$DIR/ca.pem" >"$DIR/llmspy-$2.log" 2>&1 &
    local pid=$!
    PIDS+=($pid)
    for _ in $(seq 1 600); do listening "$SPY_PORT" && break; sleep 0.1; done
    listening "$SPY_PORT" || { say "llmspy did not listen; see $DIR/llmspy-$2.log"; exit 1; }
    load 1000 >/dev/null
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
