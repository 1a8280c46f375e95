#!/usr/bin/env bash
# Every agent captured with zero configuration: real clients, each started
# as `llmspy run -- CMD` with no other flag (llmspy's address and CA
# directory come from LLMSPY_LISTEN/LLMSPY_CA_DIR, as in a user's shell),
# against a fake Messages API on 127.0.0.1 with its own CA
# (scripts/agents/fake_messages.py):
#   - the Claude Code CLI (npm @anthropic-ai/claude-code, a native binary)
#     in `claude -p` mode, with a stdio MCP server (scripts/agents/stdio_calc.py) wrapped by
#     `llmspy mcp-stdio` in its --mcp-config: a tool_use, the MCP call, the
#     final text;
#   - the Anthropic JS SDK under plain `node` (Node 20's fetch ignores
#     HTTPS_PROXY: the preload `run` installs routes it);
#   - curl without --cacert;
#   - Python httpx with NO_PROXY=localhost,127.0.0.1 in the shell;
#   - the Anthropic Python SDK in base-URL mode (ANTHROPIC_BASE_URL at
#     llmspy's /via/https/… path).
# Then checks the capture and the sessions (scripts/agents/check.py).
# Loopback only. Quiet on success.
#
# Environment: LLMSPY_BIN (use this binary instead of building the release
# one), LLMSPY_SDK_VENV (default .venv-sdk, shared with sdks.sh),
# AGENTS_E2E_KEEP=DIR (keep the logs and captures in DIR).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
agents="$root/scripts/agents"
venv="${LLMSPY_SDK_VENV:-$root/.venv-sdk}"
py="$venv/bin/python"
node_dir="$root/.e2e/agents-node"
start=$SECONDS

E2E_NAME=agents.sh
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
e2e_workdir "${AGENTS_E2E_KEEP:-}"

# Nothing here may go through a proxy the caller happens to have set.
e2e_no_proxy

# 1. Python (httpx, the Anthropic SDK, the MCP SDK for the stdio server).
e2e_venv "$venv" "the SDKs"

# 2. Node clients, pinned, into a project-local directory (reinstalled when
# the pins change). npm's install-script policy may skip Claude Code's
# postinstall, so its native binary is taken from the platform package.
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed"
mkdir -p "$node_dir"
if ! cmp -s "$agents/package.json" "$node_dir/package.json" || [ ! -d "$node_dir/node_modules/@anthropic-ai/sdk" ]; then
  cp "$agents/package.json" "$node_dir/package.json"
  (cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1 ||
    die "npm install of the Node clients failed" "$work/npm.log"
fi
claude=""
for candidate in "$node_dir"/node_modules/@anthropic-ai/claude-code-linux-*/claude \
  "$node_dir/node_modules/@anthropic-ai/claude-code/bin/claude.exe"; do
  if [ -x "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
    claude="$candidate"
    break
  fi
done
[ -n "$claude" ] || die "no runnable Claude Code binary in $node_dir (npm could not fetch the native package?)" "$work/npm.log"

# 3. llmspy.
bin="$(e2e_binary "$work/build.log")"

# 4. The fake Messages API: writes its CA, then its port.
"$py" "$agents/fake_messages.py" "$work/up" >"$work/upstream.log" 2>&1 &
pids+=($!)
e2e_await "${pids[0]}" 300 test -s "$work/up/port" ||
  die "the fake Messages API exited or wrote no port within 30 s" "$work/upstream.log"
up_port="$(cat "$work/up/port")"

# 5. llmspy headless on a loopback port it picks (read from LLMSPY_LISTEN,
# as the clients read it after), trusting the fake's CA.
echo '{}' >"$work/config.json"
export LLMSPY_CA_DIR="$work/ca"
LLMSPY_LISTEN=127.0.0.1:0 e2e_llmspy "$work/llmspy.log" "$work/llmspy.log" \
  --upstream-ca "$work/up/ca.pem" --config "$work/config.json"
export LLMSPY_LISTEN="$llmspy_addr"

run() { "$bin" run -- "$@"; }
upstream="https://localhost:$up_port"
body='{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"ping"}]}'

# 6a. Claude Code, its MCP server wrapped by `llmspy mcp-stdio` (no flag:
# it finds llmspy through the LLMSPY_LISTEN that `run` exports).
mkdir -p "$work/home"
cat >"$work/mcp.json" <<JSON
{"mcpServers": {"calc": {"command": "$bin", "args": ["mcp-stdio", "--", "$py", "$agents/stdio_calc.py"]}}}
JSON
out="$(cd "$work" && HOME="$work/home" ANTHROPIC_BASE_URL="$upstream" ANTHROPIC_API_KEY=sk-ant-e2e-fake \
  DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 MCP_TIMEOUT=30000 \
  timeout 120 "$bin" run -- "$claude" -p "What is 2 plus 3? Use the add tool." \
  --mcp-config "$work/mcp.json" --allowedTools mcp__calc__add 2>"$work/claude.err")" ||
  die "claude -p through llmspy run failed" "$work/claude.err" "$work/llmspy.log"
case "$out" in *"The sum is"*) ;; *) die "Claude Code did not finish its turn (said: $out)" "$work/claude.err" "$work/upstream.log" ;; esac

