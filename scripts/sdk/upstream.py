"""A fake upstream for the real-SDK end-to-end test: one HTTPS server on
127.0.0.1 with its own freshly generated CA that speaks the wire formats of
Anthropic Messages, OpenAI Chat Completions and Responses, Gemini, Ollama
(each plain and streamed) and, at /mcp, a real MCP server (the `mcp`
package's MCPServer, streamable HTTP) with one tool.

Usage: python upstream.py STATE_DIR
Writes STATE_DIR/ca.pem (the CA to trust), then STATE_DIR/port once it
listens. For every case it answers it keeps the request body
(requests/<id>.json) and the exact response body it sent, before any
content-encoding (sent/<id>), so the checker can compare llmspy's capture
with what crossed the wire.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import json
import socket
import sys
import time
from pathlib import Path

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import WebSocketRoute

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import BY_ID, MARKER, MCP_POPULATIONS, MCP_TOOL  # noqa: E402
import upstream_cloud as cloud  # noqa: E402
import upstream_ws  # noqa: E402

cloud.up = sys.modules[__name__]  # the shared helpers (read_case, anthropic_events, …)

STATE = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
GAP = 0.01  # seconds between streamed chunks, so they cross as separate frames
NOW = 1764064800  # a fixed "created" time


# ------------------------------------------------------------------ certificates


def make_certs(state: Path) -> tuple[Path, Path]:
    """A CA and a localhost leaf it signs; returns (leaf cert, leaf key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "llmspy e2e upstream CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
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
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
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
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    (state / "ca.pem").write_bytes(ca.public_bytes(pem))
    cert_file, key_file = state / "leaf.pem", state / "leaf-key.pem"
    cert_file.write_bytes(leaf.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


# ------------------------------------------------------------------ helpers


def dumps(v) -> str:
    return json.dumps(v, separators=(",", ":"))


def split3(s: str) -> list[str]:
    """A string cut in three pieces, as a model streams JSON arguments."""
    a, b = len(s) // 3, 2 * len(s) // 3
    return [p for p in (s[:a], s[a:b], s[b:]) if p]


class Bad(Exception):
    """The client sent something the case does not expect: answered 400."""


async def read_case(request: Request) -> tuple[dict, dict]:
    raw = await request.body()
    # A later turn repeats the earlier turns' markers: the last one counts.
    found = MARKER.findall(raw)
    if not found:
        raise Bad("no [case:…] marker in the request body")
    case_id = found[-1].decode()
    case = BY_ID.get(case_id)
    if case is None:
        raise Bad(f"unknown case {case_id}")
    body = json.loads(raw)
    (STATE / "requests" / f"{case_id}.json").write_bytes(raw)
    return case, body


def record(case: dict, text: str) -> None:
    (STATE / "sent" / case["id"]).write_bytes(text.encode())


def plain(case: dict, request: Request, obj, status: int = 200) -> Response:
    text = dumps(obj)
    record(case, text)
    data, headers = text.encode(), {}
    if case.get("gzip") and "gzip" in request.headers.get("accept-encoding", ""):
        data, headers = gzip.compress(data), {"content-encoding": "gzip"}
    return Response(data, status_code=status, media_type="application/json", headers=headers)


def streamed(case: dict, pieces: list[str], media_type: str) -> Response:
    record(case, "".join(pieces))

    async def gen():
        for p in pieces:
            yield p.encode()
            await asyncio.sleep(GAP)

    return StreamingResponse(
        gen(), media_type=media_type, headers={"cache-control": "no-cache"}
    )


def sse(events: list[tuple[str | None, dict | str]], newline: str = "\n") -> list[str]:
    out = []
    for name, data in events:
        payload = data if isinstance(data, str) else dumps(data)
        head = f"event: {name}{newline}" if name else ""
        out.append(f"{head}data: {payload}{newline}{newline}")
    return out


def expect_stream(case: dict, body: dict, flag) -> None:
    if bool(flag) != case["stream"]:
        raise Bad(f"case {case['id']}: stream={flag!r}, expected {case['stream']}")


# ------------------------------------------------------------------ Anthropic


def anthropic_blocks(case: dict) -> list[dict]:
    blocks = []
    if case.get("thinking"):
        blocks.append(
            {"type": "thinking", "thinking": "".join(case["thinking"]), "signature": "c2lnLWUyZQ=="}
        )
    if case.get("text"):
        blocks.append({"type": "text", "text": "".join(case["text"])})
    if case.get("tool"):
        t = case["tool"]
        blocks.append({"type": "tool_use", "id": t["id"], "name": t["name"], "input": t["arguments"]})
    return blocks


async def anthropic(request: Request) -> Response:
    case, body = await read_case(request)
    expect_stream(case, body, body.get("stream"))
    if err := case.get("http_error"):
        obj = {
            "type": "error",
            "error": {"type": err["type"], "message": err["message"]},
            "request_id": "req_e2e_" + case["id"],
        }
        return plain(case, request, obj, status=err["status"])
    msg_id = "msg_e2e_" + case["id"].replace("-", "_")
    u = case["usage"]
    if not case["stream"]:
        return plain(
            case,
            request,
            {
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "model": case["answered"],
                "content": anthropic_blocks(case),
                "stop_reason": case["stop"],
                "stop_sequence": None,
                "usage": u,
            },
        )
    return streamed(case, sse(anthropic_events(case, msg_id)), "text/event-stream")


def anthropic_events(case: dict, msg_id: str) -> list:
    """The Anthropic stream events of a case, as (name, data) pairs."""
    u = case["usage"]
    start_usage = {k: v for k, v in u.items() if k != "output_tokens_details"}
    start_usage["output_tokens"] = 1
    events: list = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "model": case["answered"],
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    index = 0

    def block(start: dict, deltas: list[dict]):
        nonlocal index
        events.append(
            ("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
        )
        for d in deltas:
            events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1

    if case.get("thinking"):
        block(
            {"type": "thinking", "thinking": "", "signature": ""},
            [{"type": "thinking_delta", "thinking": p} for p in case["thinking"]]
            + [{"type": "signature_delta", "signature": "c2lnLWUyZQ=="}],
        )
    if case.get("text"):
        block({"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in case["text"]])
    if case.get("tool"):
        t = case["tool"]
        block(
            {"type": "tool_use", "id": t["id"], "name": t["name"], "input": {}},
            [{"type": "input_json_delta", "partial_json": ""}]
            + [{"type": "input_json_delta", "partial_json": p} for p in split3(dumps(t["arguments"]))],
        )
    # Today's API repeats the whole (cumulative) usage in message_delta when
    # it has more than the output count to say; older streams sent only
    # output_tokens there.
    delta_usage = {"output_tokens": u["output_tokens"]}
    if "output_tokens_details" in u:
        delta_usage = dict(u)
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": case["stop"], "stop_sequence": None},
                "usage": delta_usage,
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


# ------------------------------------------------------------------ OpenAI Chat


def chat_tool_call(t: dict) -> dict:
    return {
        "id": t["id"],
        "type": "function",
        "function": {"name": t["name"], "arguments": dumps(t["arguments"])},
    }


async def openai_chat(request: Request) -> Response:
    case, body = await read_case(request)
    expect_stream(case, body, body.get("stream"))
    cid = "chatcmpl-e2e" + case["id"].replace("-", "")
    text = "".join(case["text"]) or None
    if not case["stream"]:
        message = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
        if case.get("tool"):
            message["tool_calls"] = [chat_tool_call(case["tool"])]
        return plain(
            case,
            request,
            {
                "id": cid,
                "object": "chat.completion",
                "created": NOW,
                "model": case["answered"],
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": case["stop"]}
                ],
                "usage": case["usage"],
                "service_tier": "default",
                "system_fingerprint": "fp_e2e",
            },
        )
    if not (body.get("stream_options") or {}).get("include_usage"):
        raise Bad(f"case {case['id']}: stream_options.include_usage not set")

    def chunk(delta: dict | None, finish=None, usage=None) -> dict:
        return {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": NOW,
            "model": case["answered"],
            "system_fingerprint": "fp_e2e",
            "choices": []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": usage,
        }

    chunks = [chunk({"role": "assistant", "content": "" if case["text"] else None, "refusal": None})]
    chunks += [chunk({"content": p}) for p in case["text"]]
    if case.get("tool"):
        t = case["tool"]
        chunks.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": t["id"],
                            "type": "function",
                            "function": {"name": t["name"], "arguments": ""},
                        }
                    ]
                }
            )
        )
        chunks += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
            for p in split3(dumps(t["arguments"]))
        ]
    chunks.append(chunk({}, finish=case["stop"]))
    chunks.append(chunk(None, usage=case["usage"]))
    return streamed(case, sse([(None, c) for c in chunks] + [(None, "[DONE]")]), "text/event-stream")


