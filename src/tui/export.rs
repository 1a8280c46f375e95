//! Writing an export file from the Library screen. The formats themselves
//! are the export module's; this is only the file at the UI's edge.

use std::path::Path;

use crate::exchange::Exchange;
use crate::export::native;

use super::library::Format;
use super::strings;

/// Render `exchanges` as `format` into `path`; the message says where.
pub fn write(format: Format, exchanges: &[Exchange], path: &Path) -> Result<String, String> {
    let bytes = render(format, exchanges)?;
    std::fs::write(path, &bytes).map_err(|e| format!("Could not write {}: {e}", path.display()))?;
    Ok(format!(
        "Wrote {} exchange(s) as {} to {} ({}).",
        exchanges.len(),
        format.label(),
        path.display(),
        strings::bytes(bytes.len() as u64)
    ))
}

fn render(format: Format, exchanges: &[Exchange]) -> Result<Vec<u8>, String> {
    match format {
        Format::Json => {
            let all: Vec<_> = exchanges.iter().map(native::to_json).collect();
            serde_json::to_vec_pretty(&all).map_err(|e| e.to_string())
        }
        other => Err(format!("{} export is not available yet.", other.label())),
    }
}
