# Sourced by the benchmarks that run against nginx (its name does not end
# in .sh): installs what is missing (nginx from the Debian packages, oha with
# cargo, openssl, curl, jq), builds llmspy unless LLMSPY_BIN names one, and
# makes $DIR, a temp dir removed on exit with every process in PIDS, holding
# a throwaway CA (ca.pem) and a leaf for localhost (leaf.pem, leaf.key).
# nginx_conf NAME BLOCK writes $DIR/NAME.conf around a server block.
#
# Set first: REPO, TOOLS, NGINX_WORKERS.

say() { printf '%s\n' "$*" >&2; }

# --- tools ---------------------------------------------------------------

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

find_nginx() { command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }
NGINX=$(find_nginx)
if [ -z "$NGINX" ]; then
    say "installing nginx (apt-get)…"
    as_root apt-get install -y nginx >/dev/null || { as_root apt-get update >/dev/null && as_root apt-get install -y nginx >/dev/null; }
    NGINX=$(find_nginx)
fi
# The packaged service would hold port 80 and is not needed.
if command -v systemctl >/dev/null 2>&1; then as_root systemctl stop nginx >/dev/null 2>&1 || true; fi

OHA=$(command -v oha || true)
if [ -z "$OHA" ]; then
    if [ ! -x "$TOOLS/bin/oha" ]; then
        say "installing oha with cargo into $TOOLS (takes a few minutes)…"
        CARGO_TARGET_DIR="$TOOLS/target" cargo install oha --locked --root "$TOOLS" >&2
    fi
    OHA=$TOOLS/bin/oha
fi
for tool in openssl curl jq; do
    command -v "$tool" >/dev/null || as_root apt-get install -y "$tool" >/dev/null
done

if [ -z "${LLMSPY_BIN:-}" ]; then
    say "building llmspy (release)…"
    (cd "$REPO" && cargo build --release --quiet --bin llmspy)
    LLMSPY_BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/llmspy
fi

# --- throwaway CA, leaf, configs -------------------------------------------

# In memory when the machine has a tmpfs: the 100 MB upload is written by
# nginx, and a disk's writeback would compete with the proxies measured.
TMP_ROOT=${BENCH_TMP:-$([ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
DIR=$(mktemp -d -p "$TMP_ROOT" llmspy-bench.XXXXXX)
# nginx workers run as an unprivileged user when started as root.
chmod 755 "$DIR"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

(
    cd "$DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout ca.key -out ca.pem -subj "/CN=llmspy bench CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout leaf.key -out leaf.csr -subj "/CN=localhost"
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >leaf.ext
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile leaf.ext -out leaf.pem
) >/dev/null 2>&1

# nginx >= 1.25.1 spells HTTP/2 as a directive; older ones as a listen flag.
if "$NGINX" -V 2>&1 | grep -Eq 'nginx/1\.(2[6-9]|[3-9][0-9])|nginx/1\.25\.[1-9]'; then
    H2_LISTEN=""; H2_DIRECTIVE="http2 on;"
else
    H2_LISTEN=" http2"; H2_DIRECTIVE=""
fi

nginx_conf() { # name, server block
    cat >"$DIR/$1.conf" <<CONF
worker_processes $NGINX_WORKERS;
daemon off;
pid $DIR/$1.pid;
error_log $DIR/$1-error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $DIR/$1-body;
    proxy_temp_path $DIR/$1-proxy;
    fastcgi_temp_path $DIR/$1-fcgi;
    uwsgi_temp_path $DIR/$1-uwsgi;
    scgi_temp_path $DIR/$1-scgi;
    keepalive_requests 10000000;
    http2_max_requests 10000000;
    ssl_certificate $DIR/leaf.pem;
    ssl_certificate_key $DIR/leaf.key;
    # nginx before 1.23.4 (Debian 12 ships 1.22) leaves TLS 1.3 off unless
    # told; the LLM APIs llmspy relays to all speak it.
    ssl_protocols TLSv1.2 TLSv1.3;
    client_max_body_size 0;
$2
}
CONF
}

