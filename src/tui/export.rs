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
    std::fs::write(path, &bytes).map_err(|e| format!("Could not write {}: {e}", path.display()))?;
    Ok(format!(
        "Wrote {} exchange(s) as {} to {} ({}).",
        exchanges.len(),
        format_label(format),
        path.display(),
        strings::bytes(bytes.len() as u64)
    ))
}
