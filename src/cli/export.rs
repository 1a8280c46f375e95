//! `llmspy export`: captured traffic (or expectations) as a file in one of
//! the five formats, from a running llmspy or offline from a saved capture.
//! Secrets are redacted unless `--no-redact` says otherwise.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::args::{CommonArgs, ExportArgs};
use super::retrieve::{Progress, Question, ask, exit_code, is_broken_pipe};
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
    match args.output.as_deref().filter(|_| !to_stdout) {
        Some(path) => {
            let mut file = PartialFile::create(path)?;
            let answer = ask(common, &question, progress, &mut file.writer)?;
            file.commit()?;
            if !args.quiet {
                crate::note!(
                    "llmspy: wrote {} item(s) as {} to {} ({} bytes)",
                    answer.count,
                    args.format,
                    path.display(),
                    answer.bytes
                );
            }
            Ok(exit_code(answer.count))
        }
        None => {
            let mut out = std::io::stdout().lock();
            match ask(common, &question, progress, &mut out) {
                Ok(answer) => Ok(exit_code(answer.count)),
                Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
                Err(e) => Err(e),
            }
        }
    }
}

/// Write beside the target and rename, so a failed export never leaves
/// half a file where a good one was. The file is the owner's alone (0600):
/// it holds captured traffic.
pub(super) fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = PartialFile::create(path)?;
    file.writer
        .write_all(bytes)
        .with_context(|| format!("writing {}", file.tmp.display()))?;
    file.commit()
}

/// `NAME.partial` beside the target, written as the answer arrives and
/// renamed over the target once complete; removed if never completed.
struct PartialFile {
    writer: std::io::BufWriter<std::fs::File>,
    tmp: PathBuf,
    path: PathBuf,
    done: bool,
}

impl PartialFile {
    fn create(path: &Path) -> anyhow::Result<Self> {
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
        let file = crate::private::open(&mut options, &tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        Ok(PartialFile {
            writer: std::io::BufWriter::with_capacity(256 * 1024, file),
            tmp,
            path: path.to_path_buf(),
            done: false,
        })
    }

    fn commit(mut self) -> anyhow::Result<()> {
        self.writer
            .flush()
            .with_context(|| format!("writing {}", self.tmp.display()))?;
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("moving the export to {}", self.path.display()))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
