//! Admin HTTP API in the style of the ZEGO server API (`GET /?Action=..&AppId=..&Signature=..`),
//! plus a tiny blocking client ([`AdminClient`]) for tests and examples.
//!
//! Besides the signed API at `/`, the admin listener serves (contract §9), unsigned:
//!
//! | Path | Answer |
//! |---|---|
//! | `GET /healthz` | `200 ok`, or `503 unhealthy: …` while the room store cannot be reached (a cluster's Redis), for load balancers |
//! | `GET /metrics` | the node's counters and gauges, Prometheus text format 0.0.4 (names in [`super::metrics`]) |
//! | `GET /console` | the admin console: a page that calls the signed API from the browser with a secret the operator types in (`/console/app.js`, `/console/md5.js`, `/console/style.css`) |
//!
//! Any other path is `404`. The admin listener is meant for operators' networks only.
//!
//! Every answer is HTTP 200 with a JSON body `{"Code":..,"Message":..,"RequestId":..,[ "Data":..]}`.
//! Codes (the ZEGO common return codes where one exists):
//!
//! | Code | Meaning |
//! |---|---|
//! | 0 | success |
//! | 2 | missing or invalid action parameter (RoomId, UserId, CustomReason, counts) |
//! | 100000001 | AppId missing or not a number |
//! | 100000002 | Timestamp missing |
//! | 100000003 | Timestamp not a number |
//! | 100000004 | signature expired (Timestamp more than 10 minutes away) |
//! | 100000005 | signature wrong |
//! | 100000006 | Action missing |
//! | 100000007 | unsupported Action |
//! | 100000008 | SignatureNonce missing |
//! | 100000009 | Signature missing |
//! | 100000010 | AppId is not the one this server serves |
//! | 100000014 | SignatureVersion present but not 2.0 |
//! | 100000500 | the room store is unreachable (cluster: Redis down) |
//!
//! Without a server secret the signature fields are not checked (the server runs unauthenticated).
//! A refused request changes nothing.

use std::convert::Infallible;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use md5::{Digest, Md5};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use super::metrics::{Gauges, CONTENT_TYPE as METRICS_CONTENT_TYPE};
use super::node::Node;
use super::store::{RoomStore, SendRequest};
use super::unix_now;
use crate::core::validate;
use crate::error_codes;
use crate::protocol::MsgKind;
use crate::types::User;

pub const CODE_OK: i64 = 0;
pub const CODE_BAD_PARAM: i64 = 2;
pub const CODE_APPID_FORMAT: i64 = 100_000_001;
pub const CODE_TIMESTAMP_EMPTY: i64 = 100_000_002;
pub const CODE_TIMESTAMP_FORMAT: i64 = 100_000_003;
pub const CODE_SIGNATURE_EXPIRED: i64 = 100_000_004;
pub const CODE_SIGNATURE_ERROR: i64 = 100_000_005;
pub const CODE_ACTION_EMPTY: i64 = 100_000_006;
pub const CODE_ACTION_UNSUPPORTED: i64 = 100_000_007;
pub const CODE_NONCE_EMPTY: i64 = 100_000_008;
pub const CODE_SIGNATURE_EMPTY: i64 = 100_000_009;
pub const CODE_WRONG_APPID: i64 = 100_000_010;
pub const CODE_SIGNATURE_VERSION: i64 = 100_000_014;
/// The room store (Redis in a cluster) cannot be reached right now.
pub const CODE_STORE_UNAVAILABLE: i64 = 100_000_500;

/// Accepted clock skew between the caller's Timestamp and ours.
const MAX_SKEW_SECS: i64 = 600;
const MAX_KICK_USERS: usize = 5;
const MAX_DESCRIBE_ROOMS: usize = 10;
const MAX_REASON_BYTES: usize = 256;
/// `SendCustomCommand` targets (contract §7.3).
const MAX_COMMAND_USERS: usize = 10;

