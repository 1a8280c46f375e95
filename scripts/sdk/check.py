"""Run every case with its real SDK through llmspy against the fake upstream,
check what each SDK received, then check what llmspy captured and extracted
for every exchange. Prints one table; exits 1 listing every mismatch.

Usage: python check.py --upstream https://localhost:PORT \
           --llmspy http://127.0.0.1:PORT --state DIR --pricing FILE

The caller sets HTTPS_PROXY and SSL_CERT_FILE (from `llmspy env`) and
clears NO_PROXY, so every SDK goes through llmspy.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import traceback
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import (  # noqa: E402
    CASES,
    KIND,
    MARKER,
    MCP_CALLS,
    MCP_TOOL,
    PROVIDER,
)
from clients import run_case, run_mcp  # noqa: E402
import ws_check  # noqa: E402

# ------------------------------------------------------------------ comparing


def subset_diff(want, got, path: str) -> list[str]:
    """Where `got` differs from `want` (keys absent from `want` are ignored)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: expected an object {want!r}, got {got!r}"]
        out = []
        for k, v in want.items():
            out += subset_diff(v, got.get(k), f"{path}.{k}")
        return out
    return [] if want == got else [f"{path}: expected {want!r}, got {got!r}"]


def tool_calls_diff(case: dict, got: list, path: str) -> list[str]:
    want = [case["tool"]] if case.get("tool") else []
    if len(got or []) != len(want):
        return [f"{path}: expected {len(want)} tool call(s), got {got!r}"]
    out = []
    for w, g in zip(want, got):
        if g.get("name") != w["name"]:
            out.append(f"{path}.name: expected {w['name']!r}, got {g.get('name')!r}")
        if g.get("arguments") != w["arguments"]:
            out.append(f"{path}.arguments: expected {w['arguments']!r}, got {g.get('arguments')!r}")
        if w["id"] is not None and g.get("id") != w["id"]:
            out.append(f"{path}.id: expected {w['id']!r}, got {g.get('id')!r}")
    return out


def check_sdk(case: dict, got: dict) -> list[str]:
    """What the SDK handed its caller, against what the upstream sent."""
    if err := case.get("http_error"):
        return subset_diff(
            {"status": err["status"], "type": err["type"], "message": err["message"]},
            got.get("error"),
            "sdk.error",
        )
    out = []
    if "answered" in case:  # Converse replies do not name the model
        out += subset_diff(case["answered"], got.get("model"), "sdk.model")
    out += subset_diff("".join(case["text"]), got.get("text"), "sdk.text")
    if case.get("thinking"):
        out += subset_diff("".join(case["thinking"]), got.get("thinking"), "sdk.thinking")
    out += tool_calls_diff(case, got.get("tool_calls"), "sdk.tool_calls")
    out += subset_diff(case["stop"], got.get("stop"), "sdk.stop")
    out += subset_diff(case["usage"], got.get("usage"), "sdk.usage")
    return out


def expected_cost(case: dict, prices: dict) -> float | None:
    """USD by the documented rule: uncached input, cache reads, cache writes
    and output each at their own per-million price (a missing cache price
    falls back to the input price); local Ollama is free, and so is a call
    the API refused (an error status and no usage)."""
    if case["family"] == "ollama":
        return 0.0
    u = case["expect"]["usage"]
    error = case["expect"].get("error")
    if u is None and error and error.get("status", 0) >= 400:
        return 0.0
    p = prices.get(case.get("price_as", case["model"]))
    if u is None or p is None:
        return None
    uncached = u["input_tokens"] - u["cache_read_tokens"] - u["cache_write_tokens"]
    return (
        uncached * p["input"]
        + u["cache_read_tokens"] * p.get("cache_read", p["input"])
        + u["cache_write_tokens"] * p.get("cache_write", p["input"])
        + u["output_tokens"] * p["output"]
    ) / 1e6


