//! The committed C header must be exactly what cbindgen 0.29.4 (pinned) renders from
//! `src/ffi/c/` with `cbindgen.toml`. Regenerate with `UPDATE_C_HEADER=1 cargo test --test c_header`.
//! Also checks that the header includes only the three allowed system headers, compiles as C99
//! and as C++, and that its version matches the crate.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn render() -> String {
    let root = root();
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/c/mod.rs"))
        .generate()
        .expect("cbindgen renders the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

#[test]
fn committed_header_matches_cbindgen_output() {
    let path = root().join("include/zego_room.h");
    let fresh = render();
    if std::env::var_os("UPDATE_C_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("write include/zego_room.h");
        eprintln!("rewrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let first = committed.lines().zip(fresh.lines()).position(|(a, b)| a != b).unwrap_or(committed.lines().count().min(fresh.lines().count()));
        panic!(
            "include/zego_room.h is out of date (first difference at line {}).\n  committed: {:?}\n  generated: {:?}\nRegenerate it with:\n  UPDATE_C_HEADER=1 cargo test --test c_header",
            first + 1,
            committed.lines().nth(first),
            fresh.lines().nth(first)
        );
    }
}

fn header() -> String {
    std::fs::read_to_string(root().join("include/zego_room.h")).expect("include/zego_room.h exists")
}

#[test]
fn header_includes_only_the_three_standard_headers() {
    let includes: Vec<String> = header().lines().filter(|l| l.trim_start().starts_with("#include")).map(|l| l.trim().to_owned()).collect();
    assert_eq!(includes, vec!["#include <stdbool.h>", "#include <stdint.h>", "#include <stddef.h>"]);
}

#[test]
fn header_declares_every_contract_name() {
    let h = header();
    for name in [
        "typedef int32_t zego_error;",
        "typedef int32_t zego_seq;",
        "typedef struct zego_engine zego_engine;",
        "zego_engine_create(",
        "zego_engine_destroy(",
        "zego_engine_set_engine_config(",
        "zego_engine_login_room(",
        "zego_engine_logout_room(",
        "zego_engine_switch_room(",
        "zego_engine_renew_token(",
        "zego_engine_register_room_state_changed_callback(",
        "zego_engine_register_room_state_update_callback(",
        "zego_engine_register_room_user_update_callback(",
        "zego_engine_register_room_online_user_count_update_callback(",
        "zego_engine_register_room_token_will_expire_callback(",
        "zego_engine_register_room_login_result_callback(",
        "zego_engine_register_room_logout_result_callback(",
        "zego_engine_register_room_stream_update_callback(",
        "zego_engine_register_room_stream_extra_info_update_callback(",
        "zego_engine_register_publisher_state_update_callback(",
        "zego_engine_register_player_state_update_callback(",
        "zego_engine_register_publisher_update_stream_extra_info_result_callback(",
        "zego_engine_register_player_recv_sei_callback(",
        "zego_engine_register_im_send_broadcast_message_result_callback(",
        "zego_engine_register_im_send_barrage_message_result_callback(",
        "zego_engine_register_im_send_custom_command_result_callback(",
        "zego_engine_register_room_set_room_extra_info_result_callback(",
        "zego_engine_register_im_recv_broadcast_message_callback(",
        "zego_engine_register_im_recv_barrage_message_callback(",
        "zego_engine_register_im_recv_custom_command_callback(",
        "zego_engine_register_room_extra_info_update_callback(",
        "zego_set_log_callback(",
        "zego_version(",
        "ZEGO_ROOM_STATE_CHANGED_REASON_LOGOUT_FAILED = 8",
        "ZEGO_ROOM_STATE_CONNECTED = 2",
        "ZEGO_UPDATE_TYPE_DELETE = 1",
        "ZEGO_ROOM_MODE_MULTI_ROOM = 1",
        "typedef int32_t zego_room_state_changed_reason;",
        "typedef struct zego_user {",
        "typedef struct zego_room_config {",
        "typedef struct zego_engine_profile {",
        "extern \"C\" {",
        // streams (§6.2)
        "ZEGO_PUBLISHER_STATE_NO_PUBLISH = 0",
        "ZEGO_PUBLISHER_STATE_PUBLISH_REQUESTING = 1",
        "ZEGO_PUBLISHER_STATE_PUBLISHING = 2",
        "ZEGO_PLAYER_STATE_NO_PLAY = 0",
        "ZEGO_PLAYER_STATE_PLAY_REQUESTING = 1",
        "ZEGO_PLAYER_STATE_PLAYING = 2",
        "ZEGO_PUBLISH_CHANNEL_MAIN = 0",
        "ZEGO_PUBLISH_CHANNEL_AUX = 1",
        "ZEGO_PUBLISH_CHANNEL_THIRD = 2",
        "ZEGO_PUBLISH_CHANNEL_FOURTH = 3",
        "ZEGO_ROOM_STREAM_LIST_TYPE_PLAY = 0",
        "ZEGO_ROOM_STREAM_LIST_TYPE_ALL = 1",
        "typedef int32_t zego_publisher_state;",
        "typedef int32_t zego_player_state;",
        "typedef int32_t zego_publish_channel;",
        "typedef int32_t zego_room_stream_list_type;",
        "typedef struct zego_stream {",
        "typedef struct zego_publisher_config {",
        "typedef struct zego_player_config {",
        "zego_engine_start_publishing_stream(",
        "zego_engine_stop_publishing_stream(",
        "zego_engine_set_stream_extra_info(",
        "zego_engine_start_playing_stream(",
        "zego_engine_stop_playing_stream(",
        "zego_engine_send_sei(",
        "zego_engine_get_room_stream_list(",
        "zego_stream_list_free(",
        "typedef void (*zego_on_room_stream_update)(",
        "typedef void (*zego_on_room_stream_extra_info_update)(",
        "typedef void (*zego_on_publisher_state_update)(",
        "typedef void (*zego_on_player_state_update)(",
        "typedef void (*zego_on_publisher_update_stream_extra_info_result)(",
        "typedef void (*zego_on_player_recv_sei)(",
        // messaging and room extra info (§7.2)
        "typedef struct zego_broadcast_message_info {",
        "typedef struct zego_barrage_message_info {",
        "typedef struct zego_room_extra_info {",
        "zego_engine_send_broadcast_message(",
        "zego_engine_send_barrage_message(",
        "zego_engine_send_custom_command(",
        "zego_engine_set_room_extra_info(",
        "typedef void (*zego_on_im_send_broadcast_message_result)(",
        "typedef void (*zego_on_im_send_barrage_message_result)(",
        "typedef void (*zego_on_im_send_custom_command_result)(",
        "typedef void (*zego_on_room_set_room_extra_info_result)(",
        "typedef void (*zego_on_im_recv_broadcast_message)(",
        "typedef void (*zego_on_im_recv_barrage_message)(",
        "typedef void (*zego_on_im_recv_custom_command)(",
        "typedef void (*zego_on_room_extra_info_update)(",
    ] {
        assert!(h.contains(name), "header lacks {name:?}");
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Compiles `src` (which includes the header) with `compiler args`.
fn compile(compiler: &str, args: &[&str], src: &str, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_header");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, src).unwrap();
    let include = root().join("include");
    let out = Command::new(compiler)
        .args(args)
        .arg("-I")
        .arg(&include)
        .arg("-fsyntax-only")
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{compiler}: {e}"));
    assert!(out.status.success(), "{compiler} {args:?} failed on the header:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// Uses every declaration with the plain (tag-less) names.
const USE_HEADER: &str = r#"
#include "zego_room.h"
#include "zego_room.h" /* include guard */
static void on_state(void *ctx, zego_room_state_changed_reason r, zego_error e, const char *x, const char *room) {
  (void)ctx; (void)r; (void)e; (void)x; (void)room;
}
/* Streams and messaging callbacks, in the contract's argument order (user_context first). */
static void on_streams(void *ctx, zego_update_type t, const zego_stream *l, uint32_t n, const char *x, const char *room) {
  (void)ctx; (void)t; (void)l; (void)n; (void)x; (void)room;
}
static void on_stream_extra(void *ctx, const zego_stream *l, uint32_t n, const char *room) {
  (void)ctx; (void)l; (void)n; (void)room;
}
static void on_pub(void *ctx, zego_publisher_state s, zego_error e, const char *x, const char *id) {
  (void)ctx; (void)s; (void)e; (void)x; (void)id;
}
static void on_play(void *ctx, zego_player_state s, zego_error e, const char *x, const char *id) {
  (void)ctx; (void)s; (void)e; (void)x; (void)id;
}
static void on_extra_result(void *ctx, zego_error e, zego_seq seq) { (void)ctx; (void)e; (void)seq; }
static void on_sei(void *ctx, const uint8_t *d, uint32_t n, const char *id) { (void)ctx; (void)d; (void)n; (void)id; }
static void on_bc_result(void *ctx, zego_error e, uint64_t id, const char *room, zego_seq seq) {
  (void)ctx; (void)e; (void)id; (void)room; (void)seq;
}
static void on_br_result(void *ctx, zego_error e, const char *id, const char *room, zego_seq seq) {
  (void)ctx; (void)e; (void)id; (void)room; (void)seq;
}
static void on_cmd_result(void *ctx, zego_error e, const char *room, zego_seq seq) { (void)ctx; (void)e; (void)room; (void)seq; }
static void on_rx_result(void *ctx, zego_error e, const char *room, const char *key, zego_seq seq) {
  (void)ctx; (void)e; (void)room; (void)key; (void)seq;
}
static void on_bc(void *ctx, const zego_broadcast_message_info *l, uint32_t n, const char *room) {
  (void)ctx; (void)n; (void)room; (void)(l[0].message_id + l[0].send_time); (void)l[0].from_user.user_id;
}
static void on_br(void *ctx, const zego_barrage_message_info *l, uint32_t n, const char *room) {
  (void)ctx; (void)n; (void)room; (void)l[0].message_id; (void)l[0].send_time;
}
static void on_cmd(void *ctx, const char *c, const zego_user *from, const char *room) { (void)ctx; (void)c; (void)from; (void)room; }
static void on_rx(void *ctx, const zego_room_extra_info *l, uint32_t n, const char *room) {
  (void)ctx; (void)n; (void)room; (void)l[0].key; (void)l[0].value; (void)l[0].update_user; (void)l[0].update_time;
}
int check_streams(zego_engine *e);
int check_streams(zego_engine *e) {
  zego_publisher_config pc = { NULL };
  zego_player_config lc = { "r" };
  zego_stream *list = NULL;
  uint32_t count = 0;
  zego_seq seq = 0;
  zego_publish_channel ch = ZEGO_PUBLISH_CHANNEL_AUX;
  zego_room_stream_list_type lt = ZEGO_ROOM_STREAM_LIST_TYPE_ALL;
  zego_publisher_state ps = ZEGO_PUBLISHER_STATE_PUBLISHING;
  zego_player_state ls = ZEGO_PLAYER_STATE_PLAYING;
  const uint8_t sei[2] = { 0, 1 };
  zego_user to = { "u", NULL };
  zego_on_room_stream_update a = on_streams;
  zego_on_room_stream_extra_info_update b = on_stream_extra;
  zego_on_publisher_state_update c = on_pub;
  zego_on_player_state_update d = on_play;
  zego_on_publisher_update_stream_extra_info_result f = on_extra_result;
  zego_on_player_recv_sei g = on_sei;
  zego_on_im_send_broadcast_message_result h = on_bc_result;
  zego_on_im_send_barrage_message_result i = on_br_result;
  zego_on_im_send_custom_command_result j = on_cmd_result;
  zego_on_room_set_room_extra_info_result k = on_rx_result;
  zego_on_im_recv_broadcast_message l = on_bc;
  zego_on_im_recv_barrage_message m = on_br;
  zego_on_im_recv_custom_command n = on_cmd;
  zego_on_room_extra_info_update o = on_rx;
  zego_error err = zego_engine_start_publishing_stream(e, "s", &pc, ch);
  err |= zego_engine_stop_publishing_stream(e, ZEGO_PUBLISH_CHANNEL_MAIN);
  err |= zego_engine_set_stream_extra_info(e, "x", ZEGO_PUBLISH_CHANNEL_THIRD, &seq);
  err |= zego_engine_start_playing_stream(e, "s", &lc);
  err |= zego_engine_stop_playing_stream(e, "s");
  err |= zego_engine_send_sei(e, sei, 2u, ZEGO_PUBLISH_CHANNEL_FOURTH);
  err |= zego_engine_get_room_stream_list(e, "", lt, &list, &count);
  zego_stream_list_free(list, count);
  err |= zego_engine_send_broadcast_message(e, "r", "m", &seq);
  err |= zego_engine_send_barrage_message(e, "r", "m", &seq);
  err |= zego_engine_send_custom_command(e, "r", "c", &to, 1u, &seq);
  err |= zego_engine_set_room_extra_info(e, "r", "k", "v", &seq);
  zego_engine_register_room_stream_update_callback(e, a, NULL);
  zego_engine_register_room_stream_extra_info_update_callback(e, b, NULL);
  zego_engine_register_publisher_state_update_callback(e, c, NULL);
  zego_engine_register_player_state_update_callback(e, d, NULL);
  zego_engine_register_publisher_update_stream_extra_info_result_callback(e, f, NULL);
  zego_engine_register_player_recv_sei_callback(e, g, NULL);
  zego_engine_register_im_send_broadcast_message_result_callback(e, h, NULL);
  zego_engine_register_im_send_barrage_message_result_callback(e, i, NULL);
  zego_engine_register_im_send_custom_command_result_callback(e, j, NULL);
  zego_engine_register_room_set_room_extra_info_result_callback(e, k, NULL);
  zego_engine_register_im_recv_broadcast_message_callback(e, l, NULL);
  zego_engine_register_im_recv_barrage_message_callback(e, m, NULL);
  zego_engine_register_im_recv_custom_command_callback(e, n, NULL);
  zego_engine_register_room_extra_info_update_callback(e, o, NULL);
  return (int)err + (int)ps + (int)ls;
}
int check(void);
int check(void) {
  zego_engine_profile p = { 1u, "ws://127.0.0.1:9", ZEGO_ROOM_MODE_SINGLE_ROOM };
  zego_user u = { "u", NULL };
  zego_room_config c = { 0u, true, NULL };
  zego_engine *e = NULL;
  zego_seq seq = 0;
  zego_room_state s = ZEGO_ROOM_STATE_CONNECTED;
  zego_update_type t = ZEGO_UPDATE_TYPE_ADD;
  zego_on_room_state_changed cb = on_state;
  zego_error err = zego_engine_create(&p, &e);
  err |= zego_engine_login_room(e, "r", &u, &c, &seq);
  zego_engine_register_room_state_changed_callback(e, cb, NULL);
  zego_engine_destroy(e);
  (void)s; (void)t;
  return (int)err + (int)sizeof(zego_room_mode) + (zego_version() != NULL);
}
"#;

#[test]
fn header_compiles_as_c99_and_cpp() {
    if !have("gcc") {
        panic!("gcc is required (scripts/install-deps.sh)");
    }
    compile("gcc", &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-x", "c"], USE_HEADER, "use_header.c");
    compile("gcc", &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-x", "c"], USE_HEADER, "use_header_c11.c");
    if have("g++") {
        compile("g++", &["-std=c++11", "-Wall", "-Wextra", "-Werror", "-x", "c++"], USE_HEADER, "use_header.cpp");
    }
}

#[test]
fn enums_are_32_bit() {
    let src = r#"#include "zego_room.h"
typedef char a[sizeof(zego_room_state_changed_reason) == 4 ? 1 : -1];
typedef char b[sizeof(zego_room_state) == 4 ? 1 : -1];
typedef char c[sizeof(zego_update_type) == 4 ? 1 : -1];
typedef char d[sizeof(zego_room_mode) == 4 ? 1 : -1];
typedef char e[sizeof(zego_error) == 4 && sizeof(zego_seq) == 4 ? 1 : -1];
typedef char f[sizeof(zego_publisher_state) == 4 && sizeof(zego_player_state) == 4 ? 1 : -1];
typedef char g[sizeof(zego_publish_channel) == 4 && sizeof(zego_room_stream_list_type) == 4 ? 1 : -1];
"#;
    compile("gcc", &["-std=c99", "-Wall", "-Werror", "-Wno-unused-local-typedefs", "-x", "c"], src, "sizes.c");
    if have("g++") {
        compile("g++", &["-std=c++11", "-Wall", "-Werror", "-Wno-unused-local-typedefs", "-x", "c++"], src, "sizes.cpp");
    }
}

#[test]
fn version_is_the_crate_version() {
    let v = unsafe { std::ffi::CStr::from_ptr(zego_room::ffi::c::zego_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}
