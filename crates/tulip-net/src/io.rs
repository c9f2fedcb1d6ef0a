//! The one place sockets meet the reactor.
//!
//! [`Io<T>`] is a non-blocking socket registered with the running loop's reactor. Every
//! operation follows the same edge-triggered recipe: wait until the direction may be
//! ready (a fresh source starts ready, so the first try is the syscall itself), run the
//! syscall, and on `WouldBlock` clear readiness with the tick that was observed, so an
//! edge that arrived meanwhile is never lost. A short *write* means the socket's send
//! buffer is full: write readiness is cleared at once (the next edge comes when space
//! frees, or with the error if the peer resets), which saves a failing syscall.
//!
//! A short *read* does not clear read readiness, although it usually means the socket
//! is drained: when the peer's FIN arrived together with the last data, the read
//! returns the data, the next read returns 0, and no further edge will come. Knowing
//! that would take `EPOLLRDHUP`, which the `polling` crate neither registers nor
//! reports, so the reader pays one `WouldBlock` read instead of risking a lost
//! end-of-stream (the `streams_reader` tests catch exactly that).
//!
//! Writes go through `send` with `MSG_NOSIGNAL` (`SO_NOSIGPIPE` on Apple systems, set
//! when the socket is made), so writing to a peer that has gone is `Err(BrokenPipe)`
//! whatever the process's SIGPIPE disposition; a plain `write` would kill a process
//! that left SIGPIPE at its default action (Rust ignores it at start-up, C hosts and
//! some embedders do not).
//!
//! [`cancel_point`] turns a poll function into a tulip await point: each poll first
//! takes the task's pending cancel request (the cancellation protocol of tulip-core),
//! then spends one unit of the task's cooperative budget
//! (`tulip::coop::poll_proceed`): once a task has done 128 ready operations in
//! one poll, the await point wakes it and returns `Pending`, so a task reading a fast
//! socket lets the others run, as asyncio's one-callback-per-iteration does. The
//! budget is spent before anything is taken, so that `Pending` changes nothing.
//! The internal drivers (a protocol's transport, a writer's flusher) use the
//! `poll_*` functions directly and bound their own loops; the public `poll_*`
//! forms and the `futures::io` traits spend the budget too.

use std::future::Future;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use socket2::Socket;
use tulip_reactor::{Direction, Registered};

use crate::error::{Error, Result};

/// A non-blocking I/O object registered with a reactor.
#[derive(Debug)]
pub(crate) struct Io<T: AsFd> {
    reg: Registered<T>,
}

impl<T: AsFd> Io<T> {
    /// Registers `io` (already non-blocking) with the running loop's reactor.
    pub(crate) fn new(io: T) -> Result<Io<T>> {
        let lp = tulip_core::get_running_loop()?;
        let reg = lp.reactor().register(io)?;
        Ok(Io { reg })
    }

    pub(crate) fn get(&self) -> &T {
        self.reg.get_ref()
    }

    /// Readiness for `dir`; on `Pending`, tells the task dump the task waits on this
    /// descriptor.
    #[inline]
    fn poll_dir(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<u64> {
        let p = self.reg.source().poll_ready(dir, cx);
        if p.is_pending() {
            crate::introspect::note_io(self.get().as_fd().as_raw_fd(), dir);
        }
        p
    }

    /// Runs `op` once readiness in `dir` allows, until it does not block.
    pub(crate) fn poll_op<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let source = self.reg.source();
        loop {
            let tick = ready!(self.poll_dir(dir, cx));
            match op(self.get()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => source.clear_ready(dir, tick),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Poll::Ready(r),
            }
        }
    }

    /// Tries `op` now if the direction may be ready; `None` when it would block.
    pub(crate) fn try_op<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Option<io::Result<R>> {
        let source = self.reg.source();
        loop {
            let tick = source.ready_tick(dir)?;
            match op(self.get()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => source.clear_ready(dir, tick),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Some(r),
            }
        }
    }
}

