//! A child's standard streams on the parent's side: non-blocking pipe ends registered
//! with the running loop's reactor, as `futures::io` byte streams.

use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};
use tulip_reactor::Direction;

use crate::error::Result;
use crate::io::Io;

/// A pipe pair whose both ends close on exec (so children spawned at the same time by
/// other threads never inherit them).
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

fn register(fd: OwnedFd) -> Result<Io<OwnedFd>> {
    rustix::io::ioctl_fionbio(&fd, true).map_err(io::Error::from)?;
    Io::new(fd)
}

/// The read end of a pipe from a child (its stdout or stderr). `Ok(0)` from a read is
/// end of file: the child (and every process it passed the pipe to) closed it.
#[derive(Debug)]
pub struct PipeReader {
    io: Io<OwnedFd>,
}

impl PipeReader {
    /// Makes `fd` non-blocking and registers it with the running loop's reactor.
    pub(crate) fn new(fd: OwnedFd) -> Result<PipeReader> {
        Ok(PipeReader { io: register(fd)? })
    }
}

impl AsyncRead for PipeReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(tulip_core::coop::poll_proceed(cx));
        self.io.poll_op(Direction::Read, cx, |fd| {
            rustix::io::read(fd, &mut *buf).map_err(io::Error::from)
        })
    }
}

/// The write end of a pipe to a child (its stdin). Closing it (`poll_close`) closes
/// the descriptor, so the child reads end of file.
#[derive(Debug)]
pub struct PipeWriter {
    io: Option<Io<OwnedFd>>,
}

impl PipeWriter {
    /// Makes `fd` non-blocking and registers it with the running loop's reactor.
    pub(crate) fn new(fd: OwnedFd) -> Result<PipeWriter> {
        Ok(PipeWriter {
            io: Some(register(fd)?),
        })
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the pipe was closed")
}

impl AsyncWrite for PipeWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let Some(io) = self.io.as_ref() else {
            return Poll::Ready(Err(closed()));
        };
        ready!(tulip_core::coop::poll_proceed(cx));
        // A child that closed its end makes this EPIPE (Rust ignores SIGPIPE at
        // start-up, so the process is not killed).
        io.poll_op(Direction::Write, cx, |fd| {
            rustix::io::write(fd, buf).map_err(io::Error::from)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        drop(self.io.take());
        Poll::Ready(Ok(()))
    }
}
