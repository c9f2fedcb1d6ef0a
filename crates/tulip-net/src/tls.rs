//! TLS on tulip's streams (feature `tls`), as asyncio has it: `ssl=` on
//! [`open_connection_with`](crate::open_connection_with) and
//! [`start_server_with`](crate::start_server_with), [`StreamWriter::start_tls`], and
//! [`start_tls`] to upgrade any byte stream (asyncio's `loop.start_tls`).
//!
//! The TLS engine is rustls (ring provider) through `futures-rustls`, running over the
//! `futures::io` traits of tulip's sockets; the TLS stream then carries asyncio's
//! reader and writer like any other byte stream (`streams_from_io`). Configurations
//! are rustls's own ([`rustls::ClientConfig`], [`rustls::ServerConfig`]), re-exported
//! here so that the versions match: they play the part of asyncio's `SSLContext`.
//!
//! Failures: a handshake the peer or rustls refuses (a certificate that does not
//! verify, a name that does not match, no common protocol) is [`Error::Ssl`] with
//! rustls's reason; a handshake longer than `ssl_handshake_timeout` (default
//! [`DEFAULT_SSL_HANDSHAKE_TIMEOUT`], asyncio's 60 s) is `Error::Ssl` too, with
//! asyncio's message and the `ConnectionAborted` kind asyncio raises.
//!
//! Limits: only the streams API gets TLS (not the protocol/transport API); the writer
//! of a TLS stream can `write_eof` (rustls sends `close_notify`, then the socket is
//! half-closed), which asyncio refuses over SSL.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
pub use futures_rustls::rustls;
pub use futures_rustls::TlsStream;
use futures_rustls::{pki_types::ServerName, TlsAcceptor, TlsConnector};

use crate::error::{Error, Result};
use crate::streams::{streams_from_io_named, StreamReader};
use crate::tcp::TcpStream;
use crate::unix::UnixStream;
use crate::writer::StreamWriter;

/// asyncio's default `ssl_handshake_timeout`: 60 seconds.
pub const DEFAULT_SSL_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// Which side of TLS to play, with its configuration: asyncio's `SSLContext`, whose
/// purpose (client or server) decides the side.
#[derive(Clone, Debug)]
pub enum SslContext {
    /// The client side: verify the server's certificate against these roots.
    Client(Arc<rustls::ClientConfig>),
    /// The server side: present this certificate.
    Server(Arc<rustls::ServerConfig>),
}

impl From<Arc<rustls::ClientConfig>> for SslContext {
    fn from(c: Arc<rustls::ClientConfig>) -> Self {
        SslContext::Client(c)
    }
}

impl From<rustls::ClientConfig> for SslContext {
    fn from(c: rustls::ClientConfig) -> Self {
        SslContext::Client(Arc::new(c))
    }
}

impl From<Arc<rustls::ServerConfig>> for SslContext {
    fn from(c: Arc<rustls::ServerConfig>) -> Self {
        SslContext::Server(c)
    }
}

impl From<rustls::ServerConfig> for SslContext {
    fn from(c: rustls::ServerConfig) -> Self {
        SslContext::Server(Arc::new(c))
    }
}

fn invalid(msg: &'static str) -> Error {
    Error::Io(io::Error::new(io::ErrorKind::InvalidInput, msg))
}

/// Runs the TLS handshake over `io` and returns the TLS stream (asyncio's
/// `loop.start_tls`, for a byte stream rather than a transport): the client side
/// with a [`SslContext::Client`] (`server_hostname` is then required: the name the
/// certificate must carry, or an IP address), the server side with a
/// [`SslContext::Server`] (`server_hostname` is ignored).
///
/// # Errors
/// [`Error::Ssl`] when the handshake fails (rustls's reason) or takes longer than
/// `ssl_handshake_timeout` (default 60 s; the kind is `ConnectionAborted`);
/// `Error::Io` with `InvalidInput` for a missing or malformed `server_hostname` or a
/// zero timeout; the OS error if the connection fails; `Cancelled`.
///
/// # Cancel safety
/// Not cancel safe: a handshake cut short leaves `io` unusable (it is dropped).
pub async fn start_tls<S>(
    io: S,
    ssl: impl Into<SslContext>,
    server_hostname: Option<&str>,
    ssl_handshake_timeout: Option<Duration>,
) -> Result<TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let timeout = ssl_handshake_timeout.unwrap_or(DEFAULT_SSL_HANDSHAKE_TIMEOUT);
    if timeout.is_zero() {
        return Err(invalid("ssl_handshake_timeout should be a positive number"));
    }
    match ssl.into() {
        SslContext::Client(cfg) => {
            let name = server_hostname
                .ok_or_else(|| invalid("server_hostname is required for the client side of TLS"))?;
            let name = ServerName::try_from(name.to_string())
                .map_err(|_| invalid("server_hostname is not a valid DNS name or IP address"))?;
            let hs = TlsConnector::from(cfg).connect(name, io);
            handshake(hs, timeout).await.map(TlsStream::Client)
        }
        SslContext::Server(cfg) => {
            let hs = TlsAcceptor::from(cfg).accept(io);
            handshake(hs, timeout).await.map(TlsStream::Server)
        }
    }
}

