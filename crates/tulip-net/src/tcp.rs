//! TCP: [`TcpListener`] and [`TcpStream`].
//!
//! Both are a non-blocking `socket2::Socket` registered with the running loop's reactor
//! (see `io.rs` for the readiness recipe). The read and write paths allocate nothing:
//! `read` and `write` are one syscall when the socket is ready, and a short write clears
//! readiness without a second, failing syscall (why reads cannot: see `io.rs`).

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use socket2::{SockAddr, Socket, Type};
use tulip_core::coop::poll_proceed;
use tulip_reactor::Direction;

use crate::addr::{lookup_host, ToAddrs};
use crate::error::{Error, Result};
use crate::io::{cancel_point, impl_as_fd, Io};
use crate::sys;

/// Options for a listening socket.
///
/// # Examples
/// ```
/// let opts = tulip::net::ListenOptions { reuse_port: true, backlog: 512, ..Default::default() };
/// assert!(opts.reuse_address);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenOptions {
    /// `SO_REUSEADDR`: rebind a port whose old connections are in `TIME_WAIT`
    /// (default `true`, as asyncio does on Unix).
    pub reuse_address: bool,
    /// `SO_REUSEPORT`: several sockets share the port, the kernel spreads connections
    /// (default `false`).
    pub reuse_port: bool,
    /// Length of the queue of connections not yet accepted (default 100, asyncio's).
    pub backlog: i32,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            reuse_address: true,
            reuse_port: false,
            backlog: 100,
        }
    }
}

/// A TCP socket listening for connections.
///
/// # Examples
/// ```
/// use tulip::net::{TcpListener, TcpStream};
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let mut client = TcpStream::connect(addr).await?;
///     let (mut server, _peer) = listener.accept().await?;
///     client.write_all(b"ping").await?;
///     let mut buf = [0u8; 4];
///     let n = server.read(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<_, tulip::net::Error>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TcpListener {
    io: Io<Socket>,
}

impl TcpListener {
    /// Binds to the first address of `addr` that accepts, with default options.
    ///
    /// # Errors
    /// [`Error::Bind`] with the last address's error; [`Error::Resolve`] for an
    /// unknown host; `NoRunningLoop` outside a loop.
    ///
    /// # Cancel safety
    /// Cancel safe (only name resolution waits).
    pub async fn bind(addr: impl ToAddrs) -> Result<TcpListener> {
        Self::bind_with(addr, ListenOptions::default()).await
    }

