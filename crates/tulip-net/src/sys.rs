//! Creating and accepting non-blocking sockets in as few syscalls as the OS allows.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, SockAddr, Socket, Type};

/// A new non-blocking, close-on-exec socket.
pub(crate) fn new_socket(domain: Domain, ty: Type) -> io::Result<Socket> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        Socket::new(domain, ty.nonblocking(), None)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let s = Socket::new(domain, ty, None)?;
        s.set_nonblocking(true)?;
        no_sigpipe(&s)?;
        Ok(s)
    }
}

/// Where `send` cannot take `MSG_NOSIGNAL` (Apple systems), the socket itself is told
/// not to raise SIGPIPE.
pub(crate) fn no_sigpipe(s: &Socket) -> io::Result<()> {
    #[cfg(target_vendor = "apple")]
    s.set_nosigpipe(true)?;
    let _ = s;
    Ok(())
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "illumos",
    target_os = "solaris"
))]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "illumos",
    target_os = "solaris"
)))]
const SEND_FLAGS: libc::c_int = 0;

/// One `send` on a connected stream socket that never raises SIGPIPE: a peer that
/// has gone is `Err(BrokenPipe)` (`MSG_NOSIGNAL`; `SO_NOSIGPIPE` elsewhere).
pub(crate) fn send(s: &Socket, buf: &[u8]) -> io::Result<usize> {
    s.send_with_flags(buf, SEND_FLAGS)
}

/// Most slices one `sendmsg` takes (POSIX's minimum `IOV_MAX`; Linux's is the same).
const MAX_IOV: usize = 1024;

/// One `sendmsg` of several buffers, with the flags of [`send`]; more than
/// [`MAX_IOV`] slices are written in several calls (a short write, as the
/// `AsyncWrite` contract allows).
pub(crate) fn send_vectored(s: &Socket, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    let bufs = &bufs[..bufs.len().min(MAX_IOV)];
    s.send_vectored_with_flags(bufs, SEND_FLAGS)
}

/// A new non-blocking socket of the family of `addr`.
pub(crate) fn socket_for(addr: &SocketAddr, ty: Type) -> io::Result<Socket> {
    new_socket(Domain::for_address(*addr), ty)
}

/// Accepts one connection; the new socket is non-blocking and close-on-exec.
pub(crate) fn accept(listener: &Socket) -> io::Result<(Socket, SockAddr)> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        listener.accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let (s, a) = listener.accept()?;
        s.set_nonblocking(true)?;
        no_sigpipe(&s)?;
        Ok((s, a))
    }
}

/// Starts a non-blocking connect: `Ok(true)` connected at once, `Ok(false)` in progress.
pub(crate) fn start_connect(s: &Socket, addr: &SockAddr) -> io::Result<bool> {
    match s.connect(addr) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}

/// After write readiness: `Ok(true)` connected, `Ok(false)` still in progress.
pub(crate) fn connect_finished(s: &Socket) -> io::Result<bool> {
    if let Some(e) = s.take_error()? {
        return Err(e);
    }
    match s.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}
