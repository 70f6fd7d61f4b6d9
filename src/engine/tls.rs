//! `wss://` for the engine: one rustls client configuration per engine, with ring as the crypto
//! provider and the platform's certificate verifier (rustls-platform-verifier: Security.framework on
//! iOS/macOS, the Android trust manager, the Windows and Linux system stores) instead of bundled
//! roots, so user-installed and MDM roots work as they do for the rest of the app (contract §9).
//!
//! Without `tls_ca_file` the configuration is built on the engine's first `wss://` attempt (the
//! Linux verifier reads the system store from disk then) and kept. With it, it is built when the
//! config is set (so a bad file is refused there with 1000017) and kept too: no file is read per
//! connection attempt.

use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::ClientConfig;

/// ring, trimmed to what a client needs (the bytes count on mobile): AES-GCM suites only (TLS 1.3's
/// mandatory TLS_AES_128_GCM_SHA256 among them; no ChaCha20), X25519 and P-256 key exchange (no
/// P-384 key exchange; P-384 signatures are still verified), and no private-key loading (the
/// engine never presents a client certificate), so ring's RSA/ECDSA/Ed25519 signing code is not
/// linked in. Certificate signatures: ring's full set, as rustls' default.
fn provider() -> Arc<CryptoProvider> {
    use rustls::crypto::ring::{cipher_suite as cs, kx_group};
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1],
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &SystemRandom,
        key_provider: &NoClientKeys,
    })
}

/// rustls' own table for ring (rustls 0.23 `crypto::ring::SUPPORTED_SIG_ALGS`, which is private):
/// every signature webpki verifies with ring, and which TLS signature scheme maps to which.
static SIGNATURE_ALGORITHMS: rustls::crypto::WebPkiSupportedAlgorithms = {
    use rustls::SignatureScheme as S;
    use webpki::ring as a;
    rustls::crypto::WebPkiSupportedAlgorithms {
        all: &[
            a::ECDSA_P256_SHA256,
            a::ECDSA_P256_SHA384,
            a::ECDSA_P384_SHA256,
            a::ECDSA_P384_SHA384,
            a::ED25519,
            a::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            a::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
            a::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
            a::RSA_PKCS1_2048_8192_SHA256,
            a::RSA_PKCS1_2048_8192_SHA384,
            a::RSA_PKCS1_2048_8192_SHA512,
            a::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
            a::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
            a::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
        ],
        mapping: &[
            // For TLS 1.2 the curve is not fixed by the scheme; for TLS 1.3 it is.
            (S::ECDSA_NISTP384_SHA384, &[a::ECDSA_P384_SHA384, a::ECDSA_P256_SHA384]),
            (S::ECDSA_NISTP256_SHA256, &[a::ECDSA_P256_SHA256, a::ECDSA_P384_SHA256]),
            (S::ED25519, &[a::ED25519]),
            (S::RSA_PSS_SHA512, &[a::RSA_PSS_2048_8192_SHA512_LEGACY_KEY]),
            (S::RSA_PSS_SHA384, &[a::RSA_PSS_2048_8192_SHA384_LEGACY_KEY]),
            (S::RSA_PSS_SHA256, &[a::RSA_PSS_2048_8192_SHA256_LEGACY_KEY]),
            (S::RSA_PKCS1_SHA512, &[a::RSA_PKCS1_2048_8192_SHA512]),
            (S::RSA_PKCS1_SHA384, &[a::RSA_PKCS1_2048_8192_SHA384]),
            (S::RSA_PKCS1_SHA256, &[a::RSA_PKCS1_2048_8192_SHA256]),
        ],
    }
};

/// ring's system random source (as rustls' ring provider uses).
#[derive(Debug)]
struct SystemRandom;

impl rustls::crypto::SecureRandom for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), rustls::crypto::GetRandomFailed> {
        use ring::rand::SecureRandom;
        ring::rand::SystemRandom::new().fill(buf).map_err(|_| rustls::crypto::GetRandomFailed)
    }
}

/// The engine has no client certificate: nothing to load.
#[derive(Debug)]
struct NoClientKeys;

impl rustls::crypto::KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General("the engine uses no client certificate".into()))
    }
}

