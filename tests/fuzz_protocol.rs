//! Property-based fuzzing of the server's frame decoder and of the pure presence logic (`Hub`).
//!
//! Stable-Rust stand-in for cargo-fuzz (see `docs/fuzzing.md`). Case counts default low so the
//! normal test run stays fast; `PROPTEST_CASES=N` runs every property here N times.
//!
//! * `decode_*`: `ClientMsg::decode` / `ServerMsg::decode` never panic on arbitrary text or on
//!   mutated valid frames; valid messages round-trip; whatever decodes re-encodes to itself.
#![cfg(feature = "server")]

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use zego_room::protocol::{ClientMsg, ServerMsg, UserUpdateKind};
use zego_room::User;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig { cases: cases(default), max_shrink_iters: 2048, ..ProptestConfig::default() }
}

fn corpus(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"))).expect("corpus file")
}

/// Corpus lines that are not comments or blank.
fn corpus_lines(name: &str) -> Vec<String> {
    corpus(name).lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,64}",
        // JSON-ish soup: braces, quotes, tags, numbers.
        proptest::collection::vec(
            prop_oneof![
                Just("{".to_owned()),
                Just("}".to_owned()),
                Just("\"t\":".to_owned()),
                Just("\"login\"".to_owned()),
                Just("\"ping\"".to_owned()),
                Just("\"renew_token\"".to_owned()),
                Just("\"token\":".to_owned()),
                Just(",".to_owned()),
                Just("null".to_owned()),
                Just("[".to_owned()),
                Just("]".to_owned()),
                Just("\\u0000".to_owned()),
                Just("\\ud800".to_owned()),
                Just("1e999".to_owned()),
                Just("-1".to_owned()),
                Just("4294967296".to_owned()),
                "\"[a-z_]{0,8}\"",
                any::<u32>().prop_map(|n| n.to_string()),
            ],
            0..24
        )
        .prop_map(|v| v.concat()),
    ]
}

fn small_string() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z0-9]{0,8}", Just(String::new())]
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u32>(),
            small_string(),
            small_string(),
            small_string(),
            small_string(),
            any::<u32>(),
            any::<bool>(),
            proptest::option::of(small_string())
        )
            .prop_map(|(v, app_id, room_id, user_id, user_name, token, max_member_count, user_status_notify, resume_session_id)| {
                ClientMsg::Login { v, app_id, room_id, user_id, user_name, token, max_member_count, user_status_notify, client_id: "c".into(), resume_session_id, last_msg_id: 0 }
            }),
        Just(ClientMsg::Ping),
        Just(ClientMsg::Logout { destroyed: false }),
        small_string().prop_map(|token| ClientMsg::RenewToken { token }),
    ]
}

fn user() -> impl Strategy<Value = User> {
    (small_string(), small_string()).prop_map(|(a, b)| User::new(a, b))
}

fn server_msg() -> impl Strategy<Value = ServerMsg> {
    let kind = prop_oneof![Just(UserUpdateKind::Add), Just(UserUpdateKind::Delete)];
    prop_oneof![
        (
            small_string(),
            small_string(),
            any::<bool>(),
            proptest::collection::vec(user(), 0..4),
            any::<u32>(),
            any::<u64>(),
            proptest::option::of(any::<i64>())
        )
            .prop_map(|(session_id, room_session_id, resumed, users, user_count, ping_interval_ms, token_remaining_secs)| {
                ServerMsg::LoginOk { session_id, room_session_id, resumed, users, user_count, ping_interval_ms, token_remaining_secs, grace_ms: 90_000, state_age_ms: 1, streams: vec![], extra_info: vec![], last_msg_id: 0 }
            }),
        (any::<i32>(), small_string()).prop_map(|(code, message)| ServerMsg::LoginFailed { code, message }),
        Just(ServerMsg::Pong),
        (kind, proptest::collection::vec(user(), 0..4)).prop_map(|(update, users)| ServerMsg::UserUpdate { update, users }),
        any::<u32>().prop_map(|count| ServerMsg::UserCount { count }),
        (any::<i32>(), small_string()).prop_map(|(code, message)| ServerMsg::Kicked { code, message }),
        (any::<i32>(), proptest::option::of(any::<i64>()))
            .prop_map(|(code, token_remaining_secs)| ServerMsg::TokenRenewed { code, token_remaining_secs }),
        (any::<i32>(), small_string()).prop_map(|(code, message)| ServerMsg::Error { code, message }),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte (the result may be invalid UTF-8: then it is lossily repaired).
    Flip(usize, u8),
    Insert(usize, String),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<usize>(), text()).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..32).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mutate_bytes(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = b.len();
        match m {
            Mutation::Flip(i, x) if len > 0 => b[i % len] ^= x,
            Mutation::Insert(i, s) => {
                let at = i % (len + 1);
                b.splice(at..at, s.bytes());
            }
            Mutation::Delete(i, n) if len > 0 => {
                let at = i % len;
                b.drain(at..(at + n).min(len));
            }
            Mutation::Truncate(i) => b.truncate(i % (len + 1)),
            Mutation::Duplicate(i, n) if len > 0 => {
                let at = i % len;
                let chunk = b[at..(at + n).min(len)].to_vec();
                b.splice(at..at, chunk);
            }
            _ => {}
        }
    }
    b
}

