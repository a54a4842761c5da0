//! A server that refuses TLS: both TLS modes fail the connection with a
//! clear error, and not one byte goes out in plaintext afterwards. The
//! refusing server is an in-test listener (the local PostgreSQL keeps TLS
//! on for the other tests).

use crate::common::fixture::reliability;
use crate::server_certs::server_tls;
use crate::{connect_error, server, verify_full};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A server that answers every SSL request with `N` (no TLS), and counts
/// any byte a client sends after that or without asking for TLS first: a
/// plaintext fallback.
struct NoTlsServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
    plaintext_bytes: Arc<AtomicUsize>,
}

const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

fn no_tls_server() -> NoTlsServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let plaintext_bytes = Arc::new(AtomicUsize::new(0));
    let (c, f, p) = (
        connections.clone(),
        finished.clone(),
        plaintext_bytes.clone(),
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            c.fetch_add(1, Ordering::SeqCst);
            let (f, p) = (f.clone(), p.clone());
            std::thread::spawn(move || {
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                let mut first = [0u8; 8];
                if s.read_exact(&mut first).is_ok() {
                    if first == SSL_REQUEST {
                        let _ = s.write_all(b"N");
                    } else {
                        p.fetch_add(first.len(), Ordering::SeqCst);
                    }
                    let mut buf = [0u8; 1024];
                    while let Ok(n @ 1..) = s.read(&mut buf) {
                        p.fetch_add(n, Ordering::SeqCst);
                    }
                }
                f.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    NoTlsServer {
        port,
        connections,
        finished,
        plaintext_bytes,
    }
}

#[test]
fn a_server_that_refuses_tls_is_never_used_in_plaintext() {
    let tls = server_tls();
    let refuser = no_tls_server();
    let url = format!("postgres://root@127.0.0.1:{}/test", refuser.port);
    let cases = [
        server("pgsql_notls", &url, "sslmode = \"require\"\n"),
        server("pgsql_notls", &format!("{url}?sslmode=require"), ""),
        verify_full("pgsql_notls", &url, "localhost", &tls.ca),
    ];
    for s in &cases {
        let (err, _) = connect_error(s);
        let msg = &err.message;
        assert!(msg.starts_with("pgsql_notls: connecting to "), "{msg}");
        assert!(msg.contains("does not accept TLS"), "{msg}");
        assert!(msg.contains("never falls back to plaintext"), "{msg}");
        assert!(!err.kind.is_retryable(), "{err:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while refuser.finished.load(Ordering::SeqCst) < refuser.connections.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "the client kept a connection open"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(refuser.connections.load(Ordering::SeqCst) >= cases.len());
    assert_eq!(
        refuser.plaintext_bytes.load(Ordering::SeqCst),
        0,
        "bytes were sent in plaintext after the server refused TLS"
    );
    reliability(
        "TLS: server refuses TLS (require, verify-full)",
        cases.len(),
        0,
        0,
        "refused, 0 bytes sent in plaintext",
    );
}