    /// Binds with explicit [`ListenOptions`].
    ///
    /// # Errors
    /// As [`bind`](Self::bind).
    ///
    /// # Cancel safety
    /// Cancel safe (only name resolution waits).
    pub async fn bind_with(addr: impl ToAddrs, opts: ListenOptions) -> Result<TcpListener> {
        let target = addr.to_target()?;
        let mut last = None;
        for a in lookup_host(&target).await? {
            match Self::bind_addr(a, opts) {
                Ok(l) => return Ok(l),
                Err(Error::Io(e)) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(Error::Bind {
            target: target.to_string(),
            source: last.unwrap_or_else(|| io::Error::other("no address to bind")),
        })
    }

    /// Binds exactly `addr` (no resolution, no waiting).
    ///
    /// # Errors
    /// The OS error of `bind` or `listen`, as [`Error::Io`].
    pub fn bind_addr(addr: SocketAddr, opts: ListenOptions) -> Result<TcpListener> {
        let s = sys::socket_for(&addr, Type::STREAM)?;
        s.set_reuse_address(opts.reuse_address)?;
        if opts.reuse_port {
            s.set_reuse_port(true)?;
        }
        if addr.is_ipv6() {
            s.set_only_v6(true)?;
        }
        s.bind(&addr.into())?;
        s.listen(opts.backlog)?;
        Ok(TcpListener { io: Io::new(s)? })
    }

    /// Takes over a bound, listening std listener (made non-blocking here).
    ///
    /// # Errors
    /// `NoRunningLoop` outside a loop; an OS error registering it.
    pub fn from_std(l: std::net::TcpListener) -> Result<TcpListener> {
        l.set_nonblocking(true)?;
        Ok(TcpListener {
            io: Io::new(Socket::from(l))?,
        })
    }

    /// Waits for a connection. Only one task should accept on a listener at a time.
    ///
    /// # Errors
    /// The OS error of `accept` (out of descriptors, say); `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: a connection is taken from the queue only when it is returned.
    pub async fn accept(&self) -> Result<(TcpStream, SocketAddr)> {
        cancel_point(|cx| self.accept_now(cx).map_err(Error::from)).await
    }

    /// Poll form of [`accept`](Self::accept) (no cancel check; spends the task's
    /// cooperative budget).
    ///
    /// # Errors
    /// As [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        ready!(poll_proceed(cx));
        self.accept_now(cx)
    }

    fn accept_now(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (s, peer) = std::task::ready!(self.io.poll_op(Direction::Read, cx, sys::accept))?;
        let peer = peer
            .as_socket()
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        let io = Io::new(s).map_err(io::Error::from)?;
        Poll::Ready(Ok((TcpStream { io: Arc::new(io) }, peer)))
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        sock_inet(self.io.get().local_addr()?)
    }
}

pub(crate) fn sock_inet(a: SockAddr) -> io::Result<SocketAddr> {
    a.as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an internet address"))
}

/// Connects to one address, waiting for the handshake without blocking.
///
/// It always yields to the loop once, as asyncio's connection set-up always takes a
/// loop iteration (`sock_connect` waits for writability, `connection_made` comes
/// through `call_soon`): a loopback handshake completes inside `connect`, and
/// without the yield a task could connect, send and read a fast local server's
/// answer before the tasks created next to it had started (the seed wget's order,
/// tests/fairness.rs).
pub(crate) async fn connect_one(addr: &SockAddr) -> Result<Io<Socket>> {
    let s = sys::new_socket(addr.domain(), Type::STREAM)?;
    let connected = sys::start_connect(&s, addr)?;
    let io = Io::new(s)?;
    tulip_core::yield_now().await?;
    if !connected {
        cancel_point(|cx| {
            io.poll_op(Direction::Write, cx, |s| match sys::connect_finished(s) {
                Ok(true) => Ok(()),
                Ok(false) => Err(io::ErrorKind::WouldBlock.into()),
                Err(e) => Err(e),
            })
            .map_err(Error::from)
        })
        .await?;
    }
    Ok(io)
}

/// A TCP connection.
///
/// `read`, `write` and `write_all` are tulip await points (a cancelled task gets
/// `Err(Cancelled)` from them); the [`futures::io::AsyncRead`] / [`AsyncWrite`]
/// implementations are plain poll functions, for use with `futures` combinators (a
/// task cancelled while parked in one of those is stopped by dropping its future).
///
/// [`AsyncWrite`]: futures::io::AsyncWrite
#[derive(Debug)]
pub struct TcpStream {
    io: Arc<Io<Socket>>,
}

impl TcpStream {
    /// Connects to `addr`, trying each resolved address in turn.
    ///
    /// # Errors
    /// [`Error::Connect`] naming the target with the last address's error (connection
    /// refused, unreachable…); [`Error::Resolve`] for an unknown host; `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: a half-open connection is closed when the future is dropped.
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::new_event_loop().unwrap();
    /// let err = lp.run_until_complete(tulip::net::TcpStream::connect("127.0.0.1:1")).unwrap_err();
    /// assert_eq!(err.io_kind(), Some(std::io::ErrorKind::ConnectionRefused));
    /// assert!(err.to_string().starts_with("cannot connect to 127.0.0.1:1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn connect(addr: impl ToAddrs) -> Result<TcpStream> {
        let target = addr.to_target()?;
        let mut last = None;
        for a in lookup_host(&target).await? {
            match connect_one(&a.into()).await {
                Ok(io) => return Ok(TcpStream { io: Arc::new(io) }),
                Err(Error::Io(e)) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(Error::Connect {
            target: target.to_string(),
            source: last.unwrap_or_else(|| io::Error::other("no address to connect to")),
        })
    }

    /// Takes over a connected std stream (made non-blocking here).
    ///
    /// # Errors
    /// `NoRunningLoop` outside a loop; an OS error registering it.
    pub fn from_std(s: std::net::TcpStream) -> Result<TcpStream> {
        s.set_nonblocking(true)?;
        let s = Socket::from(s);
        sys::no_sigpipe(&s)?;
        Ok(TcpStream {
            io: Arc::new(Io::new(s)?),
        })
    }

    pub(crate) fn into_io(self) -> Arc<Io<Socket>> {
        self.io
    }

    pub(crate) fn from_io(io: Arc<Io<Socket>>) -> TcpStream {
        TcpStream { io }
    }

    /// Reads into `buf`; `Ok(0)` at end of stream.
    ///
    /// # Errors
    /// The OS error (connection reset…); `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: no data is read unless it is returned.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.io.read(buf).await
    }

