//! Property-based fuzzing of the advanced-config parser (`core::advanced_config::parse`) and of
//! `set_engine_config` on the core, on `RoomEngine` and through the C ABI.
//!
//! Specification checked (contract §1.3): items are separated by `;`, trimmed, empty ones
//! skipped; every other item must contain `=`; the value of `room_retry_time` (trimmed key and
//! value) must parse as a `u64`; unknown keys are ignored. `Ok` reflects the LAST
//! `room_retry_time`; an `Err` (1000017) changes nothing.
//!
//! `PROPTEST_CASES=N` runs every property N times (see `docs/fuzzing.md`).

use std::ffi::CString;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use zego_room::core::advanced_config::parse;
use zego_room::core::{Core, Timings};
use zego_room::error_codes::{ENGINE_NOT_CREATED, ILLEGAL_PARAM};
use zego_room::ffi::c;
use zego_room::{EngineProfile, EventHandler, RoomEngine, RoomMode};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig { cases: cases(default), ..ProptestConfig::default() }
}

/// The reference model: `Ok(Some(secs))` for the last room_retry_time, `Ok(None)` for none.
fn model(text: &str) -> Result<Option<u64>, i32> {
    let mut last = None;
    for item in text.split(';') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some(eq) = item.find('=') else { return Err(ILLEGAL_PARAM) };
        let (key, value) = (item[..eq].trim(), item[eq + 1..].trim());
        if key == "room_retry_time" {
            // A u64: optional '+', ASCII digits only, in range.
            let digits = value.strip_prefix('+').unwrap_or(value);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ILLEGAL_PARAM);
            }
            let v: u128 = match digits.trim_start_matches('0') {
                "" => 0,
                d if d.len() > 20 => return Err(ILLEGAL_PARAM),
                d => d.parse().unwrap(),
            };
            if v > u64::MAX as u128 {
                return Err(ILLEGAL_PARAM);
            }
            last = Some(v as u64);
        }
    }
    Ok(last)
}

trait FloorCompat {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}
impl FloorCompat for str {
    fn floor_char_boundary_compat(&self, i: usize) -> usize {
        (0..=i.min(self.len())).rev().find(|&k| self.is_char_boundary(k)).unwrap_or(0)
    }
}

fn parsed(text: &str) -> Result<Option<u64>, i32> {
    parse(text).map(|c| c.room_retry_time.map(|d| d.as_secs()))
}

fn ws() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), Just(" ".to_owned()), Just("\t".to_owned()), Just("\u{3000}".to_owned()), Just("\n ".to_owned())]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just("room_retry_time".to_owned()),
        1 => Just("ROOM_RETRY_TIME".to_owned()),
        1 => Just("room_retry_time ".to_owned()),
        1 => Just("room_retry_timeX".to_owned()),
        1 => Just(String::new()),
        1 => "[a-z_]{1,12}",
        1 => "[^;=]{0,8}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<u64>().prop_map(|v| v.to_string()),
        2 => (0u64..100_000).prop_map(|v| v.to_string()),
        1 => Just("18446744073709551616".to_owned()),
        1 => Just("99999999999999999999999".to_owned()),
        1 => any::<i64>().prop_map(|v| v.to_string()),
        1 => (0u64..100).prop_map(|v| format!("+{v}")),
        1 => (0u64..100).prop_map(|v| format!("000{v}")),
        1 => Just(String::new()),
        1 => Just("1e3".to_owned()),
        1 => Just("0x10".to_owned()),
        1 => Just("١٢".to_owned()),
        1 => Just("1_000".to_owned()),
        1 => Just("1 2".to_owned()),
        1 => Just("=5".to_owned()),
        1 => "[^;]{0,6}",
    ]
}

/// Item: key=value with optional whitespace, or a bare word, or nothing.
fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (ws(), key(), ws(), ws(), value(), ws()).prop_map(|(a, k, b, c, v, d)| format!("{a}{k}{b}={c}{v}{d}")),
        1 => "[^;=]{0,8}",
        1 => ws(),
        1 => any::<String>().prop_map(|s| s.replace(';', "")),
    ]
}

fn config_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (proptest::collection::vec(item(), 0..6), any::<bool>()).prop_map(|(items, trailing)| {
            let mut s = items.join(";");
            if trailing {
                s.push(';');
            }
            s
        }),
        1 => any::<String>(),
        1 => "[a-z_=;0-9 +-]{0,40}",
    ]
}

struct NoEvents;
impl EventHandler for NoEvents {}

/// One engine for the whole run (creating engines per case is needlessly slow). Its server is
/// never contacted: no login happens here.
fn engine() -> &'static RoomEngine {
    static E: OnceLock<RoomEngine> = OnceLock::new();
    E.get_or_init(|| {
        RoomEngine::new(
            EngineProfile { app_id: 1, server: "ws://127.0.0.1:9".into(), room_mode: RoomMode::SingleRoom },
            Arc::new(NoEvents),
        )
        .expect("engine")
    })
}

