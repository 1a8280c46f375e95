//! The environment `llmspy run` gives its child: every variable common
//! clients read to find a proxy and trust a CA, the Node preload, and the
//! way back to this llmspy. Pure: built from what it is given, so it can
//! be shown (`--explain`) exactly as it is applied.

use std::net::SocketAddr;
use std::path::Path;

use super::env::{BUNDLE_READERS, connectable};
use crate::ca::CertificateAuthority;

/// The Node preload `run` writes next to the CA.
pub const NODE_PRELOAD: &str = include_str!("../../assets/node-preload.cjs");
pub const NODE_PRELOAD_FILE: &str = "llmspy-node-preload.cjs";

/// Variables a user's shell often sets that would send local traffic
/// (Ollama, vLLM, LM Studio on localhost) around llmspy.
pub const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// One variable set for the child, and who reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub value: String,
    pub readers: &'static str,
}

/// What `run` sets and clears.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub set: Vec<Setting>,
    /// Variables removed, with the value the caller had.
    pub cleared: Vec<(&'static str, String)>,
}

/// What the plan is built from.
pub struct Inputs<'a> {
    pub listen: SocketAddr,
    pub ca: &'a CertificateAuthority,
    /// The program's name, put in the proxy URL's user part so llmspy
    /// can say which program sent each request.
    pub app: Option<String>,
    /// `USER:PASS` when the proxy requires credentials.
    pub proxy_auth: Option<&'a str>,
    pub keep_no_proxy: bool,
    pub control_token: Option<&'a str>,
    /// Where the preload was written, if it was.
    pub preload: Option<&'a Path>,
    /// The caller's own value of a variable.
    pub current: &'a dyn Fn(&str) -> Option<String>,
}

impl Plan {
    pub fn build(i: &Inputs<'_>) -> Plan {
        let mut plan = Plan::default();
        let addr = connectable(i.listen);
        let proxy = proxy_url(addr, i.app.as_deref(), i.proxy_auth);
        let mut set = |name, value: String, readers| {
            plan.set.push(Setting {
                name,
                value,
                readers,
            })
        };
        for name in ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"] {
            set(name, proxy.clone(), "most HTTP clients");
        }
        let cert = i.ca.cert_path().display().to_string();
        let bundle = i.ca.bundle_path().display().to_string();
        set("NODE_EXTRA_CA_CERTS", cert, "Node, Claude Code");
        for (name, readers) in BUNDLE_READERS {
            set(name, bundle.clone(), readers);
        }
        set("NODE_USE_ENV_PROXY", "1".into(), "Node 22.21+/24+ fetch");
        if let Some(preload) = i
            .preload
            .and_then(|p| node_options(p, (i.current)("NODE_OPTIONS")))
        {
            set(
                "NODE_OPTIONS",
                preload,
                "older Node: fetch and http(s) via llmspy",
            );
        }
        set(
            "LLMSPY_LISTEN",
            addr.to_string(),
            "llmspy mcp-stdio, export, …",
        );
        set(
            "LLMSPY_CA_DIR",
            i.ca.dir().display().to_string(),
            "llmspy subcommands",
        );
        if let Some(token) = i.control_token {
            set(
                "LLMSPY_CONTROL_TOKEN",
                token.to_string(),
                "llmspy subcommands",
            );
        }
        if !i.keep_no_proxy {
            for name in NO_PROXY_VARS {
                if let Some(value) = (i.current)(name) {
                    plan.cleared.push((name, value));
                }
            }
        }
        plan
    }

    /// The one line `run` prints before starting the program.
    pub fn summary(&self, program: &str, addr: SocketAddr) -> String {
        let node = if self.set.iter().any(|s| s.name == "NODE_OPTIONS") {
            "Node proxy + preload"
        } else {
            "Node proxy"
        };
        let mut line = format!(
            "llmspy run: {program} → llmspy at {addr} (proxy, CA for Node/Python/curl/AWS/git/Deno/gRPC, {node}, LLMSPY_LISTEN"
        );
        if !self.cleared.is_empty() {
            let names: Vec<_> = self.cleared.iter().map(|(n, _)| *n).collect();
            line.push_str(&format!(
                "; cleared {} so local models are captured",
                names.join("/")
            ));
        }
        line.push_str("); --explain lists them");
        line
    }

    /// Every variable, one a line, for `--explain`.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        for s in &self.set {
            let value = if s.name == "LLMSPY_CONTROL_TOKEN" {
                "***".to_string()
            } else {
                s.value.clone()
            };
            out.push_str(&format!("  {}={value}    # {}\n", s.name, s.readers));
        }
        for (name, was) in &self.cleared {
            out.push_str(&format!(
                "  unset {name} (was {was:?}; --keep-no-proxy keeps it)\n"
            ));
        }
        out
    }
}

