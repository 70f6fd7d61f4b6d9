//! Generates Swift/Kotlin/Python bindings from the built library (library mode):
//! `cargo run --release --features cli --bin uniffi-bindgen -- generate --library target/release/libzego_room.so --language python --out-dir DIR`
fn main() {
    uniffi::uniffi_bindgen_main()
}
