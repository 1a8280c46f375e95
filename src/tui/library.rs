//! The Library screen's model: the expectations list and the Export form
//! (what, format, path).

use std::path::{Path, PathBuf};

/// The Library's sub-tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LibraryTab {
    #[default]
    Expectations,
    Export,
    /// Earlier runs from the history database.
    Runs,
}

/// Which exchanges to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum What {
    #[default]
    All,
    Filtered,
    Marked,
    /// The active mock expectations, as the exchanges they describe.
    Expectations,
}

impl What {
    pub const ALL: [What; 4] = [What::All, What::Filtered, What::Marked, What::Expectations];

    pub fn label(self) -> &'static str {
        match self {
            What::All => "all captured traffic",
            What::Filtered => "the filtered view",
            What::Marked => "marked exchanges",
            What::Expectations => "active expectations",
        }
    }
}

pub use crate::export::Format;

/// One expectation as the Library lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectationRow {
    pub id: String,
    pub priority: String,
    /// Remaining times, or `∞`.
    pub times: String,
    pub method: String,
    pub path: String,
    /// The action: `httpResponse 200`, `httpLlmResponse ANTHROPIC`, …
    pub answer: String,
    pub scenario: String,
}

/// Rows for MockServer-shaped expectations; missing parts show as `-`/`*`.
pub fn expectation_rows(list: &[serde_json::Value]) -> Vec<ExpectationRow> {
    use serde_json::Value;
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Object(o)) => o.get("value").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    list.iter()
        .map(|e| {
            let req = e.get("httpRequest");
            let action = crate::mock::action::ACTION_KEYS
                .iter()
                .find(|a| e.get(**a).is_some());
            let detail = action.and_then(|a| {
                let body = e.get(*a)?;
                text(body.get("statusCode")).or_else(|| text(body.get("provider")))
            });
            let times = e.get("times");
            let unlimited = times
                .and_then(|t| t.get("unlimited"))
                .and_then(Value::as_bool);
            ExpectationRow {
                id: text(e.get("id"))
                    .map(|id| id.chars().take(10).collect())
                    .unwrap_or_else(|| "-".into()),
                priority: text(e.get("priority")).unwrap_or_else(|| "0".into()),
                times: match (unlimited, times.and_then(|t| t.get("remainingTimes"))) {
                    (Some(false), Some(n)) | (None, Some(n)) => n.to_string(),
                    _ => "∞".into(),
                },
                method: text(req.and_then(|r| r.get("method"))).unwrap_or_else(|| "*".into()),
                path: text(req.and_then(|r| r.get("path"))).unwrap_or_else(|| "*".into()),
                answer: match (action, detail) {
                    (Some(a), Some(d)) => format!("{a} {d}"),
                    (Some(a), None) => a.to_string(),
                    (None, _) => "-".into(),
                },
                scenario: text(e.get("scenarioName")).unwrap_or_default(),
            }
        })
        .collect()
}

/// How the form shows a format.
pub fn format_label(f: Format) -> &'static str {
    match f {
        Format::Json => "llmspy JSON",
        Format::Har => "HAR 1.2",
        Format::OpenApi => "OpenAPI 3",
        Format::Postman => "Postman v2.1",
        Format::Bruno => "Bruno (.zip)",
    }
}

/// The fields of the Export form, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportField {
    #[default]
    What,
    Format,
    Secrets,
    Path,
    Write,
}

const FIELDS: [ExportField; 5] = [
    ExportField::What,
    ExportField::Format,
    ExportField::Secrets,
    ExportField::Path,
    ExportField::Write,
];

#[derive(Debug, Clone)]
pub struct Library {
    pub tab: LibraryTab,
    pub field: ExportField,
    pub what: What,
    pub format: Format,
    /// Keep secrets out of the file (the default).
    pub redact: bool,
    /// The path; follows the format's default until the user edits it.
    pub path: String,
    pub path_edited: bool,
    /// The format the default path was made for.
    default_for: Option<Format>,
    /// The last write: Ok(message) or Err(reason).
    pub result: Option<Result<String, String>>,
    /// First expectation in view on the Expectations tab.
    pub scroll: usize,
    /// The highlighted row of the Runs tab (0 = back to live traffic).
    pub run_cursor: usize,
}

