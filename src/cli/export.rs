//! `llmspy export`: captured traffic (or expectations) as a file in one of
//! the five formats, from a running llmspy or offline from a saved capture.
//! Secrets are redacted unless `--no-redact` says otherwise.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::args::{CommonArgs, ExportArgs};
use super::retrieve::{Progress, Question, ask, exit_code};
use crate::export::Format;

pub fn run(common: &CommonArgs, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let to_stdout = args.output.as_deref().is_none_or(|p| p == Path::new("-"));
    if to_stdout && args.format == Format::Bruno && std::io::stdout().is_terminal() {
        bail!("a Bruno export is a zip file: pass -o FILE (e.g. -o traffic.bruno.zip)");
    }
    let progress = Progress::for_terminal(args.quiet);
    let question = Question {
        select: &args.select,
        format: args.format,
        redact: Some(!args.no_redact),
    };
    progress.note(&format!(
        "exporting {} as {}…",
        args.select.kind, args.format
    ));
    let answer = ask(common, &question, progress)?;
    match args.output.as_deref().filter(|_| !to_stdout) {
        Some(path) => {
            write_file(path, &answer.body)?;
            if !args.quiet {
                eprintln!(
                    "llmspy: wrote {} item(s) as {} to {} ({} bytes)",
                    answer.count,
                    args.format,
                    path.display(),
                    answer.body.len()
                );
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(&answer.body).and_then(|()| out.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(e).context("writing to stdout"),
            }
        }
    }
    Ok(exit_code(answer.count))
}

/// Write beside the target and rename, so a failed export never leaves
/// half a file where a good one was. The file is the owner's alone (0600):
/// it holds captured traffic.
pub(super) fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let name = path
        .file_name()
        .with_context(|| format!("-o {}: not a file name", path.display()))?;
    let mut partial = name.to_os_string();
    partial.push(".partial");
    let tmp = path.with_file_name(partial);
    // A stale partial file keeps its old mode if reopened: start afresh.
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let mut file = crate::api::files::open_private(&mut options, &tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("moving the export to {}", path.display()))
}
