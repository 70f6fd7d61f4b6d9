//! Stream lists handed to C by `zego_engine_get_room_stream_list` and taken back by
//! `zego_stream_list_free`.
//!
//! The memory (the array and every string) stays owned by an entry in a registry keyed by the
//! array's address; the caller holds only the pointer. So freeing drops the entry whatever the
//! caller did to the array's contents, and a double free, a wrong count or a pointer the library
//! never returned is logged and ignored instead of corrupting the heap.

use std::collections::HashMap;
use std::ffi::CString;

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::cstr::to_c;
use super::{zego_stream, zego_user};
use crate::error_codes::INNER_ERROR;
use crate::types::Stream;

struct OwnedList {
    /// The array whose address the caller holds; its pointers point into `strings`.
    array: Box<[zego_stream]>,
    /// Keeps the strings alive (CString data does not move when the Vec grows).
    _strings: Vec<CString>,
}

// SAFETY: the raw pointers in `array` point only into `_strings`, owned by the same entry; the
// entry is moved between threads as a whole and never aliased mutably.
unsafe impl Send for OwnedList {}

static LISTS: Lazy<Mutex<HashMap<usize, OwnedList>>> = Lazy::new(|| Mutex::new(HashMap::new()));

/// A caller-owned copy of `streams`: `(NULL, 0)` when empty.
pub(crate) fn allocate(streams: &[Stream]) -> Result<(*mut zego_stream, u32), i32> {
    if streams.is_empty() {
        return Ok((std::ptr::null_mut(), 0));
    }
    let count = u32::try_from(streams.len()).map_err(|_| INNER_ERROR)?;
    let mut strings = Vec::with_capacity(streams.len() * 4);
    let mut array = Vec::with_capacity(streams.len());
    for s in streams {
        let mut keep = |text: &str| {
            let c = to_c(text);
            let p = c.as_ptr();
            strings.push(c);
            p
        };
        let user = zego_user { user_id: keep(&s.user.user_id), user_name: keep(&s.user.user_name) };
        array.push(zego_stream { user, stream_id: keep(&s.stream_id), extra_info: keep(&s.extra_info) });
    }
    let mut array = array.into_boxed_slice();
    let ptr = array.as_mut_ptr();
    LISTS.lock().insert(ptr as usize, OwnedList { array, _strings: strings });
    Ok((ptr, count))
}

pub(crate) fn free(list: *mut zego_stream, count: u32) {
    if list.is_null() {
        return;
    }
    let entry = LISTS.lock().remove(&(list as usize));
    match entry {
        None => log::warn!("zego_stream_list_free: {list:p} is not a live stream list (freed twice?); ignored"),
        Some(owned) => {
            if owned.array.len() != count as usize {
                log::warn!("zego_stream_list_free: count {count} but the list has {} entries; freed it whole", owned.array.len());
            }
            drop(owned); // outside the registry lock
        }
    }
}

/// Lists handed out and not yet freed (tests).
#[cfg(test)]
pub(crate) fn live() -> usize {
    LISTS.lock().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::User;

    #[test]
    fn allocate_free_double_free_and_wrong_count() {
        let streams = vec![
            Stream { user: User::new("u1", "Name 1"), stream_id: "s1".into(), extra_info: String::new() },
            Stream { user: User::new("u2", "u2"), stream_id: "s2".into(), extra_info: "{\"url\":\"x\"}".into() },
        ];
        let (p, n) = allocate(&streams).unwrap();
        assert_eq!(n, 2);
        let read = |i: usize, f: fn(&zego_stream) -> *const std::ffi::c_char| unsafe {
            std::ffi::CStr::from_ptr(f(&*p.add(i))).to_str().unwrap().to_owned()
        };
        assert_eq!(read(0, |s| s.user.user_name), "Name 1");
        assert_eq!(read(1, |s| s.stream_id), "s2");
        assert_eq!(read(1, |s| s.extra_info), "{\"url\":\"x\"}");
        assert_eq!(read(0, |s| s.extra_info), "");
        let before = live();
        free(p, 5); // wrong count: still freed whole
        assert_eq!(live(), before - 1);
        free(p, 2); // double free: ignored
        free(std::ptr::null_mut(), 0);
        free(std::ptr::null_mut(), 9);
        let mut fake = [0u8; 8];
        free(fake.as_mut_ptr() as *mut zego_stream, 1); // never handed out: ignored
        assert_eq!(allocate(&[]).unwrap(), (std::ptr::null_mut(), 0));
    }
}
