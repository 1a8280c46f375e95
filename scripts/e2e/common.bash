# Sourced by the end-to-end scripts (its name does not end in .sh, so
# .ci/run does not run it on its own). Set E2E_NAME first.
#
#   die MSG [FILE…]       say what failed, show the tail of each log, exit 1
#   e2e_workdir [COPY_TO [KEEP]]
#                         make $work, a temporary directory, and the EXIT
#                         trap that stops every process in `pids` and
#                         removes $work: copied to COPY_TO first when given,
#                         left in place (and named) when KEEP is non-empty
#   e2e_no_proxy          forget any proxy the caller's shell has set
#   e2e_venv VENV WHAT [REQS]
#                         the Python virtualenv of scripts/sdk/venv.bash
#                         (WHAT names its packages if installing fails)
#   e2e_binary [LOG]      print llmspy's path: $LLMSPY_BIN, or a fresh
#                         release build (its output to LOG)
#   e2e_wait_for TENTHS CMD…
#                         until CMD succeeds, at most TENTHS tenths of a
#                         second; non-zero when it never did
#   e2e_await PID TENTHS CMD…
#                         the same, giving up early once process PID exits
#   e2e_llmspy OUT ERR ARGS…
#                         start "$bin" --no-tui ARGS… in the background
#                         (stdout to OUT, stderr to ERR, one file when they
#                         are the same), add it to `pids`, and wait until it
#                         listens: sets llmspy_pid and llmspy_addr (the
#                         address it bound, so `--listen 127.0.0.1:0` works)

die() {
  echo "$E2E_NAME: FAIL: $1" >&2
  local f
  for f in "${@:2}"; do
    if [ -s "$f" ]; then
      echo "--- $(basename "$f") (last 40 lines)" >&2
      tail -n 40 "$f" >&2
    fi
  done
  exit 1
}

pids=()
e2e_copy_to=""
e2e_keep=""

e2e_workdir() {
  e2e_copy_to="${1:-}"
  e2e_keep="${2:-}"
  work="$(mktemp -d)"
  trap e2e_cleanup EXIT
}

e2e_cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$e2e_copy_to" ]; then
    mkdir -p "$e2e_copy_to" && cp -r "$work/." "$e2e_copy_to/"
  fi
  if [ -n "$e2e_keep" ]; then
    echo "$E2E_NAME: kept $work" >&2
  else
    rm -rf "$work"
  fi
}

e2e_no_proxy() {
  unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy NO_PROXY no_proxy
}

e2e_venv() {
  local venv="$1" what="$2"
  # shellcheck source=../sdk/venv.bash
  . "$(dirname "${BASH_SOURCE[0]}")/../sdk/venv.bash"
  sdk_venv "$venv" "$work/pip.log" "${@:3}" ||
    die "installing $what into $venv failed" "$work/pip.log"
}

e2e_binary() {
  local log="${1:-/dev/null}" root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  local bin="${LLMSPY_BIN:-}"
  if [ -z "$bin" ]; then
    (cd "$root" && timeout 1200 cargo build --release --quiet --bin llmspy) >"$log" 2>&1 ||
      die "cargo build --release failed" "$log"
    bin="${CARGO_TARGET_DIR:-$root/target}/release/llmspy"
  fi
  [ -x "$bin" ] || die "no llmspy binary at $bin"
  printf '%s\n' "$bin"
}

e2e_wait_for() {
  local tries=$1
  shift
  for _ in $(seq 1 "$tries"); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  return 1
}

e2e_await() {
  local pid=$1 tries=$2
  shift 2
  for _ in $(seq 1 "$tries"); do
    if "$@"; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

llmspy_pid=""
llmspy_addr=""

e2e_llmspy() {
  local out="$1" err="$2"
  shift 2
  if [ "$out" = "$err" ]; then
    "$bin" --no-tui "$@" >"$out" 2>&1 &
  else
    "$bin" --no-tui "$@" >"$out" 2>"$err" &
  fi
  llmspy_pid=$!
  pids+=("$llmspy_pid")
  llmspy_addr=""
  e2e_await "$llmspy_pid" 300 e2e_listening "$err" ||
    die "llmspy did not start" "$err"
}

# The address in llmspy's "llmspy VERSION listening on ADDR (…)" line.
e2e_listening() {
  llmspy_addr="$(sed -n 's/^llmspy [^ ]* listening on \([0-9.:]*\) .*/\1/p' "$1" 2>/dev/null | head -n 1)"
  [ -n "$llmspy_addr" ]
}
