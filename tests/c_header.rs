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
