//! A real OTLP/HTTP receiver on 127.0.0.1: every POST body arrives on a
//! channel, decoded with the opentelemetry-proto types (prost).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

pub struct Receiver {
    pub addr: SocketAddr,
    rx: mpsc::UnboundedReceiver<Received>,
    /// Everything received so far, in order.
    pub all: Vec<Received>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener)
    }

    /// On a port chosen earlier (a collector that comes up late).
    pub async fn start_on(addr: SocketAddr) -> Receiver {
        let listener = TcpListener::bind(addr)
            .await
            .expect("bind the reserved port");
        Self::serve(listener)
    }

    fn serve(listener: TcpListener) -> Receiver {
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let tx = tx.clone();
                        async move {
                            let path = req.uri().path().to_string();
                            let headers = req.headers().clone();
                            let body = req.into_body().collect().await.map(|b| b.to_bytes());
                            let _ = tx.send(Received {
                                path,
                                headers,
                                body: body.unwrap_or_default(),
                            });
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .header("content-type", "application/x-protobuf")
                                    .body(Full::new(Bytes::new()))
                                    .expect("response"),
                            )
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Receiver {
            addr,
            rx,
            all: Vec::new(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Wait (bounded) until spans satisfying `done` have arrived; all spans so far.
    pub async fn spans_until(&mut self, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(r)) => self.all.push(r),
                Ok(None) => panic!("receiver closed"),
                Err(_) => panic!("timed out waiting for spans; have {spans:#?}"),
            }
        }
    }

    /// Wait (bounded) until a metrics export arrived; the decoded requests.
    pub async fn metrics_until(
        &mut self,
        done: impl Fn(&[ExportMetricsServiceRequest]) -> bool,
    ) -> Vec<ExportMetricsServiceRequest> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.metrics();
            if done(&got) {
                return got;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(r)) => self.all.push(r),
                Ok(None) => panic!("receiver closed"),
                Err(_) => panic!("timed out waiting for metrics"),
            }
        }
    }

    pub fn traces(&self) -> Vec<ExportTraceServiceRequest> {
        self.all
            .iter()
            .filter(|r| r.path == "/v1/traces")
            .map(|r| {
                ExportTraceServiceRequest::decode(r.body.clone()).expect("OTLP traces protobuf")
            })
            .collect()
    }

    pub fn metrics(&self) -> Vec<ExportMetricsServiceRequest> {
        self.all
            .iter()
            .filter(|r| r.path == "/v1/metrics")
            .map(|r| {
                ExportMetricsServiceRequest::decode(r.body.clone()).expect("OTLP metrics protobuf")
            })
            .collect()
    }

    pub fn spans(&self) -> Vec<Span> {
        self.traces()
            .into_iter()
            .flat_map(|t| t.resource_spans)
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans)
            .collect()
    }
}

/// An attribute's value as a JSON-ish string for easy comparison.
pub fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .map(show)
}

fn show(v: &AnyValue) -> String {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::ArrayValue(a)) => {
            format!(
                "[{}]",
                a.values.iter().map(show).collect::<Vec<_>>().join(",")
            )
        }
        other => format!("{other:?}"),
    }
}
