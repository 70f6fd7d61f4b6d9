//! Deliberately light: no code generation here (the C header is committed and checked by
//! `tests/c_header.rs`; cbindgen is only a dev-dependency), so mobile builds compile nothing extra.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Give the Linux shared library a SONAME so hosts record `libzego_room.so`, not a build path.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libzego_room.so");
    }
}
