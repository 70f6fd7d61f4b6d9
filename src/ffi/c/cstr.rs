//! Borrowed C strings, read with a bound so an absurdly long (or unterminated within the limit)
//! string is rejected without scanning it all, and checked as bytes before any UTF-8 conversion.

use std::ffi::{c_char, CString};

/// The bytes of the NUL-terminated string at `p`, or `Err(())` if no NUL occurs within
/// `max + 1` bytes (the string is longer than `max`). `p` must be non-NULL.
///
/// # Safety
/// `p` points to a NUL-terminated string, or to at least `max + 1` readable bytes.
pub(crate) unsafe fn bounded<'a>(p: *const c_char, max: usize) -> Result<&'a [u8], ()> {
    let p = p as *const u8;
    let mut n = 0usize;
    while n <= max {
        if *p.add(n) == 0 {
            return Ok(std::slice::from_raw_parts(p, n));
        }
        n += 1;
    }
    Err(())
}

/// As [`bounded`], mapping NULL to `null_code` and too long to `too_long`, then requiring UTF-8
/// (`not_utf8` otherwise).
///
/// # Safety
/// As [`bounded`] when `p` is non-NULL.
pub(crate) unsafe fn utf8<'a>(p: *const c_char, max: usize, null_code: i32, too_long: i32, not_utf8: i32) -> Result<&'a str, i32> {
    if p.is_null() {
        return Err(null_code);
    }
    let bytes = bounded(p, max).map_err(|_| too_long)?;
    std::str::from_utf8(bytes).map_err(|_| not_utf8)
}

/// A C copy of a Rust string for a callback. Interior NULs (which validated input never has)
/// are dropped rather than truncating silently or failing.
pub(crate) fn to_c(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|_| CString::new(s.replace('\0', "")).expect("no NUL left"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_stops_at_the_limit() {
        let s = b"abcdef\0";
        unsafe {
            assert_eq!(bounded(s.as_ptr() as *const c_char, 6), Ok(&b"abcdef"[..]));
            assert_eq!(bounded(s.as_ptr() as *const c_char, 5), Err(()));
            // Not terminated within the bound: never reads past max + 1 bytes.
            let unterminated = [b'x'; 4];
            assert_eq!(bounded(unterminated.as_ptr() as *const c_char, 3), Err(()));
        }
    }

    #[test]
    fn utf8_codes() {
        unsafe {
            assert_eq!(utf8(std::ptr::null(), 8, 1, 2, 3), Err(1));
            assert_eq!(utf8(c"\xff".as_ptr(), 8, 1, 2, 3), Err(3));
            assert_eq!(utf8(c"123456789".as_ptr(), 8, 1, 2, 3), Err(2));
            assert_eq!(utf8(c"ok".as_ptr(), 8, 1, 2, 3), Ok("ok"));
        }
        assert_eq!(to_c("a\0b").as_bytes(), b"ab");
    }
}
