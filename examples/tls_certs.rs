//! Writes a throwaway CA and server certificates (rcgen) for trying `wss://` by hand and for the
//! Python suite's TLS tests: `tls_certs DIR` creates DIR and prints one `NAME PATH` line per file:
//! `dir`, `ca` (for the engine's `tls_ca_file`), `cert`/`key` (127.0.0.1, localhost, ::1; for the server's
//! `--tls-cert`/`--tls-key`), `expired_cert`/`expired_key`, `other_host_cert`/`other_host_key`.
//! Never use these anywhere but a test: the CA key is thrown away, nothing else is protected.

#[path = "../tests/common/certs.rs"]
mod certs;

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: tls_certs DIR");
        std::process::exit(2);
    };
    let p = certs::make_pki(std::path::Path::new(&dir));
    for (name, path) in [
        ("dir", &p.dir),
        ("ca", &p.ca),
        ("cert", &p.cert),
        ("key", &p.key),
        ("expired_cert", &p.expired_cert),
        ("expired_key", &p.expired_key),
        ("other_host_cert", &p.other_host_cert),
        ("other_host_key", &p.other_host_key),
    ] {
        println!("{name} {}", path.display());
    }
}
