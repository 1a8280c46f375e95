//! Where and how to export, from `--otlp URL`, `--otlp-content` and the
//! standard `OTEL_*` variables (the OpenTelemetry exporter specification's
//! names and precedence). Pure: the environment comes in as a lookup.

use std::collections::BTreeMap;

use crate::urlcodec::percent_decode_keep_plus;

/// The wire protocol to the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf` (port 4318): the default.
    HttpProtobuf,
    /// `grpc` (port 4317).
    Grpc,
}

/// Everything the exporter needs.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpSettings {
    pub protocol: Protocol,
    /// Full URL spans go to (`…/v1/traces` for HTTP).
    pub traces_endpoint: String,
    /// Full URL metrics go to (`…/v1/metrics` for HTTP).
    /// None when only a traces endpoint was given, over HTTP, at a path
    /// other than `/v1/traces`: nothing says where metrics would go.
    pub metrics_endpoint: Option<String>,
    /// Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`), e.g. an API key.
    pub headers: BTreeMap<String, String>,
    pub service_name: String,
    /// `OTEL_RESOURCE_ATTRIBUTES`.
    pub resource: Vec<(String, String)>,
    /// `--otlp-content`: prompts, completions and tool arguments (masked).
    pub content: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{var}={value}: expected http/protobuf or grpc (http/json is not supported)")]
    Protocol { var: &'static str, value: String },
    #[error("{what} {value:?} is not an http:// or https:// URL")]
    Url { what: &'static str, value: String },
}

/// The settings, or `None` when nothing asks for export.
pub fn resolve(
    flag: Option<&str>,
    content: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<OtlpSettings>, SettingsError> {
    let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) && flag.is_none() {
        return Ok(None);
    }
    let base = flag
        .map(str::to_string)
        .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"));
    let traces_var = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    if base.is_none() && traces_var.is_none() {
        return Ok(None);
    }
    let protocol = protocol(env)?;
    let signal = |path: &str, specific: Option<String>| -> Result<String, SettingsError> {
        let url = match (specific, &base) {
            (Some(url), _) => url,
            // gRPC takes the base as it is; HTTP appends the signal's path.
            (None, Some(b)) if protocol == Protocol::Grpc => b.clone(),
            // A base given with a signal's path already (`…/v1/traces`, as
            // `--otlp` often is) is the collector's base plus that path.
            (None, Some(b)) => {
                let b = b.trim_end_matches('/');
                let b = ["/v1/traces", "/v1/metrics"]
                    .iter()
                    .find_map(|p| b.strip_suffix(p))
                    .unwrap_or(b);
                format!("{b}/{path}")
            }
            (None, None) => String::new(),
        };
        check_url(&url)
    };
    let traces_endpoint = signal("v1/traces", traces_var.clone())?;
    let metrics_endpoint = match (var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"), &base) {
        (Some(url), _) => Some(check_url(&url)?),
        (None, Some(_)) => Some(signal("v1/metrics", None)?),
        // Only a traces endpoint was given. gRPC names the service, not a
        // path: the same endpoint takes both. Over HTTP, metrics go beside
        // a standard traces path; a custom one says nothing of where
        // metrics belong (the traces URL would get them, and refuse them).
        (None, None) if protocol == Protocol::Grpc => Some(traces_endpoint.clone()),
        (None, None) => traces_endpoint
            .strip_suffix("/v1/traces")
            .map(|base| format!("{base}/v1/metrics")),
    };
    Ok(Some(OtlpSettings {
        protocol,
        traces_endpoint,
        metrics_endpoint,
        headers: pairs(var("OTEL_EXPORTER_OTLP_HEADERS").as_deref())
            .into_iter()
            .chain(pairs(var("OTEL_EXPORTER_OTLP_TRACES_HEADERS").as_deref()))
            .collect(),
        service_name: var("OTEL_SERVICE_NAME").unwrap_or_else(|| "llmspy".into()),
        resource: pairs(var("OTEL_RESOURCE_ATTRIBUTES").as_deref()),
        content,
    }))
}

fn protocol(env: &dyn Fn(&str) -> Option<String>) -> Result<Protocol, SettingsError> {
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        let Some(value) = env(var).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        return match value.trim() {
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "grpc" => Ok(Protocol::Grpc),
            _ => Err(SettingsError::Protocol { var, value }),
        };
    }
    Ok(Protocol::HttpProtobuf)
}