    /// Writes a prefix of `buf`; returns how much.
    ///
    /// # Errors
    /// The OS error (broken pipe, reset…); `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: nothing was written if the future is dropped before it is ready.
    pub async fn write(&mut self, buf: &[u8]) -> Result<usize> {
        self.io.write(buf).await
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    /// As [`write`](Self::write); `WriteZero` if the socket took nothing.
    ///
    /// # Cancel safety
    /// Not cancel safe: a prefix may have been written when it is cancelled.
    pub async fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        self.io.write_all(buf).await
    }

    /// Poll form of one read (no cancel check; spends the task's cooperative budget).
    ///
    /// # Errors
    /// The OS error.
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        ready!(poll_proceed(cx));
        self.io.poll_read(cx, buf)
    }

    /// Poll form of one write (no cancel check; spends the task's cooperative budget).
    ///
    /// # Errors
    /// The OS error.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(poll_proceed(cx));
        self.io.poll_write(cx, buf)
    }

    /// Sets `TCP_NODELAY` (send small writes at once, no Nagle delay).
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.io.get().set_tcp_nodelay(on)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get().tcp_nodelay()
    }

    /// Shuts down one or both halves: `Shutdown::Write` sends end-of-stream to the
    /// peer and keeps reading possible (half-close).
    ///
    /// # Errors
    /// The OS error (`NotConnected` after a reset, say).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }

    /// The remote address.
    ///
    /// # Errors
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        sock_inet(self.io.get().peer_addr()?)
    }

    /// The local address.
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        sock_inet(self.io.get().local_addr()?)
    }

    /// Sets `SO_LINGER` to zero, so that dropping the stream resets the connection
    /// (what asyncio's `transport.abort()` does).
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_linger_zero(&self) -> io::Result<()> {
        self.io.get().set_linger(Some(std::time::Duration::ZERO))
    }
}

macro_rules! impl_async_io {
    ($ty:ty) => {
        impl futures::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                std::task::ready!(tulip_core::coop::poll_proceed(cx));
                self.io.poll_read(cx, buf)
            }
        }

        impl futures::io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                std::task::ready!(tulip_core::coop::poll_proceed(cx));
                self.io.poll_write(cx, buf)
            }

            /// One `sendmsg` of all the slices (`MSG_NOSIGNAL`), not one write per
            /// slice.
            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                std::task::ready!(tulip_core::coop::poll_proceed(cx));
                self.io.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(match self.io.get().shutdown(Shutdown::Write) {
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
                    r => r,
                })
            }
        }
    };
}

pub(crate) use impl_async_io;

impl_as_fd!(TcpStream);
impl_as_fd!(TcpListener);

impl_async_io!(TcpStream);
impl_async_io!(&TcpStream);
