//! Facades: convert types, validate, guard against panics. No room logic lives here.

#[cfg(all(target_os = "android", feature = "tls"))]
pub mod android;
pub mod c;
pub mod uniffi_surface;
