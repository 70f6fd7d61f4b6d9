//! TLS for the room server (contract §9, `--tls-cert FILE --tls-key FILE`): loads the PEM
//! certificate chain and key into a rustls server configuration (ring), and performs the handshake
//! of an accepted connection within a deadline. Also the small rustls client the blocking
//! [`AdminClient`](super::admin::AdminClient) uses for `https://` with a given CA.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};

/// A client that has not finished its TLS handshake within this time is dropped.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn bad(what: &str, path: &Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{what} {}: {e}", path.display()))
}

/// Reads every `CERTIFICATE` block of a PEM file (a chain: leaf first).
fn certs(flag: &str, path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(flag, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(flag, path, e))?;
    if chain.is_empty() {
        return Err(bad(flag, path, "no CERTIFICATE block in the file"));
    }
    Ok(chain)
}

/// The server side: `cert` is a PEM chain (leaf first), `key` its PEM private key (PKCS#8,
/// PKCS#1 or SEC1). Errors are one line naming the flag, the file and what is wrong.
pub fn load_server_config(cert: &Path, key: &Path) -> io::Result<Arc<rustls::ServerConfig>> {
    let chain = certs("--tls-cert", cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad("--tls-key", key, e))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(format!("TLS setup: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad("--tls-cert/--tls-key", cert, format!("unusable certificate and key: {e}")))?;
    Ok(Arc::new(config))
}

/// A connection as the server serves it: plain TCP, or TLS over TCP.
pub(crate) async fn handshake<S>(acceptor: &tokio_rustls::TlsAcceptor, stream: S) -> io::Result<tokio_rustls::server::TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, format!("no TLS handshake within {HANDSHAKE_TIMEOUT:?}"))),
    }
}

/// A client configuration trusting exactly the CA certificate(s) of the PEM file `ca` (tests,
/// tools: the admin client over `https://`).
pub fn client_config_for_ca(ca: &Path) -> io::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs("CA file", ca)? {
        roots.add(c).map_err(|e| bad("CA file", ca, e))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
