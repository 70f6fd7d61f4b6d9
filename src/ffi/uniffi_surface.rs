//! UniFFI surface (contract §3): Swift, Kotlin and Python are generated from it.
