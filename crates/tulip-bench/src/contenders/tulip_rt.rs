//! tulip: `tulip-local` is the single-threaded loop from `tulip::new_event_loop()`;
//! `tulip-threaded` the work-stealing loop (cargo feature `tulip-threaded`).

use crate::workloads::{Metrics, Params};

#[cfg(feature = "tulip")]
mod rt {
    use std::future::Future;
    use std::time::Duration;

    use crate::runtime::Runtime;

    /// One event loop per child process; closed when dropped.
    pub struct Tulip(tulip::EventLoop);

    impl Tulip {
        pub fn new(lp: Result<tulip::EventLoop, tulip::Error>) -> Result<Self, String> {
            lp.map(Tulip)
                .map_err(|e| format!("cannot create the loop: {e}"))
        }
    }

    impl Drop for Tulip {
        fn drop(&mut self) {
            let _ = self.0.close();
        }
    }

    impl Runtime for Tulip {
        fn block_on<F: Future>(&self, fut: F) -> F::Output {
            // A task body returns a `Result`; the workloads' futures cannot fail.
            self.0
                .run_until_complete(async move { Ok::<_, tulip::Error>(fut.await) })
                .expect("tulip run_until_complete")
        }

        fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
        {
            // A task body returns a `Result`. `map(Ok)` stores `fut` once; an `async`
            // block around it would hold it twice in the task's cell (as the captured
            // value and as the awaited one), where tokio and smol store it once. A
            // body written for tulip returns its `Ok` itself and pays neither.
            let task = tulip::create_task(futures::FutureExt::map(fut, Ok::<_, tulip::Error>))
                .expect("tulip::create_task");
            // The handle itself, not an `async` block around it, for the same reason:
            // smol's adapter stores the bare `Task` too.
            futures::FutureExt::map(task, |r| r.expect("tulip task failed"))
        }

        async fn yield_now() {
            tulip::yield_now().await.expect("tulip::yield_now");
        }

        async fn sleep(d: Duration) {
            tulip::sleep(d).await.expect("tulip::sleep");
        }

        type Keep = tulip::Promise<()>;

        fn oneshot() -> (Self::Keep, impl Future<Output = ()> + Send + 'static) {
            let keep = tulip::Promise::new();
            let wait = keep.clone();
            (keep, async move {
                let _ = wait.await;
            })
        }

        fn fire(keep: Self::Keep) {
            keep.set_result(()).expect("the promise is completed once");
        }
    }
}

#[cfg(feature = "tulip-net")]
mod net {
    use std::io;
    use std::net::SocketAddr;

    use tulip::net::{TcpListener, TcpStream};

    use super::rt::Tulip;
    use crate::runtime::NetRuntime;

    impl NetRuntime for Tulip {
        type Listener = TcpListener;
        type Stream = TcpStream;

        async fn bind(addr: SocketAddr) -> io::Result<(TcpListener, SocketAddr)> {
            let l = TcpListener::bind(addr).await.map_err(io::Error::from)?;
            let local = l.local_addr()?;
            Ok((l, local))
        }

        async fn accept(l: &TcpListener) -> io::Result<TcpStream> {
            let (s, _) = l.accept().await.map_err(io::Error::from)?;
            s.set_nodelay(true)?;
            Ok(s)
        }

        async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
            let s = TcpStream::connect(addr).await.map_err(io::Error::from)?;
            s.set_nodelay(true)?;
            Ok(s)
        }

        async fn read(s: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
            s.read(buf).await.map_err(io::Error::from)
        }

        async fn write_all(s: &mut TcpStream, buf: &[u8]) -> io::Result<()> {
            s.write_all(buf).await.map_err(io::Error::from)
        }
    }
}

#[cfg(feature = "tulip-hyper")]
mod hyper_glue {
    use std::io;

    use tulip::net::TcpStream;

    use super::rt::Tulip;
    use crate::runtime::HyperRuntime;

    impl HyperRuntime for Tulip {
        async fn serve_hello(s: TcpStream) -> io::Result<()> {
            let svc = hyper::service::service_fn(|_req| async {
                let body = http_body_util::Full::new(bytes::Bytes::from_static(
                    crate::workloads::hyper_hello::HELLO,
                ));
                Ok::<_, std::convert::Infallible>(hyper::Response::new(body))
            });
            tulip::hyper::server::serve_http1(s, svc)
                .await
                .map_err(io::Error::other)
        }
    }
}

/// `web_hello`: the same clients as `hyper_hello`, served by tulip-web (an
/// `Application` with one route), the server a Python user of aiohttp would write.
#[cfg(feature = "tulip-web")]
mod web_glue {
    use tulip::web::{Application, Request, Response};

    use super::rt::Tulip;
    use crate::runtime::Runtime;
    use crate::workloads::{hyper_hello, Metrics, Params};

    pub fn run(rt: &Tulip, p: &Params) -> Result<Metrics, String> {
        let hello = std::str::from_utf8(hyper_hello::HELLO).expect("HELLO is text");
        hyper_hello::measure("web_hello", p, |bound, _conns, done| {
            rt.block_on(async move {
                let mut app = Application::new();
                app.router
                    .add_get("/", move |_r: Request| async move { Response::text(hello) });
                let srv = app.serve("127.0.0.1:0").await?;
                bound
                    .send(srv.local_addr())
                    .map_err(|_| tulip::Error::InvalidState("client driver is gone"))?;
                // Blocks a helper thread, not the loop, until the clients closed.
                let _ = tulip::to_thread(move || done.recv()).await?;
                srv.close();
                srv.wait_closed().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
            .map_err(|e| format!("web_hello server: {e}"))
        })
    }
}

/// Runs a workload on a tulip loop: every workload with `tulip-hyper` (and
/// `web_hello` with `tulip-web`), all but hyper_hello with `tulip-net`, the core
/// ones without.
#[cfg(feature = "tulip")]
fn run_on(rt: &rt::Tulip, workload: &str, p: &Params) -> Result<Metrics, String> {
    #[cfg(feature = "tulip-web")]
    if workload == "web_hello" {
        return web_glue::run(rt, p);
    }
    #[cfg(feature = "tulip-hyper")]
    return crate::workloads::run_hyper(rt, workload, p);
    #[cfg(all(feature = "tulip-net", not(feature = "tulip-hyper")))]
    return crate::workloads::run_any(rt, workload, p);
    #[cfg(not(feature = "tulip-net"))]
    crate::workloads::run_core(rt, workload, p)
        .ok_or_else(|| "built without the `tulip-net` feature".to_string())
}

#[cfg(feature = "tulip")]
pub fn run_local(workload: &str, p: &Params) -> Result<Metrics, String> {
    run_on(&rt::Tulip::new(tulip::new_event_loop())?, workload, p)
}

#[cfg(not(feature = "tulip"))]
pub fn run_local(_workload: &str, _p: &Params) -> Result<Metrics, String> {
    Err("built without the `tulip` feature".into())
}

#[cfg(feature = "tulip-threaded")]
pub fn run_threaded(workload: &str, p: &Params) -> Result<Metrics, String> {
    let lp = tulip::executors::threaded::new_event_loop();
    run_on(&rt::Tulip::new(lp)?, workload, p)
}

#[cfg(not(feature = "tulip-threaded"))]
pub fn run_threaded(_workload: &str, _p: &Params) -> Result<Metrics, String> {
    Err(
        "not built in (cargo feature `tulip-threaded`, off until tulip's threaded loop lands)"
            .into(),
    )
}
