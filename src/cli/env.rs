//! The variables that point an agent at llmspy, for `llmspy env`, `llmspy
//! run` and the start-up banner.

use std::net::SocketAddr;
use std::path::Path;

use crate::ca::CertificateAuthority;

/// What `llmspy env` prints: what `llmspy run` sets for one program
/// (Node's preload and `NODE_USE_ENV_PROXY` included, without which Node
/// 20's `fetch` ignores the proxy), for a whole shell. `NODE_OPTIONS` is
/// added to the shell's own; `NO_PROXY` is left as the shell has it.
pub fn shell_lines(listen: SocketAddr, ca: &CertificateAuthority) -> String {
    use super::child_env::{Inputs, NODE_PRELOAD, NODE_PRELOAD_FILE, Plan};
    let preload = ca.dir().join(NODE_PRELOAD_FILE);
    let preload = super::child::write_private(&preload, NODE_PRELOAD)
        .ok()
        .map(|()| preload);
    let plan = Plan::build(&Inputs {
        listen,
        ca,
        app: None,
        proxy_auth: None,
        keep_no_proxy: true,
        control_token: None,
        preload: preload.as_deref(),
        current: &|_| None,
    });
    plan.set
        .iter()
        .map(|s| match s.name {
            "NODE_OPTIONS" => format!(
                "export NODE_OPTIONS=\"${{NODE_OPTIONS:+$NODE_OPTIONS }}{}\"\n",
                s.value.replace('"', "\\\"")
            ),
            name => format!("export {name}={}\n", shell_quote(&s.value)),
        })
        .collect()
}

/// Variables that replace a client's trusted set (rather than add to it),
/// so they point at the bundle: the system roots plus llmspy's CA. With
/// who reads each.
pub const BUNDLE_READERS: [(&str, &str); 7] = [
    ("SSL_CERT_FILE", "Python (httpx, ssl), OpenSSL, Go, Rust"),
    ("REQUESTS_CA_BUNDLE", "Python requests"),
    ("CURL_CA_BUNDLE", "curl"),
    ("AWS_CA_BUNDLE", "AWS SDKs and CLI (Bedrock)"),
    ("GIT_SSL_CAINFO", "git"),
    ("DENO_CERT", "Deno"),
    ("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "gRPC (Gemini, Vertex)"),
];

/// A wildcard listen address is reached through loopback.
pub fn connectable(listen: SocketAddr) -> SocketAddr {
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr
}

pub fn shell_quote(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/:._-@+=,".contains(c))
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', r"'\''"))
    }
}

/// Make sure the CA exists and the bundle is current.
pub fn prepare_ca(dir: &Path) -> anyhow::Result<CertificateAuthority> {
    use anyhow::Context;
    let ca = CertificateAuthority::load_or_create(dir).context("preparing the llmspy CA")?;
    ca.write_bundle(&crate::engine::upstream::system_roots_pem())
        .context("writing the CA bundle")?;
    Ok(ca)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/a/b.pem"), "/a/b.pem");
        assert_eq!(shell_quote("/my dir/it's"), r"'/my dir/it'\''s'");
        assert_eq!(
            connectable("0.0.0.0:1080".parse().unwrap()).to_string(),
            "127.0.0.1:1080"
        );
    }
}