impl Default for Library {
    fn default() -> Self {
        Library {
            tab: LibraryTab::default(),
            field: ExportField::default(),
            what: What::default(),
            format: Format::Json,
            redact: true,
            path: String::new(),
            path_edited: false,
            default_for: None,
            result: None,
            scroll: 0,
            run_cursor: 0,
        }
    }
}

impl Library {
    /// Move between fields.
    pub fn step_field(&mut self, forward: bool) {
        let i = FIELDS.iter().position(|f| *f == self.field).unwrap_or(0);
        let next = if forward {
            (i + 1).min(FIELDS.len() - 1)
        } else {
            i.saturating_sub(1)
        };
        self.field = FIELDS[next];
    }

    /// Change the choice in the current field.
    pub fn step_choice(&mut self, forward: bool) {
        match self.field {
            ExportField::What => self.what = cycle(&What::ALL, self.what, forward),
            ExportField::Format => self.format = cycle(&Format::ALL, self.format, forward),
            ExportField::Secrets => self.redact = !self.redact,
            ExportField::Path | ExportField::Write => {}
        }
    }

    /// True when the default path must be (re)made for the current format.
    pub fn needs_default_path(&self) -> bool {
        !self.path_edited && self.default_for != Some(self.format)
    }

    /// Set the default path for the format (unless the user edited it):
    /// a name no file has yet, so an export never replaces an earlier one
    /// unasked.
    pub fn default_path(&mut self, dir: &Path, stamp: &str) {
        if !self.path_edited {
            let ext = self.format.file_extension();
            let free = (1..)
                .map(|n| match n {
                    1 => dir.join(format!("llmspy-{stamp}.{ext}")),
                    n => dir.join(format!("llmspy-{stamp}-{n}.{ext}")),
                })
                .find(|p| !p.exists())
                .unwrap_or_else(|| dir.join(format!("llmspy-{stamp}.{ext}")));
            self.path = free.display().to_string();
            self.default_for = Some(self.format);
        }
    }

    /// The file was written: the next export gets a name of its own.
    pub fn written(&mut self) {
        self.default_for = None;
    }

    /// Where `R` writes a replay fixture: next to the exports.
    pub fn fixture_path(dir: &Path, stamp: &str) -> PathBuf {
        dir.join(format!("llmspy-fixture-{stamp}.json"))
    }

    pub fn path_buf(&self) -> PathBuf {
        PathBuf::from(&self.path)
    }
}

fn cycle<T: Copy + PartialEq>(all: &[T], current: T, forward: bool) -> T {
    let i = all.iter().position(|x| *x == current).unwrap_or(0);
    let n = all.len();
    all[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_list_as_rows() {
        let list = vec![
            serde_json::json!({"id": "abcdef1234567", "priority": 5, "times": {"remainingTimes": 2, "unlimited": false},
                "httpRequest": {"method": "POST", "path": "/v1/messages"},
                "httpLlmResponse": {"provider": "ANTHROPIC"}, "scenarioName": "weather"}),
            serde_json::json!({"httpResponse": {"statusCode": 404}}),
        ];
        let rows = expectation_rows(&list);
        assert_eq!(rows[0].id, "abcdef1234");
        assert_eq!(
            (rows[0].priority.as_str(), rows[0].times.as_str()),
            ("5", "2")
        );
        assert_eq!(rows[0].answer, "httpLlmResponse ANTHROPIC");
        assert_eq!(rows[0].scenario, "weather");
        assert_eq!(
            (
                rows[1].method.as_str(),
                rows[1].path.as_str(),
                rows[1].times.as_str()
            ),
            ("*", "*", "∞")
        );
        assert_eq!(rows[1].answer, "httpResponse 404");
    }

    #[test]
    fn fields_and_choices_cycle() {
        let mut lib = Library::default();
        lib.step_choice(true);
        assert_eq!(lib.what, What::Filtered);
        lib.step_field(true);
        lib.step_choice(false);
        assert_eq!(lib.format, Format::Bruno);
        lib.default_path(Path::new("/tmp"), "20260101-000000");
        assert_eq!(lib.path, "/tmp/llmspy-20260101-000000.bruno.zip");
        lib.path_edited = true;
        lib.format = Format::Har;
        lib.default_path(Path::new("/tmp"), "x");
        assert!(lib.path.ends_with("bruno.zip"));
    }
}