def check_capture(case: dict, ex: dict, state: Path, prices: dict) -> list[str]:
    """What llmspy recorded and extracted, against what crossed the wire."""
    out = []
    if ex.get("state") != "complete":
        out.append(f"state: expected 'complete', got {ex.get('state')!r} ({ex.get('failure')})")
    resp = ex.get("response") or {}
    body = resp.get("body") or {}
    sent_file = state / "sent" / case["id"]
    sent = sent_file.read_bytes() if sent_file.exists() else None
    # Text bodies come back as text, binary ones (Bedrock's event stream) as base64.
    captured = (body.get("text") or "").encode()
    if body.get("base64"):
        captured = base64.b64decode(body["base64"])
    if captured != sent:
        out.append(
            f"response body: captured {len(captured)} bytes "
            f"differ from the {len(sent or b'')} the upstream sent"
        )
    if case.get("gzip") and body.get("decodedFrom") != "gzip":
        out.append(f"response body: expected decodedFrom 'gzip', got {body.get('decodedFrom')!r}")
    if case["stream"] and len(ex.get("chunks") or []) < 2:
        out.append(f"chunks: a stream arrived in {len(ex.get('chunks') or [])} chunk(s)")

    llm = ex.get("llm")
    if not isinstance(llm, dict):
        return out + ["llm: missing (not recognised as an LLM exchange)"]
    want = {
        "kind": KIND[case["family"]],
        "provider": PROVIDER[case["family"]],
        "model": case.get("answered", case["model"]),
        "stream": case["stream"],
    }
    for k, v in want.items():
        if llm.get(k) != v:
            out.append(f"llm.{k}: expected {v!r}, got {llm.get(k)!r}")
    if llm.get("usage") != case["expect"]["usage"]:
        out.append(f"llm.usage: expected {case['expect']['usage']}, got {llm.get('usage')}")
    cost, got_cost = expected_cost(case, prices), llm.get("cost_usd")
    if (cost is None) != (got_cost is None) or (
        cost is not None and abs(cost - got_cost) > 1e-9 + 1e-6 * cost
    ):
        out.append(f"llm.cost_usd: expected {cost!r}, got {got_cost!r}")

    if err := case.get("http_error"):
        out += subset_diff(
            {"status": err["status"], "kind": err["type"], "message": err["message"]},
            llm.get("error"),
            "llm.error",
        )
        return out
    if llm.get("error") is not None:
        out.append(f"llm.error: expected none, got {llm.get('error')}")
    if llm.get("stop_reason") != case["stop"]:
        out.append(f"llm.stop_reason: expected {case['stop']!r}, got {llm.get('stop_reason')!r}")
    text = "".join(case["text"])
    if llm.get("assistant_text") != text:
        out.append(f"llm.assistant_text: expected {text!r}, got {llm.get('assistant_text')!r}")
    out += tool_calls_diff(case, llm.get("tool_calls"), "llm.tool_calls")
    if not isinstance(llm.get("thread"), int):
        out.append(f"llm.thread: expected a thread id, got {llm.get('thread')!r}")
    return out


# ------------------------------------------------------------------ llmspy API


def api(llmspy: str, path: str) -> list:
    # The control API is reached directly, never through a proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(llmspy + path, data=b"", method="PUT")
    with opener.open(req, timeout=10) as r:
        return json.load(r)


def case_of(ex: dict) -> str | None:
    text = ((ex.get("request") or {}).get("body") or {}).get("text") or ""
    found = MARKER.findall(text.encode())
    return found[-1].decode() if found else None


def settled(exchanges: list, want: int) -> bool:
    """All the cases' exchanges are there and none is still running."""
    mine = [e for e in exchanges if case_of(e)]
    return len(mine) >= want and all(e.get("state") in ("complete", "failed") for e in mine)


# ------------------------------------------------------------------ table


