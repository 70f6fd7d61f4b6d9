//! A real `redis-server` (Debian's package; `scripts/install-deps.sh` installs it) on a free
//! loopback port with its own temporary directory, for the cluster tests. It can be killed
//! (SIGKILL) and started again on the same port, with or without its data. It never outlives
//! the test process: a small shell holds it and kills it when our end of its stdin closes.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    /// Append-only file with fsync on every write: a restart keeps the data.
    persist: bool,
    keeper: Option<Child>,
    pid: Option<u32>,
}

impl RedisServer {
    /// Without persistence: a restart comes back empty.
    pub fn start() -> RedisServer {
        Self::start_with(false)
    }

    pub fn start_with(persist: bool) -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("zego-room-redis-{port}-{:08x}", fastrand::u32(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let mut r = RedisServer { port, dir, persist, keeper: None, pid: None };
        r.launch();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn launch(&mut self) {
        let mut args: Vec<String> = vec!["--port".into(), self.port.to_string(), "--bind".into(), "127.0.0.1".into()];
        args.extend(["--dir".into(), self.dir.display().to_string(), "--save".into(), String::new()]);
        if self.persist {
            args.extend(["--appendonly", "yes", "--appendfsync", "always"].map(String::from));
        } else {
            args.extend(["--appendonly", "no"].map(String::from));
        }
        args.extend(["--loglevel".into(), "warning".into(), "--logfile".into(), self.dir.join("redis.log").display().to_string()]);
        // Its output must not go to our pipe: once we stop reading it, a write would kill it.
        let script = r#"redis-server "$@" >/dev/null 2>&1 & pid=$!; echo $pid; read _; kill -9 $pid 2>/dev/null"#;
        let mut keeper = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sh starts redis-server");
        let stdout: ChildStdout = keeper.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        self.pid = line.trim().parse().ok();
        self.keeper = Some(keeper);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(self.addr()).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {}: is it installed (scripts/install-deps.sh)?",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: gone at once, without saving anything more.
    pub fn kill(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        if let Some(mut k) = self.keeper.take() {
            drop(k.stdin.take());
            let _ = k.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(self.addr()).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts again on the same port (with the data of the append-only file if persistent).
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
