//! A real `redis-server` for tests, on loopback, without persistence (`--save ''`).
//!
//! Found as `$REDIS_SERVER`, or `redis-server` on `PATH` (Debian's `redis-server` package). Where
//! it is missing, [`Redis::start`] prints a visible skip message and returns `None`; under CI
//! (`CI=true`) it panics instead.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::in_ci;

/// A running server; killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct Redis {
    child: Option<Child>,
    binary: PathBuf,
    addr: SocketAddr,
}

impl Redis {
    /// Starts a server on a free loopback port and waits until it answers `PING`.
    pub fn start() -> Option<Redis> {
        let Some(binary) = find_redis() else {
            if in_ci() {
                panic!("`redis-server` is not installed and CI=true: failing instead of skipping");
            }
            eprintln!(
                "SKIPPED: `redis-server` not found (REDIS_SERVER, PATH); install it with \
                 `apt-get install -y redis-server`"
            );
            return None;
        };
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
            let mut redis = Redis { child: None, binary: binary.clone(), addr: ([127, 0, 0, 1], port).into() };
            if redis.restart() {
                return Some(redis);
            }
        }
        panic!("redis-server did not start on loopback (tried 5 ports)");
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://{}/0", self.addr)
    }

    /// Kills the server at once (SIGKILL): clients see their connections reset.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty); returns whether it answers `PING`.
    pub fn restart(&mut self) -> bool {
        self.kill();
        let child = Command::new(&self.binary)
            .args(["--port", &self.addr.port().to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.command("PING").is_some_and(|r| r.starts_with("+PONG")) {
                return true;
            }
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                break;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        self.kill();
        false
    }

    /// Sends one inline command and returns the raw reply (`+PONG\r\n`, `:42\r\n`, …).
    pub fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(stream, "{command}\r\n").ok()?;
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Keys held (`DBSIZE`).
    pub fn keys(&self) -> Option<u64> {
        self.command("DBSIZE")?.trim().strip_prefix(':')?.parse().ok()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn find_redis() -> Option<PathBuf> {
    crate::find_program("REDIS_SERVER", "redis-server")
}