fn mutate_text(s: &str, muts: &[Mutation]) -> String {
    String::from_utf8_lossy(&mutate_bytes(s.as_bytes().to_vec(), muts)).into_owned()
}

/// Whatever decodes must re-encode and decode to the same message.
fn check_decode_client(text: &str) {
    if let Ok(m) = ClientMsg::decode(text) {
        let again = m.encode();
        assert_eq!(ClientMsg::decode(&again).as_ref(), Ok(&m), "re-encode of {text:?} is {again:?}");
    }
}

fn check_decode_server(text: &str) {
    if let Ok(m) = ServerMsg::decode(text) {
        let again = m.encode();
        assert_eq!(ServerMsg::decode(&again).as_ref(), Ok(&m), "re-encode of {text:?} is {again:?}");
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn decode_arbitrary_text_never_panics(s in text()) {
        check_decode_client(&s);
        check_decode_server(&s);
    }

    #[test]
    fn client_msg_round_trips(m in client_msg()) {
        let t = m.encode();
        prop_assert!(t.len() < 16 * 1024 * 8);
        prop_assert_eq!(ClientMsg::decode(&t), Ok(m));
    }

    #[test]
    fn server_msg_round_trips(m in server_msg()) {
        prop_assert_eq!(ServerMsg::decode(&m.encode()), Ok(m));
    }

    #[test]
    fn mutated_client_frames_never_panic(m in client_msg(), muts in proptest::collection::vec(mutation(), 1..6)) {
        let t = mutate_text(&m.encode(), &muts);
        check_decode_client(&t);
        check_decode_server(&t);
    }

    #[test]
    fn mutated_server_frames_never_panic(m in server_msg(), muts in proptest::collection::vec(mutation(), 1..6)) {
        let t = mutate_text(&m.encode(), &muts);
        check_decode_server(&t);
        check_decode_client(&t);
    }

    #[test]
    fn mutated_corpus_frames_never_panic(i in any::<usize>(), muts in proptest::collection::vec(mutation(), 1..8)) {
        let frames = corpus_lines("frames.txt");
        let t = mutate_text(&frames[i % frames.len()], &muts);
        check_decode_client(&t);
        check_decode_server(&t);
    }
}

#[test]
fn decode_corpus_and_fixed_cases() {
    // Every corpus frame is valid and round-trips; it is also fed to both decoders.
    for line in corpus_lines("frames.txt") {
        let decoded = ClientMsg::decode(&line).map(|m| m.encode()).or_else(|_| ServerMsg::decode(&line).map(|m| m.encode()));
        let again = decoded.unwrap_or_else(|e| panic!("corpus frame {line:?} does not decode: {e}"));
        check_decode_client(&again);
        check_decode_server(&again);
    }
    let deep_array = "[".repeat(100_000);
    let deep_object = "{\"t\":".repeat(50_000);
    let fixed: Vec<String> = vec![
        String::new(),
        "{}".into(),
        "null".into(),
        r#"{"t":"login"}"#.into(),
        r#"{"t":"login","v":1,"app_id":1,"room_id":"r","user_id":"u","user_name":"","resume_session_id":null}"#.into(),
        r#"{"t":"login","v":-1,"app_id":1,"room_id":"r","user_id":"u","user_name":""}"#.into(),
        r#"{"t":"login","v":4294967296,"app_id":1,"room_id":"r","user_id":"u","user_name":""}"#.into(),
        r#"{"t":"ping","t":"ping"}"#.into(),
        r#"{"t":"renew_token","token":"\ud800"}"#.into(),
        r#"{"t":"renew_token","token":"a\u0000b"}"#.into(),
        r#"{"t":"token_renewed","code":0,"token_remaining_secs":1e400}"#.into(),
        deep_array,
        deep_object,
    ];
    for t in &fixed {
        check_decode_client(t);
        check_decode_server(t);
    }
    // Unknown fields are ignored, duplicate tags refused: the contract of the current decoder.
    assert_eq!(ClientMsg::decode(r#"{"t":"ping","x":1}"#), Ok(ClientMsg::Ping));
    // A resume id given as null is the same as absent.
    assert!(matches!(
        ClientMsg::decode(&fixed[4]),
        Ok(ClientMsg::Login { resume_session_id: None, .. })
    ));
}