fn with_verifier(provider: Arc<CryptoProvider>, verifier: Arc<dyn ServerCertVerifier>) -> Result<Arc<ClientConfig>, String> {
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .dangerous() // only names the API that installs a verifier; the verifier is the platform's
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The rustls client configuration for `wss://`: ring, TLS 1.2 and 1.3, the platform verifier.
/// `Err` is a sentence saying why TLS cannot be used (no platform store, Android not initialised).
pub(crate) fn client_config() -> Result<Arc<ClientConfig>, String> {
    #[cfg(target_os = "android")]
    android::check_initialised()?;
    let provider = provider();
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| format!("cannot use the platform's certificate store: {e}"))?;
    with_verifier(provider, Arc::new(verifier))
}

/// As [`client_config`], also trusting the CA certificate(s) of the PEM file at `path`
/// (advanced config key `tls_ca_file`). `Err` says why the file cannot be used (unreadable, no
/// `CERTIFICATE` block, not a usable CA certificate).
pub(crate) fn client_config_with_ca_file(path: &str) -> Result<Arc<ClientConfig>, String> {
    let roots = load_ca_file(path)?;
    #[cfg(target_os = "android")]
    android::check_initialised()?;
    let provider = provider();
    #[cfg(not(target_os = "android"))]
    let verifier: Arc<dyn ServerCertVerifier> = Arc::new(
        rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider.clone())
            .map_err(|e| format!("cannot use the certificates of {path}: {e}"))?,
    );
    // The Android verifier takes no extra roots: ours are checked first, the platform's after.
    #[cfg(target_os = "android")]
    let verifier: Arc<dyn ServerCertVerifier> = Arc::new(
        extra::ExtraRootsVerifier::new(roots, provider.clone(), || rustls_platform_verifier::Verifier::new(provider.clone()))
            .map_err(|e| format!("cannot use the certificates of {path}: {e}"))?,
    );
    with_verifier(provider, verifier)
}

/// Reads every `CERTIFICATE` block of a PEM file; each must be a certificate rustls can use as a
/// trust anchor.
fn load_ca_file(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {path}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{path} is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{path} holds no CERTIFICATE block"));
    }
    let mut store = rustls::RootCertStore::empty();
    for c in &certs {
        store.add(c.clone()).map_err(|e| format!("{path}: not a usable CA certificate: {e}"))?;
    }
    Ok(certs)
}

/// Names the TLS reason of a failed handshake, or `None` when it was not TLS (reset, closed).
/// tokio-rustls reports TLS failures (certificate not trusted, expired, for another host, alerts
/// from the server, a peer that does not speak TLS) as io errors wrapping the rustls error.
pub(crate) fn failure_reason(e: &std::io::Error) -> Option<String> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()).map(|r| r.to_string())
}

/// Extra CA roots in front of a platform verifier that cannot take them (Android). Compiled on
/// every platform for its unit tests, used on Android only.
#[cfg(any(test, target_os = "android"))]
mod extra {
    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::client::WebPkiServerVerifier;
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};

    /// Verifies against the extra roots first, then the platform's: either accepting is enough.
    /// When both refuse, the reason is the extra roots' if the chain led to them (expired, wrong
    /// host), else the platform's.
    #[derive(Debug)]
    pub(crate) struct ExtraRootsVerifier<P> {
        extra: Arc<WebPkiServerVerifier>,
        platform: P,
    }

    impl<P: ServerCertVerifier> ExtraRootsVerifier<P> {
        pub(crate) fn new(
            roots: Vec<CertificateDer<'static>>,
            provider: Arc<CryptoProvider>,
            platform: impl FnOnce() -> Result<P, Error>,
        ) -> Result<Self, Error> {
            let mut store = rustls::RootCertStore::empty();
            for r in roots {
                store.add(r)?;
            }
            let extra = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
                .build()
                .map_err(|e| Error::General(e.to_string()))?;
            Ok(ExtraRootsVerifier { extra, platform: platform()? })
        }
    }

    impl<P: ServerCertVerifier> ServerCertVerifier for ExtraRootsVerifier<P> {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp_response: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            let Err(ours) = self.extra.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) else {
                return Ok(ServerCertVerified::assertion());
            };
            self.platform.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now).map_err(|theirs| {
                match ours {
                    Error::InvalidCertificate(CertificateError::UnknownIssuer) => theirs,
                    ours => ours,
                }
            })
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.extra.verify_tls12_signature(message, cert, dss)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.extra.verify_tls13_signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.extra.supported_verify_schemes()
        }
    }
}

