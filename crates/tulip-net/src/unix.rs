//! Unix domain stream sockets: [`UnixListener`] and [`UnixStream`], the same shape as
//! TCP's types with paths for addresses.

use std::io;
use std::net::Shutdown;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use socket2::{Domain, SockAddr, Socket, Type};
use tulip_reactor::Direction;

use crate::addr::Address;
use crate::error::{Error, Result};
use crate::io::{cancel_point, impl_as_fd, Io};
use crate::sys;
use crate::tcp::{connect_one, impl_async_io};

/// A Unix socket listening for connections.
///
/// # Examples
/// ```
/// use tulip::net::{UnixListener, UnixStream};
/// let dir = std::env::temp_dir().join(format!("tulip-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("sock");
/// let _ = std::fs::remove_file(&path);
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hi").await?;
///     let mut buf = [0u8; 2];
///     assert_eq!(server.read(&mut buf).await?, 2);
///     Ok::<_, tulip::net::Error>(())
/// })?;
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct UnixListener {
    io: Io<Socket>,
}

impl UnixListener {
    /// Binds to `path` (which must not exist) and listens.
    ///
    /// # Errors
    /// [`Error::Bind`] (the path exists, the directory is missing…); `NoRunningLoop`.
    pub fn bind(path: impl AsRef<Path>) -> Result<UnixListener> {
        let path = path.as_ref();
        let bind = || -> io::Result<Socket> {
            let s = sys::new_socket(Domain::UNIX, Type::STREAM)?;
            s.bind(&SockAddr::unix(path)?)?;
            s.listen(100)?;
            Ok(s)
        };
        let s = bind().map_err(|source| Error::Bind {
            target: path.display().to_string(),
            source,
        })?;
        Ok(UnixListener { io: Io::new(s)? })
    }

    /// Waits for a connection.
    ///
    /// # Errors
    /// The OS error of `accept`; `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn accept(&self) -> Result<(UnixStream, Address)> {
        cancel_point(|cx| self.accept_now(cx).map_err(Error::from)).await
    }

    /// Poll form of [`accept`](Self::accept) (no cancel check; spends the task's
    /// cooperative budget).
    ///
    /// # Errors
    /// The OS error of `accept`.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, Address)>> {
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        self.accept_now(cx)
    }

    fn accept_now(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, Address)>> {
        let (s, peer) = std::task::ready!(self.io.poll_op(Direction::Read, cx, sys::accept))?;
        let io = Io::new(s).map_err(io::Error::from)?;
        Poll::Ready(Ok((
            UnixStream { io: Arc::new(io) },
            Address::from_sock(&peer),
        )))
    }

    /// The path this listener is bound to.
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<Address> {
        Ok(Address::from_sock(&self.io.get().local_addr()?))
    }
}

/// A Unix stream connection.
#[derive(Debug)]
pub struct UnixStream {
    io: Arc<Io<Socket>>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    /// [`Error::Connect`] (no such file, connection refused…); `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn connect(path: impl AsRef<Path>) -> Result<UnixStream> {
        let path = path.as_ref();
        let target = || path.display().to_string();
        let addr = SockAddr::unix(path).map_err(|source| Error::Connect {
            target: target(),
            source,
        })?;
        match connect_one(&addr).await {
            Ok(io) => Ok(UnixStream { io: Arc::new(io) }),
            Err(Error::Io(source)) => Err(Error::Connect {
                target: target(),
                source,
            }),
            Err(e) => Err(e),
        }
    }

    /// A connected pair of sockets.
    ///
    /// # Errors
    /// The OS error of `socketpair`; `NoRunningLoop`.
    pub fn pair() -> Result<(UnixStream, UnixStream)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::STREAM, None)?;
        for s in [&a, &b] {
            s.set_nonblocking(true)?;
            sys::no_sigpipe(s)?;
        }
        Ok((
            UnixStream {
                io: Arc::new(Io::new(a)?),
            },
            UnixStream {
                io: Arc::new(Io::new(b)?),
            },
        ))
    }

    pub(crate) fn into_io(self) -> Arc<Io<Socket>> {
        self.io
    }

    pub(crate) fn from_io(io: Arc<Io<Socket>>) -> UnixStream {
        UnixStream { io }
    }

    /// Reads into `buf`; `Ok(0)` at end of stream.
    ///
    /// # Errors
    /// The OS error; `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.io.read(buf).await
    }

    /// Writes a prefix of `buf`; returns how much.
    ///
    /// # Errors
    /// The OS error; `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn write(&mut self, buf: &[u8]) -> Result<usize> {
        self.io.write(buf).await
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    ///
    /// # Cancel safety
    /// Not cancel safe: a prefix may have been written.
    pub async fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        self.io.write_all(buf).await
    }

    /// Shuts down one or both halves (`Shutdown::Write` is a half-close).
    ///
    /// # Errors
    /// The OS error.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }

    /// The peer's address (usually unnamed for a client).
    ///
    /// # Errors
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<Address> {
        Ok(Address::from_sock(&self.io.get().peer_addr()?))
    }

    /// The local address.
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<Address> {
        Ok(Address::from_sock(&self.io.get().local_addr()?))
    }
}

impl_as_fd!(UnixStream);
impl_as_fd!(UnixListener);
impl_async_io!(UnixStream);
impl_async_io!(&UnixStream);
