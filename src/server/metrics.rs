//! What one node counts, for `GET /metrics` on the admin listener (contract §9): the Prometheus
//! text exposition format 0.0.4, encoded by the `prometheus` crate from a registry of this node
//! (not the crate's global one, so several servers in one process keep their own figures).
//!
//! Everything is node-local: a cluster's figure is the sum over its nodes (`sum by (…)` in
//! PromQL), and every series can be told apart by the node that served it
//! (`zego_room_node_info{node_id}` names it, contract §8).
//!
//! | Name | Type | Labels | What |
//! |---|---|---|---|
//! | `zego_room_node_info` | gauge (1) | `node_id`, `version` | this node |
//! | `zego_room_connections` | gauge | | open WebSocket connections |
//! | `zego_room_sessions` | gauge | | sessions held here (attached, or detached within the grace) |
//! | `zego_room_rooms` | gauge | | rooms with at least one session held here |
//! | `zego_room_logins_total` | counter | | fresh logins answered `login_ok` |
//! | `zego_room_resumes_total` | counter | | reconnections that resumed their session (contract §1.2) |
//! | `zego_room_login_failures_total` | counter | `code` | logins answered LoginFailed, by error code (1002034 room full, 1003072 token expired, …) |
//! | `zego_room_kicks_total` | counter | `code` | sessions held here that were kicked: 1002055 admin (KickoutUser, CloseRoom), 1002050 same user_id elsewhere |
//! | `zego_room_grace_expiries_total` | counter | | sessions held here removed because their heartbeat grace passed |
//! | `zego_room_messages_total` | counter | `kind` | messages accepted for relay from this node's clients and its admin API (`broadcast`, `barrage`, `command`) |
//! | `zego_room_sei_frames_total` | counter | | SEI frames from publishers on this node, relayed |
//! | `zego_room_sei_frames_dropped_total` | counter | | SEI frames dropped for a slow player here (its queue of 64 was full: the oldest goes) |
//! | `zego_room_queue_overflows_total` | counter | | connections cut off because 4,096 messages waited for a peer that stopped reading |
//! | `zego_room_admin_requests_total` | counter | `action`, `code` | admin API requests by action and answer `Code` |
//! | `zego_room_store_healthy` | gauge | | 1 while the room store answers (what `/healthz` reports) |
//! | `zego_room_store_ops_total` | counter | | calls the room store answered (a cluster: Redis round trips; 0 for the memory store) |
//! | `zego_room_store_errors_total` | counter | | room store calls that failed (Redis unreachable, timeout) |
//! | `zego_room_store_latency_seconds_total` | counter | | sum of the answered calls' round trips: `rate(…latency_seconds_total) / rate(…ops_total)` is the mean latency |
//!
//! The node calls one method per event ([`Metrics::login_ok`], [`Metrics::kicked`], …); gauges
//! and the store's counters are read when a scrape comes ([`Metrics::render`]).

use parking_lot::Mutex;
use prometheus::{Counter, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

use super::store::StoreStats;
use crate::protocol::MsgKind;

/// `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Admin actions that get their own `action` label value; anything else is counted as `other`
/// (a caller must not be able to grow the label set).
const ADMIN_ACTIONS: &[&str] = &[
    "KickoutUser",
    "DescribeUserNum",
    "DescribeUsers",
    "DescribeSimpleStreamList",
    "ForbidRTCStream",
    "ResumeRTCStream",
    "SendBroadcastMessage",
    "SendCustomCommand",
    "CloseRoom",
    "DescribeRooms",
];

/// What is read from the node and its store when a scrape comes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub connections: usize,
    pub sessions: usize,
    pub rooms: usize,
    pub store_healthy: bool,
    pub store: StoreStats,
}

pub struct Metrics {
    registry: Registry,
    logins: IntCounter,
    resumes: IntCounter,
    login_failures: IntCounterVec,
    kicks: IntCounterVec,
    grace_expiries: IntCounter,
    messages: IntCounterVec,
    sei_frames: IntCounter,
    sei_dropped: IntCounter,
    queue_overflows: IntCounter,
    room_rereads: IntCounter,
    admin_requests: IntCounterVec,
    connections: IntGauge,
    sessions: IntGauge,
    rooms: IntGauge,
    store_healthy: IntGauge,
    store_ops: IntCounter,
    store_errors: IntCounter,
    store_latency: Counter,
    /// The store's counters as last copied (they are absolute; ours advance by the difference).
    store_seen: Mutex<StoreStats>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new("")
    }
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::with_opts(Opts::new(name, help)).expect("valid metric name");
    r.register(Box::new(c.clone())).expect("registered once");
    c
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric name");
    r.register(Box::new(c.clone())).expect("registered once");
    c
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::with_opts(Opts::new(name, help)).expect("valid metric name");
    r.register(Box::new(g.clone())).expect("registered once");
    g
}