/// A C engine handle (created once), as an address so it can live in a static.
fn c_engine() -> usize {
    static H: OnceLock<usize> = OnceLock::new();
    *H.get_or_init(|| {
        let server = CString::new("ws://127.0.0.1:9").unwrap();
        let profile = c::zego_engine_profile { app_id: 1, server: server.as_ptr(), room_mode: c::zego_room_mode::ZEGO_ROOM_MODE_SINGLE_ROOM };
        let mut h: *mut c::zego_engine = std::ptr::null_mut();
        assert_eq!(unsafe { c::zego_engine_create(&profile, &mut h) }, 0);
        h as usize
    })
}

fn core() -> Core {
    Core::new(&EngineProfile { app_id: 1, server: "ws://127.0.0.1:9".into(), room_mode: RoomMode::SingleRoom }, Timings::default(), 7)
}

fn check(text: &str) {
    let expected = model(text);
    let got = parsed(text);
    assert_eq!(got, expected, "parse({text:?})");

    // Core: a bad value changes nothing; a good one sets the last value (or keeps the old one).
    let mut c = core();
    c.set_engine_config("room_retry_time=42").unwrap();
    let r = c.set_engine_config(text);
    let window = c.timings().retry_window;
    match expected {
        Err(code) => {
            assert_eq!(r, Err(code), "core({text:?})");
            assert_eq!(window, Duration::from_secs(42), "a refused config changed the retry window: {text:?}");
        }
        Ok(last) => {
            assert_eq!(r, Ok(()));
            assert_eq!(window, Duration::from_secs(last.unwrap_or(42)), "core({text:?})");
        }
    }

    // The engine and the C ABI report the same.
    assert_eq!(engine().set_engine_config(text), expected.map(|_| ()), "engine({text:?})");
    if let Ok(cs) = CString::new(text) {
        let code = unsafe { c::zego_engine_set_engine_config(c_engine() as *mut c::zego_engine, cs.as_ptr()) };
        // The C ABI refuses texts over 64 KiB before parsing.
        let want = if text.len() > 64 * 1024 { ILLEGAL_PARAM } else { expected.map_or_else(|c| c, |_| 0) };
        assert_eq!(code, want, "C({:?}...)", &text[..text.floor_char_boundary_compat(200)]);
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn parse_matches_the_specification(text in config_text()) {
        check(&text);
    }

    /// Raw bytes through the C ABI: invalid UTF-8 is 1000017, valid UTF-8 is as parse.
    #[test]
    fn c_abi_raw_bytes(bytes in proptest::collection::vec(1u8..=255, 0..64), prefix in prop_oneof![Just(""), Just("room_retry_time="), Just("room_retry_time=1;")]) {
        let mut all = prefix.as_bytes().to_vec();
        all.extend_from_slice(&bytes);
        let cs = CString::new(all.clone()).unwrap();
        let code = unsafe { c::zego_engine_set_engine_config(c_engine() as *mut c::zego_engine, cs.as_ptr()) };
        let expected = match std::str::from_utf8(&all) {
            Err(_) => ILLEGAL_PARAM,
            Ok(s) => model(s).map_or_else(|c| c, |_| 0),
        };
        prop_assert_eq!(code, expected);
    }
}

#[test]
fn corpus_and_fixed_cases() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/configs.txt")).expect("corpus");
    let mut n = 0;
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (expect, input) = line.split_once('\t').unwrap_or_else(|| panic!("corpus line without a tab: {line:?}"));
        let expected = match expect {
            "err" => Err(ILLEGAL_PARAM),
            "ok:-" => Ok(None),
            e => Ok(Some(e.strip_prefix("ok:").unwrap().parse::<u64>().unwrap())),
        };
        assert_eq!(model(input), expected, "model disagrees with the corpus on {input:?}");
        check(input);
        n += 1;
    }
    assert!(n >= 20);
    // Long inputs: the C ABI refuses more than 64 KiB, the parser takes anything.
    check(&"room_retry_time=5;".repeat(3000));
    check(&"room_retry_time=5;".repeat(4000));
    let huge = CString::new("x=1;".repeat(20_000)).unwrap();
    assert_eq!(unsafe { c::zego_engine_set_engine_config(c_engine() as *mut c::zego_engine, huge.as_ptr()) }, ILLEGAL_PARAM);
    // NULL text, NULL engine.
    assert_eq!(unsafe { c::zego_engine_set_engine_config(c_engine() as *mut c::zego_engine, std::ptr::null()) }, ILLEGAL_PARAM);
    let ok = CString::new("room_retry_time=1").unwrap();
    assert_eq!(unsafe { c::zego_engine_set_engine_config(std::ptr::null_mut(), ok.as_ptr()) }, ENGINE_NOT_CREATED);
}
