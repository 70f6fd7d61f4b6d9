//! `zego-room-server`: the room server (contract §5). Logs to stderr; exits 0 on SIGINT/SIGTERM
//! after closing sessions; refuses to start with one clear line on a bad flag or a busy address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use zego_room::server::{run, ServerConfig};

#[derive(Parser, Debug)]
#[command(name = "zego-room-server", version, about = "ZEGO-compatible room server")]
struct Cli {
    /// Signalling endpoint (WebSocket, ws://ADDR; wss:// with --tls-cert/--tls-key).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9100")]
    listen: SocketAddr,
    /// Admin HTTP API endpoint (https:// with --tls-cert/--tls-key).
    #[arg(long = "admin-listen", value_name = "ADDR", default_value = "127.0.0.1:9101")]
    admin_listen: SocketAddr,
    /// The app id this server serves.
    #[arg(long = "app-id", value_name = "N", default_value_t = 1)]
    app_id: u32,
    /// 32-character secret verifying tokens and admin signatures (none: no authentication).
    #[arg(long = "server-secret", value_name = "S")]
    server_secret: Option<String>,
    /// Seconds a silent user stays present before others see Delete.
    #[arg(long = "heartbeat-timeout", value_name = "SECS", default_value_t = 90)]
    heartbeat_timeout: u64,
    /// Heartbeat interval (seconds) the server asks clients to keep.
    #[arg(long = "ping-interval", value_name = "SECS", default_value_t = 10)]
    ping_interval: u64,
    /// PEM certificate chain (leaf first): serve wss:// and https:// (admin). Needs --tls-key.
    #[arg(long = "tls-cert", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert. Needs --tls-cert.
    #[arg(long = "tls-key", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Join the cluster of servers sharing this Redis (e.g. redis://127.0.0.1:6379/0); without
    /// it all room state stays in this process.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Prefix of every Redis key and channel (the app id follows), so clusters can share a Redis.
    #[arg(long = "redis-prefix", value_name = "P", default_value = zego_room::server::DEFAULT_REDIS_PREFIX)]
    redis_prefix: String,
    /// Names this node in logs, metrics and the cluster (default: random).
    #[arg(long = "node-id", value_name = "NAME")]
    node_id: Option<String>,
}

fn refuse(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("zego-room-server: {msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // clap's rendering is several lines (usage, hint); the contract wants one clear line.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            return refuse(first.trim_start_matches("error: "));
        }
    };
    if let Some(s) = &cli.server_secret {
        if s.len() != 32 || !s.is_ascii() {
            return refuse(format!("--server-secret must be exactly 32 ASCII characters (got {})", s.chars().count()));
        }
    }
    if cli.heartbeat_timeout == 0 || cli.ping_interval == 0 {
        return refuse("--heartbeat-timeout and --ping-interval must be at least 1 second");
    }
    if cli.node_id.as_deref().is_some_and(|n| n.is_empty() || n.len() > 64 || n.chars().any(|c| c.is_whitespace() || c.is_control())) {
        return refuse("--node-id must be 1 to 64 characters without spaces");
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let config = ServerConfig {
        listen: cli.listen,
        admin_listen: cli.admin_listen,
        app_id: cli.app_id,
        server_secret: cli.server_secret,
        heartbeat_timeout: Duration::from_secs(cli.heartbeat_timeout),
        ping_interval: Duration::from_secs(cli.ping_interval),
        tls_cert: cli.tls_cert,
        tls_key: cli.tls_key,
        node_id: cli.node_id,
        redis: cli.redis,
        redis_prefix: cli.redis_prefix,
        ..ServerConfig::default()
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return refuse(format!("cannot start the runtime: {e}")),
    };
    let res = rt.block_on(async {
        let stop = async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{signal, SignalKind};
                match signal(SignalKind::terminate()) {
                    Ok(mut term) => {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => log::info!("SIGINT received"),
                            _ = term.recv() => log::info!("SIGTERM received"),
                        }
                    }
                    Err(_) => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
        };
        run(config, stop).await
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => refuse(e),
    }
}
