//! `llmspy record -o FILE`: ask the running llmspy for the fixture of what
//! it captured (`PUT /llmspy/fixtures/record`) and write it here.

use std::process::ExitCode;

use anyhow::Context;
use http::Method;
use serde_json::{Value, json};

use super::args::{CommonArgs, RecordArgs};
use super::control::Control;

pub fn run(common: &CommonArgs, args: &RecordArgs) -> anyhow::Result<ExitCode> {
    let control = Control::new(common, args.server.as_deref())?;
    let options = json!({
        "requestPath": args.path, "host": args.host, "keepTiming": args.keep_timing,
    });
    let answer = control.json(Method::PUT, "fixtures/record", &options)?;
    let fixture = answer
        .get("fixture")
        .context("the server's answer has no fixture")?;
    let mut text = serde_json::to_string_pretty(fixture)?;
    text.push('\n');
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private::create_dirs(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    super::export::write_file(&args.output, text.as_bytes())?;
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
        crate::note!("llmspy record: {why}");
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
    crate::note!(
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
        crate::note!("  redacted: {}", redacted.join(", "));
    }
    for w in list("warnings") {
        crate::note!("  warning: {w}");
    }
}
