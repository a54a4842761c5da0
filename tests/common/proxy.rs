//! An in-test TCP proxy (plain threads, no async) between the tool and a real
//! PostgreSQL server, to break links on purpose: cut connections after a
//! chosen number of bytes in either direction (mid-COPY), cut everything now,
//! stall (accept, then forward nothing), freeze a connection after N bytes,
//! or delay every chunk. Each connection keeps its own byte counters.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Which way bytes flow through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client (the tool) to server: COPY FROM STDIN data at the target.
    Up,
    /// Server to client: COPY TO STDOUT data from a branch.
    Down,
}

/// The faults in force; read by every connection for every chunk.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Cut a connection once this many bytes have gone this way through it.
    pub cut_after: Option<(Dir, u64)>,
    /// How many connections may still be cut (`None`: every one).
    pub cuts_left: Option<u32>,
    /// New connections are accepted and then get nothing forwarded.
    pub stall: bool,
    /// A connection stops forwarding (both ways, sockets left open) once this
    /// many bytes have gone this way through it.
    pub freeze_after: Option<(Dir, u64)>,
    /// Wait this long before forwarding each chunk.
    pub delay: Duration,
}

/// What one proxied connection did.
#[derive(Debug)]
pub struct ConnStats {
    pub id: usize,
    /// Bytes forwarded client → server.
    pub up: AtomicU64,
    /// Bytes forwarded server → client.
    pub down: AtomicU64,
    /// The proxy cut this connection on purpose.
    pub cut: AtomicBool,
    /// The proxy froze (or stalled) this connection on purpose.
    pub frozen: AtomicBool,
    pub closed: AtomicBool,
}

struct Conn {
    stats: Arc<ConnStats>,
    client: TcpStream,
    server: Option<TcpStream>,
}

