//! What llmspy says on stderr once it listens: warnings about an exposed
//! or unsafe setup first, then where it listens and the lines to paste
//! into the agent's shell.

use crate::cli::args::{CommonArgs, ProxyArgs};
use crate::cli::env::{connectable, shell_lines};
use crate::engine::Engine;

pub fn print_banner(
    engine: &Engine,
    ca: &crate::ca::CertificateAuthority,
    common: &CommonArgs,
    args: &ProxyArgs,
) {
    let addr = engine.local_addr();
    if !addr.ip().is_loopback() {
        let control = if common.control_token.is_some() {
            "the control API needs the --control-token"
        } else {
            "the control API answers loopback clients only (set --control-token to reach it from elsewhere)"
        };
        let proxy = if args.proxy_auth.is_some() {
            "proxy clients must authenticate (--proxy-auth)"
        } else {
            "anyone who can reach it can use it as a proxy (set --proxy-auth to require credentials)"
        };
        crate::note!(
            "llmspy: WARNING: listening on {addr}, reachable from other machines; {proxy}; {control}"
        );
    }
    if args.save_secrets {
        crate::note!(
            "llmspy: WARNING: --save-secrets: API keys and other credentials are written to the --save file in clear"
        );
    }
    if args.insecure_upstream {
        crate::note!(
            "llmspy: WARNING: --insecure-upstream: upstream certificates are NOT verified"
        );
    }
    crate::note!(
        "llmspy {} listening on {addr} (proxy, CONNECT, SOCKS5 and control API at http://{}/llmspy/)",
        env!("CARGO_PKG_VERSION"),
        connectable(addr)
    );
    crate::note!("CA certificate: {}", ca.cert_path().display());
    crate::note!("{}\n", setup_intro(addr, common));
    // What `llmspy env` prints, Node's settings included: a shell that
    // takes these lines captures Node's fetch too.
    crate::note!("{}", shell_lines(addr, ca).trim_end_matches('\n'));
    crate::note!();
}

/// The flags `llmspy env` / `llmspy run` need in another shell to find
/// this llmspy: its address unless the default, its CA directory if given,
/// each quoted for the shell where it needs it (an IPv6 address's brackets
/// are a glob: zsh refuses `--listen [::1]:1080` with "no matches found").
/// The line before the shell lines: the one command that sets them all,
/// and `llmspy run`, with the flags this llmspy needs.
pub fn setup_intro(addr: std::net::SocketAddr, common: &CommonArgs) -> String {
    let flags = client_flags(&connectable(addr).to_string(), common.ca_dir.as_deref());
    format!(
        "In the agent's shell (or: eval \"$(llmspy env{flags})\", or: llmspy run{flags} -- CMD):"
    )
}

fn client_flags(listen: &str, ca_dir: Option<&std::path::Path>) -> String {
    use crate::cli::env::shell_quote;
    let mut flags = String::new();
    if listen != crate::cli::args::DEFAULT_LISTEN {
        flags.push_str(&format!(" --listen {}", shell_quote(listen)));
    }
    if let Some(dir) = ca_dir {
        flags.push_str(&format!(
            " --ca-dir {}",
            shell_quote(&dir.display().to_string())
        ));
    }
    flags
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::client_flags;

    #[test]
    fn flags_for_another_shell_are_quoted_where_the_shell_would_change_them() {
        assert_eq!(client_flags(crate::cli::args::DEFAULT_LISTEN, None), "");
        assert_eq!(
            client_flags("127.0.0.1:8080", Some(Path::new("/home/me/ca"))),
            " --listen 127.0.0.1:8080 --ca-dir /home/me/ca"
        );
        assert_eq!(
            client_flags("[::1]:18820", Some(Path::new("/tmp/it's here"))),
            r" --listen '[::1]:18820' --ca-dir '/tmp/it'\''s here'"
        );
    }
}
