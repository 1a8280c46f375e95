//! SOCKS5 (RFC 1928), CONNECT only, with no authentication or, under
//! `--proxy-auth`, username/password (RFC 1929): the pure parsing of the
//! greeting and request, and the small driver that answers them.

use std::net::{Ipv4Addr, Ipv6Addr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reply codes (RFC 1928 §6).
pub const REPLY_OK: u8 = 0x00;
pub const REPLY_COMMAND_NOT_SUPPORTED: u8 = 0x07;
pub const REPLY_ADDRESS_NOT_SUPPORTED: u8 = 0x08;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SocksError {
    #[error("not SOCKS version 5 (got {0})")]
    Version(u8),
    #[error("the client offers no method llmspy accepts (only 'no authentication')")]
    NoAcceptableMethod,
    #[error("only CONNECT is supported (got command {0})")]
    Command(u8),
    #[error("unsupported address type {0}")]
    AddressType(u8),
    #[error("host name is not UTF-8")]
    HostName,
    #[error("the client offers no username/password authentication, which --proxy-auth requires")]
    NeedsCredentials,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("connection closed during the SOCKS5 handshake: {0}")]
    Io(String),
}

/// Where the client wants to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

/// "No authentication required" (RFC 1928 §3).
const METHOD_NONE: u8 = 0x00;
/// Username/password (RFC 1929).
const METHOD_PASSWORD: u8 = 0x02;

/// Check a greeting `[5, n, methods…]` and pick the method: username and
/// password when credentials are required, else "no authentication".
pub fn check_greeting(version: u8, methods: &[u8], auth: bool) -> Result<u8, SocksError> {
    if version != 5 {
        return Err(SocksError::Version(version));
    }
    match (auth, methods) {
        (true, m) if m.contains(&METHOD_PASSWORD) => Ok(METHOD_PASSWORD),
        (true, _) => Err(SocksError::NeedsCredentials),
        (false, m) if m.contains(&METHOD_NONE) => Ok(METHOD_NONE),
        (false, _) => Err(SocksError::NoAcceptableMethod),
    }
}

/// Parse the address part of a request given its type and raw bytes.
pub fn parse_address(atyp: u8, addr: &[u8], port: [u8; 2]) -> Result<Target, SocksError> {
    let host = match atyp {
        1 if addr.len() == 4 => Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string(),
        3 => String::from_utf8(addr.to_vec()).map_err(|_| SocksError::HostName)?,
        4 if addr.len() == 16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(addr);
            Ipv6Addr::from(b).to_string()
        }
        other => return Err(SocksError::AddressType(other)),
    };
    Ok(Target {
        host,
        port: u16::from_be_bytes(port),
    })
}

/// Run the server side of the handshake on `io` and return the target.
/// On success the "succeeded" reply has been sent; the tunnel starts next.
pub async fn handshake<S>(
    io: &mut S,
    creds: Option<&super::ProxyCredentials>,
) -> Result<Target, SocksError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let ioe = |e: std::io::Error| SocksError::Io(e.to_string());
    let mut head = [0u8; 2];
    io.read_exact(&mut head).await.map_err(ioe)?;
    let mut methods = vec![0u8; head[1] as usize];
    io.read_exact(&mut methods).await.map_err(ioe)?;
    let method = match check_greeting(head[0], &methods, creds.is_some()) {
        Ok(m) => m,
        Err(e) => {
            let _ = io.write_all(&[5, 0xff]).await;
            return Err(e);
        }
    };
    io.write_all(&[5, method]).await.map_err(ioe)?;
    if let Some(creds) = creds {
        authenticate(io, creds).await?;
    }
    let mut req = [0u8; 4];
    io.read_exact(&mut req).await.map_err(ioe)?;
    if req[0] != 5 {
        return Err(SocksError::Version(req[0]));
    }
    let addr = read_address(io, req[3]).await?;
    let mut port = [0u8; 2];
    io.read_exact(&mut port).await.map_err(ioe)?;
    if req[1] != 1 {
        let _ = io.write_all(&reply(REPLY_COMMAND_NOT_SUPPORTED)).await;
        return Err(SocksError::Command(req[1]));
    }
    match parse_address(req[3], &addr, port) {
        Ok(target) => {
            io.write_all(&reply(REPLY_OK)).await.map_err(ioe)?;
            Ok(target)
        }
        Err(e) => {
            let _ = io.write_all(&reply(REPLY_ADDRESS_NOT_SUPPORTED)).await;
            Err(e)
        }
    }
}