impl Conn {
    fn shutdown(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        if let Some(s) = &self.server {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

struct Shared {
    upstream: SocketAddr,
    faults: Mutex<Faults>,
    conns: Mutex<Vec<Conn>>,
    stopped: AtomicBool,
}

/// A listening proxy; stops (closing every connection) when dropped.
pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Proxy {
    /// A proxy on 127.0.0.1:0 forwarding to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> Proxy {
        let upstream = upstream
            .to_socket_addrs()
            .unwrap_or_else(|e| panic!("proxy upstream {upstream}: {e}"))
            .next()
            .unwrap_or_else(|| panic!("proxy upstream {upstream}: no address"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy: bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream,
            faults: Mutex::new(Faults::default()),
            conns: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
        });
        let s = shared.clone();
        let accept = thread::Builder::new()
            .name("proxy-accept".into())
            .spawn(move || accept_loop(listener, s))
            .unwrap();
        Proxy {
            port,
            shared,
            accept: Some(accept),
        }
    }

    /// A proxy in front of the test server's host and port.
    pub fn for_server(url: &str) -> Proxy {
        Proxy::start(&host_port(url))
    }

    /// `url` with its host:port replaced by this proxy's.
    pub fn url(&self, url: &str) -> String {
        url.replacen(&host_port(url), &format!("127.0.0.1:{}", self.port), 1)
    }

    pub fn set(&self, faults: Faults) {
        *self.shared.faults.lock().unwrap() = faults;
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults.lock().unwrap().clone()
    }

    /// Back to a healthy link (connections already frozen stay frozen).
    pub fn heal(&self) {
        self.set(Faults::default());
    }

    /// Cut the next `times` connections (`None`: all) that pass `bytes` in `dir`.
    pub fn cut_after(&self, dir: Dir, bytes: u64, times: Option<u32>) {
        self.set(Faults {
            cut_after: Some((dir, bytes)),
            cuts_left: times,
            ..Faults::default()
        });
    }

    /// New connections are accepted and then nothing is forwarded.
    pub fn stall(&self) {
        self.set(Faults {
            stall: true,
            ..Faults::default()
        });
    }

    /// Freeze every connection that passes `bytes` in `dir`.
    pub fn freeze_after(&self, dir: Dir, bytes: u64) {
        self.set(Faults {
            freeze_after: Some((dir, bytes)),
            ..Faults::default()
        });
    }

    pub fn delay(&self, d: Duration) {
        self.set(Faults {
            delay: d,
            ..Faults::default()
        });
    }

    /// Cut every open connection now.
    pub fn cut_now(&self) -> usize {
        let conns = self.shared.conns.lock().unwrap();
        let mut n = 0;
        for c in conns
            .iter()
            .filter(|c| !c.stats.closed.load(Ordering::SeqCst))
        {
            c.stats.cut.store(true, Ordering::SeqCst);
            c.shutdown();
            n += 1;
        }
        n
    }

    /// The counters of every connection so far, oldest first.
    pub fn stats(&self) -> Vec<Arc<ConnStats>> {
        self.shared
            .conns
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.stats.clone())
            .collect()
    }

    /// How many connections the proxy cut on purpose.
    pub fn cuts(&self) -> usize {
        self.stats()
            .iter()
            .filter(|s| s.cut.load(Ordering::SeqCst))
            .count()
    }

    pub fn connections(&self) -> usize {
        self.shared.conns.lock().unwrap().len()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        for c in self.shared.conns.lock().unwrap().iter() {
            c.shutdown();
        }
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// `host:port` of a `postgres://user@host:port/db` URL (port 5432 when absent).
pub fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let hostport = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:5432")
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for (id, stream) in listener.incoming().enumerate() {
        if shared.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = stream else { continue };
        let _ = client.set_nodelay(true);
        let stats = Arc::new(ConnStats {
            id,
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            cut: AtomicBool::new(false),
            frozen: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        });
        let faults = shared.faults.lock().unwrap().clone();
        if faults.stall {
            stats.frozen.store(true, Ordering::SeqCst);
            shared.conns.lock().unwrap().push(Conn {
                stats,
                client,
                server: None,
            });
            continue;
        }
        let server = match TcpStream::connect_timeout(&shared.upstream, Duration::from_secs(5)) {
            Ok(s) => s,
            Err(_) => {
                let _ = client.shutdown(Shutdown::Both);
                continue;
            }
        };
        let _ = server.set_nodelay(true);
        let pumps = [
            (
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                Dir::Up,
            ),
            (
                server.try_clone().unwrap(),
                client.try_clone().unwrap(),
                Dir::Down,
            ),
        ];
        shared.conns.lock().unwrap().push(Conn {
            stats: stats.clone(),
            client,
            server: Some(server),
        });
        for (from, to, dir) in pumps {
            let shared = shared.clone();
            let stats = stats.clone();
            thread::Builder::new()
                .name(format!("proxy-{id}-{dir:?}"))
                .spawn(move || pump(from, to, dir, &shared, &stats))
                .unwrap();
        }
    }
}

/// What to do with the next chunk of a connection.
enum Verdict {
    /// Forward this many bytes of it (all, or up to a cut/freeze point).
    Forward(usize),
    /// Forward this many, then cut the connection.
    Cut(usize),
    /// Forward this many, then stop forwarding for good.
    Freeze(usize),
}

fn verdict(
    shared: &Shared,
    stats: &ConnStats,
    dir: Dir,
    already: u64,
    len: usize,
) -> (Verdict, Duration) {
    let mut f = shared.faults.lock().unwrap();
    let delay = f.delay;
    if let Some((d, at)) = f.freeze_after {
        if d == dir && already + len as u64 > at {
            return (Verdict::Freeze(at.saturating_sub(already) as usize), delay);
        }
    }
    if let Some((d, at)) = f.cut_after {
        if d == dir && already + len as u64 > at && f.cuts_left != Some(0) {
            if let Some(n) = f.cuts_left.as_mut() {
                *n -= 1;
            }
            stats.cut.store(true, Ordering::SeqCst);
            return (Verdict::Cut(at.saturating_sub(already) as usize), delay);
        }
    }
    (Verdict::Forward(len), delay)
}

fn pump(mut from: TcpStream, mut to: TcpStream, dir: Dir, shared: &Shared, stats: &ConnStats) {
    let counter = match dir {
        Dir::Up => &stats.up,
        Dir::Down => &stats.down,
    };
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stats.frozen.load(Ordering::SeqCst) {
            // Frozen: whatever still arrives is swallowed.
            continue;
        }
        let (v, delay) = verdict(shared, stats, dir, counter.load(Ordering::SeqCst), n);
        if !delay.is_zero() {
            thread::sleep(delay);
        }
        let (send, then) = match v {
            Verdict::Forward(k) => (k, None),
            Verdict::Cut(k) => (k, Some(true)),
            Verdict::Freeze(k) => (k, Some(false)),
        };
        if send > 0 && to.write_all(&buf[..send]).is_err() {
            break;
        }
        counter.fetch_add(send as u64, Ordering::SeqCst);
        match then {
            None => {}
            Some(true) => break,
            Some(false) => {
                stats.frozen.store(true, Ordering::SeqCst);
                // Stop reading; keep both sockets open and silent until the
                // client goes away (seen by the other pump) or the proxy stops.
                while !shared.stopped.load(Ordering::SeqCst) && !stats.closed.load(Ordering::SeqCst)
                {
                    thread::sleep(Duration::from_millis(20));
                }
                break;
            }
        }
    }
    stats.closed.store(true, Ordering::SeqCst);
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
