#!/usr/bin/env bash
# Relay throughput on loopback, in one run: direct to nginx over TLS, through
# a second nginx acting as a TLS reverse proxy (the anchor), through llmspy
# (capture on), and through mitmdump when it is installed. Prints each
# figure and its ratio to direct and to the nginx proxy of the same round.
#
# Installs what it lacks: nginx (Debian/Ubuntu packages) and oha (cargo).
# Everything else lives in a temp dir: a throwaway CA and leaf made with
# openssl, both nginx configs, llmspy's CA dir and home.
#
#   scripts/bench/relay-vs-nginx.sh            # 16 connections, 8 s per run
#   DURATION=5s ROUNDS=3 scripts/bench/relay-vs-nginx.sh
#
# Environment: DURATION (8s), CONNS (16), ROUNDS (1), PROTOS ("1.1 2"),
# NGINX_WORKERS (2), LLMSPY_BIN (else a release build of this checkout),
# LLMSPY_BASELINE_BIN (a second llmspy build, e.g. main's, measured alongside),
# HISTORY (1: also run llmspy with its SQLite history on, and print on ÷ off
# and the CPU its writer thread spent per request),
# (with HISTORY or LLMSPY_BASELINE_BIN, the llmspy variants run in one order
# in odd rounds and the other in even ones: use an even ROUNDS to compare),
# TRANSFER_MB (100; 0 skips the download/upload runs), TRANSFER_ROUNDS (6),
# TRANSFER_HTTP (1.1, or 2: the transfers' HTTP version between curl and the proxy),
# PORT_BASE (18440), BENCH_TMP (where the temp dir goes: /dev/shm if it can).
# It is a benchmark, not a test: it never fails on a figure.
set -euo pipefail

DURATION=${DURATION:-8s}
CONNS=${CONNS:-16}
ROUNDS=${ROUNDS:-1}
PROTOS=${PROTOS:-"1.1 2"}
NGINX_WORKERS=${NGINX_WORKERS:-2}
TRANSFER_MB=${TRANSFER_MB:-100}
TRANSFER_ROUNDS=${TRANSFER_ROUNDS:-6}
TRANSFER_HTTP=${TRANSFER_HTTP:-1.1}
PORT_BASE=${PORT_BASE:-18440}
UP_PORT=$PORT_BASE
NGX_PORT=$((PORT_BASE + 1))
SPY_PORT=$((PORT_BASE + 2))
MITM_PORT=$((PORT_BASE + 3))
BASE_PORT=$((PORT_BASE + 4))
HIST_PORT=$((PORT_BASE + 5))
HISTORY=${HISTORY:-0}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/llmspy-bench}

# shellcheck source=nginx.bash
. "$(dirname "$0")/nginx.bash"

