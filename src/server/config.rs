//! The server's settings from flags, the environment and a TOML file (contract §5, §8, §9).
//!
//! Every setting has a key (`listen`, `admin_listen`, `app_id`, …: the flag's name with `_` for
//! `-`) and can come from
//!
//! 1. its flag (`--admin-listen 127.0.0.1:9101`),
//! 2. the environment variable `ZEGO_ROOM_` + the key in capitals (`ZEGO_ROOM_ADMIN_LISTEN`),
//! 3. the TOML file named by `--config FILE` (or `ZEGO_ROOM_CONFIG`): `admin_listen = "127.0.0.1:9101"`,
//! 4. its default,
//!
//! the first of these that gives it winning. Numbers may be TOML integers or strings. Refused, with
//! one line naming the key and where it came from (never the secret's value): a key or
//! `ZEGO_ROOM_*` variable that is not one of [`KEYS`] (a typo must not go unnoticed: a misspelt
//! `ZEGO_ROOM_SERVER_SECRT` would otherwise run the server without authentication), a value that
//! does not parse or is out of range, an unreadable or malformed file, only one of
//! `tls_cert`/`tls_key`.
//!
//! [`load`] takes the arguments and the environment as parameters, so it is tested without a
//! process; the binary passes `std::env::args_os()` and `std::env::vars_os()`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, Command};

use super::ServerConfig;

/// Prefix of the environment variables.
pub const ENV_PREFIX: &str = "ZEGO_ROOM_";
/// Default of `redis_prefix` (contract §8).
pub use super::DEFAULT_REDIS_PREFIX;

/// One setting: its key (TOML key; flag = key with `-`; variable = `ZEGO_ROOM_` + key in capitals).
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub key: &'static str,
    pub flag: &'static str,
    pub value_name: &'static str,
    pub default: Option<&'static str>,
    pub help: &'static str,
    /// The value is never repeated in messages.
    pub secret: bool,
}

const fn key(key: &'static str, flag: &'static str, value_name: &'static str, default: Option<&'static str>, help: &'static str) -> Key {
    Key { key, flag, value_name, default, help, secret: false }
}

/// Every accepted key, in `--help` order.
pub const KEYS: &[Key] = &[
    key("listen", "listen", "ADDR", Some("127.0.0.1:9100"), "Signalling endpoint (WebSocket: ws://ADDR, wss:// with --tls-cert/--tls-key)"),
    key("admin_listen", "admin-listen", "ADDR", Some("127.0.0.1:9101"), "Admin HTTP API, /healthz, /metrics and /console (https:// with --tls-cert/--tls-key)"),
    key("app_id", "app-id", "N", Some("1"), "The app id this server serves"),
    Key {
        key: "server_secret",
        flag: "server-secret",
        value_name: "S",
        default: None,
        help: "32-character secret verifying tokens and admin signatures (none: no authentication)",
        secret: true,
    },
    key("heartbeat_timeout", "heartbeat-timeout", "SECS", Some("90"), "Seconds a silent user stays present before others see Delete"),
    key("ping_interval", "ping-interval", "SECS", Some("10"), "Heartbeat interval (seconds) the server asks clients to keep"),
    key("tls_cert", "tls-cert", "FILE", None, "PEM certificate chain (leaf first): serve wss:// and https://; needs --tls-key"),
    key("tls_key", "tls-key", "FILE", None, "PEM private key of --tls-cert; needs --tls-cert"),
    key("redis", "redis", "URL", None, "Join the cluster of servers sharing this Redis (redis://HOST:PORT/DB); without it all room state stays in this process"),
    key("redis_prefix", "redis-prefix", "P", Some(DEFAULT_REDIS_PREFIX), "Prefix of every Redis key and channel, so clusters can share a Redis"),
    key("node_id", "node-id", "NAME", None, "Names this node in logs, metrics and the cluster (default: random)"),
];

/// The environment variable of `key`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    File(PathBuf),
    Default,
}

