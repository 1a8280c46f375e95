//! How llmspy reaches the collector: the OTLP span and metric exporters of
//! the opentelemetry-otlp crate over HTTP/protobuf or gRPC, with the
//! configured headers (gRPC metadata), TLS for `https://` endpoints and a
//! timeout per export, and the resource naming llmspy in what it sends.

use std::time::Duration;

use opentelemetry::{KeyValue, Value};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;

use super::exporter::{OtelError, build_error};
use super::settings::{OtlpSettings, Protocol};

/// How long one export may take.
pub(super) const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn resource(settings: &OtlpSettings) -> Resource {
    let mut attrs: Vec<KeyValue> = settings
        .resource
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), Value::from(v.clone())))
        .collect();
    attrs.push(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    Resource::builder_empty()
        .with_service_name(settings.service_name.clone())
        .with_attributes(attrs)
        .build()
}

pub(super) fn span_exporter(
    settings: &OtlpSettings,
) -> Result<opentelemetry_otlp::SpanExporter, OtelError> {
    let built = match settings.protocol {
        Protocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(settings.traces_endpoint.clone())
            .with_headers(settings.headers.clone().into_iter().collect())
            .with_timeout(EXPORT_TIMEOUT)
            .build(),
        Protocol::Grpc => {
            let mut b = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(settings.traces_endpoint.clone())
                .with_metadata(metadata(settings))
                .with_timeout(EXPORT_TIMEOUT);
            if settings.traces_endpoint.starts_with("https://") {
                b = b.with_tls_config(tls());
            }
            b.build()
        }
    };
    built.map_err(|e| build_error(settings, e.to_string()))
}

pub(super) fn metric_exporter(
    settings: &OtlpSettings,
) -> Result<opentelemetry_otlp::MetricExporter, OtelError> {
    let endpoint = settings.metrics_endpoint.clone().unwrap_or_default();
    let built = match settings.protocol {
        Protocol::HttpProtobuf => opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .with_headers(settings.headers.clone().into_iter().collect())
            .with_timeout(EXPORT_TIMEOUT)
            .build(),
        Protocol::Grpc => {
            let mut b = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .with_metadata(metadata(settings))
                .with_timeout(EXPORT_TIMEOUT);
            if endpoint.starts_with("https://") {
                b = b.with_tls_config(tls());
            }
            b.build()
        }
    };
    built.map_err(|e| build_error(settings, e.to_string()))
}

fn metadata(settings: &OtlpSettings) -> opentelemetry_otlp::tonic_types::metadata::MetadataMap {
    let mut headers = http::HeaderMap::new();
    for (k, v) in &settings.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            headers.insert(name, value);
        }
    }
    opentelemetry_otlp::tonic_types::metadata::MetadataMap::from_headers(headers)
}

fn tls() -> opentelemetry_otlp::tonic_types::transport::ClientTlsConfig {
    opentelemetry_otlp::tonic_types::transport::ClientTlsConfig::new().with_webpki_roots()
}
