//! smol's pieces: a single-threaded `async_executor::LocalExecutor` driven by
//! `async_io::block_on`, `async_io::Timer` and `async_io::Async` sockets — and
//! `smol-mt`, the same on a shared `async_executor::Executor` run by two threads (the
//! caller's, inside `block_on`, and one more), as smol's own examples spread work.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use async_executor::{Executor, LocalExecutor};
use async_io::{Async, Timer};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use crate::runtime::{NetRuntime, Runtime};

thread_local! {
    static EXECUTOR: LocalExecutor<'static> = const { LocalExecutor::new() };
}

pub struct Smol;

/// The executor `smol-mt` spawns on, shared by its two threads.
static SHARED: Executor<'static> = Executor::new();

/// smol on two threads: the caller's thread runs [`SHARED`] inside `block_on`; a
/// helper thread, started on first use, runs it for good (the process is a child
/// that measures one workload and exits).
pub struct SmolMt;

impl SmolMt {
    pub fn new() -> SmolMt {
        static HELPER: std::sync::Once = std::sync::Once::new();
        HELPER.call_once(|| {
            std::thread::Builder::new()
                .name("smol-mt-helper".into())
                .spawn(|| async_io::block_on(SHARED.run(std::future::pending::<()>())))
                .expect("spawn the smol-mt helper thread");
        });
        SmolMt
    }
}

impl Runtime for SmolMt {
    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        async_io::block_on(SHARED.run(fut))
    }

    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SHARED.spawn(fut)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    async fn sleep(d: Duration) {
        Timer::after(d).await;
    }

    type Keep = futures::channel::oneshot::Sender<()>;

    fn oneshot() -> (Self::Keep, impl Future<Output = ()> + Send + 'static) {
        smol_oneshot()
    }

    fn fire(keep: Self::Keep) {
        let _ = keep.send(());
    }
}

impl Runtime for Smol {
    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        EXECUTOR.with(|ex| async_io::block_on(ex.run(fut)))
    }

    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        EXECUTOR.with(|ex| ex.spawn(fut))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    async fn sleep(d: Duration) {
        Timer::after(d).await;
    }

    type Keep = futures::channel::oneshot::Sender<()>;

    fn oneshot() -> (Self::Keep, impl Future<Output = ()> + Send + 'static) {
        smol_oneshot()
    }

    fn fire(keep: Self::Keep) {
        let _ = keep.send(());
    }
}

/// smol has no oneshot of its own: `futures`' is what its users reach for.
fn smol_oneshot() -> (
    futures::channel::oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (keep, wait) = futures::channel::oneshot::channel();
    (keep, async move {
        let _ = wait.await;
    })
}

/// The same socket glue for both smol contenders.
macro_rules! smol_net {
    ($rt:ty) => {
        impl NetRuntime for $rt {
            type Listener = Async<TcpListener>;
            type Stream = Async<TcpStream>;

            async fn bind(addr: SocketAddr) -> io::Result<(Self::Listener, SocketAddr)> {
                let l = Async::<TcpListener>::bind(addr)?;
                let local = l.get_ref().local_addr()?;
                Ok((l, local))
            }

            async fn accept(l: &Self::Listener) -> io::Result<Self::Stream> {
                let (s, _) = l.accept().await?;
                s.get_ref().set_nodelay(true)?;
                Ok(s)
            }

            async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
                let s = Async::<TcpStream>::connect(addr).await?;
                s.get_ref().set_nodelay(true)?;
                Ok(s)
            }

            fn read<'a>(
                s: &'a mut Self::Stream,
                buf: &'a mut [u8],
            ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
                s.read(buf)
            }

            fn write_all<'a>(
                s: &'a mut Self::Stream,
                buf: &'a [u8],
            ) -> impl Future<Output = io::Result<()>> + Send + 'a {
                s.write_all(buf)
            }
        }
    };
}

smol_net!(Smol);
smol_net!(SmolMt);