impl Origin {
    /// Short form for the startup log line.
    pub fn label(&self) -> &'static str {
        match self {
            Origin::Flag => "flag",
            Origin::Env => "environment",
            Origin::File(_) => "file",
            Origin::Default => "default",
        }
    }
}

/// The settings, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub listen: SocketAddr,
    pub admin_listen: SocketAddr,
    pub app_id: u32,
    pub server_secret: Option<String>,
    pub heartbeat_timeout: Duration,
    pub ping_interval: Duration,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// `--redis URL` (contract §8).
    pub redis: Option<String>,
    pub redis_prefix: String,
    pub node_id: Option<String>,
    /// The TOML file read, if any.
    pub config_file: Option<PathBuf>,
    /// Where each key that is set came from (for the startup log; values are not kept here).
    pub origins: Vec<(&'static str, Origin)>,
}

impl Settings {
    /// The in-process server configuration (with `redis`: the cluster store, contract §8).
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig {
            listen: self.listen,
            admin_listen: self.admin_listen,
            app_id: self.app_id,
            server_secret: self.server_secret.clone(),
            heartbeat_timeout: self.heartbeat_timeout,
            ping_interval: self.ping_interval,
            node_id: self.node_id.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            redis: self.redis.clone(),
            redis_prefix: self.redis_prefix.clone(),
            ..ServerConfig::default()
        }
    }

    /// `listen (file), app_id (environment), …` for the keys not at their default.
    pub fn describe_origins(&self) -> String {
        let set: Vec<String> = self.origins.iter().filter(|(_, o)| *o != Origin::Default).map(|(k, o)| format!("{k} ({})", o.label())).collect();
        if set.is_empty() {
            "all defaults".to_owned()
        } else {
            set.join(", ")
        }
    }
}

/// What [`load`] found.
#[derive(Debug)]
pub enum Loaded {
    Run(Settings),
    /// `--help` or `--version`: print this and exit 0.
    Print(String),
}

/// A refusal: one line, without the program's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn bad(msg: impl Into<String>) -> ConfigError {
    ConfigError(msg.into())
}

/// The command line's grammar (also what `--help` prints).
pub fn command() -> Command {
    let mut cmd = Command::new("zego-room-server")
        .version(env!("CARGO_PKG_VERSION"))
        .about("ZEGO-compatible room server")
        .after_help(
            "Every flag can also be set by the environment variable ZEGO_ROOM_<KEY> or by the key in the TOML file \
             of --config (KEY: the flag's name with _ for -, e.g. admin_listen); flags win over the environment, \
             which wins over the file. RUST_LOG filters the log (default: info).",
        )
        .arg(Arg::new("config").long("config").value_name("FILE").help("TOML file with any of the keys below [env: ZEGO_ROOM_CONFIG]"));
    for k in KEYS {
        let mut arg = Arg::new(k.key).long(k.flag).value_name(k.value_name).action(ArgAction::Set).help(format!("{} [env: {}]", k.help, env_name(k.key)));
        if let Some(d) = k.default {
            arg = arg.default_value(d);
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

/// Reads the settings: `args` (with the program name first) over `env` over the TOML file over
/// the defaults.
pub fn load<A, T>(args: A, env: impl IntoIterator<Item = (OsString, OsString)>) -> Result<Loaded, ConfigError>
where
    A: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                return Ok(Loaded::Print(e.to_string()));
            }
            // clap's rendering is several lines (usage, hint); one clear line is wanted.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            return Err(bad(first.trim_start_matches("error: ")));
        }
    };

    // The environment: every ZEGO_ROOM_* variable must be a known one.
    let mut env_values: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut env_config: Option<String> = None;
    for (name, value) in env {
        let name = name.to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
        let value = value.into_string().map_err(|_| bad(format!("{name}: the value is not UTF-8")))?;
        if rest == "CONFIG" {
            env_config = Some(value);
            continue;
        }
        match KEYS.iter().find(|k| env_name(k.key) == name) {
            Some(k) => {
                env_values.insert(k.key, value);
            }
            None => {
                let known: Vec<String> = KEYS.iter().map(|k| env_name(k.key)).collect();
                return Err(bad(format!("unknown environment variable {name} (known: ZEGO_ROOM_CONFIG, {})", known.join(", "))));
            }
        }
    }

    // The file: --config, else ZEGO_ROOM_CONFIG.
    let config_file = match (matches.get_one::<String>("config"), env_config) {
        (Some(f), _) => Some(PathBuf::from(f)),
        (None, Some(f)) if !f.is_empty() => Some(PathBuf::from(f)),
        (None, Some(_)) => return Err(bad("ZEGO_ROOM_CONFIG is empty")),
        (None, None) => None,
    };
    let file_values = match &config_file {
        Some(path) => read_file(path)?,
        None => BTreeMap::new(),
    };

    // Merge: flag > environment > file > default.
    let mut raw: BTreeMap<&'static str, (String, Origin)> = BTreeMap::new();
    for k in KEYS {
        let from_flag = matches.value_source(k.key) == Some(ValueSource::CommandLine);
        let value = if from_flag {
            matches.get_one::<String>(k.key).map(|v| (v.clone(), Origin::Flag))
        } else if let Some(v) = env_values.remove(k.key) {
            Some((v, Origin::Env))
        } else if let Some(v) = file_values.get(k.key) {
            Some((v.clone(), Origin::File(config_file.clone().unwrap_or_default())))
        } else {
            k.default.map(|d| (d.to_owned(), Origin::Default))
        };
        if let Some(v) = value {
            raw.insert(k.key, v);
        }
    }
    let settings = parse(&raw, config_file)?;
    Ok(Loaded::Run(settings))
}