# 6b. The Anthropic JS SDK under plain node (the script sits beside the
# installed packages, where ES modules look for them).
cp "$agents/sdk.mjs" "$node_dir/sdk.mjs"
out="$(cd "$node_dir" && ANTHROPIC_BASE_URL="$upstream" ANTHROPIC_API_KEY=sk-ant-e2e-fake \
  timeout 60 "$bin" run -- node "$node_dir/sdk.mjs" 2>"$work/node.err")" ||
  die "the Anthropic JS SDK through llmspy run failed" "$work/node.err"
[ "$out" = "pong" ] || die "the Anthropic JS SDK got: $out" "$work/node.err"

# 6c. curl, no --cacert.
out="$(timeout 30 "$bin" run -- curl -sS "$upstream/v1/messages" -H 'content-type: application/json' -d "$body" 2>"$work/curl.err")" ||
  die "curl through llmspy run failed" "$work/curl.err"
case "$out" in *pong*) ;; *) die "curl got: $out" "$work/curl.err" ;; esac

# 6d. Python httpx, with the NO_PROXY many shells export.
NO_PROXY=localhost,127.0.0.1 no_proxy=localhost,127.0.0.1 timeout 30 "$bin" run -- "$py" -c "
import httpx, sys
r = httpx.post('$upstream/v1/messages', json=$body)
sys.exit(0 if r.status_code == 200 and 'pong' in r.text else 1)" 2>"$work/httpx.err" ||
  die "httpx with NO_PROXY set was not served through llmspy" "$work/httpx.err"

# 6e. The Anthropic Python SDK pointed at llmspy's base URL: no proxy
# settings and no CA needed for it.
ANTHROPIC_BASE_URL="http://$LLMSPY_LISTEN/via/https/localhost:$up_port" ANTHROPIC_API_KEY=sk-ant-e2e-fake \
  timeout 30 "$bin" run -- "$py" -c "
import anthropic, sys
m = anthropic.Anthropic().messages.create(model='claude-sonnet-4-5', max_tokens=16, messages=[{'role': 'user', 'content': 'ping'}])
sys.exit(0 if m.content[0].text == 'pong' else 1)" 2>"$work/base.err" ||
  die "the Anthropic Python SDK in base-URL mode failed" "$work/base.err"

# 7. What llmspy captured, and the sessions.
"$bin" retrieve >"$work/capture.json" 2>"$work/retrieve.err" || die "llmspy retrieve failed" "$work/retrieve.err"
"$bin" retrieve --type SESSIONS >"$work/sessions.json" 2>>"$work/retrieve.err" ||
  die "llmspy retrieve --type SESSIONS failed" "$work/retrieve.err"
"$py" "$agents/check.py" "$work/capture.json" "$work/sessions.json" "$up_port" >"$work/check.out" 2>&1 ||
  { cat "$work/check.out" >&2; die "the capture does not hold what the agents sent" "$work/llmspy.log"; }
tail -n 1 "$work/check.out"
echo "agents.sh: Claude Code, the JS and Python SDKs, curl and httpx captured through llmspy run in $((SECONDS - start)) s"
