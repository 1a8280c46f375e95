"""WebSocket endpoints of the fake upstream: `/ws/echo` echoes every text
and binary message, and `/v1/realtime` plays a short OpenAI Realtime
session (session.created, then for each response.create a response with
two output_text deltas and a response.done carrying usage)."""

from __future__ import annotations

import json

from starlette.websockets import WebSocket, WebSocketDisconnect

REALTIME_MODEL = "gpt-realtime-e2e"
REALTIME_TEXT = ["Hi ", "there."]
REALTIME_USAGE = {
    "total_tokens": 18,
    "input_tokens": 11,
    "output_tokens": 7,
    "input_token_details": {"cached_tokens": 0, "text_tokens": 11, "audio_tokens": 0},
    "output_token_details": {"text_tokens": 7, "audio_tokens": 0},
}


async def echo(ws: WebSocket) -> None:
    await ws.accept()
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            if msg.get("text") is not None:
                await ws.send_text(msg["text"])
            elif msg.get("bytes") is not None:
                await ws.send_bytes(msg["bytes"])
    except WebSocketDisconnect:
        return


def _session() -> dict:
    return {
        "id": "sess_e2e",
        "object": "realtime.session",
        "type": "realtime",
        "model": REALTIME_MODEL,
        "instructions": "",
        "output_modalities": ["text"],
    }


async def realtime(ws: WebSocket) -> None:
    await ws.accept()
    n = 0

    async def send(**event) -> None:
        nonlocal n
        n += 1
        await ws.send_text(json.dumps({"event_id": f"event_{n}", **event}))

    await send(type="session.created", session=_session())
    try:
        while True:
            event = json.loads(await ws.receive_text())
            kind = event.get("type")
            if kind == "session.update":
                await send(type="session.updated", session={**_session(), **event.get("session", {})})
            elif kind == "response.create":
                rid = "resp_e2e"
                base = {"response_id": rid, "item_id": "item_e2e", "output_index": 0, "content_index": 0}
                await send(type="response.created", response={"id": rid, "object": "realtime.response", "status": "in_progress", "output": []})
                for piece in REALTIME_TEXT:
                    await send(type="response.output_text.delta", delta=piece, **base)
                await send(
                    type="response.done",
                    response={
                        "id": rid,
                        "object": "realtime.response",
                        "status": "completed",
                        "output": [],
                        "usage": REALTIME_USAGE,
                    },
                )
    except WebSocketDisconnect:
        return