/// `key = value` pairs of the TOML file, as strings (integers written in decimal).
fn read_file(path: &Path) -> Result<BTreeMap<&'static str, String>, ConfigError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("config file {shown}: cannot read it: {e}")))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().and_then(|s| text.get(..s.start)).map(|before| before.matches('\n').count() + 1);
        let msg = e.message().lines().next().unwrap_or("invalid TOML").trim_end_matches('.').to_owned();
        match line {
            Some(l) => bad(format!("config file {shown} line {l}: {msg}")),
            None => bad(format!("config file {shown}: {msg}")),
        }
    })?;
    let mut out = BTreeMap::new();
    for (name, value) in table {
        let Some(k) = KEYS.iter().find(|k| k.key == name) else {
            let known: Vec<&str> = KEYS.iter().map(|k| k.key).collect();
            let hint = if name.contains('-') { format!(" (keys use _ for -: {})", name.replace('-', "_")) } else { String::new() };
            return Err(bad(format!("config file {shown}: unknown key `{name}`{hint}; known keys: {}", known.join(", "))));
        };
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            other => return Err(bad(format!("config file {shown}: `{name}` must be a string or an integer, not a {}", other.type_str()))),
        };
        out.insert(k.key, text);
    }
    Ok(out)
}

/// Where `key`'s value came from, for a message (the value itself unless it is the secret).
fn whence(k: &Key, value: &str, origin: &Origin) -> String {
    let v = if k.secret { String::new() } else { format!(" {value:?}") };
    match origin {
        Origin::Flag => format!("--{}{v}", k.flag),
        Origin::Env => format!("{}{}", env_name(k.key), if k.secret { String::new() } else { format!("={value:?}") }),
        Origin::File(p) => format!("`{}`{} in config file {}", k.key, if k.secret { String::new() } else { format!(" = {value:?}") }, p.display()),
        Origin::Default => format!("default of {}{v}", k.key),
    }
}

fn spec(name: &str) -> &'static Key {
    KEYS.iter().find(|k| k.key == name).expect("a listed key")
}