impl Metrics {
    /// A fresh registry for the node `node_id`.
    pub fn new(node_id: &str) -> Metrics {
        let r = Registry::new();
        let info = IntGaugeVec::new(Opts::new("zego_room_node_info", "This node: its --node-id and the server version."), &["node_id", "version"])
            .expect("valid metric name");
        r.register(Box::new(info.clone())).expect("registered once");
        info.with_label_values(&[node_id, env!("CARGO_PKG_VERSION")]).set(1);
        let store_latency = Counter::with_opts(Opts::new(
            "zego_room_store_latency_seconds_total",
            "Sum of the round trips of the room store calls that were answered (divide by zego_room_store_ops_total).",
        ))
        .expect("valid metric name");
        r.register(Box::new(store_latency.clone())).expect("registered once");
        Metrics {
            logins: counter(&r, "zego_room_logins_total", "Fresh logins answered login_ok."),
            resumes: counter(&r, "zego_room_resumes_total", "Reconnections that resumed their session."),
            login_failures: counter_vec(&r, "zego_room_login_failures_total", "Logins answered LoginFailed, by error code.", &["code"]),
            kicks: counter_vec(&r, "zego_room_kicks_total", "Sessions held here that were kicked, by code (1002055 admin, 1002050 duplicate login).", &["code"]),
            grace_expiries: counter(&r, "zego_room_grace_expiries_total", "Sessions held here removed because their heartbeat grace passed."),
            messages: counter_vec(&r, "zego_room_messages_total", "Messages accepted for relay from this node's clients and admin API, by kind.", &["kind"]),
            sei_frames: counter(&r, "zego_room_sei_frames_total", "SEI frames from publishers on this node, relayed."),
            sei_dropped: counter(&r, "zego_room_sei_frames_dropped_total", "SEI frames dropped for a slow player (its queue was full; the oldest goes)."),
            queue_overflows: counter(&r, "zego_room_queue_overflows_total", "Connections cut off because their outgoing queue was full (peer not reading)."),
            room_rereads: counter(
                &r,
                "zego_room_room_rereads_total",
                "Rooms read again from the store: a gap in a room's events, or the store's event connection was lost (a cluster in good health stays at 0).",
            ),
            admin_requests: counter_vec(&r, "zego_room_admin_requests_total", "Admin API requests by action and answer Code.", &["action", "code"]),
            connections: gauge(&r, "zego_room_connections", "Open WebSocket connections."),
            sessions: gauge(&r, "zego_room_sessions", "Sessions held by this node (attached, or detached within the grace)."),
            rooms: gauge(&r, "zego_room_rooms", "Rooms with at least one session held by this node."),
            store_healthy: gauge(&r, "zego_room_store_healthy", "1 while the room store answers (what /healthz reports)."),
            store_ops: counter(&r, "zego_room_store_ops_total", "Room store calls answered (Redis round trips in a cluster; 0 for the memory store)."),
            store_errors: counter(&r, "zego_room_store_errors_total", "Room store calls that failed (Redis unreachable, timeout)."),
            store_latency,
            store_seen: Mutex::new(StoreStats::default()),
            registry: r,
        }
    }

    /// A login answered `login_ok`: fresh, or a resumed session.
    pub fn login_ok(&self, resumed: bool) {
        if resumed { &self.resumes } else { &self.logins }.inc();
    }

    /// A login answered LoginFailed with `code`.
    pub fn login_failed(&self, code: i32) {
        self.login_failures.with_label_values(&[&code.to_string()]).inc();
    }

    /// A session held here was kicked with `code`.
    pub fn kicked(&self, code: i32) {
        self.kicks.with_label_values(&[&code.to_string()]).inc();
    }

    /// A session held here was removed at the end of its heartbeat grace.
    pub fn grace_expired(&self) {
        self.grace_expiries.inc();
    }

    /// A message was accepted for relay.
    pub fn message(&self, kind: MsgKind) {
        let kind = match kind {
            MsgKind::Broadcast => "broadcast",
            MsgKind::Barrage => "barrage",
            MsgKind::Command => "command",
        };
        self.messages.with_label_values(&[kind]).inc();
    }

    /// An SEI frame from a publisher here was relayed.
    pub fn sei_relayed(&self) {
        self.sei_frames.inc();
    }

    /// SEI frames dropped for slow players.
    pub fn sei_dropped(&self, frames: u64) {
        if frames > 0 {
            self.sei_dropped.inc_by(frames);
        }
    }

    /// A connection was cut off because its outgoing queue was full.
    pub fn queue_overflow(&self) {
        self.queue_overflows.inc();
    }

    /// A room's view was read again from the store (contract §8: a gap, or a lost connection).
    pub fn room_reread(&self) {
        self.room_rereads.inc();
    }

    /// An admin API request was answered `code`.
    pub fn admin_request(&self, action: Option<&str>, code: i64) {
        let action = match action {
            None => "none",
            Some(a) => ADMIN_ACTIONS.iter().copied().find(|k| *k == a).unwrap_or("other"),
        };
        self.admin_requests.with_label_values(&[action, &code.to_string()]).inc();
    }