# ------------------------------------------------------------------ OpenAI Responses


def responses_items(case: dict, rid: str, done: bool) -> list[dict]:
    items = []
    if case["usage"].get("output_tokens_details", {}).get("reasoning_tokens"):
        items.append({"type": "reasoning", "id": "rs_" + rid, "summary": []})
    if case.get("text"):
        items.append(
            {
                "type": "message",
                "id": "msg_" + rid,
                "status": "completed" if done else "in_progress",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "".join(case["text"]), "annotations": [], "logprobs": []}
                ]
                if done
                else [],
            }
        )
    if case.get("tool"):
        t = case["tool"]
        items.append(
            {
                "type": "function_call",
                "id": "fc_" + rid,
                "call_id": t["id"],
                "name": t["name"],
                "arguments": dumps(t["arguments"]) if done else "",
                "status": "completed" if done else "in_progress",
            }
        )
    return items


def response_obj(case: dict, rid: str, done: bool) -> dict:
    return {
        "id": "resp_" + rid,
        "object": "response",
        "created_at": NOW,
        "status": case["stop"] if done else "in_progress",
        "model": case["answered"],
        "output": responses_items(case, rid, True) if done else [],
        "usage": case["usage"] if done else None,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": {"type": "text"}},
        "reasoning": {"effort": "medium", "summary": None},
        "store": True,
        "metadata": {},
    }


