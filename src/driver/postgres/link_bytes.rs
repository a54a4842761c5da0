//! Bytes over a PostgreSQL link, counted on its socket: each connection a
//! pool opens wraps its socket in [`Counted`], which adds what every read
//! and write carried to the connection's [`LinkCounters`] — the wire
//! protocol with its framing and, under TLS, the encrypted records and the
//! handshake.
//!
//! The client library hands a socket to nobody but its TLS connector, so:
//! - with TLS, the connector wraps the socket before rustls gets it (the
//!   8-byte SSLRequest and the server's 1-byte answer, exchanged before,
//!   are added by hand);
//! - in plaintext, the connection is made with `sslnegotiation=direct` and a
//!   connector that does no TLS: the library then hands it the socket right
//!   after connecting and speaks the protocol over what it returns. The
//!   server sees an ordinary plaintext startup. Direct negotiation needs a
//!   host name: a Unix socket (not a link anyway), or a plaintext
//!   connection to a `hostaddr` given without a host name, stays uncounted.
//!
//! Cancel requests use connections of their own and are not counted.

use crate::driver::LinkBytes;
use postgres::config::{Host, SslMode, SslNegotiation};
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use postgres::{Client, NoTls, Socket};
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres_rustls::MakeRustlsConnect;

/// What one connection's socket has carried so far.
#[derive(Debug, Default)]
pub struct LinkCounters {
    read: AtomicU64,
    written: AtomicU64,
}

impl LinkCounters {
    fn add(&self, read: u64, written: u64) {
        self.read.fetch_add(read, Ordering::Relaxed);
        self.written.fetch_add(written, Ordering::Relaxed);
    }

    pub fn get(&self) -> LinkBytes {
        LinkBytes {
            read: self.read.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
        }
    }
}

/// A socket that counts what passes through it.
pub struct Counted<S> {
    inner: S,
    counters: Arc<LinkCounters>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            this.counters.add((buf.filled().len() - before) as u64, 0);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            this.counters.add(0, n as u64);
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = r {
            this.counters.add(0, n as u64);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Plaintext, under `sslnegotiation=direct`: the socket itself, counted.
impl TlsStream for Counted<Socket> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

/// The plaintext "connector": no TLS, only the count.
#[derive(Clone, Default)]
pub struct Plain(Arc<LinkCounters>);

impl MakeTlsConnect<Socket> for Plain {
    type Stream = Counted<Socket>;
    type TlsConnect = Plain;
    type Error = Infallible;

    fn make_tls_connect(&mut self, _host: &str) -> Result<Plain, Infallible> {
        Ok(self.clone())
    }
}

impl TlsConnect<Socket> for Plain {
    type Stream = Counted<Socket>;
    type Error = Infallible;
    type Future = Ready<Result<Counted<Socket>, Infallible>>;

    fn connect(self, inner: Socket) -> Self::Future {
        ready(Ok(Counted {
            inner,
            counters: self.0,
        }))
    }
}

/// rustls over a counted socket.
#[derive(Clone)]
struct MakeTls {
    inner: MakeRustlsConnect,
    counters: Arc<LinkCounters>,
    /// The SSLRequest goes first (not `sslnegotiation=direct`).
    ssl_request: bool,
}

impl MakeTlsConnect<Socket> for MakeTls {
    type Stream = <MakeRustlsConnect as MakeTlsConnect<Counted<Socket>>>::Stream;
    type TlsConnect = TlsOverCounted;
    type Error = Infallible;

    fn make_tls_connect(&mut self, host: &str) -> Result<TlsOverCounted, Infallible> {
        Ok(TlsOverCounted {
            inner: MakeTlsConnect::<Counted<Socket>>::make_tls_connect(&mut self.inner, host)?,
            counters: self.counters.clone(),
            ssl_request: self.ssl_request,
        })
    }
}

struct TlsOverCounted {
    inner: <MakeRustlsConnect as MakeTlsConnect<Counted<Socket>>>::TlsConnect,
    counters: Arc<LinkCounters>,
    ssl_request: bool,
}

impl TlsConnect<Socket> for TlsOverCounted {
    type Stream = <MakeRustlsConnect as MakeTlsConnect<Counted<Socket>>>::Stream;
    type Error = io::Error;
    type Future =
        <<MakeRustlsConnect as MakeTlsConnect<Counted<Socket>>>::TlsConnect as TlsConnect<
            Counted<Socket>,
        >>::Future;

    fn connect(self, inner: Socket) -> Self::Future {
        if self.ssl_request {
            self.counters.add(1, 8);
        }
        self.inner.connect(Counted {
            inner,
            counters: self.counters,
        })
    }
}

/// How a pool connects: plaintext or rustls, counted where it can be.
pub struct Manager {
    config: postgres::Config,
    connector: Connector,
}

enum Connector {
    /// Plaintext without a host name for every address (a Unix socket, a
    /// bare `hostaddr`): not counted.
    Uncounted,
    Plain,
    Rustls(MakeRustlsConnect),
}

impl Manager {
    pub fn new(mut config: postgres::Config, rustls: Option<MakeRustlsConnect>) -> Manager {
        let named = |h: &Host| matches!(h, Host::Tcp(_));
        let connector = match rustls {
            Some(tls) => Connector::Rustls(tls),
            None if !config.get_hosts().is_empty() && config.get_hosts().iter().all(named) => {
                config
                    .ssl_mode(SslMode::Require)
                    .ssl_negotiation(SslNegotiation::Direct);
                Connector::Plain
            }
            None => Connector::Uncounted,
        };
        Manager { config, connector }
    }

    /// A new connection, with its counters when it counts.
    pub fn connect(&self) -> Result<(Client, Option<Arc<LinkCounters>>), postgres::Error> {
        let counters = Arc::new(LinkCounters::default());
        let client = match &self.connector {
            Connector::Uncounted => return Ok((self.config.connect(NoTls)?, None)),
            Connector::Plain => self.config.connect(Plain(counters.clone()))?,
            Connector::Rustls(tls) => self.config.connect(MakeTls {
                inner: tls.clone(),
                counters: counters.clone(),
                ssl_request: self.config.get_ssl_negotiation() != SslNegotiation::Direct,
            })?,
        };
        Ok((client, Some(counters)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(url: &str) -> Manager {
        Manager::new(url.parse().unwrap(), None)
    }

    #[test]
    fn plaintext_over_tcp_is_counted_and_a_unix_socket_is_not() {
        for url in [
            "postgres://u@127.0.0.1:5432/db",
            "host=branch-a,10.1.0.5 dbname=db",
        ] {
            let m = manager(url);
            assert!(matches!(m.connector, Connector::Plain), "{url}");
            assert_eq!(m.config.get_ssl_negotiation(), SslNegotiation::Direct);
            assert_eq!(m.config.get_ssl_mode(), SslMode::Require);
        }
        for url in [
            "host=/var/run/postgresql dbname=db",
            "host=localhost,/tmp dbname=db",
            "hostaddr=127.0.0.1 dbname=db",
        ] {
            let m = manager(url);
            assert!(matches!(m.connector, Connector::Uncounted), "{url}");
            assert_eq!(m.config.get_ssl_negotiation(), SslNegotiation::Postgres);
        }
    }
}