/// The username/password sub-negotiation (RFC 1929): `[1, ulen, user,
/// plen, pass]`, answered `[1, 0]` on success and `[1, 1]` (then closed)
/// otherwise.
async fn authenticate<S>(io: &mut S, creds: &super::ProxyCredentials) -> Result<(), SocksError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let ioe = |e: std::io::Error| SocksError::Io(e.to_string());
    let _version = io.read_u8().await.map_err(ioe)?;
    let user_len = io.read_u8().await.map_err(ioe)? as usize;
    let mut pair = vec![0u8; user_len];
    io.read_exact(&mut pair).await.map_err(ioe)?;
    let pass_len = io.read_u8().await.map_err(ioe)? as usize;
    let mut pass = vec![0u8; pass_len];
    io.read_exact(&mut pass).await.map_err(ioe)?;
    pair.push(b':');
    pair.extend_from_slice(&pass);
    if super::proxy_auth::matches(&pair, creds) {
        io.write_all(&[1, 0]).await.map_err(ioe)
    } else {
        let _ = io.write_all(&[1, 1]).await;
        Err(SocksError::BadCredentials)
    }
}

async fn read_address<S>(io: &mut S, atyp: u8) -> Result<Vec<u8>, SocksError>
where
    S: tokio::io::AsyncRead + Unpin,
{
    let ioe = |e: std::io::Error| SocksError::Io(e.to_string());
    let len = match atyp {
        1 => 4,
        4 => 16,
        3 => io.read_u8().await.map_err(ioe)? as usize,
        other => return Err(SocksError::AddressType(other)),
    };
    let mut addr = vec![0u8; len];
    io.read_exact(&mut addr).await.map_err(ioe)?;
    Ok(addr)
}

/// A reply with a zero bound address: llmspy terminates the tunnel itself,
/// so there is no meaningful bound address to report.
fn reply(code: u8) -> [u8; 10] {
    [5, code, 0, 1, 0, 0, 0, 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting() {
        assert_eq!(check_greeting(5, &[0], false), Ok(0));
        assert_eq!(check_greeting(5, &[2, 0], false), Ok(0));
        assert_eq!(
            check_greeting(5, &[2], false),
            Err(SocksError::NoAcceptableMethod)
        );
        assert_eq!(check_greeting(4, &[0], false), Err(SocksError::Version(4)));
        assert_eq!(check_greeting(5, &[0, 2], true), Ok(2));
        assert_eq!(
            check_greeting(5, &[0], true),
            Err(SocksError::NeedsCredentials)
        );
    }

    #[test]
    fn addresses() {
        let t = parse_address(1, &[127, 0, 0, 1], [1, 187]).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 443));
        let t = parse_address(3, b"api.openai.com", [0, 80]).unwrap();
        assert_eq!(t.host, "api.openai.com");
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(parse_address(4, &v6, [0, 1]).unwrap().host, "::1");
        assert_eq!(
            parse_address(9, &[], [0, 0]),
            Err(SocksError::AddressType(9))
        );
        assert_eq!(parse_address(3, &[0xff], [0, 0]), Err(SocksError::HostName));
    }

    #[tokio::test]
    async fn handshake_over_a_duplex() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let srv = tokio::spawn(async move { handshake(&mut server, None).await });
        client.write_all(&[5, 1, 0]).await.unwrap();
        let mut choice = [0u8; 2];
        client.read_exact(&mut choice).await.unwrap();
        assert_eq!(choice, [5, 0]);
        client
            .write_all(&[5, 1, 0, 3, 4, b'h', b'o', b's', b't', 0, 80])
            .await
            .unwrap();
        let mut rep = [0u8; 10];
        client.read_exact(&mut rep).await.unwrap();
        assert_eq!(rep[1], REPLY_OK);
        let target = srv.await.unwrap().unwrap();
        assert_eq!(
            target,
            Target {
                host: "host".into(),
                port: 80
            }
        );
    }
}