    /// The text of a scrape: `now` is read from the node and its store at this moment.
    pub fn render(&self, now: Gauges) -> String {
        self.connections.set(now.connections as i64);
        self.sessions.set(now.sessions as i64);
        self.rooms.set(now.rooms as i64);
        self.store_healthy.set(i64::from(now.store_healthy));
        {
            // The store's counters are absolute: advance ours by what is new since the last
            // scrape (under a lock, so two scrapes at once do not both add it).
            let mut seen = self.store_seen.lock();
            let s = now.store;
            self.store_ops.inc_by(s.ops.saturating_sub(seen.ops));
            self.store_errors.inc_by(s.errors.saturating_sub(seen.errors));
            let us = s.latency_us.saturating_sub(seen.latency_us);
            if us > 0 {
                self.store_latency.inc_by(us as f64 / 1e6);
            }
            *seen = StoreStats { ops: seen.ops.max(s.ops), errors: seen.errors.max(s.errors), latency_us: seen.latency_us.max(s.latency_us) };
        }
        let mut out = String::new();
        if let Err(e) = TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out) {
            log::warn!("metrics: cannot encode: {e}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample `series` (name plus labels exactly as rendered) in `text`.
    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
    }

    #[test]
    fn counts_and_renders_the_text_format() {
        let m = Metrics::new("node-a");
        m.login_ok(false);
        m.login_ok(false);
        m.login_ok(true);
        m.login_failed(1002034);
        m.kicked(1002055);
        m.grace_expired();
        m.message(MsgKind::Barrage);
        m.sei_relayed();
        m.sei_dropped(3);
        m.sei_dropped(0);
        m.queue_overflow();
        m.admin_request(Some("KickoutUser"), 0);
        m.admin_request(Some("<script>"), 100_000_007);
        m.admin_request(None, 100_000_006);
        let stats = StoreStats { ops: 10, errors: 2, latency_us: 5_000 };
        let text = m.render(Gauges { connections: 4, sessions: 3, rooms: 2, store_healthy: true, store: stats });
        assert!(text.contains("# TYPE zego_room_logins_total counter"), "{text}");
        assert!(text.contains("# HELP zego_room_sessions "), "{text}");
        let expect = [
            ("zego_room_node_info{node_id=\"node-a\",version=\"", f64::NAN),
            ("zego_room_logins_total", 2.0),
            ("zego_room_resumes_total", 1.0),
            ("zego_room_login_failures_total{code=\"1002034\"}", 1.0),
            ("zego_room_kicks_total{code=\"1002055\"}", 1.0),
            ("zego_room_grace_expiries_total", 1.0),
            ("zego_room_messages_total{kind=\"barrage\"}", 1.0),
            ("zego_room_sei_frames_total", 1.0),
            ("zego_room_sei_frames_dropped_total", 3.0),
            ("zego_room_queue_overflows_total", 1.0),
            ("zego_room_admin_requests_total{action=\"KickoutUser\",code=\"0\"}", 1.0),
            ("zego_room_admin_requests_total{action=\"other\",code=\"100000007\"}", 1.0),
            ("zego_room_admin_requests_total{action=\"none\",code=\"100000006\"}", 1.0),
            ("zego_room_connections", 4.0),
            ("zego_room_sessions", 3.0),
            ("zego_room_rooms", 2.0),
            ("zego_room_store_healthy", 1.0),
            ("zego_room_store_ops_total", 10.0),
            ("zego_room_store_errors_total", 2.0),
            ("zego_room_store_latency_seconds_total", 0.005),
        ];
        for (series, v) in expect {
            if v.is_nan() {
                assert!(text.contains(series), "{series} missing:\n{text}");
            } else {
                assert_eq!(value(&text, series), Some(v), "{series}:\n{text}");
            }
        }
        // A second scrape adds only what is new in the store's absolute counters.
        let text = m.render(Gauges { store: StoreStats { ops: 15, errors: 2, latency_us: 6_000 }, ..Gauges::default() });
        assert_eq!(value(&text, "zego_room_store_ops_total"), Some(15.0));
        assert_eq!(value(&text, "zego_room_store_errors_total"), Some(2.0));
        assert_eq!(value(&text, "zego_room_store_latency_seconds_total"), Some(0.006));
        assert_eq!(value(&text, "zego_room_store_healthy"), Some(0.0));
        assert_eq!(value(&text, "zego_room_sessions"), Some(0.0));
    }

    #[test]
    fn separate_nodes_keep_separate_figures() {
        let (a, b) = (Metrics::new("a"), Metrics::new("b"));
        a.login_ok(false);
        assert_eq!(value(&b.render(Gauges::default()), "zego_room_logins_total"), Some(0.0));
        assert_eq!(value(&a.render(Gauges::default()), "zego_room_logins_total"), Some(1.0));
    }
}
