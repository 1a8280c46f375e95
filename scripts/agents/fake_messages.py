"""A fake Anthropic Messages API for scripts/e2e/agents.sh: one HTTPS server
on 127.0.0.1 with its own freshly generated CA, standard library only plus
`cryptography` for the certificates.

POST /v1/messages answers like the real API (streamed when asked):
- a request offering a tool whose name ends in `__add` (an MCP tool, e.g.
  Claude Code's `mcp__calc__add`) and carrying no tool_result yet gets a
  `tool_use` of that tool with {"a": 2, "b": 3};
- a request whose last user message carries a tool_result gets the final
  text "The sum is " + the result;
- anything else (side requests, plain SDK calls) gets the text "pong".
Other paths get a 404 in the API's error shape.

Usage: python fake_messages.py STATE_DIR
Writes STATE_DIR/ca.pem, then STATE_DIR/port once it listens; appends each
request (path, headers, body) to STATE_DIR/requests.jsonl.
"""

from __future__ import annotations

import datetime
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
import ipaddress

STATE = Path(sys.argv[1])
LOCK = threading.Lock()
MODEL = "claude-sonnet-4-5-20250929"


def make_certs() -> tuple[Path, Path]:
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "llmspy agents e2e CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert, keyfile = STATE / "leaf.pem", STATE / "leaf.key"
    cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, keyfile


def mcp_add_tool(body: dict) -> str | None:
    for tool in body.get("tools") or []:
        name = tool.get("name", "")
        if name.endswith("__add"):
            return name
    return None


def tool_result(body: dict) -> str | None:
    messages = body.get("messages") or []
    if not messages or messages[-1].get("role") != "user":
        return None
    content = messages[-1].get("content")
    if not isinstance(content, list):
        return None
    for block in content:
        if block.get("type") == "tool_result":
            inner = block.get("content")
            if isinstance(inner, list):
                inner = "".join(b.get("text", "") for b in inner if isinstance(b, dict))
            return str(inner)
    return None


def answer(body: dict) -> tuple[list[dict], str]:
    """The content blocks and stop reason for this request."""
    result = tool_result(body)
    if result is not None:
        return [{"type": "text", "text": f"The sum is {result}."}], "end_turn"
    tool = mcp_add_tool(body)
    if tool:
        block = {"type": "tool_use", "id": "toolu_e2e_1", "name": tool, "input": {"a": 2, "b": 3}}
        return [block], "tool_use"
    return [{"type": "text", "text": "pong"}], "end_turn"


USAGE = {
    "input_tokens": 120,
    "output_tokens": 12,
    "cache_read_input_tokens": 2000,
    "cache_creation_input_tokens": 300,
}


def message(blocks: list[dict], stop: str) -> dict:
    return {
        "id": "msg_e2e",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": USAGE,
    }


def events(blocks: list[dict], stop: str):
    start = message([], None)
    start["usage"] = {**USAGE, "output_tokens": 1}
    yield "message_start", {"type": "message_start", "message": start}
    for i, block in enumerate(blocks):
        if block["type"] == "text":
            yield "content_block_start", {
                "type": "content_block_start",
                "index": i,
                "content_block": {"type": "text", "text": ""},
            }
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            empty = {**block, "input": {}}
            yield "content_block_start", {"type": "content_block_start", "index": i, "content_block": empty}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        yield "content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": i}
    yield "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": None},
        "usage": {"output_tokens": USAGE["output_tokens"]},
    }
    yield "message_stop", {"type": "message_stop"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: requests go to requests.jsonl
        pass

    def do_GET(self):
        self.record(None)
        self.send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "fake"}})

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        self.record(body)
        path = self.path.split("?")[0]
        if path.endswith("/count_tokens"):
            return self.send_json(200, {"input_tokens": 42})
        if not path.endswith("/v1/messages"):
            return self.send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "fake"}})
        blocks, stop = answer(body)
        if not body.get("stream"):
            return self.send_json(200, message(blocks, stop))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for name, data in events(blocks, stop):
            chunk = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def send_json(self, status: int, doc: dict):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, body):
        line = json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        with LOCK, open(STATE / "requests.jsonl", "a") as f:
            f.write(line + "\n")


def main():
    cert, key = make_certs()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    (STATE / "port.tmp").write_text(str(server.server_address[1]))
    (STATE / "port.tmp").rename(STATE / "port")
    server.serve_forever()


if __name__ == "__main__":
    main()
