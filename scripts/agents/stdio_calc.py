"""A minimal stdio MCP server (standard library only, so it starts at once:
an agent may not wait for a slow server before its first request) with
one tool, `add`. For scripts/e2e/agents.sh, wrapped by `llmspy mcp-stdio`.
"""

import json
import sys

TOOL = {
    "name": "add",
    "description": "Add two integers.",
    "inputSchema": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
}


def result(method, params):
    if method == "initialize":
        return {
            "protocolVersion": params.get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "calc", "version": "1.0.0"},
        }
    if method == "tools/list":
        return {"tools": [TOOL]}
    if method == "tools/call":
        args = params.get("arguments") or {}
        total = int(args.get("a", 0)) + int(args.get("b", 0))
        return {"content": [{"type": "text", "text": str(total)}], "isError": False}
    if method in ("prompts/list", "resources/list", "resources/templates/list"):
        return {method.split("/")[0]: []} if method != "resources/templates/list" else {"resourceTemplates": []}
    if method == "ping":
        return {}
    return None


for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if "id" not in msg or "method" not in msg:
        continue  # a notification or a response: nothing to answer
    answer = result(msg["method"], msg.get("params") or {})
    if answer is None:
        reply = {"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "method not found"}}
    else:
        reply = {"jsonrpc": "2.0", "id": msg["id"], "result": answer}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