/// Drives a handshake future, bounded by `timeout`, as a tulip await point.
async fn handshake<T>(hs: impl Future<Output = io::Result<T>>, timeout: Duration) -> Result<T> {
    let mut hs = pin!(hs);
    let mut timer = pin!(tulip_core::sleep(timeout));
    std::future::poll_fn(|cx| {
        if let Some(c) = tulip_core::take_cancel() {
            return Poll::Ready(Err(Error::Cancelled(c)));
        }
        if let Poll::Ready(r) = hs.as_mut().poll(cx) {
            return Poll::Ready(r.map_err(ssl_error));
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Err(timeout_error(timeout))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// A handshake's `io::Error` as [`Error::Ssl`] when rustls produced it (its message
/// is the reason), as the OS error otherwise.
pub(crate) fn ssl_error(e: io::Error) -> Error {
    let reason = match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => tls.to_string(),
        None => return Error::Io(e),
    };
    Error::Ssl { reason, source: e }
}

fn timeout_error(timeout: Duration) -> Error {
    let reason = format!(
        "SSL handshake is taking longer than {:?} seconds: aborting the connection",
        timeout.as_secs_f64() // `{:?}` prints 60.0 as Python's float does
    );
    Error::Ssl {
        source: io::Error::new(io::ErrorKind::ConnectionAborted, reason.clone()),
        reason,
    }
}

impl StreamWriter {
    /// Upgrades this connection to TLS in place of its plain reader and writer
    /// (asyncio's `await writer.start_tls(sslcontext, server_hostname=…,
    /// ssl_handshake_timeout=…)`): the two halves are put back together
    /// ([`StreamReader::reunite`]), the handshake runs over the socket, and the TLS
    /// stream's reader and writer are returned. Bytes the reader had buffered are
    /// handed to TLS first (a peer's hello sent right after the plain-text
    /// exchange is not lost).
    ///
    /// Works on the streams of a TCP or Unix socket; a client uses a
    /// [`SslContext::Client`] and needs `server_hostname`, a server a
    /// [`SslContext::Server`].
    ///
    /// # Errors
    /// As [`start_tls`]; `Error::Io` (`InvalidInput`) when the reader and writer
    /// cannot be reunited (not one socket's, bytes still queued: await
    /// `futures::io::AsyncWriteExt::flush` first).
    ///
    /// # Cancel safety
    /// Not cancel safe: the connection is dropped.
    pub async fn start_tls(
        self,
        reader: StreamReader,
        ssl: impl Into<SslContext>,
        server_hostname: Option<&str>,
        ssl_handshake_timeout: Option<Duration>,
    ) -> Result<(StreamReader, StreamWriter)> {
        let limit = reader.limit();
        let ssl = ssl.into();
        let tcp = match reader.reunite::<TcpStream>(self) {
            Ok((s, buffered)) => {
                let (sock, peer) = (s.local_addr().ok(), s.peer_addr().ok());
                let io = Prefixed::new(buffered, s);
                let tls = start_tls(io, ssl, server_hostname, ssl_handshake_timeout).await?;
                return Ok(streams_from_io_named(
                    tls,
                    limit,
                    sock.map(crate::addr::Address::Inet),
                    peer.map(crate::addr::Address::Inet),
                ));
            }
            Err(e) => e,
        };
        let (s, buffered) = tcp.reader.reunite::<UnixStream>(tcp.writer)?;
        let (sock, peer) = (s.local_addr().ok(), s.peer_addr().ok());
        let tls = start_tls(
            Prefixed::new(buffered, s),
            ssl,
            server_hostname,
            ssl_handshake_timeout,
        )
        .await?;
        Ok(streams_from_io_named(tls, limit, sock, peer))
    }
}

/// A stream that reads `prefix` before `inner`: the bytes a reader had buffered, put
/// back in front of the socket they came from.
#[derive(Debug)]
pub struct Prefixed<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    /// `inner`, with `prefix` read first.
    pub fn new(prefix: Vec<u8>, inner: S) -> Prefixed<S> {
        Prefixed {
            prefix,
            pos: 0,
            inner,
        }
    }

    /// The stream, with the prefix bytes not read yet.
    pub fn into_parts(self) -> (Vec<u8>, S) {
        let mut prefix = self.prefix;
        prefix.drain(..self.pos);
        (prefix, self.inner)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pos < this.prefix.len() {
            let n = buf.len().min(this.prefix.len() - this.pos);
            buf[..n].copy_from_slice(&this.prefix[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(n));
        }
        std::pin::Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_close(cx)
    }
}
