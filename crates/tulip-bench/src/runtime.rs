//! The small surface every Rust contender exposes, so each workload is written once.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// Task spawning, yielding and timers: what the non-network workloads need.
///
/// Everything a workload spawns is `Send + 'static` so the same code runs on a
/// multi-threaded scheduler too.
pub trait Runtime: 'static {
    /// Drives `fut` to completion on the calling thread (the workload's "main").
    fn block_on<F: Future>(&self, fut: F) -> F::Output;

    /// Spawns a task on the running scheduler; the returned future yields its output.
    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Gives the scheduler a chance to run other tasks.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Sleeps for `d`.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;

    /// The completing end of [`oneshot`](Runtime::oneshot), kept by the workload.
    type Keep: Send + 'static;

    /// A one-shot channel of the runtime's own kind (tulip's `Promise`, tokio's
    /// `oneshot`; `futures`' oneshot for smol, which has none): the future waits until
    /// [`fire`](Runtime::fire) completes it.
    fn oneshot() -> (Self::Keep, impl Future<Output = ()> + Send + 'static);

    /// Completes the one-shot channel whose end this is.
    fn fire(keep: Self::Keep);
}

/// TCP on top of [`Runtime`]: what `tcp_echo` needs.
pub trait NetRuntime: Runtime {
    type Listener: Send + Sync + 'static;
    type Stream: Send + 'static;

    /// Binds a listener and reports the address it got (port 0 picks one).
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<(Self::Listener, SocketAddr)>>;

    /// Accepts one connection, with `TCP_NODELAY` set.
    fn accept(l: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;

    /// Connects, with `TCP_NODELAY` set.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// One read; `Ok(0)` is end of stream.
    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;

    /// Writes all of `buf`.
    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

/// hyper on top of [`NetRuntime`]: what `hyper_hello` needs.
pub trait HyperRuntime: NetRuntime {
    /// Serves hyper's HTTP/1 hello world (`200 OK`, body
    /// [`HELLO`](crate::workloads::hyper_hello::HELLO)) on one accepted connection,
    /// with the runtime's hyper timer set (so hyper's default 30 s header-read
    /// timeout is armed for each request, as in a real server), until the client
    /// closes it.
    fn serve_hello(s: Self::Stream) -> impl Future<Output = io::Result<()>> + Send + 'static;
}
