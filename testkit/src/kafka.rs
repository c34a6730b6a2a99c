//! A real Apache-Kafka-compatible broker for tests: `tansu` (from crates.io) on loopback, with
//! in-memory storage.
//!
//! Found as `$TANSU_BIN`, on `PATH`, or in `~/.cargo/bin`. Where it is missing, [`Broker::start`]
//! prints a visible skip message and returns `None`; under CI (`CI=true`) it panics instead.
//!
//! Known quirk of tansu 0.6.0's memory storage: a fetch that starts inside a multi-record batch
//! returns the next batch, skipping records. Test producers therefore send one record per batch
//! ([`ONE_RECORD_PER_BATCH`]), which keeps every resume point batch-aligned.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::in_ci;

/// Producer settings that make every record its own batch (see the module notes).
pub const ONE_RECORD_PER_BATCH: [(&str, &str); 2] = [("batch.num.messages", "1"), ("linger.ms", "0")];

/// A running broker; killed (SIGKILL, after which it holds nothing) when dropped.
#[derive(Debug)]
pub struct Broker {
    child: Child,
    addr: SocketAddr,
}

impl Broker {
    /// Starts a broker on a free loopback port and waits until it accepts connections.
    pub fn start() -> Option<Broker> {
        let Some(binary) = find_tansu() else {
            if in_ci() {
                panic!("the Kafka-compatible broker `tansu` is not installed and CI=true: failing instead of skipping");
            }
            eprintln!(
                "SKIPPED: `tansu` not found (TANSU_BIN, PATH, ~/.cargo/bin); install it with \
                 `cargo install tansu --version 0.6.0 --features dynostore --locked`"
            );
            return None;
        };
        // Free ports come and go; retry a few in case another process took ours meanwhile.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
            let url = format!("tcp://127.0.0.1:{port}");
            let child = Command::new(&binary)
                .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
                .args(["--storage-engine", "memory://tansu/"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut broker = Broker { child, addr: ([127, 0, 0, 1], port).into() };
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if TcpStream::connect_timeout(&broker.addr, Duration::from_millis(200)).is_ok() {
                    return Some(broker);
                }
                if let Ok(Some(_)) = broker.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            broker.stop();
        }
        panic!("tansu did not start listening on loopback (tried 5 ports)");
    }

    /// `host:port` for `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        self.addr.to_string()
    }

    fn stop(&mut self) {
        // tansu ignores SIGTERM for a while and its storage is in memory: SIGKILL, by its PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn find_tansu() -> Option<PathBuf> {
    crate::find_program("TANSU_BIN", "tansu")
}
