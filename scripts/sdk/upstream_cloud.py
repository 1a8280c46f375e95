"""The fake upstream's cloud routes: Amazon Bedrock's runtime API, whose
streams are AWS event-stream frames (binary: a prelude with two lengths and
its CRC32, string headers, a JSON payload, the message CRC32).

`InvokeModelWithResponseStream` wraps each Anthropic stream event in a
`chunk` event whose payload is `{"bytes": base64(event JSON)}`;
`ConverseStream` sends Converse's own events (`messageStart`,
`contentBlockDelta`, …). Vertex AI's Anthropic endpoints and Azure OpenAI
speak the plain Anthropic and OpenAI shapes and reuse those handlers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import zlib

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

up = None  # set by upstream.py: its helpers


def frame(kind: str, payload: dict) -> bytes:
    """One event-stream message of type `event`."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    head = b""
    for name, value in ((":event-type", kind), (":content-type", "application/json"), (":message-type", "event")):
        n, v = name.encode(), value.encode()
        head += bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v
    prelude = struct.pack(">II", 16 + len(head) + len(body), len(head))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + head + body
    return message + struct.pack(">I", zlib.crc32(message))


def event_stream(case: dict, frames: list[bytes]) -> Response:
    # Sent in pieces that cut frames in two, as a network may.
    data = b"".join(frames)
    (up.STATE / "sent" / case["id"]).write_bytes(data)
    cuts = sorted({sum(len(f) for f in frames[:i]) + len(frames[i]) // 2 for i in range(len(frames))})
    pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]

    async def gen():
        for p in pieces:
            yield p
            await asyncio.sleep(up.GAP)

    return StreamingResponse(gen(), media_type="application/vnd.amazon.eventstream")


async def bedrock(request: Request) -> Response:
    case, body = await up.read_case(request)
    model, action = request.path_params["model"], request.path_params["action"]
    if model != case["model"]:
        raise up.Bad(f"case {case['id']}: model {model} in the path, expected {case['model']}")
    if action == "invoke-with-response-stream":
        # boto3 callers write bedrock-2023-05-31; AnthropicBedrock sends its own date.
        if not str(body.get("anthropic_version", "")).startswith(("bedrock-", "20")):
            raise up.Bad(f"case {case['id']}: anthropic_version {body.get('anthropic_version')!r}")
        events = up.anthropic_events(case, "msg_e2e_" + case["id"].replace("-", "_"))
        frames = [
            frame("chunk", {"bytes": base64.b64encode(up.dumps(data).encode()).decode(), "p": "abc"})
            for _, data in events
        ]
        return event_stream(case, frames)
    if action == "converse-stream":
        return event_stream(case, converse_frames(case))
    raise up.Bad(f"case {case['id']}: action {action} is not served")


def converse_frames(case: dict) -> list[bytes]:
    frames = [frame("messageStart", {"role": "assistant"})]
    index = 0
    if case.get("text"):
        frames += [frame("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": p}}) for p in case["text"]]
        frames.append(frame("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    if t := case.get("tool"):
        frames.append(
            frame(
                "contentBlockStart",
                {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": t["id"], "name": t["name"]}}},
            )
        )
        frames += [
            frame("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": p}}})
            for p in up.split3(up.dumps(t["arguments"]))
        ]
        frames.append(frame("contentBlockStop", {"contentBlockIndex": index}))
    frames.append(frame("messageStop", {"stopReason": case["stop"]}))
    frames.append(frame("metadata", {"usage": case["usage"], "metrics": {"latencyMs": 321}}))
    return frames