/// `lowercase hex md5(AppId + SignatureNonce + ServerSecret + Timestamp)`.
pub fn sign(app_id: u32, nonce: &str, secret: &str, timestamp: i64) -> String {
    let d = Md5::digest(format!("{app_id}{nonce}{secret}{timestamp}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn request_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}

pub(super) async fn serve<S: RoomStore>(l: TcpListener, node: Arc<Node<S>>, tls: Option<tokio_rustls::TlsAcceptor>) {
    loop {
        let (stream, peer) = match l.accept().await {
            Ok(x) => x,
            Err(e) => {
                log::warn!("admin accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let node = node.clone();
        match tls.clone() {
            None => drop(tokio::spawn(connection(stream, peer, node))),
            Some(acceptor) => drop(tokio::spawn(async move {
                match super::tls::handshake(&acceptor, stream).await {
                    Ok(stream) => connection(stream, peer, node).await,
                    Err(e) => log::warn!("admin {peer}: TLS handshake failed: {e}"),
                }
            })),
        }
    }
}

/// One HTTP/1.1 connection over `stream` (TCP, or TLS over TCP).
async fn connection<S: RoomStore, T: AsyncRead + AsyncWrite + Unpin>(stream: T, peer: SocketAddr, node: Arc<Node<S>>) {
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let node = node.clone();
        async move { Ok::<_, Infallible>(route(&node, &req, peer).await) }
    });
    if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await {
        log::debug!("admin connection {peer}: {e}");
    }
}

/// The vendored md5 of the console page: blueimp-md5 2.19.0 (MIT, `md5.LICENSE.txt`), the npm
/// package's `js/md5.js`, unmodified. Browsers' Web Crypto has no md5, and the admin signature
/// (ZEGO's) is md5.
const CONSOLE_MD5_JS: &str = include_str!("console/md5.js");
const CONSOLE_APP_JS: &str = include_str!("console/app.js");
const CONSOLE_HTML: &str = include_str!("console/index.html");
const CONSOLE_CSS: &str = include_str!("console/style.css");
/// The console talks to this origin only, runs no inline code and cannot be framed: a secret
/// typed into it can only be used to sign requests to this listener.
const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
                           base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .header("Cache-Control", "no-store")
        .body(Full::new(body.into()))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn console_asset(content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = respond(200, content_type, body);
    let h = resp.headers_mut();
    h.insert("Content-Security-Policy", hyper::header::HeaderValue::from_static(CONSOLE_CSP));
    h.insert("Referrer-Policy", hyper::header::HeaderValue::from_static("no-referrer"));
    h.insert("X-Content-Type-Options", hyper::header::HeaderValue::from_static("nosniff"));
    h.insert("X-Frame-Options", hyper::header::HeaderValue::from_static("DENY"));
    resp
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Routes one admin-listener request: the signed API at `/`, the unsigned operator endpoints
/// beside it.
async fn route<S: RoomStore>(node: &Node<S>, req: &Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let read_only = matches!(*req.method(), hyper::Method::GET | hyper::Method::HEAD);
    match path {
        "/" => {
            let query = req.uri().query().unwrap_or("");
            let body = handle(node, query, peer).await;
            respond(200, "application/json; charset=utf-8", body.to_string())
        }
        _ if !read_only => respond(405, "text/plain; charset=utf-8", "method not allowed\n"),
        "/healthz" => {
            if node.store.healthy() {
                respond(200, "text/plain; charset=utf-8", "ok\n")
            } else {
                respond(503, "text/plain; charset=utf-8", "unhealthy: the room store cannot be reached\n")
            }
        }
        "/metrics" => {
            let gauges = Gauges {
                connections: node.connection_count(),
                sessions: node.session_count(),
                rooms: node.room_count(),
                store_healthy: node.store.healthy(),
                store: node.store.stats(),
            };
            respond(200, METRICS_CONTENT_TYPE, node.metrics.render(gauges))
        }
        "/console" | "/console/" => {
            let cfg = node.config();
            let page = CONSOLE_HTML.replace("{{APP_ID}}", &cfg.app_id.to_string()).replace("{{NODE_ID}}", &html_escape(&cfg.node_id));
            console_asset("text/html; charset=utf-8", page)
        }
        "/console/app.js" => console_asset("text/javascript; charset=utf-8", CONSOLE_APP_JS),
        "/console/md5.js" => console_asset("text/javascript; charset=utf-8", CONSOLE_MD5_JS),
        "/console/style.css" => console_asset("text/css; charset=utf-8", CONSOLE_CSS),
        // Browsers ask for it with the console: no icon, and no 404 in the console's log.
        "/favicon.ico" => respond(204, "image/x-icon", Bytes::new()),
        _ => respond(404, "text/plain; charset=utf-8", "not found\n"),
    }
}

fn answer(code: i64, message: &str) -> Value {
    json!({ "Code": code, "Message": message, "RequestId": request_id() })
}

/// Parsed query: all pairs, URL-decoded, in order.
struct Query(Vec<(String, String)>);

impl Query {
    fn one(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
    /// Values of `key[]` and repeated `key`.
    fn list(&self, key: &str) -> Vec<&str> {
        let arr = format!("{key}[]");
        self.0.iter().filter(|(k, _)| *k == arr || k == key).map(|(_, v)| v.as_str()).collect()
    }
}

async fn handle<S: RoomStore>(node: &Node<S>, query: &str, peer: SocketAddr) -> Value {
    let q = Query(form_urlencoded::parse(query.as_bytes()).into_owned().collect());
    let v = check_and_run(node, &q).await;
    let code = v.get("Code").and_then(Value::as_i64).unwrap_or(-1);
    node.metrics.admin_request(q.one("Action"), code);
    match (q.one("Action"), code) {
        (Some("SendBroadcastMessage"), CODE_OK) => node.metrics.message(MsgKind::Broadcast),
        (Some("SendCustomCommand"), CODE_OK) => node.metrics.message(MsgKind::Command),
        _ => {}
    }
    if code != CODE_OK {
        log::warn!("admin {peer}: {} refused: {} {}", q.one("Action").unwrap_or("-"), code, v["Message"]);
    } else {
        log::info!("admin {peer}: {} ok", q.one("Action").unwrap_or("-"));
    }
    v
}

async fn check_and_run<S: RoomStore>(node: &Node<S>, q: &Query) -> Value {
    let Some(action) = q.one("Action") else { return answer(CODE_ACTION_EMPTY, "Action is empty") };
    let Some(app_id) = q.one("AppId").and_then(|a| a.parse::<u32>().ok()) else {
        return answer(CODE_APPID_FORMAT, "AppId missing or invalid");
    };
    let cfg = node.config();
    if app_id != cfg.app_id {
        return answer(CODE_WRONG_APPID, "AppId is not served here");
    }
    if let Some(secret) = &cfg.server_secret {
        let Some(nonce) = q.one("SignatureNonce") else { return answer(CODE_NONCE_EMPTY, "SignatureNonce is empty") };
        let Some(ts) = q.one("Timestamp") else { return answer(CODE_TIMESTAMP_EMPTY, "Timestamp is empty") };
        let Ok(ts) = ts.parse::<i64>() else { return answer(CODE_TIMESTAMP_FORMAT, "Timestamp is not a number") };
        let Some(sig) = q.one("Signature") else { return answer(CODE_SIGNATURE_EMPTY, "Signature is empty") };
        if q.one("SignatureVersion").is_some_and(|v| v != "2.0") {
            return answer(CODE_SIGNATURE_VERSION, "unsupported SignatureVersion");
        }
        if (unix_now() - ts).abs() > MAX_SKEW_SECS {
            return answer(CODE_SIGNATURE_EXPIRED, "signature expired");
        }
        if !sign(app_id, nonce, secret, ts).eq_ignore_ascii_case(sig) {
            return answer(CODE_SIGNATURE_ERROR, "signature error");
        }
    }
    let store = &*node.store;
    let result = match action {
        "KickoutUser" => kickout_user(store, q).await,
        "DescribeUserNum" => describe_user_num(store, q).await,
        "DescribeUsers" => describe_users(store, q).await,
        "DescribeSimpleStreamList" => describe_streams(store, q).await,
        "ForbidRTCStream" => forbid_stream(store, q, true).await,
        "ResumeRTCStream" => forbid_stream(store, q, false).await,
        "SendBroadcastMessage" => send_broadcast(store, q).await,
        "SendCustomCommand" => send_command(store, q).await,
        "CloseRoom" => close_room(store, q).await,
        "DescribeRooms" => describe_rooms(store).await,
        _ => return answer(CODE_ACTION_UNSUPPORTED, "unsupported Action"),
    };
    match result {
        Ok(v) => v,
        Err(Refusal::BadParam(m)) => answer(CODE_BAD_PARAM, m),
        Err(Refusal::Store(e)) => answer(CODE_STORE_UNAVAILABLE, &e.to_string()),
    }
}

/// Why an action was refused after the signature check.
enum Refusal {
    BadParam(&'static str),
    Store(super::store::StoreError),
}

impl From<super::store::StoreError> for Refusal {
    fn from(e: super::store::StoreError) -> Self {
        Refusal::Store(e)
    }
}

type ActionResult = Result<Value, Refusal>;

fn ok_with(data: Option<Value>) -> Value {
    let mut v = answer(CODE_OK, "success");
    if let Some(d) = data {
        v["Data"] = d;
    }
    v
}

fn one_room<'q>(q: &'q Query) -> Result<&'q str, Refusal> {
    q.one("RoomId").or_else(|| q.list("RoomId").into_iter().find(|r| !r.is_empty())).ok_or(Refusal::BadParam("RoomId is required"))
}

fn custom_reason(q: &Query) -> Result<&str, Refusal> {
    let reason = q.0.iter().find(|(k, _)| k == "CustomReason").map(|(_, v)| v.as_str()).unwrap_or("");
    if reason.len() > MAX_REASON_BYTES {
        return Err(Refusal::BadParam("CustomReason is longer than 256 bytes"));
    }
    Ok(reason)
}

async fn kickout_user<S: RoomStore>(store: &S, q: &Query) -> ActionResult {
    let room = q.one("RoomId").ok_or(Refusal::BadParam("RoomId is required"))?;
    let users = q.list("UserId");
    if users.is_empty() || users.len() > MAX_KICK_USERS || users.iter().any(|u| u.is_empty()) {
        return Err(Refusal::BadParam("UserId[] must hold 1 to 5 user ids"));
    }
    let reason = custom_reason(q)?;
    let users: Vec<String> = users.into_iter().map(str::to_owned).collect();
    store.kick(room, &users, error_codes::MANUAL_KICKED_OUT, reason, Instant::now()).await?;
    Ok(ok_with(None))
}

async fn describe_user_num<S: RoomStore>(store: &S, q: &Query) -> ActionResult {
    let rooms = q.list("RoomId");
    if rooms.is_empty() || rooms.len() > MAX_DESCRIBE_ROOMS || rooms.iter().any(|r| r.is_empty()) {
        return Err(Refusal::BadParam("RoomId[] must hold 1 to 10 room ids"));
    }
    let mut data = Vec::new();
    for r in rooms {
        let count = store.snapshot(r, Instant::now()).await?.map_or(0, |s| s.members.len());
        data.push(json!({ "RoomId": r, "UserCount": count }));
    }
    Ok(ok_with(Some(Value::Array(data))))
}

async fn describe_users<S: RoomStore>(store: &S, q: &Query) -> ActionResult {
    let room = one_room(q)?;
    let users = store.snapshot(room, Instant::now()).await?.map(|s| s.members).unwrap_or_default();
    let list: Vec<Value> = users.into_iter().map(|u| json!({ "UserId": u.user_id, "UserName": u.user_name })).collect();
    Ok(ok_with(Some(json!({ "UserList": list }))))
}

async fn describe_streams<S: RoomStore>(store: &S, q: &Query) -> ActionResult {
    let room = one_room(q)?;
    let streams = store.snapshot(room, Instant::now()).await?.map(|s| s.streams).unwrap_or_default();
    let list: Vec<Value> = streams
        .into_iter()
        .map(|r| {
            json!({
                "StreamId": r.stream.stream_id,
                "UserId": r.stream.user.user_id,
                "UserName": r.stream.user.user_name,
                "ExtraInfo": r.stream.extra_info,
                "CreateTime": r.create_time / 1000,
            })
        })
        .collect();
    Ok(ok_with(Some(json!({ "StreamList": list }))))
}

async fn forbid_stream<S: RoomStore>(store: &S, q: &Query, forbidden: bool) -> ActionResult {
    let id = q.one("StreamId").ok_or(Refusal::BadParam("StreamId is required"))?;
    if validate::check_stream_id(id.as_bytes()).is_err() {
        return Err(Refusal::BadParam("StreamId is not a valid stream id"));
    }
    store.forbid_stream(id, forbidden).await?;
    Ok(ok_with(None))
}

fn message_content(q: &Query) -> Result<String, Refusal> {
    let content = q.one("MessageContent").ok_or(Refusal::BadParam("MessageContent is required"))?;
    validate::check_message(content.as_bytes()).map_err(|_| Refusal::BadParam("MessageContent must be 1 to 1024 bytes"))?;
    Ok(content.to_owned())
}

fn sender(q: &Query, id_key: &str) -> Result<User, Refusal> {
    let id = q.one(id_key).ok_or(Refusal::BadParam("the sender's user id is required"))?;
    if validate::check_user_id(id.as_bytes()).is_err() {
        return Err(Refusal::BadParam("the sender's user id is not valid"));
    }
    let name = q.one("UserName").unwrap_or(id);
    Ok(User::new(id, name))
}

async fn send_broadcast<S: RoomStore>(store: &S, q: &Query) -> ActionResult {
    let room = q.one("RoomId").ok_or(Refusal::BadParam("RoomId is required"))?;
    let from_user = sender(q, "UserId")?;
    let content = message_content(q)?;
    let req = SendRequest { room_id: room.to_owned(), from_session: None, from_user, kind: MsgKind::Broadcast, content, to: vec![], client_seq: None };
    match store.send_message(req, Instant::now()).await? {
        Ok(id) => Ok(ok_with(Some(json!({ "MessageId": id })))),
        Err(_) => Err(Refusal::BadParam("the room has no members")),
    }
}

async fn send_command<S: RoomStore>(store: &S, q: &Query) -> ActionResult {
    let room = q.one("RoomId").ok_or(Refusal::BadParam("RoomId is required"))?;
    let from_user = sender(q, "FromUserId")?;
    let to: Vec<String> = q.list("ToUserId").into_iter().map(str::to_owned).collect();
    if to.is_empty() || to.len() > MAX_COMMAND_USERS || to.iter().any(|u| validate::check_user_id(u.as_bytes()).is_err()) {
        return Err(Refusal::BadParam("ToUserId[] must hold 1 to 10 user ids"));
    }
    let content = message_content(q)?;
    let req = SendRequest { room_id: room.to_owned(), from_session: None, from_user, kind: MsgKind::Command, content, to, client_seq: None };
    match store.send_message(req, Instant::now()).await? {
        Ok(_) => Ok(ok_with(None)),
        Err(_) => Err(Refusal::BadParam("the room has no members")),
    }
}

async fn close_room<S: RoomStore>(store: &S, q: &Query) -> ActionResult {
    let room = q.one("RoomId").ok_or(Refusal::BadParam("RoomId is required"))?;
    let reason = custom_reason(q)?;
    store.close_room(room, reason, Instant::now()).await?;
    Ok(ok_with(None))
}

/// Not a ZEGO action: the rooms with members, for the admin console.
async fn describe_rooms<S: RoomStore>(store: &S) -> ActionResult {
    let rooms = store.rooms(Instant::now()).await?;
    let list: Vec<Value> =
        rooms.into_iter().map(|r| json!({ "RoomId": r.room_id, "UserCount": r.user_count, "StreamCount": r.stream_count })).collect();
    Ok(ok_with(Some(json!({ "RoomList": list }))))
}

/// Blocking admin client (HTTP/1.1 over `std::net::TcpStream`, or HTTPS with
/// [`AdminClient::with_tls_ca`]), for tests and examples.
#[derive(Debug, Clone)]
pub struct AdminClient {
    pub addr: SocketAddr,
    pub app_id: u32,
    /// Signs requests when set; without it the signature is computed with an empty secret.
    pub secret: Option<String>,
    /// `https://` trusting these roots when set.
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl AdminClient {
    pub fn new(addr: SocketAddr, app_id: u32, secret: Option<&str>) -> Self {
        AdminClient { addr, app_id, secret: secret.map(str::to_owned), tls: None }
    }

    /// Talks `https://` to a server started with `tls_cert`/`tls_key`, trusting exactly the CA
    /// certificate(s) of the PEM file `ca` (the server's address is the name checked).
    pub fn with_tls_ca(mut self, ca: &Path) -> io::Result<Self> {
        self.tls = Some(super::tls::client_config_for_ca(ca)?);
        Ok(self)
    }

    /// Calls `action` with `params` (URL-encoded here), signed with the current time.
    /// Returns the JSON answer, whatever its `Code`.
    pub fn call(&self, action: &str, params: &[(&str, &str)]) -> io::Result<Value> {
        let ts = unix_now();
        let nonce = format!("{:016x}", fastrand::u64(..));
        let sig = sign(self.app_id, &nonce, self.secret.as_deref().unwrap_or(""), ts);
        let mut ser = form_urlencoded::Serializer::new(String::new());
        ser.append_pair("Action", action)
            .append_pair("AppId", &self.app_id.to_string())
            .append_pair("SignatureNonce", &nonce)
            .append_pair("Timestamp", &ts.to_string())
            .append_pair("Signature", &sig)
            .append_pair("SignatureVersion", "2.0");
        for (k, v) in params {
            ser.append_pair(k, v);
        }
        self.get(&format!("/?{}", ser.finish()))
    }

    /// Raw GET of `path_and_query` (for tests of refused requests): the JSON answer of a 200.
    pub fn get(&self, path_and_query: &str) -> io::Result<Value> {
        let (status, body) = self.get_text(path_and_query)?;
        if status != 200 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("HTTP error: {status}")));
        }
        serde_json::from_str(&body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// GET of `path_and_query` (`/healthz`, `/metrics`, `/console`, …): the HTTP status and the
    /// body as text.
    pub fn get_text(&self, path_and_query: &str) -> io::Result<(u16, String)> {
        let tcp = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
        tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
        tcp.set_write_timeout(Some(Duration::from_secs(10)))?;
        let request = format!("GET {path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr);
        let mut buf = Vec::new();
        match &self.tls {
            None => {
                let mut s = tcp;
                s.write_all(request.as_bytes())?;
                s.read_to_end(&mut buf)?;
            }
            Some(config) => {
                let name = rustls::pki_types::ServerName::IpAddress(self.addr.ip().into());
                let conn = rustls::ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
                let mut s = rustls::StreamOwned::new(conn, tcp);
                s.write_all(request.as_bytes())?;
                s.flush()?;
                match s.read_to_end(&mut buf) {
                    // A peer that closes without close_notify after a complete answer is fine here.
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !buf.is_empty() => {}
                    r => {
                        r?;
                    }
                }
            }
        }
        let text = String::from_utf8_lossy(&buf);
        let (head, body) =
            text.split_once("\r\n\r\n").ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no HTTP body"))?;
        let status = head
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("not an HTTP answer: {}", head.lines().next().unwrap_or(""))))?;
        Ok((status, body.to_owned()))
    }

    pub fn kickout_user(&self, room_id: &str, user_ids: &[&str], reason: Option<&str>) -> io::Result<Value> {
        let mut p: Vec<(&str, &str)> = vec![("RoomId", room_id)];
        p.extend(user_ids.iter().map(|u| ("UserId[]", *u)));
        if let Some(r) = reason {
            p.push(("CustomReason", r));
        }
        self.call("KickoutUser", &p)
    }

    pub fn describe_user_num(&self, room_ids: &[&str]) -> io::Result<Value> {
        let p: Vec<(&str, &str)> = room_ids.iter().map(|r| ("RoomId[]", *r)).collect();
        self.call("DescribeUserNum", &p)
    }

    pub fn describe_users(&self, room_id: &str) -> io::Result<Value> {
        self.call("DescribeUsers", &[("RoomId", room_id)])
    }

    pub fn describe_streams(&self, room_id: &str) -> io::Result<Value> {
        self.call("DescribeSimpleStreamList", &[("RoomId", room_id)])
    }

    pub fn forbid_stream(&self, stream_id: &str) -> io::Result<Value> {
        self.call("ForbidRTCStream", &[("StreamId", stream_id)])
    }

    pub fn resume_stream(&self, stream_id: &str) -> io::Result<Value> {
        self.call("ResumeRTCStream", &[("StreamId", stream_id)])
    }

    pub fn send_broadcast_message(&self, room_id: &str, user_id: &str, user_name: &str, content: &str) -> io::Result<Value> {
        self.call("SendBroadcastMessage", &[("RoomId", room_id), ("UserId", user_id), ("UserName", user_name), ("MessageContent", content)])
    }

    pub fn send_custom_command(&self, room_id: &str, from_user_id: &str, to_user_ids: &[&str], content: &str) -> io::Result<Value> {
        let mut p: Vec<(&str, &str)> = vec![("RoomId", room_id), ("FromUserId", from_user_id), ("MessageContent", content)];
        p.extend(to_user_ids.iter().map(|u| ("ToUserId[]", *u)));
        self.call("SendCustomCommand", &p)
    }

    pub fn close_room(&self, room_id: &str, reason: Option<&str>) -> io::Result<Value> {
        let mut p: Vec<(&str, &str)> = vec![("RoomId", room_id)];
        if let Some(r) = reason {
            p.push(("CustomReason", r));
        }
        self.call("CloseRoom", &p)
    }

    pub fn describe_rooms(&self) -> io::Result<Value> {
        self.call("DescribeRooms", &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_md5_hex() {
        // md5("1" + "n" + "s" + "2") = md5("1ns2")
        let s = sign(1, "n", "s", 2);
        assert_eq!(s.len(), 32);
        assert_eq!(s, format!("{:x}", Md5::digest(b"1ns2")));
        assert_eq!(sign(0, "", "", 0), "b4b147bc522828731f1a016bfa72c073"); // md5("00")
    }

    #[test]
    fn query_lists_accept_both_forms() {
        let q = Query(form_urlencoded::parse(b"UserId%5B%5D=a&UserId[]=b&UserId=c&CustomReason=hello+w%C3%B6rld").into_owned().collect());
        assert_eq!(q.list("UserId"), vec!["a", "b", "c"]);
        assert_eq!(q.one("CustomReason"), Some("hello wörld"));
    }
}
