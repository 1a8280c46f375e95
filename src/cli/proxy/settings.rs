//! The proxy's settings, resolved once at start: CLI > environment >
//! config file > defaults, and the user's price list over the embedded one.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::capture::Limits;
use crate::cli::args::ProxyArgs;
use crate::config::Layered;
use crate::engine::RelaySettings;

/// Resolved settings: CLI > environment > config file > defaults.
pub struct Resolved {
    pub limits: Limits,
    pub relay: RelaySettings,
}

/// Variables of the project's own test and bench scripts, not settings.
const SCRIPT_VARS: [&str; 5] = [
    "LLMSPY_BIN",
    "LLMSPY_SDK_",
    "LLMSPY_UPDATE_MAN",
    "LLMSPY_EXPORT_",
    "LLMSPY_VALIDATE_",
];

pub fn resolve(args: &ProxyArgs) -> anyhow::Result<Resolved> {
    // A misspelt variable would otherwise be ignored without a word.
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    for warning in crate::config::unknown_env_vars(names.iter().map(String::as_str), &SCRIPT_VARS) {
        crate::note!("llmspy: warning: {warning}");
    }
    let file = args.config.clone().or_else(default_config_file);
    let layered = Layered::load(file.as_deref())?;
    let d = Limits::default();
    let num = |cli: Option<u64>, key: &str, default: usize| -> anyhow::Result<usize> {
        Ok(cli.or(layered.u64(key)?).map_or(default, |v| v as usize))
    };
    let limits = Limits {
        max_exchanges: num(args.max_exchanges, "maxExchanges", d.max_exchanges)?.max(1),
        max_total_bytes: num(args.max_capture_bytes, "maxCaptureBytes", d.max_total_bytes)?,
        max_streaming_capture_bytes: num(
            args.max_streaming_capture_bytes,
            "maxStreamingCaptureBytes",
            d.max_streaming_capture_bytes,
        )?,
        max_body_capture_bytes: num(
            args.max_body_capture_bytes,
            "maxBodyCaptureBytes",
            d.max_body_capture_bytes,
        )?,
    };
    // Seconds, 0 meaning "never".
    let limit = |cli: Option<u64>, key: &str, default: u64| -> anyhow::Result<Option<Duration>> {
        let secs = cli.or(layered.u64(key)?).unwrap_or(default);
        Ok((secs > 0).then(|| Duration::from_secs(secs)))
    };
    let relay = RelaySettings {
        streaming_enabled: args
            .streaming_responses_enabled
            .or(layered.bool("streamingResponsesEnabled")?)
            .unwrap_or(true),
        idle_timeout: limit(
            args.stream_idle_timeout_seconds,
            "streamIdleTimeoutSeconds",
            60,
        )?,
        client_idle_timeout: limit(
            args.client_idle_timeout_seconds,
            "clientIdleTimeoutSeconds",
            60,
        )?,
        upstream_connect_timeout: limit(
            args.upstream_connect_timeout_seconds,
            "upstreamConnectTimeoutSeconds",
            10,
        )?,
        upstream_response_timeout: limit(
            args.upstream_response_timeout_seconds,
            "upstreamResponseTimeoutSeconds",
            600,
        )?,
        max_client_connections: None,
        ..RelaySettings::default()
    };
    Ok(Resolved { limits, relay })
}

fn default_config_file() -> Option<PathBuf> {
    let path = crate::cli::project_dirs()?.config_dir().join("config.json");
    path.exists().then_some(path)
}

/// Prices in `pricing.json` in the user config directory replace or extend
/// the embedded table (new models, negotiated rates).
pub fn install_pricing_override() -> anyhow::Result<()> {
    let Some(path) = crate::cli::project_dirs().map(|d| d.config_dir().join("pricing.json")) else {
        return Ok(());
    };
    if !path.exists() {
        return Ok(());
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    crate::pricing::install_override(&text)
        .with_context(|| format!("{} is not a valid price list", path.display()))
}
