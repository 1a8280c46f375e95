//! Requests llmspy turned away (a foreign `Host` or `Origin`, a missing
//! token, a path outside the files root, a proxy client without
//! credentials): counted in the store for `/llmspy/status`, and announced
//! to the UI and the log as a [`super::StoreEvent::Refused`].

use serde_json::{Value, json};

/// Which rule refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalRule {
    /// `Host` named neither this machine nor an allowed name.
    Host,
    /// `Origin` or `Sec-Fetch-Site` said a web page sent it.
    Origin,
    /// A body that is not JSON.
    ContentType,
    /// A peer beyond loopback, and no control token set.
    Peer,
    /// The control token was missing or wrong.
    Token,
    /// A file path outside the files root.
    Path,
    /// A proxy client without the `--proxy-auth` credentials.
    ProxyAuth,
}

impl RefusalRule {
    pub const ALL: [RefusalRule; 7] = [
        RefusalRule::Host,
        RefusalRule::Origin,
        RefusalRule::ContentType,
        RefusalRule::Peer,
        RefusalRule::Token,
        RefusalRule::Path,
        RefusalRule::ProxyAuth,
    ];

    /// The name used in `/llmspy/status`.
    pub fn label(self) -> &'static str {
        match self {
            RefusalRule::Host => "host",
            RefusalRule::Origin => "origin",
            RefusalRule::ContentType => "contentType",
            RefusalRule::Peer => "peer",
            RefusalRule::Token => "token",
            RefusalRule::Path => "path",
            RefusalRule::ProxyAuth => "proxyAuth",
        }
    }
}

/// One refused request: the rule and a one-line reason naming what was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: RefusalRule,
    pub reason: String,
}

/// Counts since start, per rule, and the latest reason.
#[derive(Debug, Clone, Default)]
pub struct Refusals {
    counts: [u64; RefusalRule::ALL.len()],
    last: Option<String>,
}

impl Refusals {
    pub fn note(&mut self, refusal: &Refusal) {
        self.counts[refusal.rule as usize] += 1;
        self.last = Some(refusal.reason.clone());
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn count(&self, rule: RefusalRule) -> u64 {
        self.counts[rule as usize]
    }

    /// `{"total": 3, "host": 1, …, "last": "refused …"}`
    pub fn to_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        out.insert("total".into(), json!(self.total()));
        for rule in RefusalRule::ALL {
            out.insert(rule.label().into(), json!(self.count(rule)));
        }
        out.insert("last".into(), json!(self.last));
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_keep_the_last_reason() {
        let mut r = Refusals::default();
        for rule in [RefusalRule::Host, RefusalRule::Host, RefusalRule::ProxyAuth] {
            r.note(&Refusal {
                rule,
                reason: format!("{rule:?}"),
            });
        }
        assert_eq!((r.total(), r.count(RefusalRule::Host)), (3, 2));
        let j = r.to_json();
        assert_eq!(j["proxyAuth"], 1);
        assert_eq!(j["last"], "ProxyAuth");
    }
}