# The upstream: a 26-byte answer, a file to download, a sink to upload to.
head -c $((TRANSFER_MB * 1024 * 1024)) /dev/zero >"$DIR/big.bin"
chmod 644 "$DIR/big.bin"
nginx_conf upstream "
    server {
        listen 127.0.0.1:$UP_PORT ssl$H2_LISTEN;
        $H2_DIRECTIVE
        location = / { default_type text/plain; return 200 \"hello from nginx upstream\n\"; }
        location = /big.bin { root $DIR; }
        # A PUT stored as a file: nginx answers only once it read it all
        # (a plain 'return' answers first, and nothing needs to be sent).
        location = /upload { root $DIR/put; dav_methods PUT; }
    }"

# The anchor: nginx as a TLS reverse proxy with a keep-alive upstream pool.
nginx_conf proxy "
    upstream up { server 127.0.0.1:$UP_PORT; keepalive 64; }
    server {
        listen 127.0.0.1:$NGX_PORT ssl$H2_LISTEN;
        $H2_DIRECTIVE
        location / {
            proxy_pass https://up;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host localhost:$UP_PORT;
            proxy_ssl_session_reuse on;
            proxy_ssl_verify on;
            proxy_ssl_name localhost;
            proxy_ssl_server_name on;
            proxy_ssl_trusted_certificate $DIR/ca.pem;
            proxy_request_buffering off;
        }
    }"

mkdir -p "$DIR"/{upstream,proxy}-{body,proxy,fcgi,uwsgi,scgi} "$DIR/llmspy-ca" "$DIR/put"
chmod 777 "$DIR"/*-body "$DIR/put"
"$NGINX" -p "$DIR" -c "$DIR/upstream.conf" 2>>"$DIR/nginx.log" &
PIDS+=($!)
UP_PID=$!
"$NGINX" -p "$DIR" -c "$DIR/proxy.conf" 2>>"$DIR/nginx.log" &
PIDS+=($!)
NGX_PROXY_PID=$!

start_llmspy() { # binary, port, name, [history flag]
    mkdir -p "$DIR/$3-home"
    # The bench's own LLMSPY_* variables are not llmspy's (it warns of them).
    env -u LLMSPY_BIN -u LLMSPY_BASELINE_BIN HOME="$DIR/$3-home" XDG_CONFIG_HOME="$DIR/$3-home" XDG_DATA_HOME="$DIR/$3-home" \
        LLMSPY_CA_DIR="$DIR/llmspy-ca" "$1" --listen "127.0.0.1:$2" \
        --no-tui "${4:---no-history}" --upstream-ca "$DIR/ca.pem" >"$DIR/$3.log" 2>&1 &
    PIDS+=($!)
    STARTED_PID=$!
}
start_llmspy "$LLMSPY_BIN" "$SPY_PORT" llmspy
SPY_PID=$STARTED_PID
BASELINE=${LLMSPY_BASELINE_BIN:-}
if [ -n "$BASELINE" ]; then
    # Same CA dir: wait for the first to create the CA, so both share it.
    for _ in $(seq 1 200); do [ -s "$DIR/llmspy-ca/llmspy-ca.pem" ] && break; sleep 0.05; done
    start_llmspy "$BASELINE" "$BASE_PORT" baseline
    BASE_PID=$STARTED_PID
fi
if [ "$HISTORY" = 1 ]; then
    for _ in $(seq 1 200); do [ -s "$DIR/llmspy-ca/llmspy-ca.pem" ] && break; sleep 0.05; done
    start_llmspy "$LLMSPY_BIN" "$HIST_PORT" history --history="$DIR/history.sqlite"
    HIST_PID=$STARTED_PID
fi

MITM=""
if command -v mitmdump >/dev/null; then
    mitmdump -q --listen-host 127.0.0.1 -p "$MITM_PORT" --set confdir="$DIR/mitm" \
        --set ssl_verify_upstream_trusted_ca="$DIR/ca.pem" >"$DIR/mitm.log" 2>&1 &
    PIDS+=($!)
    MITM=1
fi

wait_port() { # port
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    say "nothing listens on port $1; logs in $DIR:"; cat "$DIR"/*.log >&2; exit 1
}
for p in "$UP_PORT" "$NGX_PORT" "$SPY_PORT"; do wait_port "$p"; done
[ -n "$BASELINE" ] && wait_port "$BASE_PORT"
[ "$HISTORY" = 1 ] && wait_port "$HIST_PORT"
[ -n "$MITM" ] && wait_port "$MITM_PORT"
for _ in $(seq 1 100); do [ -s "$DIR/mitm/mitmproxy-ca-cert.pem" ] || [ -z "$MITM" ] && break; sleep 0.05; done

URL_DIRECT="https://localhost:$UP_PORT"
URL_NGX="https://localhost:$NGX_PORT"
SPY_CA="$DIR/llmspy-ca/llmspy-ca.pem"
MITM_CA="$DIR/mitm/mitmproxy-ca-cert.pem"

# Trust: oha takes a CA file when it can; otherwise it skips verification,
# for every target alike (keep-alive makes that a per-connection cost).
OHA_HELP=$("$OHA" --help)
oha_trust() { # ca file
    if grep -q -- '--cacert' <<<"$OHA_HELP"; then echo "--cacert $1"; else echo "--insecure"; fi
}
OHA_JSON="--output-format json"
grep -q -- '--output-format' <<<"$OHA_HELP" || OHA_JSON="--json"

# --- runs ------------------------------------------------------------------

# CPU time in nanoseconds (user + system, the scheduler's own count in
# /proc/PID/task/*/schedstat) of a process's threads and its children's (the
# nginx master's workers): a proxy's cost per request, which other load on
# the machine skews far less than its req/s. /proc/PID/stat counts in clock
# ticks of 10 ms, too coarse for a 100 ms transfer.
task_ns() { # /proc/PID/task/TID ...
    local t total=0 ran
    for t in "$@"; do
        read -r ran _ <"$t/schedstat" 2>/dev/null || continue
        total=$((total + ran))
    done
    echo "$total"
}
cpu_ns() { # pid
    local p total=0
    for p in "$1" $(pgrep -P "$1" || true); do
        total=$((total + $(task_ns /proc/"$p"/task/*)))
    done
    echo "$total"
}

# Kernel time in clock ticks (the stime of /proc/PID/task/*/stat) of a
# process's threads and its children's. Ticks are coarse (10 ms), but a
# load run of a few seconds holds hundreds of them: with the CPU time above
# it splits a request's cost into the kernel's (socket calls, loopback TCP,
# wake-ups: the same calls for any proxy) and the proxy's own.
sys_ticks() { # pid
    local p t total=0 stat fields
    for p in "$1" $(pgrep -P "$1" || true); do
        for t in /proc/"$p"/task/*; do
            stat=$(cat "$t/stat" 2>/dev/null) || continue
            # Past the command name, which may hold spaces: stime (field
            # 15) is the 13th after the closing parenthesis.
            read -r -a fields <<<"${stat##*) }"
            total=$((total + ${fields[12]:-0}))
        done
    done
    echo "$total"
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# CPU time of the threads of a process named NAME (llmspy's history writer
# is `llmspy-history`): what one part of llmspy costs per request.
thread_ns() { # pid, name
    local t named=()
    for t in /proc/"$1"/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && named+=("$t")
    done
    task_ns "${named[@]}"
}

load() { # proto, url, ca, [proxy, proxy pid]  -> "rps p50_ms p99_ms ok_share cpu_us_per_req writer_us_per_req kernel_us_per_req"
    local proto=$1 url=$2 ca=$3 proxy=${4:-} pid=${5:-} args=() before=0 wbefore=0 sbefore=0 out ns wns sus
    [ "$proto" = 2 ] && args+=(--http2)
    [ -n "$proxy" ] && args+=(-x "$proxy")
    [ -n "$pid" ] && before=$(cpu_ns "$pid") && wbefore=$(thread_ns "$pid" llmspy-history) && sbefore=$(sys_ticks "$pid")
    # shellcheck disable=SC2046
    out=$("$OHA" -c "$CONNS" -z "$DURATION" --no-tui $OHA_JSON $(oha_trust "$ca") "${args[@]}" "$url/" 2>/dev/null)
    ns=0 wns=0 sus=0
    [ -n "$pid" ] && ns=$(($(cpu_ns "$pid") - before)) && wns=$(($(thread_ns "$pid" llmspy-history) - wbefore)) \
        && sus=$((($(sys_ticks "$pid") - sbefore) * TICK_US))
    jq -r --argjson ns "$ns" --argjson wns "$wns" --argjson sus "$sus" \
        '([.statusCodeDistribution[]] | add // 1) as $n
         | [.summary.requestsPerSec,
          (.latencyPercentiles.p50 * 1000), (.latencyPercentiles.p99 * 1000),
          ((.statusCodeDistribution["200"] // 0) / $n),
          (if $ns > 0 then $ns / 1e3 / $n else 0 end),
          (if $wns > 0 then $wns / 1e3 / $n else 0 end),
          (if $sus > 0 then $sus / $n else 0 end)]
         | map(tostring) | join(" ")' <<<"$out"
}

# One transfer with curl over HTTP/$TRANSFER_HTTP (1.1 unless asked: the
# figure the targets are read from); the download is discarded, not
# written, so only the transfer is measured. Prints "MB/s curl_cpu_ms upstream_cpu_ms
# proxy_cpu_ms" (CPU: user + system, from the kernel).
transfer() { # up|down, url, ca, [proxy, proxy pid]
    local dir=$1 url=$2 ca=$3 proxy=${4:-} pid=${5:-} up0 p0=0 speed cpu
    local args=("--http$TRANSFER_HTTP" -sS -o /dev/null --fail --max-time 120 --cacert "$ca")
    [ -n "$proxy" ] && args+=(--proxy "$proxy")
    up0=$(cpu_ns "$UP_PID"); [ -n "$pid" ] && p0=$(cpu_ns "$pid")
    local TIMEFORMAT='%3U %3S'
    if [ "$dir" = down ]; then
        { time curl "${args[@]}" -w '%{speed_download}' "$url/big.bin" >"$DIR/speed"; } 2>"$DIR/curl-time" || echo 0 >"$DIR/speed"
    else
        { time curl "${args[@]}" -w '%{speed_upload}' -T "$DIR/big.bin" "$url/upload" >"$DIR/speed"; } 2>"$DIR/curl-time" || echo 0 >"$DIR/speed"
    fi
    speed=$(cat "$DIR/speed")
    [ "$speed" = 0 ] && say "$dir via ${proxy:-direct} failed: $(head -c 300 "$DIR/curl-time")"
    cpu=$(tail -n 1 "$DIR/curl-time" | awk '{ printf "%.0f", ($1 + $2) * 1000 }')
    awk -v s="$speed" -v c="$cpu" \
        -v u=$(($(cpu_ns "$UP_PID") - up0)) -v p=$([ -n "$pid" ] && echo $(($(cpu_ns "$pid") - p0)) || echo 0) \
        'BEGIN { printf "%.0f %d %.0f %.0f\n", s / 1048576, c, u / 1e6, p / 1e6 }'
}

row() { printf '| %-34s | %10s | %8s | %8s | %6s | %9s | %9s | %10s | %13s |\n' "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }'; }

say "llmspy: $LLMSPY_BIN ($("$LLMSPY_BIN" --version 2>/dev/null || true)); nginx: $("$NGINX" -v 2>&1 | sed 's/.*: //'); oha: $("$OHA" --version)"
HIST_LINES=()
PAIR_LINES=()
# Ratios between llmspy builds (history on ÷ off, new ÷ baseline), one per
# round and protocol, for the geometric means at the end.
HIST_RATIOS=()
BASE_RATIOS=()
# llmspy ÷ nginx's proxy per round, by protocol ("1.1 0.97").
NGX_RATIOS=()
say "loopback, $(nproc) cores, 26-byte body, oha -c $CONNS -z $DURATION, keep-alive"
# The llmspy variants of a round, in the order they are measured. The one
# measured later in a round tends to do better (up to 10% in both orders of
# the same two builds), so odd rounds go one way and even rounds the other:
# run ROUNDS=2 (or any even number) to compare builds.
VARIANTS=(spy)
[ "$HISTORY" = 1 ] && VARIANTS+=(hist)
[ -n "$BASELINE" ] && VARIANTS+=(base)
variant_port() { case $1 in spy) echo "$SPY_PORT" ;; hist) echo "$HIST_PORT" ;; base) echo "$BASE_PORT" ;; esac; }
variant_pid() { case $1 in spy) echo "$SPY_PID" ;; hist) echo "$HIST_PID" ;; base) echo "$BASE_PID" ;; esac; }
variant_name() {
    case $1 in
        spy) echo "llmspy --no-tui (capture on)" ;;
        hist) echo "llmspy with history" ;;
        base) echo "llmspy baseline build" ;;
    esac
}
geomean() { printf '%s\n' "$@" | awk '{ s += log($1); n++ } END { if (n) printf "%.3f×", exp(s / n); else print "-" }'; }
for round in $(seq 1 "$ROUNDS"); do
    order=("${VARIANTS[@]}")
    if [ $((round % 2)) = 0 ]; then
        order=()
        for ((i = ${#VARIANTS[@]} - 1; i >= 0; i--)); do order+=("${VARIANTS[$i]}"); done
    fi
    for proto in $PROTOS; do
        echo
        echo "round $round, HTTP/$proto to the client (llmspy order: ${order[*]}; nginx's proxy $([ $((round % 2)) = 1 ] && echo before || echo after) them)"
        echo
        row "path" "req/s" "p50 ms" "p99 ms" "ok" "÷ direct" "÷ nginx" "CPU µs/req" "of it kernel"
        row "---" "---" "---" "---" "---" "---" "---" "---" "---"
        read -r d_rps d_p50 d_p99 d_ok _ < <(load "$proto" "$URL_DIRECT" "$DIR/ca.pem")
        # nginx's proxy goes before llmspy in odd rounds and after it in even ones.
        nginx_load() { read -r n_rps n_p50 n_p99 n_ok n_cpu _ n_sys < <(load "$proto" "$URL_NGX" "$DIR/ca.pem" "" "$NGX_PROXY_PID"); }
        [ $((round % 2)) = 1 ] && nginx_load
        declare -A RPS=() P50=() P99=() OK=() CPU=() WRITER=() SYS=()
        for v in "${order[@]}"; do
            read -r "RPS[$v]" "P50[$v]" "P99[$v]" "OK[$v]" "CPU[$v]" "WRITER[$v]" "SYS[$v]" < <(load "$proto" "$URL_DIRECT" "$SPY_CA" "http://127.0.0.1:$(variant_port "$v")" "$(variant_pid "$v")")
        done
        [ $((round % 2)) = 0 ] && nginx_load
        f() { printf '%.0f' "$1"; }
        g() { printf '%.2f' "$1"; }
        h() { awk -v x="$1" 'BEGIN { printf "%.0f%%", x * 100 }'; }
        k() { printf '%.1f' "$1"; }
        row "direct to nginx" "$(f "$d_rps")" "$(g "$d_p50")" "$(g "$d_p99")" "$(h "$d_ok")" "1.00×" "" "" ""
        row "nginx as TLS reverse proxy" "$(f "$n_rps")" "$(g "$n_p50")" "$(g "$n_p99")" "$(h "$n_ok")" "$(ratio "$n_rps" "$d_rps")" "1.00×" "$(f "$n_cpu")" "$(k "$n_sys")"
        for v in "${VARIANTS[@]}"; do
            row "$(variant_name "$v")" "$(f "${RPS[$v]}")" "$(g "${P50[$v]}")" "$(g "${P99[$v]}")" "$(h "${OK[$v]}")" "$(ratio "${RPS[$v]}" "$d_rps")" "$(ratio "${RPS[$v]}" "$n_rps")" "$(f "${CPU[$v]}")" "$(k "${SYS[$v]}")"
        done
        NGX_RATIOS+=("$proto $(awk -v a="${RPS[spy]}" -v b="$n_rps" 'BEGIN { print a / b }')")
        if [ "$HISTORY" = 1 ]; then
            HIST_LINES+=("HTTP/$proto round $round: history on ÷ off $(ratio "${RPS[hist]}" "${RPS[spy]}") req/s, CPU $(f "${CPU[hist]}") vs $(f "${CPU[spy]}") µs/req (the history writer $(g "${WRITER[hist]}")), p99 $(g "${P99[hist]}") vs $(g "${P99[spy]}") ms")
            HIST_RATIOS+=("$(awk -v a="${RPS[hist]}" -v b="${RPS[spy]}" 'BEGIN { print a / b }')")
        fi
        if [ -n "$BASELINE" ]; then
            PAIR_LINES+=("HTTP/$proto round $round: new ÷ baseline $(ratio "${RPS[spy]}" "${RPS[base]}") req/s, CPU $(f "${CPU[spy]}") vs $(f "${CPU[base]}") µs/req")
            BASE_RATIOS+=("$(awk -v a="${RPS[spy]}" -v b="${RPS[base]}" 'BEGIN { print a / b }')")
        fi
        if [ -n "$MITM" ]; then
            read -r m_rps m_p50 m_p99 m_ok _ < <(load "$proto" "$URL_DIRECT" "$MITM_CA" "http://127.0.0.1:$MITM_PORT")
            row "mitmdump" "$(f "$m_rps")" "$(g "$m_p50")" "$(g "$m_p99")" "$(h "$m_ok")" "$(ratio "$m_rps" "$d_rps")" "$(ratio "$m_rps" "$n_rps")" "" ""
        fi
        echo
        echo "p99 added by llmspy: $(awk -v a="${P99[spy]}" -v b="$d_p99" 'BEGIN { printf "%.2f ms", a - b }') (nginx proxy: $(awk -v a="$n_p99" -v b="$d_p99" 'BEGIN { printf "%.2f ms", a - b }'))"
    done
done

if [ "${#NGX_RATIOS[@]}" -gt 0 ]; then
    echo
    # One round swings ±10% on a shared machine; the mean over rounds is the figure.
    for proto in $PROTOS; do
        echo "llmspy ÷ nginx's proxy, HTTP/$proto, geometric mean over $ROUNDS rounds: $(geomean $(printf '%s\n' "${NGX_RATIOS[@]}" | awk -v p="$proto" '$1 == p { print $2 }'))"
    done
fi
if [ "$HISTORY" = 1 ]; then
    echo
    printf '%s\n' "${HIST_LINES[@]}"
    echo "history on ÷ off, geometric mean over ${#HIST_RATIOS[@]} runs: $(geomean "${HIST_RATIOS[@]}")"
fi
if [ -n "$BASELINE" ]; then
    echo
    printf '%s\n' "${PAIR_LINES[@]}"
    echo "new ÷ baseline, geometric mean over ${#BASE_RATIOS[@]} runs: $(geomean "${BASE_RATIOS[@]}")"
fi
[ $((ROUNDS % 2)) = 1 ] && [ ${#VARIANTS[@]} -gt 1 ] && say "(an odd number of rounds: the llmspy variants ran more often in one order than the other)"

if [ "$TRANSFER_MB" -gt 0 ]; then
    echo
    echo "$TRANSFER_MB MB over one connection (curl, HTTP/$TRANSFER_HTTP), $TRANSFER_ROUNDS rounds, the order of the paths turned around every other round"
    echo
    echo "CPU in ms (user + system): curl, the upstream nginx, the proxy. A proxy decrypts and"
    echo "encrypts every byte once more; \"$(nproc)-core bound\" is the most the proxied transfer"
    echo "could reach with these CPU figures if it kept every core busy: direct time × cores ÷ all CPU."
    echo
    xrow() { printf '| %-5s | %-26s | %8s | %8s | %5s | %8s | %5s | %8s | %12s |\n' "$@"; }
    xrow round path "MB/s" "÷ direct" "curl" "upstream" proxy "proxy/MB" "core bound"
    xrow --- --- --- --- --- --- --- --- ---
    TRANSFER_RATIOS=()
    for round in $(seq 1 "$TRANSFER_ROUNDS"); do
        for dir in down up; do
            paths=(direct nginx llmspy)
            [ -n "$BASELINE" ] && paths+=(baseline)
            # Whichever runs later in a round tends to do better, so the
            # order turns around every other round, as the request runs' does.
            [ $((round % 2)) = 0 ] && paths=($(printf '%s\n' "${paths[@]}" | tac))
            declare -A got=()
            for path in "${paths[@]}"; do
                case $path in
                    direct) got[$path]=$(transfer "$dir" "$URL_DIRECT" "$DIR/ca.pem") ;;
                    nginx) got[$path]=$(transfer "$dir" "$URL_NGX" "$DIR/ca.pem" "" "$NGX_PROXY_PID") ;;
                    llmspy) got[$path]=$(transfer "$dir" "$URL_DIRECT" "$SPY_CA" "http://127.0.0.1:$SPY_PORT" "$SPY_PID") ;;
                    baseline) got[$path]=$(transfer "$dir" "$URL_DIRECT" "$SPY_CA" "http://127.0.0.1:$BASE_PORT" "$BASE_PID") ;;
                esac
            done
            read -r d_mbs c u _ <<<"${got[direct]}"
            xrow "$round" "direct $dir" "$d_mbs" "1.00×" "$c" "$u" "" "" ""
            for path in nginx llmspy baseline; do
                [ -n "${got[$path]:-}" ] || continue
                read -r mbs c u p <<<"${got[$path]}"
                # The direct transfer's time, from its speed (the wall time also
                # holds curl's start and the handshake).
                bound=$(awk -v m="$TRANSFER_MB" -v d="$d_mbs" -v n="$(nproc)" -v t=$((c + u + p)) \
                    'BEGIN { if (t > 0 && d > 0) { b = m * 1000 / d * n / t; if (b > 1) b = 1; printf "≤ %.2f×", b } }')
                per_mb=$(awk -v p="$p" -v m="$TRANSFER_MB" 'BEGIN { printf "%.2f ms", p / m }')
                xrow "$round" "$path $dir" "$mbs" "$(ratio "$mbs" "$d_mbs")" "$c" "$u" "$p" "$per_mb" "$bound"
                [ "$path" = llmspy ] && TRANSFER_RATIOS+=("$dir $(awk -v a="$mbs" -v b="$d_mbs" 'BEGIN { print a / b }')")
            done
            unset got
        done
    done
    for dir in down up; do
        echo "llmspy ÷ direct, $dir, geometric mean: $(geomean $(printf '%s\n' "${TRANSFER_RATIOS[@]}" | awk -v d="$dir" '$1 == d { print $2 }'))"
    done
fi
