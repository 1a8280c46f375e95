"""gRPC through llmspy, as Google's SDKs speak it (Vertex AI's default
transport): a real grpcio server on loopback over TLS (the fake upstream's
localhost leaf), a grpcio client through llmspy's proxy port trusting
llmspy's CA. Checks the client gets the reply with its trailing metadata
and an error status as the server sent them (both travel in HTTP/2
trailers, and grpc servers refuse a request without `te: trailers`), and
that llmspy captured both calls, complete, each with the gRPC status it
ended with (in the trailers, or in the head of a Trailers-Only answer).
Then the calls' recorded expectations are loaded as mocks, the server is
stopped, and the same calls get the same answers from llmspy.

    grpc_check.py --state DIR --llmspy http://127.0.0.1:PORT --ca FILE

Prints one line; exits non-zero with the problems on stderr.
"""

import argparse
import json
import sys
import time
import urllib.request
from concurrent import futures
from pathlib import Path

import grpc

SERVICE = "llmspy.check.Echo"


def ok(request: bytes, context) -> bytes:
    context.set_trailing_metadata((("x-trail", "kept"),))
    return b"pong:" + request


def bad(request: bytes, context) -> bytes:
    context.abort(grpc.StatusCode.NOT_FOUND, "no such model")


def serve(state: Path) -> tuple[grpc.Server, int]:
    handlers = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Ok": grpc.unary_unary_rpc_method_handler(ok),
            "Bad": grpc.unary_unary_rpc_method_handler(bad),
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handlers,))
    key = (state / "leaf-key.pem").read_bytes()
    cert = (state / "leaf.pem").read_bytes()
    creds = grpc.ssl_server_credentials([(key, cert)])
    port = server.add_secure_port("localhost:0", creds)
    server.start()
    return server, port


def captured(llmspy: str, port: int) -> list:
    """The exchanges llmspy holds for the gRPC server, once none runs."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 10
    while True:
        req = urllib.request.Request(
            llmspy + "/llmspy/retrieve?type=REQUEST_RESPONSES", data=b"", method="PUT"
        )
        with opener.open(req, timeout=10) as r:
            found = [e for e in json.load(r) if e.get("request", {}).get("port") == port]
        done = len(found) >= 2 and all(e.get("state") != "running" for e in found)
        if done or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def grpc_status(response: dict) -> tuple:
    """`grpc-status`, `grpc-message` and the `x-trail` metadata as
    captured: the trailers first, else the head (Trailers-Only)."""
    fields = {}
    for place in ("headers", "trailers"):
        for h in response.get(place) or []:
            fields[h["name"].lower()] = h["value"]
    # grpcio sends an empty `grpc-message` with OK: the same as none.
    message = fields.get("grpc-message") or None
    return (fields.get("grpc-status"), message, fields.get("x-trail"))


def control(llmspy: str, path: str, body=None):
    """A control API call, its JSON answer."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    data = json.dumps(body).encode() if body is not None else b""
    req = urllib.request.Request(llmspy + path, data=data, method="PUT")
    req.add_header("content-type", "application/json")
    with opener.open(req, timeout=10) as r:
        text = r.read()
    return json.loads(text) if text.strip() else None


def calls(a, port: int, phase: str, problems: list) -> None:
    """A reply with trailing metadata and an error status, as the server
    sent them (or as llmspy replays them)."""
    channel = grpc.secure_channel(
        f"localhost:{port}",
        grpc.ssl_channel_credentials(root_certificates=a.ca.read_bytes()),
        options=[("grpc.http_proxy", a.llmspy), ("grpc.enable_http_proxy", 1)],
    )
    try:
        reply, call = channel.unary_unary(f"/{SERVICE}/Ok").with_call(b"ping", timeout=10)
        trailing = dict(call.trailing_metadata() or ())
        if reply != b"pong:ping" or trailing.get("x-trail") != "kept":
            problems.append(f"{phase} Ok: got {reply!r} with trailing metadata {trailing}")
    except grpc.RpcError as e:
        problems.append(f"{phase} Ok: {e.code()} {e.details()}")
    try:
        channel.unary_unary(f"/{SERVICE}/Bad")(b"x", timeout=10)
        problems.append(f"{phase} Bad: answered, expected NOT_FOUND")
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND or e.details() != "no such model":
            problems.append(f"{phase} Bad: {e.code()} {e.details()}")
    channel.close()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--state", type=Path, required=True)
    p.add_argument("--llmspy", required=True)
    p.add_argument("--ca", type=Path, required=True)
    a = p.parse_args()
    server, port = serve(a.state)
    problems = []
    try:
        calls(a, port, "live", problems)
        paths = sorted(
            (
                e["request"]["path"],
                e["request"]["httpVersion"],
                e["state"],
                grpc_status(e.get("response") or {}),
            )
            for e in captured(a.llmspy, port)
        )
        want = sorted(
            [
                (f"/{SERVICE}/Ok", "HTTP/2", "complete", ("0", None, "kept")),
                (f"/{SERVICE}/Bad", "HTTP/2", "complete", ("5", "no such model", None)),
            ]
        )
        if paths != want:
            problems.append(f"capture: {paths}, expected {want}")
        recorded = [
            e
            for e in control(a.llmspy, "/llmspy/retrieve?type=RECORDED_EXPECTATIONS")
            if e["httpRequest"]["path"].startswith(f"/{SERVICE}/")
        ]
    finally:
        server.stop(None)
    # The server is gone: the recorded calls answer, trailers and all.
    control(a.llmspy, "/mockserver/expectation", recorded)
    calls(a, port, "replayed", problems)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(
        "grpc: a unary call and an error status through llmspy, trailers and capture "
        "as sent, then replayed from the recorded expectations with the server gone"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