async def openai_responses(request: Request) -> Response:
    case, body = await read_case(request)
    expect_stream(case, body, body.get("stream"))
    rid = "e2e" + case["id"].replace("-", "")
    if not case["stream"]:
        return plain(case, request, response_obj(case, rid, True))
    seq = 0
    events: list = []

    def ev(kind: str, **fields):
        nonlocal seq
        events.append((kind, {"type": kind, "sequence_number": seq, **fields}))
        seq += 1

    ev("response.created", response=response_obj(case, rid, False))
    ev("response.in_progress", response=response_obj(case, rid, False))
    started = responses_items(case, rid, False)
    finished = responses_items(case, rid, True)
    for i, (item, final) in enumerate(zip(started, finished)):
        ev("response.output_item.added", output_index=i, item=item)
        if item["type"] == "message":
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            ev("response.content_part.added", item_id=item["id"], output_index=i, content_index=0, part=part)
            for p in case["text"]:
                ev(
                    "response.output_text.delta",
                    item_id=item["id"],
                    output_index=i,
                    content_index=0,
                    delta=p,
                    logprobs=[],
                )
            full = "".join(case["text"])
            ev(
                "response.output_text.done",
                item_id=item["id"],
                output_index=i,
                content_index=0,
                text=full,
                logprobs=[],
            )
            ev(
                "response.content_part.done",
                item_id=item["id"],
                output_index=i,
                content_index=0,
                part=final["content"][0],
            )
        elif item["type"] == "function_call":
            for p in split3(final["arguments"]):
                ev("response.function_call_arguments.delta", item_id=item["id"], output_index=i, delta=p)
            ev(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=i,
                name=final["name"],
                arguments=final["arguments"],
            )
        ev("response.output_item.done", output_index=i, item=final)
    ev("response.completed", response=response_obj(case, rid, True))
    return streamed(case, sse(events), "text/event-stream")


# ------------------------------------------------------------------ Gemini


def gemini_parts(case: dict, text: str | None) -> list[dict]:
    parts = [{"text": text}] if text else []
    if case.get("tool"):
        t = case["tool"]
        parts.append({"functionCall": {"name": t["name"], "args": t["arguments"]}})
    return parts


async def gemini(request: Request) -> Response:
    action = request.path_params["action"]
    model, _, method = action.partition(":")
    case, body = await read_case(request)
    expect_stream(case, body, method == "streamGenerateContent")
    if model != case["model"]:
        raise Bad(f"case {case['id']}: model {model} in the path, expected {case['model']}")
    rid = "e2e-" + case["id"]
    if not case["stream"]:
        return plain(
            case,
            request,
            {
                "candidates": [
                    {
                        "content": {"parts": gemini_parts(case, "".join(case["text"])), "role": "model"},
                        "finishReason": case["stop"],
                        "index": 0,
                    }
                ],
                "usageMetadata": case["usage"],
                "modelVersion": case["answered"],
                "responseId": rid,
            },
        )
    if request.query_params.get("alt") != "sse":
        raise Bad(f"case {case['id']}: streamGenerateContent without alt=sse")
    u = case["usage"]
    chunks = []
    pieces = case["text"]
    for i, p in enumerate(pieces):
        last = i == len(pieces) - 1
        cand = {"content": {"parts": gemini_parts(case if last else {}, p), "role": "model"}, "index": 0}
        if last:
            cand["finishReason"] = case["stop"]
        # Each chunk carries the usage so far; the last one is the total.
        so_far = {"promptTokenCount": u["promptTokenCount"], "candidatesTokenCount": i + 1}
        so_far["totalTokenCount"] = so_far["promptTokenCount"] + i + 1
        chunks.append(
            {
                "candidates": [cand],
                "usageMetadata": u if last else so_far,
                "modelVersion": case["answered"],
                "responseId": rid,
            }
        )
    # Google's SSE separates events with CRLF.
    return streamed(case, sse([(None, c) for c in chunks], newline="\r\n"), "text/event-stream")