/// `http://[APP:llmspy@]HOST:PORT`, or with the proxy's credentials when
/// it requires them (then the program is told apart by its socket
/// instead). The password is a placeholder llmspy ignores: some clients
/// (Claude Code's runtime among them) stall on a user with no password.
pub fn proxy_url(addr: SocketAddr, app: Option<&str>, auth: Option<&str>) -> String {
    match (auth, app) {
        (Some(creds), _) => format!("http://{}@{addr}", userinfo(creds)),
        (None, Some(app)) if !app.is_empty() => format!("http://{app}:llmspy@{addr}"),
        _ => format!("http://{addr}"),
    }
}

/// `USER:PASS` percent-encoded for a URL's user part.
fn userinfo(creds: &str) -> String {
    let (user, pass) = creds.split_once(':').unwrap_or((creds, ""));
    format!("{}:{}", percent(user), percent(pass))
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A program's name as a proxy user name: its file name, letters, digits
/// and `._-` only, at most 40 characters.
pub fn app_name(program: &str) -> Option<String> {
    let base = Path::new(program).file_name()?.to_string_lossy();
    let name: String = base
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .take(40)
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The caller's `NODE_OPTIONS` plus `--require PRELOAD`; `None` when the
/// path cannot be quoted for Node.
fn node_options(preload: &Path, existing: Option<String>) -> Option<String> {
    let path = preload.to_str()?;
    if path.contains('"') || path.contains('\\') {
        return None;
    }
    let require = format!("--require \"{path}\"");
    Some(match existing.filter(|e| !e.trim().is_empty()) {
        Some(e) if e.contains(&require) => e,
        Some(e) => format!("{e} {require}"),
        None => require,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_url_names_the_program_or_carries_credentials() {
        let addr: SocketAddr = "127.0.0.1:1080".parse().unwrap();
        assert_eq!(
            proxy_url(addr, Some("claude"), None),
            "http://claude:llmspy@127.0.0.1:1080"
        );
        assert_eq!(proxy_url(addr, None, None), "http://127.0.0.1:1080");
        assert_eq!(
            proxy_url(addr, Some("claude"), Some("me:p@ss")),
            "http://me:p%40ss@127.0.0.1:1080"
        );
        assert_eq!(
            app_name("/usr/bin/python3.12").as_deref(),
            Some("python3.12")
        );
        assert_eq!(app_name("./my tool").as_deref(), Some("mytool"));
        assert_eq!(app_name("/"), None);
    }

    #[test]
    fn node_options_keep_the_callers_and_add_the_preload_once() {
        let p = Path::new("/ca/llmspy-node-preload.cjs");
        let want = "--require \"/ca/llmspy-node-preload.cjs\"";
        assert_eq!(node_options(p, None).as_deref(), Some(want));
        let with = node_options(p, Some("--max-old-space-size=4096".into())).unwrap();
        assert_eq!(with, format!("--max-old-space-size=4096 {want}"));
        assert_eq!(node_options(p, Some(with.clone())), Some(with));
        assert_eq!(node_options(Path::new("/a\"b"), None), None);
    }
}
