//! The TLS primitives every session uses, on both sides of the relay.
//!
//! A relayed byte is decrypted once and encrypted once more than on a
//! direct connection, so the cipher is most of what a large transfer costs
//! the proxy. Two choices follow:
//!
//! - **aws-lc-rs, not ring.** Its AES-GCM uses the wide vector units
//!   (VAES, AVX-512) where the CPU has them. On the 2-core bench VM, sealing
//!   and opening 16 KiB records ran at 5.4 GB/s for AES-256-GCM against
//!   ring's 3.75 (docs/benchmarks.md). It is already in the build, through
//!   the OTLP exporter's HTTP client.
//! - **AES-128-GCM first, on both sides.** As llmspy's own preference when
//!   it connects upstream, and over the client's order when a client
//!   connects to it: OpenSSL-based clients (curl, Python, Node) list
//!   AES-256 first, which costs 14 rounds per block instead of 10 for no
//!   gain that matters on loopback or behind a TLS 1.3 handshake.
//!   ChaCha20 stays offered for CPUs without AES instructions.
//!
//! aws-lc is built without its CPU jitter entropy source
//! (`.cargo/config.toml`): seeding from it took 40-60 ms of busy work in
//! the first handshake of every run. It seeds from the kernel instead, as
//! ring does.

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::{CipherSuite, SupportedCipherSuite};

/// The provider: built once, shared by every config (so leaf configs minted
/// per host do not rebuild it).
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            let mut provider = rustls::crypto::aws_lc_rs::default_provider();
            provider.cipher_suites.sort_by_key(preference);
            Arc::new(provider)
        })
        .clone()
}

/// Sort key: TLS 1.3 before 1.2, and AES-128-GCM first within each; the
/// sort is stable, so the rest keep the provider's order.
fn preference(suite: &SupportedCipherSuite) -> (bool, bool) {
    let tls12 = matches!(suite, SupportedCipherSuite::Tls12(_));
    let aes128 = matches!(
        suite.suite(),
        CipherSuite::TLS13_AES_128_GCM_SHA256
            | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            | CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    );
    (tls12, !aes128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_128_gcm_leads_each_version_and_nothing_is_dropped() {
        let ordered = provider().cipher_suites.clone();
        let suites: Vec<CipherSuite> = ordered.iter().map(|s| s.suite()).collect();
        assert_eq!(suites[0], CipherSuite::TLS13_AES_128_GCM_SHA256);
        let first_tls12 = ordered
            .iter()
            .position(|s| matches!(s, SupportedCipherSuite::Tls12(_)))
            .expect("TLS 1.2 suites stay offered");
        assert_eq!(
            suites[first_tls12],
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        );
        assert!(
            ordered
                .windows(2)
                .all(|w| preference(&w[0]) <= preference(&w[1])),
            "TLS 1.3 first, AES-128-GCM first within each: {suites:?}"
        );
        let all = rustls::crypto::aws_lc_rs::default_provider().cipher_suites;
        assert_eq!(suites.len(), all.len());
        assert!(suites.contains(&CipherSuite::TLS13_CHACHA20_POLY1305_SHA256));
    }
}
