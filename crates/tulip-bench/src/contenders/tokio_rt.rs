//! tokio, `current_thread` and `multi_thread` (2 workers).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::runtime::{NetRuntime, Runtime};

pub struct Tokio(tokio::runtime::Runtime);

impl Tokio {
    pub fn current_thread() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio current_thread runtime");
        Tokio(rt)
    }

    pub fn multi_thread() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio multi_thread runtime");
        Tokio(rt)
    }
}

impl Runtime for Tokio {
    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.0.block_on(fut)
    }

    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::spawn(fut);
        // As tulip's adapter: the handle, not an `async` block holding it twice.
        futures::FutureExt::map(handle, |r| r.expect("tokio task failed"))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }

    type Keep = tokio::sync::oneshot::Sender<()>;

    fn oneshot() -> (Self::Keep, impl Future<Output = ()> + Send + 'static) {
        let (keep, wait) = tokio::sync::oneshot::channel();
        (keep, async move {
            let _ = wait.await;
        })
    }

    fn fire(keep: Self::Keep) {
        let _ = keep.send(());
    }
}

impl NetRuntime for Tokio {
    type Listener = TcpListener;
    type Stream = TcpStream;

    async fn bind(addr: SocketAddr) -> io::Result<(TcpListener, SocketAddr)> {
        let l = TcpListener::bind(addr).await?;
        let local = l.local_addr()?;
        Ok((l, local))
    }

    async fn accept(l: &TcpListener) -> io::Result<TcpStream> {
        let (s, _) = l.accept().await?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    fn read<'a>(
        s: &'a mut TcpStream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        s.read(buf)
    }

    fn write_all<'a>(
        s: &'a mut TcpStream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        s.write_all(buf)
    }
}

impl crate::runtime::HyperRuntime for Tokio {
    async fn serve_hello(s: TcpStream) -> io::Result<()> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        let svc = hyper::service::service_fn(|_req| async {
            let body = http_body_util::Full::new(bytes::Bytes::from_static(
                crate::workloads::hyper_hello::HELLO,
            ));
            Ok::<_, std::convert::Infallible>(hyper::Response::new(body))
        });
        hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(s), svc)
            .await
            .map_err(io::Error::other)
    }
}