# ------------------------------------------------------------------ Ollama


async def ollama_chat(request: Request) -> Response:
    case, body = await read_case(request)
    expect_stream(case, body, body.get("stream", True))
    created = "2026-11-25T10:00:00.000000Z"
    u = case["usage"]
    final = {
        "model": case["answered"],
        "created_at": created,
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": case["stop"],
        "total_duration": 812000000,
        "load_duration": 21000000,
        "prompt_eval_count": u["prompt_eval_count"],
        "prompt_eval_duration": 60000000,
        "eval_count": u["eval_count"],
        "eval_duration": 700000000,
    }
    tool_calls = None
    if case.get("tool"):
        t = case["tool"]
        tool_calls = [{"function": {"name": t["name"], "arguments": t["arguments"]}}]
    if not case["stream"]:
        final["message"]["content"] = "".join(case["text"])
        if tool_calls:
            final["message"]["tool_calls"] = tool_calls
        return plain(case, request, final)
    lines = [
        dumps(
            {
                "model": case["answered"],
                "created_at": created,
                "message": {"role": "assistant", "content": p},
                "done": False,
            }
        )
        + "\n"
        for p in case["text"]
    ]
    lines.append(dumps(final) + "\n")
    return streamed(case, lines, "application/x-ndjson")


# ------------------------------------------------------------------ the server


def build_app():
    server = MCPServer("llmspy-e2e-tools")

    @server.tool(name=MCP_TOOL)
    def city_population(city: str) -> int:
        """Population of a city."""
        if city not in MCP_POPULATIONS:
            raise ToolError(f"unknown city: {city}")
        return MCP_POPULATIONS[city]

    def route(path: str, handler):
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except Bad as e:
                return JSONResponse({"error": {"message": str(e)}}, status_code=400)

        server.custom_route(path, methods=["POST"])(wrapped)

    route("/v1/messages", anthropic)
    route("/v1/chat/completions", openai_chat)
    route("/v1/responses", openai_responses)
    route("/v1beta/models/{action}", gemini)
    route("/api/chat", ollama_chat)
    # Clouds: Bedrock runtime, Vertex AI's Anthropic endpoints, Azure OpenAI.
    route("/model/{model}/{action}", cloud.bedrock)
    route("/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{action}", anthropic)
    route("/openai/deployments/{deployment}/chat/completions", openai_chat)
    app = server.streamable_http_app(host="127.0.0.1")
    app.router.routes.append(WebSocketRoute("/ws/echo", upstream_ws.echo))
    app.router.routes.append(WebSocketRoute("/v1/realtime", upstream_ws.realtime))
    return app


async def main() -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "requests").mkdir(exist_ok=True)
    (STATE / "sent").mkdir(exist_ok=True)
    cert, key = make_certs(STATE)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        build_app(),
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    # The same app in plain HTTP, for ws:// (and the port file says where).
    plain_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    plain_sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    plain_sock.bind(("127.0.0.1", 0))
    plain = uvicorn.Server(uvicorn.Config(build_app(), log_level="warning", lifespan="on", timeout_graceful_shutdown=1))
    plain_task = asyncio.create_task(plain.serve(sockets=[plain_sock]))
    deadline = time.monotonic() + 20
    while not (server.started and plain.started):
        if task.done() or plain_task.done() or time.monotonic() > deadline:
            await task
            raise SystemExit("fake upstream did not start")
        await asyncio.sleep(0.05)
    (STATE / "plain_port").write_text(str(plain_sock.getsockname()[1]))
    port_file = STATE / "port"
    port_file.with_suffix(".tmp").write_text(str(sock.getsockname()[1]))
    port_file.with_suffix(".tmp").rename(port_file)
    await asyncio.gather(task, plain_task)


if __name__ == "__main__":
    asyncio.run(main())
