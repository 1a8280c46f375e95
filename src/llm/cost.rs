//! Which figure an exchange's cost is: the one a gateway reported, the
//! estimate from the price list, or zero for a model served locally.

use serde::Serialize;

use super::body::Input;
use crate::pricing::Cost;

/// Where a cost figure came from, so views can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    /// The gateway said what it charged (OpenRouter's `usage.cost`).
    Reported,
    /// Tokens (and per-use tool fees) times the price list.
    Estimate,
    /// A local server (Ollama, vLLM, llama.cpp on a loopback address)
    /// running a model the price list does not know: it costs nothing.
    Local,
    /// The call was refused (an error status and no usage: overloaded,
    /// rate-limited, unreachable): providers bill nothing for it.
    Unbilled,
}

impl CostSource {
    /// A word for the usage strip, when the figure is not a plain estimate.
    pub fn label(self) -> Option<&'static str> {
        match self {
            CostSource::Reported => Some("reported by the gateway"),
            CostSource::Estimate => None,
            CostSource::Local => Some("local model"),
            CostSource::Unbilled => Some("not billed: the call was refused"),
        }
    }
}

/// The cost to show and where it came from. A reported figure beats the
/// estimate; a local server is free; anything else unknown stays unknown.
pub(crate) fn choose(
    input: &Input,
    provider: &str,
    reported: Option<f64>,
    estimate: Option<&Cost>,
    has_usage: bool,
) -> (Option<f64>, Option<CostSource>) {
    if provider == "ollama" {
        return (Some(0.0), Some(CostSource::Local));
    }
    if let Some(usd) = reported.filter(|c| c.is_finite() && *c >= 0.0) {
        return (Some(usd), Some(CostSource::Reported));
    }
    if let Some(c) = estimate {
        return (Some(c.total_usd), Some(CostSource::Estimate));
    }
    if has_usage && is_local(&input.ex.request.host) {
        return (Some(0.0), Some(CostSource::Local));
    }
    // Refused without a token counted (a 529, a 429, llmspy's own 502):
    // known to cost nothing, not unknown.
    if !has_usage && input.response.as_ref().is_some_and(|r| r.status >= 400) {
        return (Some(0.0), Some(CostSource::Unbilled));
    }
    (None, None)
}

/// A loopback or private address: a server on this machine or network.
/// (`core::net` parses addresses only; no socket is involved.)
fn is_local(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<core::net::IpAddr>() {
        Ok(core::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
        Ok(core::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hosts() {
        for host in ["localhost", "127.0.0.1", "::1", "[::1]", "192.168.1.20"] {
            assert!(is_local(host), "{host}");
        }
        for host in ["api.openai.com", "8.8.8.8", "openrouter.ai"] {
            assert!(!is_local(host), "{host}");
        }
    }
}
