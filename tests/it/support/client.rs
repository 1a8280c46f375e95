//! Real clients: reqwest through the proxy with llmspy's CA, and curl.

use std::path::Path;
use std::process::Output;

pub fn reqwest(proxy: &str, ca_file: &Path) -> reqwest::Client {
    reqwest_with(reqwest::Proxy::all(proxy).expect("proxy"), ca_file, false)
}

/// [`reqwest`], speaking HTTP/1.1 inside the tunnel.
pub fn reqwest_http1(proxy: &str, ca_file: &Path) -> reqwest::Client {
    let pem = std::fs::read(ca_file).expect("CA file");
    reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(proxy).expect("proxy"))
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA PEM"))
        .tls_built_in_root_certs(false)
        .http1_only()
        .build()
        .expect("client")
}

pub fn reqwest_with(proxy: reqwest::Proxy, ca_file: &Path, http2_only: bool) -> reqwest::Client {
    let pem = std::fs::read(ca_file).expect("CA file");
    let cert = reqwest::Certificate::from_pem(&pem).expect("CA PEM");
    let mut b = reqwest::Client::builder()
        .proxy(proxy)
        .add_root_certificate(cert)
        .tls_built_in_root_certs(false);
    if http2_only {
        b = b.http2_prior_knowledge();
    }
    b.build().expect("client")
}

/// Run curl through the proxy; `extra` adds flags such as `--http2`.
pub async fn curl(proxy: &str, cacert: &Path, url: &str, extra: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args([
        "-sS",
        "--noproxy",
        "",
        "--max-time",
        "20",
        "-x",
        proxy,
        "--cacert",
    ])
    .arg(cacert)
    .args(extra)
    .arg(url);
    cmd.output().await.expect("curl runs")
}

/// POST `url` through the proxy as a gRPC client would ask (`TE:
/// trailers`) with curl over `version` (`--http2`, `--http1.1`): the
/// response's head and trailers as curl prints them, lower-cased.
pub async fn curl_heads_and_trailers(
    proxy: &str,
    cacert: &Path,
    url: &str,
    version: &str,
) -> String {
    let args = [
        version,
        "-X",
        "POST",
        "-H",
        "te: trailers",
        "-D",
        "-",
        "-o",
        "/dev/null",
    ];
    let out = curl(proxy, cacert, url, &args).await;
    let said = String::from_utf8_lossy(&out.stderr);
    format!("{}{said}", String::from_utf8_lossy(&out.stdout)).to_lowercase()
}
