#!/usr/bin/env bash
# The terminal UI in a real terminal: start llmspy inside tmux, send a
# streamed Anthropic-style request through it with curl to a local upstream
# (Python's standard library, plain HTTP, events spaced out in time), then
# read the screen with capture-pane: the traffic row, the usage strip, the
# conversation bubbles, the narrow layout, a clean quit, and `llmspy open`
# of the exported capture showing the same exchange.
#
# Environment: LLMSPY_BIN (use this binary instead of building the release
# one), TMUX_E2E_VERBOSE=1 (print every screen read).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
session="llmspy-e2e-$$"
work="$(mktemp -d)"
upstream_pid=""

cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  if [ -n "$upstream_pid" ]; then
    kill "$upstream_pid" 2>/dev/null || true
    wait "$upstream_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

die() {
  echo "tmux-e2e.sh: $1" >&2
  if [ -s "$work/screen" ]; then
    echo "--- last screen ---" >&2
    cat "$work/screen" >&2
  fi
  if [ -s "$work/llmspy.err" ]; then
    echo "--- llmspy stderr ---" >&2
    tail -n 30 "$work/llmspy.err" >&2
  fi
  exit 1
}

for tool in tmux curl python3; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

bin="${LLMSPY_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --release --quiet) || die "cargo build --release failed"
  bin="$root/target/release/llmspy"
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- upstream
cat >"$work/upstream.py" <<'PY'
"""A plain-HTTP Anthropic Messages endpoint that streams its reply."""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "claude-e2e-model"
TEXT = ["Hello from ", "the e2e ", "upstream."]

