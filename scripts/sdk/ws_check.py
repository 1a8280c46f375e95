"""WebSocket through llmspy: the `websockets` client against the fake
upstream's echo over wss:// (a CONNECT tunnel) and ws:// (the HTTP proxy),
and the OpenAI SDK's Realtime client; then what llmspy recorded of each.

Both clients find llmspy through the proxy variables `llmspy env` set
(websockets >= 15 honours them) and trust its CA through SSL_CERT_FILE."""

from __future__ import annotations

import base64
import time
from urllib.parse import urlsplit

import openai
from websockets.sync.client import connect

from upstream_ws import REALTIME_MODEL, REALTIME_TEXT, REALTIME_USAGE

TEXT = "héllo wörld"
BINARY = bytes([0, 1, 2, 255])


def run_echo(url: str) -> list[str]:
    """Send a text and a binary message; both must come back."""
    with connect(url, open_timeout=10) as ws:
        ws.send(TEXT)
        ws.send(BINARY)
        got = [ws.recv(timeout=10), ws.recv(timeout=10)]
    return [] if got == [TEXT, BINARY] else [f"sdk echo {url}: got {got!r}"]


def run_realtime(upstream: str) -> list[str]:
    client = openai.OpenAI(api_key="sk-e2e", base_url=upstream + "/v1")
    text = ""
    with client.realtime.connect(model=REALTIME_MODEL) as conn:
        conn.session.update(session={"type": "realtime", "instructions": "Answer in two words."})
        conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hi"}]}
        )
        conn.response.create()
        for event in conn:
            if event.type == "response.output_text.delta":
                text += event.delta
            elif event.type == "response.done":
                break
    want = "".join(REALTIME_TEXT)
    return [] if text == want else [f"sdk realtime: got text {text!r}, want {want!r}"]


def run(upstream: str, plain_port: str) -> dict[str, list[str]]:
    """Run every WebSocket client; problems by scenario."""
    host = urlsplit(upstream).hostname
    out: dict[str, list[str]] = {}
    scenarios = {
        "ws echo wss": lambda: run_echo(upstream.replace("https://", "wss://") + "/ws/echo"),
        "ws echo ws": lambda: run_echo(f"ws://{host}:{plain_port}/ws/echo"),
        "ws realtime": lambda: run_realtime(upstream),
    }
    for name, go in scenarios.items():
        try:
            out[name] = go()
        except Exception as e:  # a client that raised is a failure of its scenario
            out[name] = [f"sdk raised {type(e).__name__}: {e}"]
    return out


def websocket_exchanges(exchanges: list) -> list:
    return [e for e in exchanges if (e.get("response") or {}).get("status") == 101]


def settled(exchanges: list) -> bool:
    ws = websocket_exchanges(exchanges)
    return len(ws) >= 3 and all(e.get("state") in ("complete", "failed") for e in ws)


def check_echo(ex: dict) -> list[str]:
    msgs = (ex.get("websocket") or {}).get("messages") or []
    want = [
        ("send", 1, TEXT),
        ("send", 2, base64.b64encode(BINARY).decode()),
        ("receive", 1, TEXT),
        ("receive", 2, base64.b64encode(BINARY).decode()),
    ]
    got = [(m["direction"], m["opcode"], m.get("text", m.get("base64"))) for m in msgs if m["opcode"] in (1, 2)]
    problems = []
    if sorted(got) != sorted(want):
        problems.append(f"capture messages: got {got!r}")
    if ex.get("state") != "complete":
        problems.append(f"capture state {ex.get('state')!r}: {ex.get('failure')}")
    return problems


def check_realtime(ex: dict) -> list[str]:
    llm = ex.get("llm") or {}
    problems = []
    if llm.get("kind") != "openai_realtime" or llm.get("model") != REALTIME_MODEL:
        problems.append(f"capture llm: kind {llm.get('kind')!r} model {llm.get('model')!r}")
    usage = llm.get("usage") or {}
    if (usage.get("input_tokens"), usage.get("output_tokens")) != (
        REALTIME_USAGE["input_tokens"],
        REALTIME_USAGE["output_tokens"],
    ):
        problems.append(f"capture usage: {usage!r}")
    if llm.get("assistant_text") != "".join(REALTIME_TEXT):
        problems.append(f"capture assistant_text: {llm.get('assistant_text')!r}")
    return problems


def check(exchanges: list, plain_port: str) -> tuple[dict[str, list[str]], list[list[str]]]:
    """Problems by scenario, and table rows."""
    ws = websocket_exchanges(exchanges)
    found = {
        "ws echo wss": [e for e in ws if e["request"]["path"] == "/ws/echo" and e["request"]["scheme"] == "https"],
        "ws echo ws": [e for e in ws if e["request"]["path"] == "/ws/echo" and e["request"]["scheme"] == "http"],
        "ws realtime": [e for e in ws if e["request"]["path"].startswith("/v1/realtime")],
    }
    problems: dict[str, list[str]] = {}
    rows = []
    for name, exs in found.items():
        if len(exs) != 1:
            problems[name] = [f"capture: expected 1 exchange, found {len(exs)}"]
            continue
        ex = exs[0]
        problems[name] = check_realtime(ex) if name == "ws realtime" else check_echo(ex)
        msgs = (ex.get("websocket") or {}).get("messages") or []
        llm = ex.get("llm") or {}
        deflate = "deflate" if any(m.get("compressed") for m in msgs) else "-"
        rows.append(
            [name, llm.get("kind", "websocket"), llm.get("provider", "-"), llm.get("model") or "-", f"{len(msgs)} msgs", deflate]
        )
    return problems, rows


def wait(api, llmspy: str) -> list:
    deadline = time.monotonic() + 10
    while True:
        exchanges = api(llmspy, "/llmspy/retrieve?type=REQUEST_RESPONSES")
        if settled(exchanges) or time.monotonic() > deadline:
            return exchanges
        time.sleep(0.2)
