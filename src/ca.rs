//! llmspy's certificate authority: created once per machine, kept on disk,
//! and used to mint a leaf certificate for every intercepted host.
//!
//! One leaf key pair is generated per process and reused for every host, so
//! a new host costs one signature. Minted configs live in a bounded cache;
//! concurrent first contacts with the same host mint once, and minting runs
//! off the async workers so it never stalls other connections.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub const CA_CERT_FILE: &str = "llmspy-ca.pem";
pub const CA_KEY_FILE: &str = "llmspy-ca-key.pem";
/// The system roots plus llmspy's CA, for tools whose variable replaces
/// (rather than extends) the trusted set: `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`.
pub const CA_BUNDLE_FILE: &str = "llmspy-ca-bundle.pem";

/// How many hosts keep a ready TLS config.
const LEAF_CACHE_HOSTS: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("cannot create the CA directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a usable llmspy CA key; move it away to let llmspy create a new CA")]
    BadKey {
        path: PathBuf,
        #[source]
        source: rcgen::Error,
    },
    #[error("cannot create a certificate for {host}")]
    Mint {
        host: String,
        #[source]
        source: rcgen::Error,
    },
    #[error("minting a certificate for {host} was interrupted")]
    Interrupted { host: String },
    #[error("cannot build the TLS configuration for {host}")]
    Tls {
        host: String,
        #[source]
        source: rustls::Error,
    },
}

/// The CA as loaded from (or created in) its directory.
pub struct CertificateAuthority {
    dir: PathBuf,
    cert_pem: String,
    ca_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    leaf_key: KeyPair,
    cache: quick_cache::sync::Cache<String, Arc<ServerConfig>>,
    serial: AtomicU64,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// The CA's subject. Fixed, so an issuer can be rebuilt from the key alone.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "llmspy CA");
    dn.push(DnType::OrganizationName, "llmspy");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

impl CertificateAuthority {
    /// Load the CA from `dir`, creating it (key mode 0600) on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self, CaError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        let (cert_pem, key) = if cert_path.exists() && key_path.exists() {
            let read = |p: &Path| {
                fs::read_to_string(p).map_err(|source| CaError::Read {
                    path: p.to_path_buf(),
                    source,
                })
            };
            let key = KeyPair::from_pem(&read(&key_path)?).map_err(|source| CaError::BadKey {
                path: key_path.clone(),
                source,
            })?;
            (read(&cert_path)?, key)
        } else {
            create(dir, &cert_path, &key_path)?
        };
        let ca_der = pem_to_der(&cert_pem).ok_or_else(|| CaError::Read {
            path: cert_path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "no PEM certificate"),
        })?;
        let leaf_key = KeyPair::generate().map_err(|source| CaError::Mint {
            host: "(leaf key)".into(),
            source,
        })?;
        Ok(CertificateAuthority {
            dir: dir.to_path_buf(),
            cert_pem,
            ca_der,
            issuer: Issuer::new(ca_params(), key),
            leaf_key,
            cache: quick_cache::sync::Cache::new(LEAF_CACHE_HOSTS),
            serial: AtomicU64::new(1),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the CA certificate (PEM), for `NODE_EXTRA_CA_CERTS` and `curl --cacert`.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join(CA_CERT_FILE)
    }

    /// Path of the system-roots-plus-llmspy bundle.
    pub fn bundle_path(&self) -> PathBuf {
        self.dir.join(CA_BUNDLE_FILE)
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Write the bundle: `system_roots_pem` followed by llmspy's CA. A
    /// bundle already holding exactly that is left as it is.
    pub fn write_bundle(&self, system_roots_pem: &str) -> Result<PathBuf, CaError> {
        let path = self.bundle_path();
        let mut text = String::with_capacity(system_roots_pem.len() + self.cert_pem.len() + 64);
        text.push_str(system_roots_pem);
        text.push_str("\n# llmspy CA\n");
        text.push_str(&self.cert_pem);
        if fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
            return Ok(path);
        }
        write_atomically(&path, text.as_bytes(), false)?;
        Ok(path)
    }

    /// The TLS server config presenting a leaf for `host` (DNS name or IP).
    /// Mints on first use; cached afterwards.
    pub async fn server_config(self: &Arc<Self>, host: &str) -> Result<Arc<ServerConfig>, CaError> {
        let key = host.to_ascii_lowercase();
        let this = self.clone();
        self.cache
            .get_or_insert_async(&key, async {
                let host = key.clone();
                tokio::task::spawn_blocking(move || this.mint(&host))
                    .await
                    .unwrap_or_else(|_| Err(CaError::Interrupted { host: key.clone() }))
            })
            .await
    }

    /// Sign a leaf for `host` and build its server config (blocking, ~100 µs).
    pub fn mint(&self, host: &str) -> Result<Arc<ServerConfig>, CaError> {
        let mint_err = |source| CaError::Mint {
            host: host.to_string(),
            source,
        };
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![san_for(host).map_err(mint_err)?];
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, host);
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.use_authority_key_identifier_extension = true;
        let (not_before, not_after) = validity();
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(self.next_serial().into());
        let cert = params
            .signed_by(&self.leaf_key, &self.issuer)
            .map_err(mint_err)?;
        let chain = vec![cert.der().clone(), self.ca_der.clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|source| CaError::Tls {
                host: host.to_string(),
                source,
            })?;
        // llmspy's cipher order over the client's (see `crate::tls`).
        config.ignore_client_order = true;
        // "http/1.0" too: a client offering only it (`curl --http1.0`)
        // would otherwise be refused with no_application_protocol.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec(), b"http/1.0".to_vec()];
        Ok(Arc::new(config))
    }

    fn next_serial(&self) -> u64 {
        // Unique per process start and per leaf: high bits from the clock.
        let now = chrono::Utc::now().timestamp_micros() as u64;
        (now << 12) ^ self.serial.fetch_add(1, Ordering::Relaxed)
    }
}