fn check_url(url: &str) -> Result<String, SettingsError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_string())
    } else {
        Err(SettingsError::Url {
            what: "the OTLP endpoint",
            value: url.to_string(),
        })
    }
}

/// `k=v,k2=v%202`: the W3C baggage-like list the OTEL variables use.
fn pairs(text: Option<&str>) -> Vec<(String, String)> {
    text.unwrap_or("")
        .split(',')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_string(), percent_decode_keep_plus(v.trim())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn nothing_asked_nothing_exported() {
        assert_eq!(resolve(None, false, &env(&[])), Ok(None));
    }

    #[test]
    fn a_base_url_gets_the_signal_paths() {
        let s = resolve(Some("http://collector:4318/"), false, &env(&[]))
            .unwrap()
            .unwrap();
        assert_eq!(s.traces_endpoint, "http://collector:4318/v1/traces");
        assert_eq!(
            s.metrics_endpoint.as_deref(),
            Some("http://collector:4318/v1/metrics")
        );
        assert_eq!(
            (s.protocol, s.service_name.as_str()),
            (Protocol::HttpProtobuf, "llmspy")
        );
    }

    #[test]
    fn the_standard_variables_are_read() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%3Db,x=1"),
            ("OTEL_SERVICE_NAME", "ci-llmspy"),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=ml,host.name=runner-3"),
        ]);
        let s = resolve(None, true, &e).unwrap().unwrap();
        assert_eq!(s.protocol, Protocol::Grpc);
        assert_eq!(s.traces_endpoint, "http://c:4317");
        assert_eq!(s.headers["api-key"], "a=b");
        assert_eq!(s.service_name, "ci-llmspy");
        assert_eq!(s.resource[1], ("host.name".into(), "runner-3".into()));
        assert!(s.content);
    }

    #[test]
    fn a_signal_endpoint_is_taken_as_it_is_and_the_flag_beats_the_base() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://traces.example/custom",
            ),
        ]);
        let s = resolve(Some("http://flag:4318"), false, &e)
            .unwrap()
            .unwrap();
        assert_eq!(s.traces_endpoint, "https://traces.example/custom");
        assert_eq!(
            s.metrics_endpoint.as_deref(),
            Some("http://flag:4318/v1/metrics")
        );
    }

    #[test]
    fn a_base_given_with_the_traces_path_is_not_doubled() {
        let s = resolve(Some("http://c:4318/v1/traces/"), false, &env(&[]))
            .unwrap()
            .unwrap();
        assert_eq!(s.traces_endpoint, "http://c:4318/v1/traces");
        assert_eq!(
            s.metrics_endpoint.as_deref(),
            Some("http://c:4318/v1/metrics")
        );
    }

    #[test]
    fn metrics_follow_a_lone_traces_endpoint_only_where_they_can() {
        let only = |url: &str, protocol: &str| {
            let e = env(&[
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ]);
            resolve(None, false, &e).unwrap().unwrap().metrics_endpoint
        };
        assert_eq!(
            only("http://c:4318/v1/traces", "http/protobuf").as_deref(),
            Some("http://c:4318/v1/metrics")
        );
        assert_eq!(only("http://c:4318/custom/traces", "http/protobuf"), None);
        assert_eq!(
            only("http://c:4317", "grpc").as_deref(),
            Some("http://c:4317")
        );
    }

    #[test]
    fn bad_values_are_named() {
        let e = env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]);
        let err = resolve(Some("http://c:4318"), false, &e).unwrap_err();
        assert!(err.to_string().contains("http/json"), "{err}");
        let err = resolve(Some("collector:4318"), false, &env(&[])).unwrap_err();
        assert!(err.to_string().contains("collector:4318"), "{err}");
    }
}
