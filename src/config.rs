//! Settings from the command line, the environment and a config file, in that
//! order of precedence, with MockServer's names where MockServer has them.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Keys read from the config file and `LLMSPY_…` / `MOCKSERVER_…` variables.
pub const KEYS: &[&str] = &[
    "streamingResponsesEnabled",
    "maxStreamingCaptureBytes",
    "streamIdleTimeoutSeconds",
    "clientIdleTimeoutSeconds",
    "upstreamConnectTimeoutSeconds",
    "upstreamResponseTimeoutSeconds",
    "maxBodyCaptureBytes",
    "maxExchanges",
    "maxCaptureBytes",
    "initializationJsonPath",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {problem}")]
    Parse { path: PathBuf, problem: String },
    #[error("{source_name}: {key}={value:?} is not valid: expected {expected}")]
    Value {
        source_name: String,
        key: String,
        value: String,
        expected: &'static str,
    },
}

/// Values from the file and the environment, by key, as text.
#[derive(Debug, Default, Clone)]
pub struct Layered {
    /// (key, value, where it came from)
    entries: Vec<(String, String, String)>,
}

impl Layered {
    /// Read the environment (highest) and the file (lowest).
    pub fn load(file: Option<&Path>) -> Result<Layered, ConfigError> {
        let mut layered = Layered::default();
        for key in KEYS {
            for prefix in ["LLMSPY_", "MOCKSERVER_"] {
                let var = format!("{prefix}{}", screaming_snake(key));
                if let Ok(v) = std::env::var(&var) {
                    layered.entries.push((key.to_string(), v, var));
                    break;
                }
            }
        }
        if let Some(path) = file {
            layered.entries.extend(read_file(path)?);
        }
        Ok(layered)
    }

    fn raw(&self, key: &str) -> Option<(&str, &str)> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, src)| (v.as_str(), src.as_str()))
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        self.parsed(key, "true or false", |v| {
            match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            }
        })
    }

    /// A text value (e.g. `initializationJsonPath`), as given.
    pub fn string(&self, key: &str) -> Option<String> {
        self.raw(key).map(|(v, _)| v.to_string())
    }

    pub fn u64(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        self.parsed(key, "a whole number", |v| v.trim().parse().ok())
    }

    fn parsed<T>(
        &self,
        key: &str,
        expected: &'static str,
        f: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        match self.raw(key) {
            None => Ok(None),
            Some((v, src)) => f(v).map(Some).ok_or_else(|| ConfigError::Value {
                source_name: src.to_string(),
                key: key.to_string(),
                value: v.to_string(),
                expected,
            }),
        }
    }
}

/// `LLMSPY_…` variables llmspy reads that are not settings.
const OTHER_VARS: [&str; 8] = [
    "LLMSPY_LISTEN",
    "LLMSPY_CA_DIR",
    "LLMSPY_LOG",
    "LLMSPY_CONFIG",
    "LLMSPY_CONTROL_TOKEN",
    "LLMSPY_FILES_ROOT",
    "LLMSPY_PROXY_AUTH",
    "LLMSPY_UPSTREAM_CA",
];

/// For each `LLMSPY_…` name in `vars` that llmspy does not read, a warning
/// (with the likely intended name). Other tools' `MOCKSERVER_…` variables
/// are left alone. `prefixes` lets the project's own scripts' variables
/// through.
pub fn unknown_env_vars<'a>(
    vars: impl IntoIterator<Item = &'a str>,
    ignored_prefixes: &[&str],
) -> Vec<String> {
    let known: Vec<String> = KEYS
        .iter()
        .map(|k| format!("LLMSPY_{}", screaming_snake(k)))
        .chain(OTHER_VARS.iter().map(|v| v.to_string()))
        .collect();
    vars.into_iter()
        .filter(|v| v.starts_with("LLMSPY_") && !known.iter().any(|k| k == v))
        .filter(|v| !ignored_prefixes.iter().any(|p| v.starts_with(p)))
        .map(
            |v| match crate::similar::closest(v, known.iter().map(String::as_str), 3) {
                Some(k) => format!("{v} is not a variable llmspy reads; did you mean {k}?"),
                None => format!("{v} is not a variable llmspy reads"),
            },
        )
        .collect()
}

