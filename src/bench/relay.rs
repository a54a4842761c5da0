//! A TCP relay for the benchmark's links: it forwards one server's
//! connections, counts the bytes each way, and can pace them (both ways
//! share nothing; each direction is held to `rate` bytes per second), so a
//! run measures what a slow branch link would carry and cost.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One direction's pacing: when the bytes sent so far may have been sent.
struct Pace {
    rate: f64,
    start: Instant,
    sent: u64,
}

struct Shared {
    up: AtomicU64,
    down: AtomicU64,
    pace: Option<[Mutex<Pace>; 2]>,
    stop: AtomicBool,
}

/// A running relay; stops accepting when dropped.
pub struct Relay {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Relay {
    /// Relays `127.0.0.1:<port>` to `upstream` (`host:port`), paced at
    /// `bits_per_s` each way when given.
    pub fn start(upstream: &str, bits_per_s: Option<f64>) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let pace = bits_per_s.map(|b| {
            let p = || {
                Mutex::new(Pace {
                    rate: b / 8.0,
                    start: Instant::now(),
                    sent: 0,
                })
            };
            [p(), p()]
        });
        let shared = Arc::new(Shared {
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            pace,
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let upstream = upstream.to_owned();
        thread::spawn(move || {
            for client in listener.incoming() {
                if s.stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                for (from, to, dir) in [
                    (client.try_clone(), server.try_clone(), 0usize),
                    (server.try_clone(), client.try_clone(), 1usize),
                ] {
                    let (Ok(from), Ok(to)) = (from, to) else {
                        continue;
                    };
                    let s = s.clone();
                    thread::spawn(move || pump(from, to, dir, &s));
                }
            }
        });
        Ok(Relay { port, shared })
    }

    /// Bytes relayed so far (to the server, from the server).
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.shared.up.load(Ordering::Relaxed),
            self.shared.down.load(Ordering::Relaxed),
        )
    }

    /// Starts counting (and pacing) afresh.
    pub fn reset(&self) {
        self.shared.up.store(0, Ordering::Relaxed);
        self.shared.down.store(0, Ordering::Relaxed);
        if let Some(p) = &self.shared.pace {
            for d in p {
                let mut d = d.lock().unwrap_or_else(|e| e.into_inner());
                d.start = Instant::now();
                d.sent = 0;
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, dir: usize, s: &Shared) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(p) = &s.pace {
            let wait = {
                let mut p = p[dir].lock().unwrap_or_else(|e| e.into_inner());
                p.sent += n as u64;
                let due = p.start + Duration::from_secs_f64(p.sent as f64 / p.rate);
                due.saturating_duration_since(Instant::now())
            };
            thread::sleep(wait);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        let counter = if dir == 0 { &s.up } else { &s.down };
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

/// `url` (`postgres://user@host:port/db…`) pointed at the relay instead.
pub fn via(url: &str, port: u16) -> String {
    let start = url
        .find('@')
        .map(|i| i + 1)
        .unwrap_or_else(|| url.find("://").map(|i| i + 3).unwrap_or(0));
    let end = url[start..]
        .find('/')
        .map(|i| start + i)
        .unwrap_or(url.len());
    format!("{}127.0.0.1:{port}{}", &url[..start], &url[end..])
}

/// `host:port` of a `postgres://` URL (5432 when no port is written).
pub fn host_port(url: &str) -> String {
    let start = url
        .find('@')
        .map(|i| i + 1)
        .unwrap_or_else(|| url.find("://").map(|i| i + 3).unwrap_or(0));
    let end = url[start..]
        .find('/')
        .map(|i| start + i)
        .unwrap_or(url.len());
    let hp = &url[start..end];
    if hp.contains(':') {
        hp.to_owned()
    } else {
        format!("{hp}:5432")
    }
}
