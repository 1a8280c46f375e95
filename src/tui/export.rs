//! Writing an export file from the Library screen. The formats are the
//! export module's; this is only the file at the UI's edge.

use std::path::Path;

use crate::exchange::Exchange;
use crate::export::{self, Format, Options};

use super::library::format_label;
use super::{analysis, strings};

/// Render `exchanges` as `format` into `path`; the message says where.
pub fn write(
    format: Format,
    redact: bool,
    exchanges: &[Exchange],
    path: &Path,
) -> Result<String, String> {
    let assistant_text = |ex: &Exchange| analysis::assistant_text(ex);
    let options = Options {
        redact,
        assistant_text: Some(&assistant_text),
        ..Options::default()
    };
    let bytes =
        export::render(format, exchanges, &options).map_err(|e| format!("Export failed: {e}"))?;
    crate::private::write(path, &bytes)
        .map_err(|e| format!("Could not write {}: {e}", path.display()))?;
    Ok(format!(
        "Wrote {} exchange(s) as {} to {} ({}).",
        exchanges.len(),
        format_label(format),
        path.display(),
        strings::bytes(bytes.len() as u64)
    ))
}

/// Write a replay fixture document to `path`; the message says where, how
/// many expectations it holds and what could not be kept as recorded.
pub fn write_fixture(
    doc: &serde_json::Value,
    count: usize,
    warnings: &[String],
    path: &Path,
    nothing: &str,
) -> Result<String, String> {
    if count == 0 {
        return Err(nothing.to_string());
    }
    let mut bytes = serde_json::to_vec_pretty(doc).map_err(|e| format!("Recording failed: {e}"))?;
    bytes.push(b'\n');
    crate::private::write(path, &bytes)
        .map_err(|e| format!("Could not write {}: {e}", path.display()))?;
    let mut msg = format!(
        "Recorded {count} expectation(s) to {} — replay with: llmspy --init {}",
        path.display(),
        path.display()
    );
    if !warnings.is_empty() {
        msg.push_str(&format!(
            " ({} warning(s): {})",
            warnings.len(),
            warnings.join("; ")
        ));
    }
    Ok(msg)
}
