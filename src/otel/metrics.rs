//! The GenAI metrics: a token histogram (by token type) and a duration
//! histogram per LLM call, recorded through the SDK's meter provider and
//! sent by its periodic reader on the exporter's runtime.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, MeterProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_semantic_conventions::attribute as semconv;

use super::span;
use crate::llm::Analysis;

const METRICS_INTERVAL: Duration = Duration::from_secs(10);

/// The metric names of the GenAI conventions.
mod semconv_metric {
    pub use opentelemetry_semantic_conventions::metric::{
        GEN_AI_CLIENT_OPERATION_DURATION as OPERATION_DURATION,
        GEN_AI_CLIENT_TOKEN_USAGE as TOKEN_USAGE,
    };
}

/// The meter provider and the two histograms it feeds.
pub(super) struct Metrics {
    /// Flushed with the spans, shut down when the exporter ends.
    pub provider: SdkMeterProvider,
    tokens: Histogram<u64>,
    duration: Histogram<f64>,
}

impl Metrics {
    pub fn new(metrics: opentelemetry_otlp::MetricExporter, resource: Resource) -> Self {
        let reader = opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader::builder(
            metrics,
            opentelemetry_sdk::runtime::Tokio,
        )
        .with_interval(METRICS_INTERVAL)
        .build();
        let provider = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_reader(reader)
            .build();
        let meter = provider.meter_with_scope(span::scope());
        let tokens = meter
            .u64_histogram(semconv_metric::TOKEN_USAGE)
            .with_unit("{token}")
            .with_description("Tokens used by each LLM call, by type")
            .with_boundaries(vec![
                1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0,
                4194304.0, 16777216.0, 67108864.0,
            ])
            .build();
        let duration = meter
            .f64_histogram(semconv_metric::OPERATION_DURATION)
            .with_unit("s")
            .with_description("Duration of each LLM call")
            .with_boundaries(vec![
                0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96,
                81.92,
            ])
            .build();
        Metrics {
            provider,
            tokens,
            duration,
        }
    }

    pub fn measure(
        &self,
        ex: &crate::exchange::Exchange,
        analysis: &Analysis,
        model: Option<&str>,
    ) {
        let mut attrs = vec![
            KeyValue::new(
                semconv::GEN_AI_OPERATION_NAME,
                span::operation(analysis.kind, &ex.request.path),
            ),
            KeyValue::new(
                semconv::GEN_AI_PROVIDER_NAME,
                span::provider_name(analysis.kind, analysis.provider),
            ),
            KeyValue::new(semconv::SERVER_ADDRESS, ex.request.host.clone()),
        ];
        if let Some(m) = model.or(analysis.model.as_deref()) {
            attrs.push(KeyValue::new(semconv::GEN_AI_REQUEST_MODEL, m.to_string()));
        }
        if let Some(m) = &analysis.model {
            attrs.push(KeyValue::new(semconv::GEN_AI_RESPONSE_MODEL, m.clone()));
        }
        if let Some(us) = ex.timings.end_us {
            self.duration.record(us as f64 / 1e6, &attrs);
        }
        if let Some(u) = &analysis.usage {
            for (kind, n) in [("input", u.input_tokens), ("output", u.output_tokens)] {
                let mut a = attrs.clone();
                a.push(KeyValue::new(semconv::GEN_AI_TOKEN_TYPE, kind));
                self.tokens.record(n, &a);
            }
        }
    }
}
