//! Throwaway certificates for the TLS tests (rcgen): a CA, server certificates it signs (valid for
//! 127.0.0.1 and localhost, expired, or for another host), written as PEM files into a directory.
//! Shared by tests/tls.rs and the `tls_certs` example (which the Python suite runs).

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// PEM files of one throwaway PKI, all in `dir`.
#[derive(Debug, Clone)]
pub struct TestPki {
    pub dir: PathBuf,
    /// The CA certificate (what `tls_ca_file` points at).
    pub ca: PathBuf,
    /// Server certificate + key for 127.0.0.1 and localhost, valid now.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Same names, signed by the CA, but expired (not after yesterday-ish: 2020-01-01).
    pub expired_cert: PathBuf,
    pub expired_key: PathBuf,
    /// Valid now and signed by the CA, but only for `other.example` (wrong host for 127.0.0.1).
    pub other_host_cert: PathBuf,
    pub other_host_key: PathBuf,
}

fn server_cert(
    names: &[&str],
    ca: &CertifiedIssuer<'_, KeyPair>,
    expired: bool,
    dir: &Path,
    stem: &str,
) -> (PathBuf, PathBuf) {
    let mut params = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("names");
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.use_authority_key_identifier_extension = true;
    if expired {
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    } else {
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
    }
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, ca).expect("sign");
    let (c, k) = (dir.join(format!("{stem}.pem")), dir.join(format!("{stem}.key")));
    std::fs::write(&c, cert.pem()).expect("write cert");
    std::fs::write(&k, key.serialize_pem()).expect("write key");
    (c, k)
}

/// Makes a fresh CA and its server certificates in `dir` (created if missing).
pub fn make_pki(dir: &Path) -> TestPki {
    std::fs::create_dir_all(dir).expect("cert dir");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    params.distinguished_name.push(DnType::CommonName, format!("zego-room test CA {:x} (throwaway)", fastrand::u32(..)));
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = rcgen::date_time_ymd(2018, 1, 1);
    params.not_after = rcgen::date_time_ymd(2099, 1, 1);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("ca key")).expect("ca");
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).expect("write ca");
    let (cert, key) = server_cert(&["127.0.0.1", "localhost", "::1"], &ca, false, dir, "server");
    let (expired_cert, expired_key) = server_cert(&["127.0.0.1", "localhost"], &ca, true, dir, "expired");
    let (other_host_cert, other_host_key) = server_cert(&["other.example"], &ca, false, dir, "other-host");
    TestPki { dir: dir.to_owned(), ca: ca_path, cert, key, expired_cert, expired_key, other_host_cert, other_host_key }
}

/// A fresh directory under the system temp dir for one test's certificates.
#[allow(dead_code)] // not used by the example
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zego-room-tls-{tag}-{}-{:x}", std::process::id(), fastrand::u64(..)));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