def usage_cell(u) -> str:
    if not u:
        return "-"
    s = f"{u['input_tokens']}/{u['output_tokens']}"
    extra = [
        f"{name}{u[key]}"
        for name, key in (("r", "cache_read_tokens"), ("w", "cache_write_tokens"), ("t", "reasoning_tokens"))
        if u.get(key)
    ]
    return s + (" " + ",".join(extra) if extra else "")


def print_table(rows: list[list[str]]) -> None:
    head = ["case", "sdk", "llmspy", "kind", "provider", "model", "str", "tokens in/out", "cost", "stop", "tools"]
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


# ------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--llmspy", required=True)
    ap.add_argument("--state", required=True, type=Path)
    ap.add_argument("--pricing", required=True, type=Path)
    ap.add_argument("--dump", type=Path, help="write the retrieved exchanges here")
    a = ap.parse_args()
    prices = json.loads(a.pricing.read_text())["models"]

    failures: dict[str, list[str]] = {}
    sdk_ok: dict[str, bool] = {}
    history: dict = {}
    for case in CASES:
        try:
            got = run_case(case["id"], a.upstream, history)
            problems = check_sdk(case, got)
        except Exception as e:  # an SDK that raised is a failure of its case
            problems = [f"sdk raised {type(e).__name__}: {e}"]
            if "-v" in sys.argv:
                traceback.print_exc()
        sdk_ok[case["id"]] = not problems
        if problems:
            failures.setdefault(case["id"], []).extend(problems)

    mcp_problems = []
    try:
        got = run_mcp(a.upstream + "/mcp")
        if MCP_TOOL not in got["tools"]:
            mcp_problems.append(f"sdk tools/list: {MCP_TOOL} missing from {got['tools']}")
        for want, g in zip(MCP_CALLS, got["calls"]):
            if g["is_error"] != want["is_error"] or want["text"] not in g["text"]:
                mcp_problems.append(f"sdk tools/call {want['arguments']}: got {g}")
    except Exception as e:
        mcp_problems.append(f"sdk raised {type(e).__name__}: {e}")
    sdk_ok["mcp"] = not mcp_problems

    deadline = time.monotonic() + 10
    while True:
        exchanges = api(a.llmspy, "/llmspy/retrieve?type=REQUEST_RESPONSES")
        if settled(exchanges, len(CASES)) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if a.dump:
        a.dump.write_text(json.dumps(exchanges, indent=1))

    rows = []
    by_case: dict[str, list] = {}
    for ex in exchanges:
        if cid := case_of(ex):
            by_case.setdefault(cid, []).append(ex)
    threads = {}
    for case in CASES:
        cid = case["id"]
        found = by_case.get(cid, [])
        llm = {}
        if len(found) != 1:
            problems = [f"capture: expected 1 exchange, found {len(found)} (did the SDK bypass the proxy?)"]
        else:
            llm = found[0].get("llm") or {}
            problems = check_capture(case, found[0], a.state, prices)
            threads[cid] = llm.get("thread")
        if parent := case.get("continues"):
            if threads.get(cid) is None or threads.get(cid) != threads.get(parent):
                problems.append(
                    f"llm.thread: a turn continuing {parent} (thread {threads.get(parent)!r}) "
                    f"got thread {threads.get(cid)!r}"
                )
        if problems:
            failures.setdefault(cid, []).extend(problems)
        cost = llm.get("cost_usd")
        rows.append(
            [
                cid,
                "ok" if sdk_ok[cid] else "FAIL",
                "FAIL" if problems else "ok",
                llm.get("kind", "-"),
                llm.get("provider", "-"),
                llm.get("model") or "-",
                "y" if llm.get("stream") else "n",
                usage_cell(llm.get("usage")),
                "-" if cost is None else f"{cost:.6f}",
                llm.get("stop_reason") or ((llm.get("error") or {}).get("kind") or "-"),
                ",".join(t.get("name", "?") for t in llm.get("tool_calls") or []) or "-",
            ]
        )
    # Distinct first turns are distinct conversations.
    firsts = {c["id"]: threads.get(c["id"]) for c in CASES if not c.get("continues") and "http_error" not in c}
    seen: dict = {}
    for cid, t in firsts.items():
        if t is not None and t in seen:
            failures.setdefault(cid, []).append(
                f"llm.thread: unrelated conversations {seen[t]} and {cid} share thread {t}"
            )
        seen.setdefault(t, cid)

    # MCP: the client's POSTs, each recognised with its method and tool.
    mcp = [e for e in exchanges if (e.get("llm") or {}).get("kind") == "mcp"]
    posts = [e for e in mcp if e["request"]["method"] == "POST"]
    methods = [(e["llm"].get("mcp") or {}).get("method") for e in posts]
    for m in ("initialize", "notifications/initialized", "tools/list"):
        if methods.count(m) != 1:
            mcp_problems.append(f"capture: expected one {m} exchange, methods seen: {methods}")
    calls = [e for e in posts if (e["llm"].get("mcp") or {}).get("method") == "tools/call"]
    if len(calls) != len(MCP_CALLS):
        mcp_problems.append(f"capture: expected {len(MCP_CALLS)} tools/call exchanges, got {len(calls)}")
    for e, want in zip(sorted(calls, key=lambda e: e["id"]), MCP_CALLS):
        m = e["llm"]["mcp"]
        if m.get("tool") != MCP_TOOL or m.get("is_error") != want["is_error"]:
            mcp_problems.append(
                f"capture tools/call {want['arguments']}: expected tool {MCP_TOOL!r} "
                f"is_error {want['is_error']}, got tool {m.get('tool')!r} is_error {m.get('is_error')!r}"
            )
    for e in posts:
        llm = e["llm"]
        if llm.get("provider") != "mcp":
            mcp_problems.append(f"capture {llm['mcp'].get('method')}: provider {llm.get('provider')!r}")
        if e.get("state") != "complete":
            mcp_problems.append(f"capture {llm['mcp'].get('method')}: state {e.get('state')!r}")
    init = [e for e in posts if e["llm"]["mcp"].get("method") == "initialize"]
    if init and (init[0]["llm"]["mcp"].get("server") or {}).get("name") != "llmspy-e2e-tools":
        mcp_problems.append(f"capture initialize: server {init[0]['llm']['mcp'].get('server')!r}")
    for e in sorted(posts, key=lambda e: e["id"]):
        m = e["llm"]["mcp"]
        rows.append(
            [
                f"mcp {m.get('method')}",
                "ok" if sdk_ok["mcp"] else "FAIL",
                "FAIL" if mcp_problems else "ok",
                "mcp",
                e["llm"].get("provider"),
                "-",
                "-",
                "-",
                "-",
                "error" if m.get("is_error") else "-",
                m.get("tool") or "-",
            ]
        )
    if mcp_problems:
        failures["mcp"] = mcp_problems

    # WebSocket: the websockets client (wss:// and ws://) and OpenAI Realtime.
    plain_port = (a.state / "plain_port").read_text().strip()
    ws_problems = ws_check.run(a.upstream, plain_port)
    captured, ws_rows = ws_check.check(ws_check.wait(api, a.llmspy), plain_port)
    for name, found in captured.items():
        ws_problems.setdefault(name, []).extend(found)
    for name, kind, provider, model, msgs, deflate in ws_rows:
        ok = "FAIL" if ws_problems.get(name) else "ok"
        rows.append([name, ok, ok, kind, provider, model, "y", msgs, "-", deflate, "-"])
    failures.update({k: v for k, v in ws_problems.items() if v})

    print_table(rows)
    total = len(CASES) + 1 + len(ws_problems)
    failed = len(failures)
    if failures:
        print(f"\nFAILED: {failed} of {total} scenarios", file=sys.stderr)
        for cid, problems in failures.items():
            for p in problems:
                print(f"  {cid}: {p}", file=sys.stderr)
        print(f"{total - failed} passed, {failed} failed")
        return 1
    print(f"{total} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
