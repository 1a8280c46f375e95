"""Checks what the OTLP receiver got from one llmspy (selected by its
service.name): span names and kinds, the GenAI and MCP attributes with
exact token counts, one trace per conversation with the MCP call inside
the turn that asked for it, no secret anywhere, content only when asked.

Usage: python check.py OUT_DIR SERVICE_NAME {content|no-content} [metrics]
Exits 1 listing every problem.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def value(v: dict):
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    if "intValue" in v:
        return int(v["intValue"])
    if "arrayValue" in v:
        return [value(x) for x in v["arrayValue"].get("values", [])]
    return None


def attrs(obj: dict) -> dict:
    return {a["key"]: value(a["value"]) for a in obj.get("attributes", [])}


def lines(out: Path, kind: str, service: str) -> list[dict]:
    path = out / f"{kind}.jsonl"
    got = []
    for line in path.read_text().splitlines() if path.exists() else []:
        rec = json.loads(line)
        for rs in rec["request"].get("resourceSpans", rec["request"].get("resourceMetrics", [])):
            if attrs(rs.get("resource", {})).get("service.name") == service:
                got.append(rec)
                break
    return got


def spans_of(recs: list[dict]) -> list[dict]:
    return [
        s
        for r in recs
        for rs in r["request"]["resourceSpans"]
        for ss in rs.get("scopeSpans", [])
        for s in ss.get("spans", [])
    ]


def expect(problems: list, what: str, got, want) -> None:
    if got != want:
        problems.append(f"{what}: got {got!r}, want {want!r}")


def check_spans(spans: list[dict], content: bool, problems: list) -> None:
    by_name: dict[str, list[dict]] = {}
    for s in spans:
        by_name.setdefault(s["name"], []).append(s)
    turns = by_name.get("chat claude-t", [])
    chats = by_name.get("chat gpt-t", [])
    mcps = by_name.get("tools/call forecast", [])
    expect(problems, "spans", (len(turns), len(chats), len(mcps)), (2, 1, 1))
    if problems:
        return
    for s in spans:
        expect(problems, f"{s['name']} kind", s.get("kind"), "SPAN_KIND_CLIENT")
    t1, t2 = sorted(turns, key=lambda s: int(s["startTimeUnixNano"]))
    a1, a2 = attrs(t1), attrs(t2)
    for key, want in [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "anthropic"),
        ("gen_ai.request.model", "claude-t"),
        ("gen_ai.response.model", "claude-t-20250101"),
        ("gen_ai.usage.input_tokens", 30),
        ("gen_ai.usage.output_tokens", 12),
        ("gen_ai.request.max_tokens", 256),
        ("gen_ai.response.finish_reasons", ["tool_use"]),
        ("server.address", "api.anthropic.test"),
        ("server.port", 443),
    ]:
        expect(problems, f"turn 1 {key}", a1.get(key), want)
    expect(problems, "turn 2 input tokens", a2.get("gen_ai.usage.input_tokens"), 55)
    expect(problems, "turn 2 output tokens", a2.get("gen_ai.usage.output_tokens"), 7)
    if not str(a1.get("gen_ai.response.id", "")).startswith("msg_"):
        problems.append(f"turn 1 gen_ai.response.id: {a1.get('gen_ai.response.id')!r}")
    expect(problems, "one trace per conversation", t2["traceId"], t1["traceId"])
    expect(problems, "conversation id", a2.get("gen_ai.conversation.id"), a1.get("gen_ai.conversation.id"))
    m = mcps[0]
    am = attrs(m)
    expect(problems, "MCP call's trace", m["traceId"], t1["traceId"])
    expect(problems, "MCP call's parent", m.get("parentSpanId"), t1["spanId"])
    for key, want in [
        ("mcp.method.name", "tools/call"),
        ("gen_ai.tool.name", "forecast"),
        ("mcp.session.id", "sess-42"),
        ("jsonrpc.request.id", "7"),
    ]:
        expect(problems, f"MCP {key}", am.get(key), want)
    c = attrs(chats[0])
    for key, want in [
        ("gen_ai.provider.name", "openai"),
        ("gen_ai.usage.input_tokens", 9),
        ("gen_ai.usage.output_tokens", 3),
        ("llmspy.stream", True),
    ]:
        expect(problems, f"chat {key}", c.get(key), want)
    if chats[0]["traceId"] == t1["traceId"]:
        problems.append("the OpenAI chat shares the Anthropic conversation's trace")
    has_content = "gen_ai.input.messages" in a1
    expect(problems, "message content present", has_content, content)
    if content and has_content:
        msgs = json.loads(a1["gen_ai.input.messages"])
        expect(problems, "first prompt", msgs[0]["parts"][0].get("content"), "Weather in Oslo?")


def check_metrics(recs: list[dict], problems: list) -> None:
    names = {
        m["name"]
        for r in recs
        for rm in r["request"]["resourceMetrics"]
        for sm in rm.get("scopeMetrics", [])
        for m in sm.get("metrics", [])
    }
    for want in ("gen_ai.client.token.usage", "gen_ai.client.operation.duration"):
        if want not in names:
            problems.append(f"metric {want} missing (got {sorted(names)})")


def main() -> int:
    out, service, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    problems: list[str] = []
    traces = lines(out, "traces", service)
    for r in traces:
        if r["leaked"]:
            problems.append(f"secrets in an export request: {r['leaked']}")
    check_spans(spans_of(traces), mode == "content", problems)
    if "metrics" in sys.argv[4:]:
        check_metrics(lines(out, "metrics", service), problems)
    for p in problems:
        print(f"{service}: {p}", file=sys.stderr)
    if not problems:
        transports = sorted({r["transport"] for r in traces})
        print(f"{service}: {len(spans_of(traces))} spans over {'+'.join(transports)} ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
