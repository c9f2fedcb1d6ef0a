//! UDP: [`UdpSocket`], unconnected (`send_to` / `recv_from`) or connected
//! (`send` / `recv`).

use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use socket2::Type;
use tulip_reactor::Direction;

use crate::addr::{lookup_host, ToAddrs};
use crate::error::{Error, Result};
use crate::io::{cancel_point, impl_as_fd, Io};
use crate::sys;

/// A UDP socket.
///
/// # Examples
/// ```
/// use tulip::net::UdpSocket;
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"hello", b.local_addr()?).await?;
///     let mut buf = [0u8; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"hello"[..], a.local_addr()?));
///     Ok::<_, tulip::net::Error>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    io: Io<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to the first address of `addr` that works.
    ///
    /// # Errors
    /// [`Error::Bind`]; [`Error::Resolve`]; `NoRunningLoop`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn bind(addr: impl ToAddrs) -> Result<UdpSocket> {
        let target = addr.to_target()?;
        let mut last = None;
        for a in lookup_host(&target).await? {
            match Self::bind_addr(a, false) {
                Ok(s) => return Ok(s),
                Err(Error::Io(e)) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(Error::Bind {
            target: target.to_string(),
            source: last.unwrap_or_else(|| io::Error::other("no address to bind")),
        })
    }

    /// Binds exactly `addr`, optionally with `SO_REUSEPORT`.
    ///
    /// # Errors
    /// The OS error, as [`Error::Io`]; `NoRunningLoop`.
    pub fn bind_addr(addr: SocketAddr, reuse_port: bool) -> Result<UdpSocket> {
        let s = sys::socket_for(&addr, Type::DGRAM)?;
        if reuse_port {
            s.set_reuse_port(true)?;
        }
        s.bind(&addr.into())?;
        Ok(UdpSocket {
            io: Io::new(std::net::UdpSocket::from(s))?,
        })
    }

    /// Connects the socket: `send`/`recv` then talk to `addr` only, and datagrams
    /// from elsewhere are dropped by the OS.
    ///
    /// # Errors
    /// [`Error::Connect`]; [`Error::Resolve`].
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn connect(&self, addr: impl ToAddrs) -> Result<()> {
        let target = addr.to_target()?;
        let mut last = None;
        for a in lookup_host(&target).await? {
            match self.io.get().connect(a) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(Error::Connect {
            target: target.to_string(),
            source: last.unwrap_or_else(|| io::Error::other("no address to connect to")),
        })
    }

    /// Sends one datagram to `addr`.
    ///
    /// # Errors
    /// The OS error (message too long…); `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: the datagram is sent whole or not at all.
    pub async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> Result<usize> {
        cancel_point(|cx| self.poll_send_opt(cx, buf, Some(addr)).map_err(Error::from)).await
    }

    /// Receives one datagram and its sender. A datagram longer than `buf` is truncated.
    ///
    /// # Errors
    /// The OS error (a previous send was refused: `ConnectionRefused`); `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
        cancel_point(|cx| self.recv_from_now(cx, buf).map_err(Error::from)).await
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Errors
    /// `NotConnected` if not connected; the OS error; `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn send(&self, buf: &[u8]) -> Result<usize> {
        cancel_point(|cx| {
            self.io
                .poll_op(Direction::Write, cx, |s| s.send(buf))
                .map_err(Error::from)
        })
        .await
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Errors
    /// The OS error; `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        cancel_point(|cx| {
            self.io
                .poll_op(Direction::Read, cx, |s| s.recv(buf))
                .map_err(Error::from)
        })
        .await
    }

    /// Poll form of [`send_to`](Self::send_to) (no cancel check; spends the task's
    /// cooperative budget).
    ///
    /// # Errors
    /// The OS error.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        addr: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        self.poll_send_opt(cx, buf, Some(addr))
    }

    /// Poll form of [`recv_from`](Self::recv_from) (no cancel check; spends the
    /// task's cooperative budget).
    ///
    /// # Errors
    /// The OS error.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        self.recv_from_now(cx, buf)
    }

    /// [`poll_recv_from`](Self::poll_recv_from) without the budget (the datagram
    /// driver bounds its own loop).
    pub(crate) fn recv_from_now(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_op(Direction::Read, cx, |s| s.recv_from(buf))
    }

    /// Sends now if the socket can take it: `None` when it would block.
    pub(crate) fn try_send_to(
        &self,
        buf: &[u8],
        addr: Option<SocketAddr>,
    ) -> Option<io::Result<usize>> {
        self.io.try_op(Direction::Write, |s| match addr {
            Some(a) => s.send_to(buf, a),
            None => s.send(buf),
        })
    }

    /// Poll form of a send to `addr`, or to the connected peer for `None`.
    pub(crate) fn poll_send_opt(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        addr: Option<SocketAddr>,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_op(Direction::Write, cx, |s| match addr {
            Some(a) => s.send_to(buf, a),
            None => s.send(buf),
        })
    }

    /// Enables sending to broadcast addresses.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get().set_broadcast(on)
    }

    /// The local address.
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    /// `NotConnected` if not connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }
}

impl_as_fd!(UdpSocket);