fn parse(raw: &BTreeMap<&'static str, (String, Origin)>, config_file: Option<PathBuf>) -> Result<Settings, ConfigError> {
    // Runs `check` on the value of `name` (if set); a refusal names the key and its source.
    fn get<T>(
        raw: &BTreeMap<&'static str, (String, Origin)>,
        name: &str,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        let k = spec(name);
        match raw.get(k.key) {
            None => Ok(None),
            Some((v, origin)) => check(v).map(Some).map_err(|why| bad(format!("{}: {why}", whence(k, v, origin)))),
        }
    }
    fn required<T>(v: Option<T>, name: &str) -> T {
        v.unwrap_or_else(|| panic!("{name} has a default"))
    }
    let addr = |v: &str| v.parse::<SocketAddr>().map_err(|_| "not an address IP:PORT (e.g. 127.0.0.1:9100, [::1]:9100)".to_owned());
    let secs = |v: &str| match v.parse::<u64>() {
        Ok(n) if (1..=86_400).contains(&n) => Ok(Duration::from_secs(n)),
        _ => Err("must be a whole number of seconds from 1 to 86400".to_owned()),
    };
    let path = |v: &str| if v.is_empty() { Err("must not be empty".to_owned()) } else { Ok(PathBuf::from(v)) };
    let name_like = |what: &'static str| {
        move |v: &str| {
            if v.is_empty() || v.chars().count() > 64 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
                Err(format!("{what} must be 1 to 64 characters without spaces"))
            } else {
                Ok(v.to_owned())
            }
        }
    };

    let listen = required(get(raw, "listen", addr)?, "listen");
    let admin_listen = required(get(raw, "admin_listen", addr)?, "admin_listen");
    let app_id = required(get(raw, "app_id", |v| v.parse::<u32>().map_err(|_| "not a number from 0 to 4294967295".to_owned()))?, "app_id");
    let server_secret = get(raw, "server_secret", |v| {
        if v.len() == 32 && v.is_ascii() {
            Ok(v.to_owned())
        } else {
            Err(format!("must be exactly 32 ASCII characters (got {})", v.chars().count()))
        }
    })?;
    let heartbeat_timeout = required(get(raw, "heartbeat_timeout", secs)?, "heartbeat_timeout");
    let ping_interval = required(get(raw, "ping_interval", secs)?, "ping_interval");
    let tls_cert = get(raw, "tls_cert", path)?;
    let tls_key = get(raw, "tls_key", path)?;
    let redis = get(raw, "redis", |v| match ::redis::Client::open(v) {
        // redis-rs's own parser, the one the cluster store connects with.
        Ok(_) => Ok(v.to_owned()),
        Err(e) => Err(format!("not a Redis URL (redis://HOST:PORT/DB): {}", e.to_string().lines().next().unwrap_or(""))),
    })?;
    let redis_prefix = required(get(raw, "redis_prefix", name_like("the prefix"))?, "redis_prefix");
    let node_id = get(raw, "node_id", name_like("the node id"))?;

    if tls_cert.is_some() != tls_key.is_some() {
        let (given, missing) = if tls_cert.is_some() { ("tls_cert", "tls_key") } else { ("tls_key", "tls_cert") };
        let (v, origin) = &raw[given];
        return Err(bad(format!("{} without {missing}: give both (--tls-cert and --tls-key) or neither", whence(spec(given), v, origin))));
    }
    let origins = KEYS.iter().filter_map(|k| raw.get(k.key).map(|(_, o)| (k.key, o.clone()))).collect();
    Ok(Settings {
        listen,
        admin_listen,
        app_id,
        server_secret,
        heartbeat_timeout,
        ping_interval,
        tls_cert,
        tls_key,
        redis,
        redis_prefix,
        node_id,
        config_file,
        origins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
    }

    fn run(args: &[&str], vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut all = vec!["zego-room-server"];
        all.extend_from_slice(args);
        match load(all, env(vars))? {
            Loaded::Run(s) => Ok(s),
            Loaded::Print(p) => panic!("printed {p}"),
        }
    }

    fn file(text: &str) -> (tempdir::Dir, String) {
        let dir = tempdir::Dir::new();
        let p = dir.0.join("server.toml");
        std::fs::write(&p, text).unwrap();
        (dir, p.display().to_string())
    }

    /// A throwaway directory (removed on drop).
    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let p = std::env::temp_dir().join(format!("zego-room-config-{:016x}", fastrand::u64(..)));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn defaults_match_the_contract() {
        let s = run(&[], &[("PATH", "/bin"), ("RUST_LOG", "debug")]).unwrap();
        assert_eq!(s.listen, "127.0.0.1:9100".parse().unwrap());
        assert_eq!(s.admin_listen, "127.0.0.1:9101".parse().unwrap());
        assert_eq!((s.app_id, s.server_secret.as_deref()), (1, None));
        assert_eq!((s.heartbeat_timeout, s.ping_interval), (Duration::from_secs(90), Duration::from_secs(10)));
        assert_eq!((s.tls_cert.as_ref(), s.redis.as_deref(), s.node_id.as_deref()), (None, None, None));
        assert_eq!(s.redis_prefix, DEFAULT_REDIS_PREFIX);
        assert_eq!(s.describe_origins(), "all defaults");
        let d = ServerConfig::default();
        let c = s.server_config();
        assert_eq!((c.listen, c.admin_listen, c.app_id, c.heartbeat_timeout, c.ping_interval), (d.listen, d.admin_listen, d.app_id, d.heartbeat_timeout, d.ping_interval));
    }

    #[test]
    fn flags_win_over_the_environment_which_wins_over_the_file() {
        let (_d, path) = file(&format!(
            "listen = \"127.0.0.1:7000\"\nadmin_listen = \"127.0.0.1:7001\"\napp_id = 5\nheartbeat_timeout = 30\nserver_secret = \"{SECRET}\"\nnode_id = \"from-file\"\nredis_prefix = \"p\"\n"
        ));
        let s = run(&["--config", &path, "--app-id", "7"], &[("ZEGO_ROOM_APP_ID", "6"), ("ZEGO_ROOM_HEARTBEAT_TIMEOUT", "31"), ("ZEGO_ROOM_NODE_ID", "from-env")]).unwrap();
        assert_eq!(s.app_id, 7, "flag over env over file");
        assert_eq!(s.heartbeat_timeout, Duration::from_secs(31), "env over file");
        assert_eq!(s.node_id.as_deref(), Some("from-env"));
        assert_eq!(s.listen, "127.0.0.1:7000".parse().unwrap(), "file over default");
        assert_eq!(s.server_secret.as_deref(), Some(SECRET));
        assert_eq!(s.ping_interval, Duration::from_secs(10), "default");
        assert_eq!(s.redis_prefix, "p");
        assert_eq!(s.config_file.as_deref(), Some(Path::new(&path)));
        let o = s.describe_origins();
        assert!(o.contains("app_id (flag)") && o.contains("heartbeat_timeout (environment)") && o.contains("listen (file)"), "{o}");
        assert!(!o.contains("ping_interval"), "{o}");
        // The file can also be named by the environment; the flag wins over it.
        let s = run(&[], &[("ZEGO_ROOM_CONFIG", &path)]).unwrap();
        assert_eq!(s.app_id, 5);
        let (_d2, other) = file("app_id = 9\n");
        assert_eq!(run(&["--config", &other], &[("ZEGO_ROOM_CONFIG", &path)]).unwrap().app_id, 9);
        // Numbers may be strings; a flag equal to the default still wins.
        let (_d3, strings) = file("app_id = \"11\"\nping_interval = \"3\"\n");
        let s = run(&["--config", &strings, "--app-id", "1"], &[]).unwrap();
        assert_eq!((s.app_id, s.ping_interval), (1, Duration::from_secs(3)));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_one_line_naming_them() {
        let cases: Vec<(Vec<&str>, Vec<(&str, &str)>, Option<&str>, &str)> = vec![
            (vec![], vec![], Some("lisen = \"127.0.0.1:1\"\n"), "unknown key `lisen`"),
            (vec![], vec![], Some("admin-listen = \"127.0.0.1:1\"\n"), "keys use _ for -: admin_listen"),
            (vec![], vec![], Some("[server]\nlisten = \"127.0.0.1:1\"\n"), "unknown key `server`"),
            (vec![], vec![], Some("app_id = true\n"), "`app_id` must be a string or an integer, not a boolean"),
            (vec![], vec![], Some("app_id = \n"), "line 1"),
            (vec![], vec![], Some("listen = \"nowhere\"\n"), "`listen` = \"nowhere\" in config file"),
            (vec![], vec![], Some("app_id = -1\n"), "not a number"),
            (vec![], vec![], Some("heartbeat_timeout = 0\n"), "seconds from 1"),
            (vec![], vec![], Some("server_secret = \"short-secret\"\n"), "exactly 32 ASCII characters (got 12)"),
            (vec![], vec![], Some("tls_cert = \"/a.pem\"\n"), "without tls_key"),
            (vec![], vec![("ZEGO_ROOM_LISTN", "x")], None, "unknown environment variable ZEGO_ROOM_LISTN"),
            (vec![], vec![("ZEGO_ROOM_listen", "127.0.0.1:1")], None, "unknown environment variable ZEGO_ROOM_listen"),
            (vec![], vec![("ZEGO_ROOM_APP_ID", "x1")], None, "ZEGO_ROOM_APP_ID=\"x1\": not a number"),
            (vec![], vec![("ZEGO_ROOM_PING_INTERVAL", "")], None, "ZEGO_ROOM_PING_INTERVAL"),
            (vec![], vec![("ZEGO_ROOM_NODE_ID", "a b")], None, "node id must be 1 to 64 characters"),
            (vec![], vec![("ZEGO_ROOM_TLS_KEY", "/k.pem")], None, "ZEGO_ROOM_TLS_KEY=\"/k.pem\" without tls_cert"),
            (vec![], vec![("ZEGO_ROOM_CONFIG", "")], None, "ZEGO_ROOM_CONFIG is empty"),
            (vec!["--config", "/nonexistent/zego.toml"], vec![], None, "config file /nonexistent/zego.toml: cannot read it"),
            (vec!["--listen", "nowhere"], vec![], None, "--listen \"nowhere\": not an address"),
            (vec!["--redis", "localhost"], vec![], None, "not a Redis URL"),
            (vec!["--no-such-flag"], vec![], None, "unexpected argument '--no-such-flag'"),
        ];
        for (args, vars, toml, want) in cases {
            let dir = toml.map(file);
            let mut args: Vec<&str> = args;
            if let Some((_, p)) = &dir {
                args.extend(["--config", p.as_str()]);
            }
            let err = run(&args, &vars).expect_err(want).0;
            assert!(err.contains(want), "want {want:?} in {err:?}");
            assert_eq!(err.lines().count(), 1, "{err:?}");
        }
    }

    #[test]
    fn the_secret_is_never_repeated_in_a_refusal() {
        let wrong = "0123456789abcdef0123456789abcde"; // 31 characters
        for err in [
            run(&["--server-secret", wrong], &[]).unwrap_err(),
            run(&[], &[("ZEGO_ROOM_SERVER_SECRET", wrong)]).unwrap_err(),
            run(&["--config", &file(&format!("server_secret = \"{wrong}\"\n")).1], &[]).unwrap_err(),
        ] {
            assert!(err.0.contains("exactly 32 ASCII characters (got 31)") && !err.0.contains(wrong), "{err}");
        }
    }

    #[test]
    fn help_and_version_are_printed_not_refused() {
        match load(["zego-room-server", "--help"], env(&[])).unwrap() {
            Loaded::Print(text) => assert!(text.contains("--admin-listen") && text.contains("ZEGO_ROOM_ADMIN_LISTEN") && text.contains("--config"), "{text}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(load(["zego-room-server", "--version"], env(&[])).unwrap(), Loaded::Print(_)));
    }
}
