//! `llmspy history`, and reading captures from the history database for
//! `export`, `retrieve` and `open`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::args::{CommonArgs, HistoryArgs};
use crate::exchange::Exchange;
use crate::history::{self, reader};

/// The history file: `--history`, else the data directory's.
pub fn file(common: &CommonArgs, given: Option<&Path>) -> anyhow::Result<PathBuf> {
    match given {
        Some(p) => Ok(p.to_path_buf()),
        None => Ok(super::ca_dir(common)?.join(history::DEFAULT_FILE)),
    }
}

/// `--since WHEN` as a time.
pub fn since(text: Option<&str>) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    text.map(|t| reader::parse_since(t, chrono::Utc::now()))
        .transpose()
        .map_err(anyhow::Error::msg)
}

/// Exchanges from a capture file of any kind: a history database (one run,
/// or since a time, when asked), else a `--save` file, a native export or HAR.
/// With `history_only` (the file came as `--history`), anything but a
/// history database is an error saying so, not a parse error from reading
/// it as a capture.
pub fn load_capture(
    path: &Path,
    run: Option<i64>,
    since_text: Option<&str>,
    history_only: bool,
) -> anyhow::Result<Vec<Exchange>> {
    if history_only || history::is_database(path) {
        let conn = reader::connect(path)?;
        let query = reader::Query {
            run,
            since: since(since_text)?,
        };
        return reader::exchanges(&conn, &query)
            .with_context(|| format!("reading the history {}", path.display()));
    }
    if run.is_some() || since_text.is_some() {
        anyhow::bail!(
            "--run and --since select from a history database; {} is not one",
            path.display()
        );
    }
    crate::capture::save::load(path)
        .with_context(|| format!("reading the capture {}", path.display()))
}

pub fn run(common: &CommonArgs, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let path = file(common, args.file.as_deref())?;
    let conn = reader::connect(&path)?;
    let mut out = std::io::stdout().lock();
    if args.stats {
        let rows = reader::stats(&conn, since(args.since.as_deref())?)?;
        if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        } else {
            write!(out, "{}", stats_table(&rows))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let since = since(args.since.as_deref())?.map(|s| s.to_rfc3339());
    let runs: Vec<_> = reader::runs(&conn)?
        .into_iter()
        .filter(|r| since.as_ref().is_none_or(|s| r.started_at >= *s))
        .collect();
    if args.json {
        let rows: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["state"] = serde_json::json!(r.state());
                v
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
    } else {
        write!(out, "{}", runs_table(&runs))?;
        writeln!(out, "({})", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn runs_table(runs: &[reader::RunRow]) -> String {
    let mut out = format!(
        "{:>4}  {:<20}  {:<16}  {:<22}  {:>9}  {:>10}  {:>10}  {:>9}\n",
        "run", "started (UTC)", "state", "listen", "exchanges", "tokens in", "tokens out", "cost"
    );
    for r in runs {
        out.push_str(&format!(
            "{:>4}  {:<20}  {:<16}  {:<22}  {:>9}  {:>10}  {:>10}  {:>9}\n",
            r.id,
            short_time(&r.started_at),
            r.state(),
            r.listen,
            r.exchanges,
            r.tokens_in,
            r.tokens_out,
            format!("${:.4}", r.cost_usd)
        ));
    }
    out
}

fn stats_table(rows: &[reader::StatRow]) -> String {
    if rows.is_empty() {
        return "no LLM calls to sum (only exchanges with a recognised provider count)\n".into();
    }
    let mut out = format!(
        "{:<10}  {:<22}  {:<32}  {:>6}  {:>10}  {:>10}  {:>10}\n",
        "day", "provider", "model", "calls", "tokens in", "tokens out", "cost"
    );
    for r in rows {
        let cost = if r.cost_unknown > 0 {
            format!("${:.4}+", r.cost_usd)
        } else {
            format!("${:.4}", r.cost_usd)
        };
        out.push_str(&format!(
            "{:<10}  {:<22}  {:<32}  {:>6}  {:>10}  {:>10}  {:>10}\n",
            r.day, r.provider, r.model, r.calls, r.tokens_in, r.tokens_out, cost
        ));
    }
    // A float sum starts at -0.0, which prints as "$-0.0000".
    let total = rows.iter().fold(0.0, |sum, r| sum + r.cost_usd);
    let calls: i64 = rows.iter().map(|r| r.calls).sum();
    let unknown = if rows.iter().any(|r| r.cost_unknown > 0) {
        " (+ calls of unknown cost)"
    } else {
        ""
    };
    out.push_str(&format!("total: {calls} calls, ${total:.4}{unknown}\n"));
    out
}

/// `2026-12-05T09:01:02.123+00:00` → `2026-12-05 09:01:02`.
fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

/// The history as the live UI's Runs tab reads it.
pub fn ui_source(path: PathBuf) -> crate::tui::HistorySource {
    let list_path = path.clone();
    let runs = move || -> Result<Vec<(i64, String)>, String> {
        let conn = reader::connect(&list_path).map_err(|e| e.to_string())?;
        let runs = reader::runs(&conn).map_err(|e| e.to_string())?;
        Ok(runs
            .iter()
            .map(|r| {
                let line = format!(
                    "run {:<4} {}  {:<16} {:>6} exchanges  {:>9} tok  ${:.4}",
                    r.id,
                    short_time(&r.started_at),
                    r.state(),
                    r.exchanges,
                    r.tokens_in + r.tokens_out,
                    r.cost_usd
                );
                (r.id, line)
            })
            .collect())
    };
    let open = move |run: i64| -> Result<crate::capture::StoreReader, String> {
        let conn = reader::connect(&path).map_err(|e| e.to_string())?;
        let query = reader::Query {
            run: Some(run),
            since: None,
        };
        let exchanges = reader::exchanges(&conn, &query).map_err(|e| e.to_string())?;
        Ok(crate::capture::StoreReader::detached(
            crate::capture::loaded_store(exchanges),
        ))
    };
    crate::tui::HistorySource {
        runs: std::sync::Arc::new(runs),
        open: std::sync::Arc::new(open),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cost_usd: f64, cost_unknown: i64) -> reader::StatRow {
        reader::StatRow {
            day: "2026-12-05".into(),
            provider: "anthropic".into(),
            model: "claude-sonnet-4-5".into(),
            calls: 2,
            tokens_in: 10,
            tokens_out: 20,
            cost_unknown,
            cost_usd,
        }
    }

    #[test]
    fn stats_say_when_there_is_nothing_to_sum() {
        assert!(stats_table(&[]).starts_with("no LLM calls"));
    }

    #[test]
    fn the_stats_total_is_never_negative_zero_and_owns_up_to_unknown_costs() {
        let free = stats_table(&[row(0.0, 0)]);
        assert!(free.ends_with("total: 2 calls, $0.0000\n"), "{free}");
        let partly = stats_table(&[row(0.5, 0), row(0.25, 1)]);
        assert!(
            partly.ends_with("total: 4 calls, $0.7500 (+ calls of unknown cost)\n"),
            "{partly}"
        );
    }
}
