//! Facades: convert types, validate, guard against panics. No room logic lives here.

pub mod c;
pub mod uniffi_surface;
