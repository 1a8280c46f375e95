"""Record once, replay offline: the end-to-end proof of llmspy's fixtures,
its MCP server and `llmspy mcp-stdio`, with the real SDKs.

1. The fake upstream (upstream.py) and llmspy in front of it; the Anthropic
   and OpenAI SDKs (plain and streamed, with tool calls and a second turn)
   go through llmspy sending real-looking API keys.
2. The fixture is written by `llmspy record -o` and by its REST twin
   `PUT /llmspy/fixtures/record` (to a file and inline); none holds a key
   the clients sent, and each says which fields it redacted.
3. The official MCP client over streamable HTTP at /llmspy/mcp: tools/list,
   list_traffic, record_llm_fixtures, and a clear error for bad arguments.
4. `llmspy mcp-stdio -- python stdio_server.py` under the MCP SDK's stdio
   client: the client works unchanged and llmspy shows the exchanges.
5. The upstream and that llmspy stop; a fresh llmspy holding only
   `--init fixture.json --replay-strict` answers the same SDK calls with the
   same text, tool calls, usage and streamed events, and answers a request
   the fixture lacks with an error naming the closest expectation.

Usage: python replay.py --bin LLMSPY --work DIR
Prints one summary line; exits 1 with every mismatch and the logs' tails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import clients  # noqa: E402
from cases import BY_ID  # noqa: E402
from check import check_sdk, settled  # noqa: E402

# Every Anthropic, OpenAI and Bedrock case, in order (second turns after
# their first). Bedrock's binary event stream replays message by message.
CASES = [
    c
    for c in BY_ID
    if BY_ID[c]["family"] in ("anthropic", "openai_chat", "openai_responses", "bedrock", "bedrock_converse")
]

# What an API key looks like, so a leak is recognisable in a fixture.
ANTHROPIC_KEY = "sk-ant-api03-" + secrets.token_urlsafe(64) + "-e2eAA"
OPENAI_KEY = "sk-proj-" + secrets.token_urlsafe(60)
SECRETS = {"anthropic key": ANTHROPIC_KEY, "openai key": OPENAI_KEY}

MCP_TOOLS = {
    "record_llm_fixtures",
    "load_expectations_from_file",
    "list_traffic",
    "get_exchange",
    "create_expectation",
    "clear",
    "export",
    "debug_request_mismatch",
}


class Failed(Exception):
    """A step failed; `problems` says how, `logs` are worth showing."""

    def __init__(self, problems: list[str] | str, logs: tuple[Path, ...] = ()):
        self.problems = [problems] if isinstance(problems, str) else problems
        self.logs = logs
        super().__init__("; ".join(self.problems))


def deadline_poll(what: str, probe, seconds: float, logs: tuple[Path, ...] = ()):
    """`probe()` until it returns something truthy, or fail after `seconds`."""
    end = time.monotonic() + seconds
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > end:
            raise Failed(f"{what} (waited {seconds:.0f} s)", logs)
        time.sleep(0.05)


# ------------------------------------------------------------------ processes


class Procs:
    def __init__(self, work: Path):
        self.work = work
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str]) -> tuple[subprocess.Popen, Path]:
        log = self.work / f"{name}.log"
        with open(log, "wb") as out:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.running[name] = p
        return p, log

    def stop(self, name: str) -> None:
        p = self.running.pop(name, None)
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGINT if name.startswith("llmspy") else signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


def api(base: str, path: str, body: bytes | dict | None = b"", method: str = "PUT"):
    """The control API, reached directly (never through a proxy)."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    # llmspy takes JSON bodies only (a form or text/plain could come from a web page).
    req = urllib.request.Request(
        base + path, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    with opener.open(req, timeout=10) as r:
        return json.load(r)


def start_llmspy(procs: Procs, name: str, binary: str, args: list[str]) -> tuple[str, Path]:
    """llmspy on a port of its choosing; returns its base URL once it answers."""
    # Fixtures and exports the control API writes land in the work directory.
    argv = [binary, "--no-tui", "--listen", "127.0.0.1:0", "--files-root", str(procs.work), *args]
    p, log = procs.start(name, argv)

    def listening():
        if p.poll() is not None:
            raise Failed(f"{name} exited with status {p.returncode} while starting", (log,))
        m = re.search(r"listening on (127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
        return m and m.group(1)

    addr = deadline_poll(f"{name} did not print its address", listening, 15, (log,))
    base = f"http://{addr}"

    def answers():
        try:
            api(base, "/llmspy/status")
            return True
        except OSError:
            return False

    deadline_poll(f"{name} did not answer PUT /llmspy/status", answers, 10, (log,))
    return base, log


def use_proxy(binary: str, base: str, ca_dir: Path) -> None:
    """Point this process's SDK clients at llmspy: what `llmspy env` prints."""
    out = subprocess.run(
        [binary, "env", "--listen", base.removeprefix("http://"), "--ca-dir", str(ca_dir)],
        check=True,
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    for line in out.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line[len("export ") :].partition("=")
            os.environ[key] = shlex.split(value)[0] if value else ""
    for var in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        os.environ.pop(var, None)
    if not os.environ.get("HTTPS_PROXY") or not Path(os.environ.get("SSL_CERT_FILE", "")).is_file():
        raise Failed(f"llmspy env did not set HTTPS_PROXY and SSL_CERT_FILE: {out!r}")


# ------------------------------------------------------------------ SDK calls


def run_all(upstream: str) -> dict[str, dict]:
    history: dict = {}
    out = {}
    for cid in CASES:
        try:
            out[cid] = clients.run_case(cid, upstream, history)
        except Exception as e:  # a raising SDK is that case's result
            out[cid] = {"raised": f"{type(e).__name__}: {e}"}
    return out


def first_difference(a, b, path: str = "") -> str | None:
    """Where two JSON values first differ, as `path: a != b`."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return f"{path}.{k}: present on one side only"
            if d := first_difference(a[k], b[k], f"{path}.{k}"):
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if d := first_difference(x, y, f"{path}[{i}]"):
                return d
        if len(a) != len(b):
            return f"{path}: {len(a)} items recorded, {len(b)} replayed"
        return None
    return None if a == b else f"{path}: recorded {a!r:.200}, replayed {b!r:.200}"


def leaks(text: str) -> list[str]:
    """Which of the clients' secrets `text` contains (or a long piece of)."""
    return [name for name, s in SECRETS.items() if s in text or s[-24:] in text]


def check_fixture(label: str, doc: dict, want: int) -> list[str]:
    problems = []
    text = json.dumps(doc)
    if found := leaks(text):
        problems.append(f"{label}: holds the {', '.join(found)} the clients sent")
    notes = doc.get("llmspy") or {}
    redacted = " ".join(notes.get("redacted") or []).lower()
    # Both SDKs send their key as `Authorization: Bearer …`.
    if "authorization" not in redacted:
        problems.append(f"{label}: llmspy.redacted does not name authorization: {notes.get('redacted')!r}")
    n = len(doc.get("expectations") or [])
    if n != want:
        problems.append(f"{label}: {n} expectations, expected one per SDK call ({want})")
    return problems


# ------------------------------------------------------------------ MCP


def tool_text(result) -> str:
    return "".join(getattr(b, "text", "") for b in result.content)


async def mcp_http(url: str, fixture: Path) -> dict:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url) as (read, write):
        async with ClientSession(read, write) as s:
            init = await s.initialize()
            tools = await s.list_tools()
            traffic = await s.call_tool("list_traffic", {"limit": 500})
            recorded = await s.call_tool("record_llm_fixtures", {"path": str(fixture)})
            no_path = await s.call_tool("record_llm_fixtures", {"requestPath": "/v1/messages"})
            bad_id = await s.call_tool("get_exchange", {"id": "first"})
    return {
        "server": init.server_info.name,
        "tools": {t.name: t.input_schema for t in tools.tools},
        "traffic": (traffic.is_error, traffic.structured_content, tool_text(traffic)),
        "recorded": (recorded.is_error, recorded.structured_content, tool_text(recorded)),
        "no_path": (no_path.is_error, tool_text(no_path)),
        "bad_id": (bad_id.is_error, tool_text(bad_id)),
    }


def check_mcp_http(got: dict, fixture: Path, want: int) -> list[str]:
    problems = []
    if got["server"] != "llmspy":
        problems.append(f"initialize: server {got['server']!r}, expected 'llmspy'")
    if missing := MCP_TOOLS - set(got["tools"]):
        problems.append(f"tools/list: missing {sorted(missing)} (got {sorted(got['tools'])})")
    for name, schema in got["tools"].items():
        if (schema or {}).get("type") != "object":
            problems.append(f"tools/list: {name} has no object inputSchema: {schema!r}")
    err, data, text = got["traffic"]
    count = (data or {}).get("count")
    if err or not isinstance(count, int) or count < want:
        problems.append(f"list_traffic: expected at least {want} exchanges, got error={err} {text[:300]}")
    err, data, text = got["recorded"]
    if err:
        problems.append(f"record_llm_fixtures: error {text[:300]}")
    elif not fixture.is_file() or fixture.stat().st_size == 0:
        problems.append(f"record_llm_fixtures: {fixture} not written")
    else:
        problems += check_fixture("record_llm_fixtures file", json.loads(fixture.read_text()), want)
    err, text = got["no_path"]
    if not err or "path" not in text:
        problems.append(f"record_llm_fixtures without path: expected an error naming it, got error={err} {text!r}")
    err, text = got["bad_id"]
    if not err or '"id"' not in text or "integer" not in text:
        problems.append(f"get_exchange id='first': expected an error naming id and its type, got error={err} {text!r}")
    return problems


async def mcp_stdio(binary: str, base: str, python: str, errlog) -> dict:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=binary,
        args=["mcp-stdio", "--server", base, "--", python, str(HERE / "stdio_server.py")],
    )
    async with stdio_client(params, errlog=errlog) as (read, write):
        async with ClientSession(read, write) as s:
            init = await s.initialize()
            tools = await s.list_tools()
            ok = await s.call_tool("add", {"a": 2, "b": 40})
            bad = await s.call_tool("add", {"a": -1, "b": 1})
    return {
        "server": init.server_info.name,
        "tools": [t.name for t in tools.tools],
        "ok": (ok.is_error, tool_text(ok)),
        "bad": (bad.is_error, tool_text(bad)),
    }


def stdio_traffic(base: str) -> list[dict]:
    """The MCP exchanges `llmspy mcp-stdio` reported (scheme stdio)."""
    return [
        e
        for e in api(base, "/llmspy/retrieve?type=REQUEST_RESPONSES")
        if (e.get("request") or {}).get("scheme") == "stdio"
    ]


def check_stdio_traffic(seen: list[dict]) -> list[str]:
    problems = []
    mcp = [((e.get("llm") or {}).get("mcp") or {}) for e in seen if (e.get("llm") or {}).get("kind") == "mcp"]
    if len(mcp) != len(seen):
        problems.append(f"{len(seen) - len(mcp)} of {len(seen)} stdio exchanges not recognised as MCP")
    methods = [m.get("method") for m in mcp]
    for m in ("initialize", "tools/list"):
        if methods.count(m) != 1:
            problems.append(f"expected one {m} exchange, methods seen: {methods}")
    calls = [m for m in mcp if m.get("method") == "tools/call"]
    if [(c.get("tool"), bool(c.get("is_error"))) for c in calls] != [("add", False), ("add", True)]:
        problems.append(f"expected tools/call add (ok, then error), got {calls}")
    init = [m for m in mcp if m.get("method") == "initialize"]
    if init and (init[0].get("server") or {}).get("name") != "llmspy-e2e-stdio":
        problems.append(f"initialize: server {init[0].get('server')!r}")
    return problems


# ------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True, type=Path)
    a = ap.parse_args()
    work: Path = a.work
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.json").write_text("{}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    clients.API_KEYS.update(anthropic=ANTHROPIC_KEY, openai=OPENAI_KEY)
    procs = Procs(work)
    started = time.monotonic()
    try:
        summary = run(a.bin, work, procs)
    except Failed as f:
        print(f"replay.py: FAILED after {time.monotonic() - started:.0f} s", file=sys.stderr)
        for p in f.problems:
            print(f"  {p}", file=sys.stderr)
        for log in f.logs:
            if log.is_file() and log.stat().st_size:
                print(f"--- {log.name} (last 40 lines)", file=sys.stderr)
                print("\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
        return 1
    finally:
        procs.stop_all()
    print(f"{summary} in {time.monotonic() - started:.0f} s")
    return 0


def run(binary: str, work: Path, procs: Procs) -> str:
    config = ["--config", str(work / "config.json")]

    # 1. The fake upstream and a recording llmspy in front of it.
    state = work / "up"
    up, up_log = procs.start("upstream", [sys.executable, str(HERE / "upstream.py"), str(state)])

    def up_port():
        if up.poll() is not None:
            raise Failed("the fake upstream exited", (up_log,))
        f = state / "port"
        return f.is_file() and f.read_text().strip()

    port = int(deadline_poll("the fake upstream did not start", up_port, 30, (up_log,)))
    upstream = f"https://localhost:{port}"
    rec_ca = work / "ca-record"
    rec, rec_log = start_llmspy(
        procs, "llmspy-record", binary, ["--ca-dir", str(rec_ca), "--upstream-ca", str(state / "ca.pem"), *config]
    )
    logs = (rec_log, up_log)
    use_proxy(binary, rec, rec_ca)
    recorded = run_all(upstream)
    problems = [f"{cid} (recording): {p}" for cid in CASES for p in check_sdk(BY_ID[cid], recorded[cid])]
    problems += [f"{cid} (recording): {r['raised']}" for cid, r in recorded.items() if "raised" in r]
    if problems:
        raise Failed(problems, logs)
    deadline_poll(
        "the recording llmspy did not finish capturing every SDK call",
        lambda: settled(api(rec, "/llmspy/retrieve?type=REQUEST_RESPONSES"), len(CASES)),
        15,
        logs,
    )

    # 2. The fixture: `llmspy record`, and the REST twin to a file and inline.
    fixture = work / "fixture.json"
    cli = subprocess.run(
        [binary, "record", "-o", str(fixture), "--server", rec],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if cli.returncode != 0 or not fixture.is_file():
        raise Failed(f"llmspy record exited {cli.returncode}: {cli.stderr.strip()}", logs)
    if "redacted:" not in cli.stderr or "authorization" not in cli.stderr:
        problems.append(f"llmspy record does not say what it redacted: {cli.stderr.strip()!r}")
    doc = json.loads(fixture.read_text())
    problems += check_fixture("llmspy record -o", doc, len(CASES))
    rest_file = work / "fixture-rest.json"
    answer = api(rec, "/llmspy/fixtures/record", {"path": str(rest_file)})
    if answer.get("path") != str(rest_file) or not rest_file.is_file():
        problems.append(f"PUT /llmspy/fixtures/record {{path}}: no file written; answered {answer}")
    else:
        rest_doc = json.loads(rest_file.read_text())
        problems += check_fixture("PUT /llmspy/fixtures/record file", rest_doc, len(CASES))
        if rest_doc != doc:
            problems.append(f"the REST fixture differs from llmspy record's: {first_difference(doc, rest_doc)}")
    if leaks(json.dumps(answer)) or "authorization" not in " ".join(answer.get("redacted") or []):
        problems.append(f"PUT /llmspy/fixtures/record summary: redacted {answer.get('redacted')!r}")
    inline = api(rec, "/llmspy/fixtures/record?requestPath=/v1/messages")
    anthropic_calls = sum(BY_ID[c]["family"] == "anthropic" for c in CASES)
    if inline.get("expectations") != anthropic_calls or not isinstance(inline.get("fixture"), dict):
        problems.append(
            f"PUT /llmspy/fixtures/record?requestPath=/v1/messages: expected {anthropic_calls} "
            f"expectations inline, got {inline.get('expectations')!r}"
        )
    elif leaks(json.dumps(inline)):
        problems.append("PUT /llmspy/fixtures/record?requestPath=…: the inline fixture holds a secret")
    if problems:
        raise Failed(problems, logs)

    # 3. The MCP server at /llmspy/mcp, with the official client.
    mcp_fixture = work / "fixture-mcp.json"
    try:
        got = asyncio.run(asyncio.wait_for(mcp_http(rec + "/llmspy/mcp", mcp_fixture), 30))
    except Exception as e:
        raise Failed(f"MCP client at {rec}/llmspy/mcp raised {type(e).__name__}: {e!r}", logs) from e
    if problems := check_mcp_http(got, mcp_fixture, len(CASES)):
        raise Failed([f"MCP /llmspy/mcp: {p}" for p in problems], logs)
    n_tools = len(got["tools"])

    # 4. A stdio MCP server wrapped by `llmspy mcp-stdio`.
    stdio_log = work / "mcp-stdio.log"
    try:
        with open(stdio_log, "w") as errlog:
            got = asyncio.run(asyncio.wait_for(mcp_stdio(binary, rec, sys.executable, errlog), 30))
    except Exception as e:
        raise Failed(f"MCP stdio client through llmspy mcp-stdio raised {type(e).__name__}: {e!r}", (stdio_log, *logs)) from e
    want = {"server": "llmspy-e2e-stdio", "tools": ["add"], "ok": (False, "42"), "bad": True}
    if {**got, "bad": got["bad"][0] and "negative operand: -1" in got["bad"][1]} != want:
        raise Failed(f"the stdio client through llmspy mcp-stdio got {got}, expected {want}", (stdio_log, *logs))

    def stdio_seen():
        seen = stdio_traffic(rec)
        calls = [e for e in seen if ((e.get("llm") or {}).get("mcp") or {}).get("method") == "tools/call"]
        return seen if len(calls) >= 2 else None

    try:
        seen = deadline_poll("llmspy did not show the stdio tools/call exchanges", stdio_seen, 10)
    except Failed as f:
        f.problems.append(f"stdio exchanges seen: {[e.get('llm') for e in stdio_traffic(rec)]}")
        f.logs = (stdio_log, *logs)
        raise
    if problems := check_stdio_traffic(seen):
        raise Failed([f"llmspy mcp-stdio capture: {p}" for p in problems], (stdio_log, *logs))

    # 5. No upstream, a fresh llmspy with only the fixture: the same answers.
    procs.stop("llmspy-record")
    procs.stop("upstream")
    with socket.socket() as s:
        s.settimeout(1)
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise Failed(f"the fake upstream still accepts connections on {port}", logs)
    rep_ca = work / "ca-replay"
    rep, rep_log = start_llmspy(
        procs, "llmspy-replay", binary, ["--ca-dir", str(rep_ca), "--init", str(fixture), "--replay-strict", *config]
    )
    use_proxy(binary, rep, rep_ca)
    replayed = run_all(upstream)
    for cid in CASES:
        if d := first_difference(recorded[cid], replayed[cid]):
            problems.append(f"{cid}: replay differs at {d}")
    streamed = [c for c in CASES if BY_ID[c]["stream"]]
    for cid in streamed:
        if len(replayed[cid].get("events") or []) < 4:
            problems.append(f"{cid}: the replayed stream carried {len(replayed[cid].get('events') or [])} events")

    # A request the fixture does not have: strict replay names the closest.
    import anthropic

    client = anthropic.Anthropic(api_key=ANTHROPIC_KEY, base_url=upstream, max_retries=0, timeout=20)
    try:
        client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=2048,
            system=clients.SYSTEM,
            messages=[{"role": "user", "content": "A question nobody recorded."}],
        )
        problems.append("an unrecorded request was answered instead of refused by strict replay")
    except anthropic.APIStatusError as e:
        body = e.body if isinstance(e.body, dict) else {}
        ids = {x.get("id"): x for x in doc["expectations"]}
        closest = ids.get(body.get("closestExpectation"))
        if e.status_code != 404 or "strict replay" not in str(body.get("error")):
            problems.append(f"unrecorded request: status {e.status_code}, body {body}")
        elif closest is None or closest["httpRequest"].get("path") != "/v1/messages":
            problems.append(f"unrecorded request: closest expectation {body.get('closestExpectation')!r} is not a /v1/messages one")
        elif not body.get("differences"):
            problems.append(f"unrecorded request: no differing fields named: {body}")
    captured = api(rep, "/llmspy/retrieve?type=REQUEST_RESPONSES")
    upstream_answered = [e.get("id") for e in captured if (e.get("source") or {}).get("source", "upstream") == "upstream"]
    if upstream_answered:
        problems.append(f"the replaying llmspy forwarded exchanges {upstream_answered} instead of answering them")
    if problems:
        raise Failed(problems, (rep_log,))
    redacted = ", ".join(doc["llmspy"]["redacted"])
    events = sum(len(replayed[c]["events"]) for c in streamed)
    return (
        f"replay.sh: {len(CASES)} Anthropic/OpenAI/Bedrock SDK calls recorded (redacted: {redacted}) and "
        f"replayed offline identically ({events} streamed events in {len(streamed)} streams); "
        f"MCP server ({n_tools} tools) and mcp-stdio ok"
    )


if __name__ == "__main__":
    sys.exit(main())
