//! `wss://` for the engine: one rustls client configuration per engine, with ring as the crypto
//! provider and the platform's certificate verifier (rustls-platform-verifier: Security.framework on
//! iOS/macOS, the Android trust manager, the Windows and Linux system stores) instead of bundled
//! roots, so user-installed and MDM roots work as they do for the rest of the app (contract §9).
//!
//! The configuration is built once per engine, on its first `wss://` connection (the Linux
//! verifier reads the system store from disk then), and reused by every later attempt.

use std::sync::Arc;

use rustls::ClientConfig;

/// The rustls client configuration for `wss://`: ring, TLS 1.2 and 1.3, the platform verifier.
/// `Err` is a sentence saying why TLS cannot be used (no platform store, Android not initialised).
pub(crate) fn client_config() -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| format!("cannot use the platform's certificate store: {e}"))?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .dangerous() // only names the API that installs a verifier; the verifier is the platform's
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Names the TLS reason of a failed connection attempt, or `None` when it was not TLS (refused,
/// reset, timed out, HTTP error).
pub(crate) fn failure_reason(e: &tokio_tungstenite::tungstenite::Error) -> Option<String> {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Tls(t) => Some(t.to_string()),
        // tokio-rustls reports handshake failures (certificate not trusted, expired, wrong host,
        // alerts from the server) as io errors that wrap the rustls error.
        Error::Io(io) => io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()).map(|r| r.to_string()),
        _ => None,
    }
}
