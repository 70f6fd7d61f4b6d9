//! The Objective-C wrapper (`bindings/objc/`) with the seed's `onRoomStateChanged:` handler
//! (`examples/objc/main.m`), built with gcc + GNUstep Base and linked to the cdylib this test run
//! built, against a real in-process server: it must print the real Logined event.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::harness::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    assert!(dir.join("libzego_room.so").exists(), "cdylib missing in {}", dir.display());
    dir
}

fn gnustep(flag: &str) -> Vec<String> {
    let out = Command::new("gnustep-config").arg(flag).output().expect("gnustep-config (scripts/install-deps.sh)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().split_whitespace().map(str::to_owned).collect()
}

fn build_example() -> PathBuf {
    build_program("examples/objc/main.m", "room_status")
}

/// Builds `src` (relative to the crate root) with the wrapper into `name`, with gcc + GNUstep
/// Base, `-Wall -Werror`, linked to the cdylib of this test run. Once per test process: tests run
/// in parallel, and one must never run a binary another is still writing.
fn build_program(src: &str, name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, PathBuf>>> = std::sync::OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(name) {
        return p.clone();
    }
    let lib = lib_dir();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("objc").join(lib.file_name().unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join(name);
    // current_dir: gnustep-config's flags include -MMD, which writes dependency files there.
    let out = Command::new("gcc")
        .current_dir(&dir)
        .args(gnustep("--objc-flags"))
        .args(["-Wall", "-Werror"])
        .arg("-I")
        .arg(root().join("bindings/objc"))
        .arg("-I")
        .arg(root().join("include"))
        .arg(root().join(src))
        .arg(root().join("bindings/objc/ZegoExpressEngine.m"))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lzego_room")
        .args(gnustep("--base-libs"))
        .output()
        .expect("gcc runs");
    assert!(out.status.success(), "building {src} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    built.insert(name.to_owned(), exe.clone());
    exe
}

/// Runs an Objective-C test program (killed after 60 s) and returns its stdout; it must exit 0.
fn run_program(exe: &Path, args: &[String]) -> String {
    let child = Command::new(exe).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let killer = std::thread::spawn(move || {
        for _ in 0..600 {
            std::thread::sleep(Duration::from_millis(100));
            if !Path::new(&format!("/proc/{pid}")).exists() {
                return;
            }
        }
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    });
    let out = child.wait_with_output().unwrap();
    let _ = killer.join();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}\n{stderr}");
    assert!(out.status.success(), "{} failed: {:?}\n{stdout}\n{stderr}", exe.display(), out.status);
    stdout
}

/// The handler of `seeds/room-connection-status.ios-objc.en.md`, byte for byte.
const SEED_HANDLER: &str = r#"-(void)onRoomStateChanged:(ZegoRoomStateChangedReason)reason errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData roomID:(NSString *)roomID {
if(reason == ZegoRoomStateChangedReasonLogining)
    {
        // logging in
        // On behalf of the developer, actively call the callback in the connection triggered by loginRoom
    }
    else if(reason == ZegoRoomStateChangedReasonLogined)
    {
        // login successful
        // Currently, the developer actively calls loginRoom to trigger the callback of successful login. Here, the business logic of successful login to the room for the first time can be processed, such as pulling the basic information of chat room and live room.
    }
    else if(reason == ZegoRoomStateChangedReasonLoginFailed)
    {
        // Login failed
        if (errorCode == 1002033) {
            //When using the login room authentication function, the incoming token is wrong
        }
    }
    else if(reason == ZegoRoomStateChangedReasonReconnecting)
    {
        // reconnecting
        // Currently it is a callback triggered by SDK disconnection and reconnection successfully. It is recommended to show some reconnection UI here.
    }
    else if(reason == ZegoRoomStateChangedReasonReconnected)
    {
        // reconnect successfully
    }
    else if(reason == ZegoRoomStateChangedReasonReconnectFailed)
    {
        // reconnect failed
        // When the room connection is completely disconnected, the SDK will not reconnect. If the developer needs to log in to the room again, he can actively call the loginRoom interface
        // At this point, you can log out of the room/live room/classroom in the business, or manually call the interface to log in again
    }
    else if(reason == ZegoRoomStateChangedReasonKickOut)
    {
        // kicked out of the room
        if (errorCode == 1002050) {
            // User kicked out of room (due to user with same userID logged in elsewhere)
        }
        else if (errorCode == 1002055) {
            // The user is kicked out of the room (the developer actively calls the kicking interface in the background
        }
    }
    else if(reason == ZegoRoomStateChangedReasonLogout)
    {
        // successfully logged out
        // The developer actively calls logoutRoom to log out of the room
        // Developers can handle the logic of active logout callback here
    }
    else if(reason == ZegoRoomStateChangedReasonLogoutFailed)
    {
        // logout failed
        // logout room ID error
    }
}
"#;

#[test]
fn example_contains_the_seed_handler_unchanged() {
    let example = std::fs::read_to_string(root().join("examples/objc/main.m")).unwrap();
    assert!(example.contains(SEED_HANDLER), "examples/objc/main.m must contain the seed's handler byte for byte");
    // When the spec folder is beside the checkout (as in CI), also check against the seed itself.
    if let Ok(md) = std::fs::read_to_string(root().join("../shared/spec/seeds/room-connection-status.ios-objc.en.md")) {
        let start = md.find("```objectivec\n").expect("code block") + "```objectivec\n".len();
        let end = start + md[start..].find("```").unwrap();
        assert_eq!(&md[start..end], SEED_HANDLER);
    }
}

#[test]
fn seed_handler_receives_the_real_logined_event() {
    let exe = build_example();
    let server = start_server(Some(SECRET));
    let out = Command::new(&exe)
        .args([server.url(), "objc-room".into(), "objc-user".into(), token("objc-user", 3600), APP_ID.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = out.id();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(40));
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    });
    let out = out.wait_with_output().unwrap();
    drop(killer);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}\n{stderr}");
    assert!(out.status.success(), "example failed: {:?}\n{stdout}\n{stderr}", out.status);
    let lines: Vec<&str> = stdout.lines().collect();
    let pos = |prefix: &str| lines.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix:?} in:\n{stdout}"));
    assert!(lines.contains(&"loginRoom returned 0"));
    assert!(lines.contains(&"empty room id returns 1002011"), "input limits reach Objective-C callers");
    let logining = pos("onRoomStateChanged reason=0 errorCode=0 roomID=objc-room room_session_id=(null) keys=0 main=0");
    let logined = pos("onRoomStateChanged reason=1 errorCode=0 roomID=objc-room room_session_id=");
    let logout = pos("onRoomStateChanged reason=7 errorCode=0 roomID=objc-room");
    assert!(logining < logined && logined < logout);
    // extendedData is an NSDictionary parsed from the JSON: it holds the room session id.
    let logined_line = lines[logined];
    let session = logined_line.split("room_session_id=").nth(1).unwrap().split(' ').next().unwrap();
    assert!(session.len() >= 8 && session != "(null)", "{logined_line}");
    assert!(logined_line.ends_with("keys=1 main=0"), "{logined_line}");
    assert!(pos("onRoomStateUpdate state=2 errorCode=0 roomID=objc-room") > logined);
    assert!(lines.contains(&"destroyed; sharedEngine=nil"));
}