impl Io<Socket> {
    /// One read into `buf`; `Ok(0)` is end of stream (or an empty `buf`).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let source = self.reg.source();
        loop {
            let tick = ready!(self.poll_dir(Direction::Read, cx));
            match self.get().read(buf) {
                Ok(n) => {
                    if n < buf.len() && n > 0 {
                        // Drained, as far as the reactor can tell: the next read
                        // waits for an edge rather than trying a `recv` first.
                        source.short_read(tick);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    source.clear_ready(Direction::Read, tick)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// One write of (a prefix of) `buf`.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let source = self.reg.source();
        loop {
            let tick = ready!(self.poll_dir(Direction::Write, cx));
            match crate::sys::send(self.get(), buf) {
                Ok(n) => {
                    if n < buf.len() {
                        source.clear_ready(Direction::Write, tick);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    source.clear_ready(Direction::Write, tick)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// One vectored write (`sendmsg`) of (a prefix of) `bufs`, with the readiness
    /// recipe of [`poll_write`](Self::poll_write).
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        let source = self.reg.source();
        loop {
            let tick = ready!(self.poll_dir(Direction::Write, cx));
            match crate::sys::send_vectored(self.get(), bufs) {
                Ok(n) => {
                    if n < total {
                        source.clear_ready(Direction::Write, tick);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    source.clear_ready(Direction::Write, tick)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// [`poll_read`](Self::poll_read) as a tulip await point.
    pub(crate) async fn read(&self, buf: &mut [u8]) -> Result<usize> {
        cancel_point(|cx| self.poll_read(cx, buf).map_err(Error::from)).await
    }

    /// [`poll_write`](Self::poll_write) as a tulip await point.
    pub(crate) async fn write(&self, buf: &[u8]) -> Result<usize> {
        cancel_point(|cx| self.poll_write(cx, buf).map_err(Error::from)).await
    }

    /// Writes all of `buf`; `WriteZero` if the socket took nothing.
    pub(crate) async fn write_all(&self, mut buf: &[u8]) -> Result<()> {
        while !buf.is_empty() {
            let n = self.write(buf).await?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::WriteZero).into());
            }
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Writes what the socket takes now, without waiting: `Ok(0)` when it is full.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let source = self.reg.source();
        let Some(tick) = source.ready_tick(Direction::Write) else {
            return Ok(0);
        };
        loop {
            match crate::sys::send(self.get(), buf) {
                Ok(n) => {
                    if n < buf.len() {
                        source.clear_ready(Direction::Write, tick);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    source.clear_ready(Direction::Write, tick);
                    return Ok(0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// `AsFd` / `AsRawFd` for a type holding its socket in `self.io`, so that
/// `socket2::SockRef::from(&x)` reaches any socket option.
macro_rules! impl_as_fd {
    ($ty:ty) => {
        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(self.io.get())
            }
        }

        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.io.get())
            }
        }
    };
}

pub(crate) use impl_as_fd;

/// A tulip await point built from a poll function: takes the task's cancel request
/// first, then spends one unit of the task's budget, then polls.
pub(crate) struct CancelPoint<F> {
    f: F,
}

/// Wraps `f` as an await point (see the module docs).
pub(crate) fn cancel_point<R, F>(f: F) -> CancelPoint<F>
where
    F: FnMut(&mut Context<'_>) -> Poll<Result<R>> + Unpin,
{
    CancelPoint { f }
}

impl<R, F> Future for CancelPoint<F>
where
    F: FnMut(&mut Context<'_>) -> Poll<Result<R>> + Unpin,
{
    type Output = Result<R>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<R>> {
        if let Some(c) = tulip_core::take_cancel() {
            return Poll::Ready(Err(Error::Cancelled(c)));
        }
        ready!(tulip_core::coop::poll_proceed(cx));
        (self.f)(cx)
    }
}
