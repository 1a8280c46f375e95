"""An OTLP receiver for the end-to-end test, built on the official
opentelemetry-proto package: OTLP/HTTP (protobuf) and OTLP/gRPC on
127.0.0.1. Every export request is decoded and appended, as one JSON line,
to OUT_DIR/traces.jsonl or OUT_DIR/metrics.jsonl (with the raw bytes'
length and whether they contained any of the forbidden strings).

Usage: python receiver.py OUT_DIR HTTP_PORT GRPC_PORT [FORBIDDEN...]
Writes OUT_DIR/ready once both listen. Port 0 picks one; the chosen ports
go to OUT_DIR/http_port and OUT_DIR/grpc_port.
"""

from __future__ import annotations

import json
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

OUT = Path(sys.argv[1])
FORBIDDEN = [s.encode() for s in sys.argv[4:]]
LOCK = threading.Lock()


def record(kind: str, transport: str, raw: bytes, message) -> None:
    line = {
        "transport": transport,
        "bytes": len(raw),
        "leaked": [f.decode() for f in FORBIDDEN if f in raw],
        "request": MessageToDict(message),
    }
    with LOCK, open(OUT / f"{kind}.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")


class Http(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the http.server API)
        raw = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/v1/traces":
            msg = trace_service_pb2.ExportTraceServiceRequest.FromString(raw)
            record("traces", "http", raw, msg)
            reply = trace_service_pb2.ExportTraceServiceResponse()
        elif self.path == "/v1/metrics":
            msg = metrics_service_pb2.ExportMetricsServiceRequest.FromString(raw)
            record("metrics", "http", raw, msg)
            reply = metrics_service_pb2.ExportMetricsServiceResponse()
        else:
            self.send_response(404)
            self.end_headers()
            return
        body = reply.SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def Export(self, request, context):  # noqa: N802 (the generated API)
        record("traces", "grpc", request.SerializeToString(), request)
        return trace_service_pb2.ExportTraceServiceResponse()


class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def Export(self, request, context):  # noqa: N802
        record("metrics", "grpc", request.SerializeToString(), request)
        return metrics_service_pb2.ExportMetricsServiceResponse()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    http = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Http)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
    grpc_port = server.add_insecure_port(f"127.0.0.1:{sys.argv[3]}")
    server.start()
    (OUT / "http_port").write_text(str(http.server_address[1]))
    (OUT / "grpc_port").write_text(str(grpc_port))
    (OUT / "ready").write_text("1")
    server.wait_for_termination()


if __name__ == "__main__":
    main()
