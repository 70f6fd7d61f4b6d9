//! End-to-end tests of the async shell: real sockets, the in-process server, the admin client.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::admin::AdminClient;
use super::*;
use crate::protocol::{ClientMsg, ServerMsg, UserUpdateKind, PROTOCOL_VERSION};
use crate::types::User;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn cfg() -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: "127.0.0.1:0".parse().unwrap(),
        count_interval: Duration::from_millis(300),
        ..ServerConfig::default()
    }
}

fn login(room: &str, user: &str, token: &str, resume: Option<&str>) -> ClientMsg {
    ClientMsg::Login {
        v: PROTOCOL_VERSION,
        app_id: 1,
        room_id: room.into(),
        user_id: user.into(),
        user_name: format!("name-{user}"),
        token: token.into(),
        max_member_count: 0,
        user_status_notify: true,
        client_id: format!("client-{user}"),
        resume_session_id: resume.map(Into::into),
        last_msg_id: 0,
    }
}

async fn connect(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url).await.expect("connect").0
}

async fn send(ws: &mut Ws, m: &ClientMsg) {
    ws.send(Message::Text(m.encode().into())).await.expect("send");
}

/// Next server message; None when the connection closed (close frame or EOF).
async fn recv(ws: &mut Ws) -> Option<ServerMsg> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("timely answer") {
            Some(Ok(Message::Text(t))) => return Some(ServerMsg::decode(&t).expect("valid server frame")),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// Next message that is not a count update.
async fn recv_no_count(ws: &mut Ws) -> Option<ServerMsg> {
    loop {
        match recv(ws).await {
            Some(ServerMsg::UserCount { .. }) => continue,
            other => return other,
        }
    }
}

async fn join(url: &str, room: &str, user: &str, token: &str) -> (Ws, String) {
    let mut ws = connect(url).await;
    send(&mut ws, &login(room, user, token, None)).await;
    match recv(&mut ws).await {
        Some(ServerMsg::LoginOk { session_id, .. }) => (ws, session_id),
        other => panic!("login failed: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_admin_and_bad_frames() {
    let srv = start(cfg()).unwrap();
    let url = srv.url();
    let (mut a, _) = join(&url, "r", "a", "").await;
    let (b, b_sid) = join(&url, "r", "b", "").await;
    assert_eq!(
        recv_no_count(&mut a).await,
        Some(ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![User::new("b", "name-b")] })
    );
    send(&mut a, &ClientMsg::Ping).await;
    assert_eq!(recv_no_count(&mut a).await, Some(ServerMsg::Pong));

    // Counts arrive only when changed: a learned 1 at login, then 2.
    assert_eq!(recv(&mut a).await, Some(ServerMsg::UserCount { count: 2 }));

    // A malformed, a binary and an oversized frame each close only their own session.
    let mut bad = connect(&url).await;
    bad.send(Message::Text("not json".into())).await.unwrap();
    assert_eq!(recv(&mut bad).await, None);
    let mut bin = connect(&url).await;
    bin.send(Message::Binary(vec![1u8, 2, 3].into())).await.unwrap();
    assert_eq!(recv(&mut bin).await, None);
    let (mut big, _) = join(&url, "r2", "x", "").await;
    let _ = big.send(Message::Text("x".repeat(crate::protocol::MAX_CLIENT_FRAME_BYTES + 10).into())).await;
    assert_eq!(recv(&mut big).await, None);
    send(&mut a, &ClientMsg::Ping).await;
    assert_eq!(recv_no_count(&mut a).await, Some(ServerMsg::Pong));

    // Drop b's connection: a sees nothing; b resumes invisibly.
    drop(b);
    let mut b2 = connect(&url).await;
    send(&mut b2, &login("r", "b", "", Some(&b_sid))).await;
    assert!(matches!(recv(&mut b2).await, Some(ServerMsg::LoginOk { resumed: true, .. })));

    // Admin API.
    let admin = AdminClient::new(srv.admin_addr(), 1, None);
    let v = tokio::task::block_in_place(|| admin.describe_user_num(&["r", "nobody"])).unwrap();
    assert_eq!(v["Code"], 0, "{v}");
    assert_eq!(v["Data"][0]["UserCount"], 2);
    assert_eq!(v["Data"][1]["UserCount"], 0);
    let v = tokio::task::block_in_place(|| admin.describe_users("r")).unwrap();
    assert_eq!(v["Data"]["UserList"][1]["UserName"], "name-b", "{v}");
    let v = tokio::task::block_in_place(|| admin.call("Nope", &[])).unwrap();
    assert_eq!(v["Code"], admin::CODE_ACTION_UNSUPPORTED);
    let v = tokio::task::block_in_place(|| admin.kickout_user("r", &["b"], Some("bye now & then"))).unwrap();
    assert_eq!(v["Code"], 0, "{v}");
    assert_eq!(recv_no_count(&mut b2).await, Some(ServerMsg::Kicked { code: 1_002_055, message: "bye now & then".into() }));
    assert_eq!(recv(&mut b2).await, None);
    assert_eq!(
        recv_no_count(&mut a).await,
        Some(ServerMsg::UserUpdate { update: UserUpdateKind::Delete, users: vec![User::new("b", "name-b")] })
    );
    // Graceful shutdown closes a with a close frame.
    tokio::task::block_in_place(|| srv.shutdown());
    assert_eq!(recv_no_count(&mut a).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_signatures_kill_and_rebind() {
    let srv = start(ServerConfig { server_secret: Some(SECRET.into()), ..cfg() }).unwrap();
    let url = srv.url();
    let mut c = connect(&url).await;
    send(&mut c, &login("r", "a", "", None)).await;
    assert!(matches!(recv(&mut c).await, Some(ServerMsg::LoginFailed { code: 1_002_033, .. })));
    let tok = crate::token04::generate(1, "a", SECRET, 3600, "").unwrap();
    let (mut a, _) = join(&url, "r", "a", &tok).await;

    let admin_addr = srv.admin_addr();
    let good = AdminClient::new(admin_addr, 1, Some(SECRET));
    let wrong = AdminClient::new(admin_addr, 1, Some("ffffffffffffffffffffffffffffffff"));
    let other_app = AdminClient::new(admin_addr, 2, Some(SECRET));
    let v = tokio::task::block_in_place(|| wrong.kickout_user("r", &["a"], None)).unwrap();
    assert_eq!(v["Code"], admin::CODE_SIGNATURE_ERROR);
    let v = tokio::task::block_in_place(|| other_app.describe_users("r")).unwrap();
    assert_eq!(v["Code"], admin::CODE_WRONG_APPID);
    let ts = unix_now() - 3600;
    let stale = format!(
        "/?Action=DescribeUsers&RoomId=r&AppId=1&SignatureNonce=n&Timestamp={ts}&Signature={}&SignatureVersion=2.0",
        admin::sign(1, "n", SECRET, ts)
    );
    let v = tokio::task::block_in_place(|| good.get(&stale)).unwrap();
    assert_eq!(v["Code"], admin::CODE_SIGNATURE_EXPIRED);
    let v = tokio::task::block_in_place(|| good.call("KickoutUser", &[("RoomId", "r")])).unwrap();
    assert_eq!(v["Code"], admin::CODE_BAD_PARAM);
    let v = tokio::task::block_in_place(|| good.describe_user_num(&["r"])).unwrap();
    assert_eq!(v["Data"][0]["UserCount"], 1, "nothing was changed by refused calls: {v}");

    // Kill: no close frame, the port can be bound again at once, the new server knows nobody.
    let (ws_addr, admin_addr) = (srv.ws_addr(), srv.admin_addr());
    tokio::task::block_in_place(|| srv.kill());
    assert_eq!(recv(&mut a).await, None);
    let srv2 = start(ServerConfig { listen: ws_addr, admin_listen: admin_addr, ..cfg() }).unwrap();
    assert!(start(ServerConfig { listen: ws_addr, ..cfg() }).is_err(), "address in use is an error");
    let v = tokio::task::block_in_place(|| AdminClient::new(admin_addr, 1, None).describe_user_num(&["r"])).unwrap();
    assert_eq!(v["Data"][0]["UserCount"], 0);
    tokio::task::block_in_place(|| srv2.shutdown());
}