#[test]
fn wrapper_header_compiles_standalone_with_gcc_objc() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("objc");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("header_only.m");
    std::fs::write(
        &src,
        "#import \"ZegoExpressEngine.h\"\n@interface H : NSObject <ZegoEventHandler>\n@end\n@implementation H\n@end\nint f(void);\nint f(void) { return (int)ZegoRoomStateChangedReasonLogoutFailed + (int)ZegoRoomStateConnected + (int)ZegoUpdateTypeDelete + (int)ZegoRoomModeMultiRoom + (int)ZegoPublisherStatePublishing + (int)ZegoPlayerStatePlaying + (int)ZegoPublishChannelFourth; }\nZegoIMSendBroadcastMessageCallback g(void);\nZegoIMSendBroadcastMessageCallback g(void) { return nil; }\n",
    )
    .unwrap();
    let out = Command::new("gcc")
        .current_dir(&dir)
        .args(gnustep("--objc-flags"))
        .args(["-Wall", "-Wextra", "-Wno-expansion-to-defined", "-Werror", "-fsyntax-only"])
        .arg("-I")
        .arg(root().join("bindings/objc"))
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Streams and messaging through the wrapper, facade only: every new selector's codes (nil
/// included), a non-nil result callback refused without blocks, and the delegate methods the
/// engine emits by itself (onPublisherStateUpdate / onPlayerStateUpdate) on the callback thread.
#[test]
fn streams_and_messaging_selectors_codes_and_local_delegate_calls() {
    let exe = build_program("tests/objc/streams.m", "streams");
    let server = start_server(None);
    let stdout = run_program(&exe, &[server.url(), "objc-streams-in".into(), "inputs".into()]);
    assert!(stdout.contains("streams inputs: all checks passed"), "{stdout}");
    assert!(stdout.contains("onPublisherStateUpdate state=1 errorCode=0 streamID=objc-s"), "{stdout}");
    assert!(stdout.contains("onPlayerStateUpdate state=1 errorCode=0 streamID=nobody-publishes-this"), "{stdout}");
}

/// Every new delegate method is called with the right values when a C-ABI peer in the same room
/// publishes, sends SEI, sets extra info, sends messages and a command, and sets the room's
/// extra info; and the wrapper's own stream and broadcast reach the peer. Needs the server side.
#[test]
fn streams_and_messaging_reach_the_delegate() {
    let exe = build_program("tests/objc/streams.m", "streams");
    let server = start_server(None);
    let stdout = run_program(&exe, &[server.url(), "objc-streams-full".into(), "full".into()]);
    assert!(stdout.contains("streams full: all checks passed"), "{stdout}");
    assert!(stdout.contains("onPublisherStateUpdate state=2 errorCode=0 streamID=objc-s"), "{stdout}");
    assert!(stdout.contains("onRoomStreamUpdate type=0 count=1 first=c-s by c-peer"), "{stdout}");
    assert!(stdout.contains("onPlayerRecvSEI 5 bytes streamID=c-s"), "{stdout}");
    assert!(stdout.contains("onRoomStreamUpdate type=1 count=1 first=c-s by c-peer"), "{stdout}");
}