#[cfg(target_os = "android")]
pub(crate) mod android {
    //! The platform verifier calls into the app's JVM (X509TrustManager), so it needs the JVM
    //! and an Android `Context` before the first `wss://` connection; see docs/bindings.md
    //! ("Android: TLS initialisation").
    use std::sync::atomic::{AtomicBool, Ordering};

    static INITIALISED: AtomicBool = AtomicBool::new(false);

    pub(crate) fn mark_initialised() {
        INITIALISED.store(true, Ordering::Release);
    }

    pub(crate) fn check_initialised() -> Result<(), String> {
        if INITIALISED.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err("Android TLS is not initialised: call ZegoRoomAndroid.init(context) once before the first wss:// login (docs/bindings.md)".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::extra::ExtraRootsVerifier;
    use super::*;
    use rustls::pki_types::{ServerName, UnixTime};
    use rustls::{CertificateError, Error};

    type Ca = rcgen::CertifiedIssuer<'static, rcgen::KeyPair>;

    fn new_ca() -> Ca {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(rcgen::DnType::CommonName, format!("test CA {:x}", fastrand::u64(..)));
        rcgen::CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap()
    }

    /// A leaf for `name` signed by `ca`, valid from 2019 until `not_after_year`.
    fn leaf(ca: &Ca, name: &str, not_after_year: i32) -> CertificateDer<'static> {
        let mut leaf = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        leaf.not_before = rcgen::date_time_ymd(2019, 1, 1);
        leaf.not_after = rcgen::date_time_ymd(not_after_year, 1, 1);
        leaf.signed_by(&rcgen::KeyPair::generate().unwrap(), ca).unwrap().der().clone()
    }

    fn verify(v: &dyn ServerCertVerifier, leaf: &CertificateDer<'_>, host: &str) -> Result<(), Error> {
        let name = ServerName::try_from(host.to_owned()).unwrap();
        v.verify_server_cert(leaf, &[], &name, &[], UnixTime::now()).map(|_| ())
    }

    #[test]
    fn extra_roots_first_then_the_platform() {
        let ca = new_ca();
        let good = leaf(&ca, "127.0.0.1", 2099);
        let expired = leaf(&ca, "127.0.0.1", 2020);
        let stranger = leaf(&new_ca(), "127.0.0.1", 2099);
        let v = ExtraRootsVerifier::new(vec![ca.der().clone()], provider(), || rustls_platform_verifier::Verifier::new(provider()))
            .unwrap();
        verify(&v, &good, "127.0.0.1").expect("a leaf of the extra CA is trusted");
        // Another CA: the extra roots say UnknownIssuer, and so does the platform (system store).
        assert_eq!(verify(&v, &stranger, "127.0.0.1"), Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)));
        // The extra CA's leaves, expired or for another host: that reason, not UnknownIssuer.
        assert!(matches!(verify(&v, &expired, "127.0.0.1"), Err(Error::InvalidCertificate(CertificateError::ExpiredContext { .. }))));
        assert!(matches!(
            verify(&v, &good, "localhost"),
            Err(Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }))
        ));
    }

    #[test]
    fn ca_files_that_cannot_be_used_are_refused() {
        let dir = std::env::temp_dir().join(format!("zego-room-ca-{}-{:x}", std::process::id(), fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
        assert!(client_config_with_ca_file(&path("missing.pem")).unwrap_err().contains("cannot read"));
        std::fs::write(path("text.pem"), "hello").unwrap();
        assert!(client_config_with_ca_file(&path("text.pem")).unwrap_err().contains("no CERTIFICATE"));
        std::fs::write(path("broken.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        assert!(client_config_with_ca_file(&path("broken.pem")).is_err());
        std::fs::write(path("ca.pem"), new_ca().pem()).unwrap();
        client_config_with_ca_file(&path("ca.pem")).expect("a CA certificate is usable");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
