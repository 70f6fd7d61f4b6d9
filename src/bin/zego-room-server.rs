//! `zego-room-server`: the room server (contract §5, §8, §9). Settings come from flags, then
//! `ZEGO_ROOM_*` environment variables, then the TOML file of `--config` (see
//! `zego_room::server::config`). Logs to stderr (`RUST_LOG` filters, default `info`); exits 0 on
//! SIGINT/SIGTERM after closing sessions; refuses to start with one clear line on a bad flag,
//! variable or file, or a busy address.

use std::process::ExitCode;
use std::time::Duration;

use zego_room::server::config::{self, Loaded};
use zego_room::server::run;

fn refuse(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("zego-room-server: {msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let settings = match config::load(std::env::args_os(), std::env::vars_os()) {
        Ok(Loaded::Run(s)) => s,
        Ok(Loaded::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(e) => return refuse(e),
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let config = settings.server_config();
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return refuse(format!("cannot start the runtime: {e}")),
    };
    let res = rt.block_on(async {
        let stop = async {
            // First polled once both listeners are bound: a refusal (address in use) stays the
            // only line on stderr.
            match &settings.config_file {
                Some(f) => log::info!("settings from {}: {}", f.display(), settings.describe_origins()),
                None => log::info!("settings: {}", settings.describe_origins()),
            }
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
