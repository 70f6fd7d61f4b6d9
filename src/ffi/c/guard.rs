//! The panic boundary: every `extern "C"` body runs inside [`guard`], so a panic becomes
//! `1002099` (or the given default) and never unwinds into C.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error_codes::INNER_ERROR;

/// Runs `f`; a panic is logged and turned into `on_panic`.
pub(crate) fn guard_or<R>(on_panic: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string panic payload)".into());
            // Logging itself must not unwind either.
            let _ = catch_unwind(|| log::error!("panic caught at the C ABI boundary: {what}"));
            on_panic
        }
    }
}

/// For functions returning a `zego_error`: a panic returns 1002099.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), i32>) -> i32 {
    guard_or(INNER_ERROR, || match f() {
        Ok(()) => 0,
        Err(code) => code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_inner_error() {
        assert_eq!(guard(|| panic!("boom")), INNER_ERROR);
        assert_eq!(guard(|| Err(1_002_011)), 1_002_011);
        assert_eq!(guard(|| Ok(())), 0);
        assert_eq!(guard_or(7u8, || panic!("{}", String::from("owned"))), 7);
    }
}