/// `maxStreamingCaptureBytes` → `MAX_STREAMING_CAPTURE_BYTES`.
pub fn screaming_snake(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// A JSON object (`{"maxExchanges": 1000}`) or MockServer-style properties
/// (`mockserver.maxExchanges=1000`).
fn read_file(path: &Path) -> Result<Vec<(String, String, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let src = path.display().to_string();
    let parse_err = |problem: String| ConfigError::Parse {
        path: path.to_path_buf(),
        problem,
    };
    let mut out = Vec::new();
    if text.trim_start().starts_with('{') {
        let v: Value = serde_json::from_str(&text).map_err(|e| parse_err(e.to_string()))?;
        let Value::Object(map) = v else {
            return Err(parse_err("expected a JSON object".into()));
        };
        for (k, v) in map {
            check_key(&k).map_err(&parse_err)?;
            let value = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            out.push((k, value, src.clone()));
        }
        return Ok(out);
    }
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| parse_err(format!("line {}: expected key=value", i + 1)))?;
        let k = k.trim();
        let k = k
            .strip_prefix("mockserver.")
            .or_else(|| k.strip_prefix("llmspy."))
            .unwrap_or(k);
        check_key(k).map_err(|p| parse_err(format!("line {}: {p}", i + 1)))?;
        out.push((
            k.to_string(),
            v.trim().to_string(),
            format!("{src}:{}", i + 1),
        ));
    }
    Ok(out)
}

fn check_key(k: &str) -> Result<(), String> {
    if KEYS.contains(&k) {
        Ok(())
    } else {
        Err(format!(
            "unknown setting {k:?}; known settings: {}",
            KEYS.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn unknown_llmspy_variables_are_named_with_a_guess() {
        let vars = [
            "LLMSPY_MAX_EXCHANGE",
            "LLMSPY_MAX_EXCHANGES",
            "LLMSPY_LISTEN",
            "MOCKSERVER_LOG_LEVEL",
            "LLMSPY_BIN",
            "PATH",
        ];
        let warnings = unknown_env_vars(vars, &["LLMSPY_BIN"]);
        assert_eq!(
            warnings,
            vec!["LLMSPY_MAX_EXCHANGE is not a variable llmspy reads; did you mean LLMSPY_MAX_EXCHANGES?".to_string()]
        );
    }

    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            screaming_snake("maxStreamingCaptureBytes"),
            "MAX_STREAMING_CAPTURE_BYTES"
        );
    }

    #[test]
    fn properties_and_json_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mockserver.properties");
        std::fs::write(
            &p,
            "# c\nmockserver.maxStreamingCaptureBytes=1024\nstreamingResponsesEnabled=false\n",
        )
        .unwrap();
        let l = Layered {
            entries: read_file(&p).unwrap(),
        };
        assert_eq!(l.u64("maxStreamingCaptureBytes").unwrap(), Some(1024));
        assert_eq!(l.bool("streamingResponsesEnabled").unwrap(), Some(false));
        let j = dir.path().join("c.json");
        std::fs::write(&j, r#"{"streamIdleTimeoutSeconds": 5}"#).unwrap();
        let l = Layered {
            entries: read_file(&j).unwrap(),
        };
        assert_eq!(l.u64("streamIdleTimeoutSeconds").unwrap(), Some(5));
        std::fs::write(&j, r#"{"maxStreamingCaptureByte": 5}"#).unwrap();
        let e = read_file(&j).unwrap_err().to_string();
        assert!(
            e.contains("maxStreamingCaptureByte") && e.contains("known settings"),
            "{e}"
        );
        std::fs::write(&j, r#"{"maxExchanges": "lots"}"#).unwrap();
        let l = Layered {
            entries: read_file(&j).unwrap(),
        };
        assert!(
            l.u64("maxExchanges")
                .unwrap_err()
                .to_string()
                .contains("whole number")
        );
    }
}
