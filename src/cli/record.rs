//! `llmspy record -o FILE`: ask the running llmspy for the fixture of what
//! it captured (`PUT /llmspy/fixtures/record`) and write it here.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::args::{CommonArgs, RecordArgs};

pub fn run(common: &CommonArgs, args: &RecordArgs) -> anyhow::Result<ExitCode> {
    let base = server_base(common, args.server.as_deref())?;
    let options = json!({
        "requestPath": args.path, "host": args.host, "keepTiming": args.keep_timing,
    });
    let answer = put_json(&format!("{base}/llmspy/fixtures/record"), &options)?;
    let fixture = answer
        .get("fixture")
        .context("the server's answer has no fixture")?;
    let mut text = serde_json::to_string_pretty(fixture)?;
    text.push('\n');
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&args.output, text)
        .with_context(|| format!("writing {}", args.output.display()))?;
    report(&answer, &args.output);
    let count = answer
        .get("expectations")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if count == 0 {
        let filters: Vec<String> = [("--path", &args.path), ("--host", &args.host)]
            .into_iter()
            .filter_map(|(flag, v)| v.as_ref().map(|v| format!("{flag} {v}")))
            .collect();
        let why = if filters.is_empty() {
            "no finished exchange has been captured yet".to_string()
        } else {
            format!("no finished exchange matches {}", filters.join(" "))
        };
        eprintln!("llmspy record: {why}");
    }
    Ok(if count > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn report(answer: &Value, path: &std::path::Path) {
    let count = answer
        .get("expectations")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    eprintln!(
        "llmspy record: {count} expectations written to {}",
        path.display()
    );
    let list = |k: &str| -> Vec<String> {
        answer
            .get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect()
    };
    let redacted = list("redacted");
    if !redacted.is_empty() {
        eprintln!("  redacted: {}", redacted.join(", "));
    }
    for w in list("warnings") {
        eprintln!("  warning: {w}");
    }
}

/// `http://HOST:PORT` of the running llmspy.
pub fn server_base(common: &CommonArgs, server: Option<&str>) -> anyhow::Result<String> {
    let base = match server {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!("http://{}", super::env::connectable(common.listen)),
    };
    if !base.starts_with("http://") {
        bail!("--server {base}: llmspy's control API speaks plain HTTP; use http://HOST:PORT");
    }
    Ok(base)
}

/// PUT a JSON body and parse the JSON answer; a non-2xx answer is an error
/// carrying the server's message.
pub fn put_json(url: &str, body: &Value) -> anyhow::Result<Value> {
    send("PUT", url, body.to_string().into_bytes())
}

pub fn send(method: &str, url: &str, body: Vec<u8>) -> anyhow::Result<Value> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Full<bytes::Bytes>>();
        let req = http::Request::builder()
            .method(method)
            .uri(url)
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))?;
        let resp = tokio::time::timeout(Duration::from_secs(60), client.request(req))
            .await
            .with_context(|| format!("{url}: no answer within 60 s"))?
            .map_err(|_| {
                anyhow::anyhow!(
                    "no llmspy is listening at {}: start it (`llmspy --no-tui`), or pass --server URL",
                    url.split("/llmspy/").next().unwrap_or(url)
                )
            })?;
        let status = resp.status();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await?
            .to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            let msg = value
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no details");
            bail!("{url}: {status}: {msg}");
        }
        Ok(value)
    })
}