def event(name, data):
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        start = {"type": "message_start", "message": {"id": "msg_e2e", "type": "message",
                 "role": "assistant", "model": MODEL, "content": [], "stop_reason": None,
                 "usage": {"input_tokens": 25, "output_tokens": 1}}}
        events = [event("message_start", start),
                  event("content_block_start", {"type": "content_block_start", "index": 0,
                        "content_block": {"type": "text", "text": ""}})]
        for piece in TEXT:
            events.append(event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                "delta": {"type": "text_delta", "text": piece}}))
        events += [event("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   event("message_delta", {"type": "message_delta",
                         "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 34}}),
                   event("message_stop", {"type": "message_stop"})]
        for i, e in enumerate(events):
            self.wfile.write(e)
            self.wfile.flush()
            time.sleep(0.6 if i == 3 else 0.1)

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
server.serve_forever()
PY

up_port="$(free_port)"
python3 -u "$work/upstream.py" "$up_port" >"$work/upstream.log" 2>&1 &
upstream_pid=$!

# ---------------------------------------------------------------- llmspy
proxy_port="$(free_port)"
tmux new-session -d -s "$session" -x 160 -y 48 \
  "'$bin' --listen 127.0.0.1:$proxy_port --ca-dir '$work/ca' --history '$work/history.sqlite' 2>'$work/llmspy.err'; echo \"exit \$?\" >'$work/exit'; sleep 30"

screen() {
  tmux capture-pane -p -t "$session" >"$work/screen" 2>/dev/null || true
  if [ "${TMUX_E2E_VERBOSE:-}" = 1 ]; then
    cat "$work/screen"
  fi
}

# Wait until every given text is on screen (10 s).
wait_for() {
  local deadline=$((SECONDS + 10)) text missing
  while :; do
    screen
    missing=""
    for text in "$@"; do
      grep -qF -- "$text" "$work/screen" || missing="$text"
    done
    [ -z "$missing" ] && return 0
    [ "$SECONDS" -ge "$deadline" ] && die "not on screen after 10 s: $missing"
    sleep 0.2
  done
}

keys() {
  tmux send-keys -t "$session" "$@"
}

# wait_file FILE WHAT: wait up to 10 s for FILE to be written, else fail
# saying WHAT did not happen.
wait_file() {
  local deadline=$((SECONDS + 10))
  until [ -s "$1" ]; do
    [ "$SECONDS" -ge "$deadline" ] && die "$2"
    sleep 0.2
  done
}

wait_for "Traffic" "Sessions" "Library" "127.0.0.1:$proxy_port"

# ---------------------------------------------------------------- traffic
body='{"model":"claude-e2e-model","max_tokens":256,"stream":true,"system":"Be brief.","messages":[{"role":"user","content":"Say hello to the e2e test."}]}'
curl -sS -N --max-time 20 -x "http://127.0.0.1:$proxy_port" \
  -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' -H 'x-api-key: sk-e2e-secret' \
  --data "$body" "http://127.0.0.1:$up_port/v1/messages" >"$work/curl.out" ||
  die "curl through llmspy failed"
grep -q "message_stop" "$work/curl.out" || die "the client did not receive the whole stream"

# The row: method, host/path, status, model, tokens.
wait_for "POST" "127.0.0.1:$up_port/v1" " 200" "claude-e2e-model" "25" "34"

# The detail beside the list: usage strip, then the Conversation tab.
keys Enter
wait_for "stop end_turn" "in 25 · out 34" "1 Messages" "2 Conversation" "3 SSE Timeline"
keys 2
wait_for "╭─ user" "Say hello to the e2e test." "╭─ assistant" "Hello from the e2e upstream." "stop: end_turn"
keys 3
wait_for "events" "largest gap" "content_block_delta" "Reassembled message"

# The secret header is masked in Raw.
keys 4
wait_for "x-api-key: ••••••••"
grep -qF "sk-e2e-secret" "$work/screen" && die "the API key is shown unmasked"

# Narrow: the list drops columns, Enter opens the exchange full screen.
keys q
tmux resize-window -t "$session" -x 80 -y 24
wait_for "host/path" "127.0.0.1:$up_port"
keys Enter 2
wait_for "╭─ assistant" "Hello from the e2e upstream."

# What was captured, exported as native JSON for the round trip below.
"$bin" export --server "http://127.0.0.1:$proxy_port" --quiet -o "$work/capture.json" 2>"$work/export.err" ||
  die "llmspy export failed: $(cat "$work/export.err")"

# Help lists the keys; Q quits and restores the terminal.
keys '?'
wait_for "Keys" "Everywhere" "quit"
keys Escape Q
wait_file "$work/exit" "llmspy did not quit on Q"
grep -qx "exit 0" "$work/exit" || die "llmspy exited with: $(cat "$work/exit")"
screen
grep -qF "Traffic" "$work/screen" && die "the UI was left on screen after quitting"

# Round trip: `llmspy open` shows the exported exchange again, analysed.
rm -f "$work/exit"
tmux respawn-pane -k -t "$session" \
  "'$bin' open '$work/capture.json' 2>'$work/open.err'; echo \"exit \$?\" >'$work/exit'; sleep 30"
wait_for "capture.json" "127.0.0.1:$up_port" "claude-e2e-model"
keys Enter 2
wait_for "╭─ assistant" "Hello from the e2e upstream."
keys Q
wait_file "$work/exit" "llmspy open did not quit on Q"
grep -qx "exit 0" "$work/exit" || die "llmspy open exited with: $(cat "$work/exit") $(cat "$work/open.err")"

# A stop signal ends `llmspy open` as Q does: it exits 0 and the terminal
# gets its settings back (without the listener, SIGTERM killed it in raw
# mode, with echo off).
rm -f "$work/exit" "$work/stty"
tmux respawn-pane -k -t "$session" \
  "'$bin' open '$work/capture.json' 2>'$work/open.err'; echo \"exit \$?\" >'$work/exit'; stty -a >'$work/stty'; sleep 30"
wait_for "capture.json" "claude-e2e-model"
viewer=$(pgrep -f "^$bin open $work/capture.json") || die "no llmspy open process found"
kill -TERM "$viewer"
wait_file "$work/stty" "llmspy open did not end on SIGTERM"
grep -qx "exit 0" "$work/exit" || die "llmspy open exited on SIGTERM with: $(cat "$work/exit") $(cat "$work/open.err")"
for mode in icanon echo; do
  grep -Eq "(^| )$mode( |\$)" "$work/stty" || die "after SIGTERM the terminal was left without $mode: $(cat "$work/stty")"
done

# Closing the terminal (tmux sends SIGHUP) ends the run like Q does: the
# history records its end, not "stopped abruptly". stderr stays on the
# terminal, as for a user: a print to it once it hung up must not end
# llmspy before the run is closed.
tmux respawn-pane -k -t "$session" \
  "'$bin' --listen 127.0.0.1:$proxy_port --ca-dir '$work/ca' --history '$work/history.sqlite'"
wait_for "Traffic" "127.0.0.1:$proxy_port"
curl -sS --max-time 20 -x "http://127.0.0.1:$proxy_port" "http://127.0.0.1:$up_port/v1/models" >/dev/null ||
  die "curl through the second llmspy failed"
wait_for "GET" " 501"
tmux kill-session -t "$session"
runs_state() {
  "$bin" history --history "$work/history.sqlite" --json --ca-dir "$work/ca" 2>>"$work/history.err" |
    python3 -c 'import json,sys; print(" ".join(r["state"].replace(" ", "_") for r in json.load(sys.stdin)))'
}
deadline=$((SECONDS + 15))
until [ "$(runs_state)" = "ended ended" ]; do
  [ "$SECONDS" -ge "$deadline" ] && die "after SIGHUP the runs are: $(runs_state) $(cat "$work/history.err")"
  sleep 0.2
done

echo "tmux-e2e.sh: ok (row, usage strip, conversation, timeline, masked secret, narrow layout, help, quit, export → open round trip, SIGTERM ends open cleanly, SIGHUP closes the run)"