fn san_for(host: &str) -> Result<SanType, rcgen::Error> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => Ok(SanType::IpAddress(ip)),
        Err(_) => Ok(SanType::DnsName(bare.to_string().try_into()?)),
    }
}

/// Leaves are valid from yesterday (clock skew) for a year, below the
/// 398-day ceiling some clients enforce.
fn validity() -> (time::OffsetDateTime, time::OffsetDateTime) {
    use chrono::Datelike;
    let from = chrono::Utc::now() - chrono::Duration::days(1);
    let to = from + chrono::Duration::days(365);
    let ymd = |d: chrono::DateTime<chrono::Utc>| {
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };
    (ymd(from), ymd(to))
}

fn create(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<(String, KeyPair), CaError> {
    crate::private::create_dirs(dir).map_err(|source| CaError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let key = KeyPair::generate().map_err(|source| CaError::Mint {
        host: "(CA)".into(),
        source,
    })?;
    let mut params = ca_params();
    let (not_before, _) = validity();
    params.not_before = not_before;
    params.not_after = rcgen::date_time_ymd(2046, 1, 1);
    let cert = params.self_signed(&key).map_err(|source| CaError::Mint {
        host: "(CA)".into(),
        source,
    })?;
    write_atomically(key_path, key.serialize_pem().as_bytes(), true)?;
    let pem = cert.pem();
    write_atomically(cert_path, pem.as_bytes(), false)?;
    Ok((pem, key))
}

/// Write via a temporary file and rename, so a crash never leaves half a key.
fn write_atomically(path: &Path, data: &[u8], secret: bool) -> Result<(), CaError> {
    let write_err = |source| CaError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = opts.open(&tmp).map_err(write_err)?;
    file.write_all(data).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    fs::rename(&tmp, path).map_err(write_err)
}

/// The first certificate in a PEM text, as DER.
pub fn pem_to_der(pem: &str) -> Option<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes()).next()?.ok()
}

/// Every certificate in a PEM text.
pub fn pem_certs(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// DER certificates as PEM text.
pub fn to_pem(certs: &[CertificateDer<'_>]) -> String {
    use base64::Engine;
    let mut out = String::new();
    for c in certs {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(c.as_ref());
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_with_private_key_mode_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::load_or_create(dir.path()).unwrap();
        let pem = ca.cert_pem().to_string();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(CA_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = CertificateAuthority::load_or_create(dir.path()).unwrap();
        assert_eq!(again.cert_pem(), pem);
        assert!(again.mint("api.anthropic.com").is_ok());
        assert!(again.mint("127.0.0.1").is_ok());
        assert!(again.mint("::1").is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn the_bundle_is_rewritten_only_when_it_changes() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::load_or_create(dir.path()).unwrap();
        let inode = |p: &Path| fs::metadata(p).unwrap().ino();
        let path = ca.write_bundle("roots\n").unwrap();
        let first = inode(&path);
        assert_eq!(inode(&ca.write_bundle("roots\n").unwrap()), first);
        assert_ne!(inode(&ca.write_bundle("other roots\n").unwrap()), first);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("other roots\n") && text.ends_with(ca.cert_pem()));
    }

    /// A client that lists AES-256 first (as OpenSSL's do) still gets
    /// AES-128-GCM: a real rustls handshake, in memory, against a minted leaf.
    #[test]
    fn leaves_choose_aes_128_gcm_over_the_clients_order() {
        use rustls::crypto::ring::{cipher_suite, default_provider};
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::load_or_create(dir.path()).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.ca_der.clone()).unwrap();
        let client_provider = rustls::crypto::CryptoProvider {
            cipher_suites: vec![
                cipher_suite::TLS13_AES_256_GCM_SHA384,
                cipher_suite::TLS13_AES_128_GCM_SHA256,
            ],
            ..default_provider()
        };
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(client_provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = "api.example.test".try_into().unwrap();
        let mut client = rustls::ClientConnection::new(Arc::new(client), name).unwrap();
        let mut server =
            rustls::ServerConnection::new(ca.mint("api.example.test").unwrap()).unwrap();
        let mut wire = Vec::new();
        while client.is_handshaking() || server.is_handshaking() {
            wire.clear();
            client.write_tls(&mut wire).unwrap();
            server.read_tls(&mut wire.as_slice()).unwrap();
            server.process_new_packets().unwrap();
            wire.clear();
            server.write_tls(&mut wire).unwrap();
            client.read_tls(&mut wire.as_slice()).unwrap();
            client.process_new_packets().unwrap();
        }
        let suite = server.negotiated_cipher_suite().unwrap().suite();
        assert_eq!(suite, rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
    }

    #[test]
    fn two_machines_get_different_cas() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let ca_a = CertificateAuthority::load_or_create(a.path()).unwrap();
        let ca_b = CertificateAuthority::load_or_create(b.path()).unwrap();
        assert_ne!(ca_a.cert_pem(), ca_b.cert_pem());
    }
}
