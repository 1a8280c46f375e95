"""A tiny stdio MCP server written with the `mcp` SDK (its MCPServer, the
FastMCP of mcp 1.x), for the `llmspy mcp-stdio` end-to-end test: one tool
that adds two integers and fails, as a tool error, on negative ones.

Usage: python stdio_server.py   (speaks JSON-RPC on stdin/stdout)
"""

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

NAME = "llmspy-e2e-stdio"
TOOL = "add"

server = MCPServer(NAME)


@server.tool(name=TOOL)
def add(a: int, b: int) -> int:
    """Add two non-negative integers."""
    if a < 0 or b < 0:
        raise ToolError(f"negative operand: {min(a, b)}")
    return a + b


if __name__ == "__main__":
    server.run("stdio")
