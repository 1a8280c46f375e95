"""Checks what llmspy captured in scripts/e2e/agents.sh.

Usage: python check.py CAPTURE.json SESSIONS.json UPSTREAM_PORT
CAPTURE.json is `llmspy retrieve` (REQUEST_RESPONSES), SESSIONS.json is
`llmspy retrieve --type SESSIONS`. Prints one line per check; exits 1 on
the first failure.
"""

import json
import sys

capture = json.load(open(sys.argv[1]))
sessions = json.load(open(sys.argv[2]))
port = sys.argv[3]
upstream = f"https://localhost:{port}/v1/messages"


def check(ok, what, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if not ok and detail else ""))
    if not ok:
        sys.exit(1)


def by_app(app):
    return [e for e in capture if e.get("clientApp") == app and e["url"].startswith(upstream)]


for app, via, what in [
    ("node", "base_url", "the Anthropic JS SDK under plain node (fetch via the preload)"),
    ("curl", "connect", "curl without --cacert"),
    ("python", "connect", "Python httpx with NO_PROXY=localhost,127.0.0.1 in the shell"),
]:
    found = [e for e in by_app(app) if e["via"] == via]
    check(bool(found) and found[0]["response"]["status"] == 200, what, [(e.get("clientApp"), e["via"], e["url"]) for e in capture])

base = [e for e in capture if e["via"] == "base_url" and e.get("clientApp") == "python"]
check(bool(base) and base[0]["url"] == upstream, "the Anthropic Python SDK in base-URL mode, captured under the real URL",
      [(e.get("clientApp"), e["via"], e["url"]) for e in capture])

claude = [s for s in sessions["sessions"] if s.get("app") == "claude" and s["kind"] == "llm" and not s.get("parent")]
check(bool(claude), "Claude Code's conversation is a session", [(s.get("app"), s.get("label")) for s in sessions["sessions"]])
main = max(claude, key=lambda s: len(s["turns"]))
check(main["label"] == "What is 2 plus 3? Use the add tool.", "labelled with the user's prompt", main["label"])
check((main.get("session") or "").startswith("claude:"), "grouped by Claude Code's session id", main.get("session"))
check(len(main["turns"]) >= 2, "both turns in the lane", len(main["turns"]))
calls = [c for t in main["turns"] for c in t["mcp"]]
check(len(calls) == 1 and calls[0]["tool"] == "add" and calls[0]["url"].startswith("stdio://"),
      "the stdio MCP call (via llmspy mcp-stdio) is attached to the turn that asked for it", calls)
asked = [t for t in main["turns"] if t["mcp"]][0]
check("mcp__calc__add" in asked["tool_uses"], "that turn's tool_use names it", asked["tool_uses"])
check(asked["context"] and asked["context"]["cache_read"] == 2000, "its context split is reported", asked["context"])
unscoped_calls = [u for u in sessions["unscoped"] if "stdio://" in u["url"] and u.get("kind") == "mcp"]
check(all(u["id"] != calls[0]["id"] for u in unscoped_calls), "the attached call is not unscoped")
print(f"agents: {len(capture)} exchanges, {len(sessions['sessions'])} session(s) checked")
