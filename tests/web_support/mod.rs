//! What the tulip-web tests share: the test application, a raw-socket exchange that
//! reports whether the server closed, and a loop runner.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::Factory;
use tulip::web::{Application, HttpException, Request, Response, Server, StatusCode};

use crate::common;

/// The longest any raw exchange may take before the test fails.
pub const EXCHANGE_BOUND: Duration = Duration::from_secs(20);

/// Runs `fut` on a fresh loop of `new_loop`'s executor and closes the loop.
pub fn run<T>(new_loop: Factory, fut: impl Future<Output = T>) -> T {
    let lp = new_loop().unwrap();
    let out = lp.run_until_complete(async move { Ok::<_, tulip::Error>(fut.await) });
    lp.close().unwrap();
    out.unwrap()
}

/// Counts what reached the handlers.
#[derive(Clone, Default)]
pub struct Hits {
    pub smuggled: Arc<AtomicUsize>,
    pub body_bytes: Arc<AtomicUsize>,
    pub served: Arc<AtomicUsize>,
}

impl Hits {
    pub fn smuggled(&self) -> usize {
        self.smuggled.load(Ordering::SeqCst)
    }
}

/// [`test_app`], counting nothing, serving on an ephemeral port of 127.0.0.1.
pub async fn serve_test_app() -> Server {
    test_app(&Hits::default())
        .serve("127.0.0.1:0")
        .await
        .unwrap()
}

/// Seed 002's routes, plus what the tests need: an echo that reads the body, a
/// route smuggled requests aim at, a panicking route, a redirect built from the path.
pub fn test_app(hits: &Hits) -> Application {
    let mut app = Application::new();
    let (smuggled, body_bytes, served) = (
        hits.smuggled.clone(),
        hits.body_bytes.clone(),
        hits.served.clone(),
    );
    app.router
        .add_route("GET", "/", |_r: Request| async {
            tulip::sleep(Duration::from_millis(500)).await?;
            Response::new(b"<h1>Index</h1>".to_vec()).content_type("text/html")
        })
        .add_route("GET", "/hello/{name}", |r: Request| async move {
            tulip::sleep(Duration::from_millis(500)).await?;
            let text = format!("<h1>hello, {}!</h1>", r.match_info["name"]);
            Response::new(text.into_bytes()).content_type("text/html")
        })
        .add_route("POST", "/echo", |mut r: Request| async move {
            let body = r.text().await?;
            Ok::<_, tulip::web::Error>(Response::text(format!("{} {}", r.method(), body)))
        })
        .add_route("*", "/smuggled", move |_r: Request| {
            smuggled.fetch_add(1, Ordering::SeqCst);
            async { "smuggled" }
        })
        .add_route("POST", "/count", move |mut r: Request| {
            let body_bytes = body_bytes.clone();
            async move {
                while let Some(piece) = r.chunk().await? {
                    body_bytes.fetch_add(piece.len(), Ordering::SeqCst);
                }
                Ok::<_, tulip::web::Error>("counted")
            }
        })
        .add_route("GET", "/slow/{ms}", move |r: Request| {
            served.fetch_add(1, Ordering::SeqCst);
            async move {
                let ms: u64 = r.match_info["ms"]
                    .parse()
                    .map_err(|_| HttpException::bad_request())?;
                tulip::sleep(Duration::from_millis(ms)).await?;
                Ok::<_, tulip::web::Error>(format!("slept {ms}"))
            }
        })
        .add_route("GET", "/panic", |_r: Request| async {
            if true {
                panic!("handler bug");
            }
            "unreachable"
        })
        // Panics in the handler function itself, before it gives a future.
        .add_route(
            "GET",
            "/panic-early",
            |_r: Request| -> std::future::Ready<&'static str> {
                panic!("handler bug before its future")
            },
        )
        .add_route("GET", "/go/{to}", |r: Request| async move {
            Response::text("moved")
                .with_status(StatusCode::FOUND)
                .header("Location", &r.match_info["to"])
        });
    app
}

/// What the server sent on one raw connection, and whether it closed it.
#[derive(Debug)]
pub struct Reply {
    pub text: String,
    pub closed: bool,
}

impl Reply {
    /// How many responses (status lines) the reply holds.
    pub fn responses(&self) -> usize {
        self.text.matches("HTTP/1.1 ").count() + self.text.matches("HTTP/1.0 ").count()
    }
}

/// Sends `request` on a new connection and reads until the server closes it or
/// `wait` passes (then `closed` is false).
pub async fn raw_for(addr: SocketAddr, request: &[u8], wait: Duration) -> Reply {
    let (mut r, w) = tulip::net::open_connection(addr).await.unwrap();
    w.write(request);
    w.drain().await.unwrap();
    let mut got = Vec::new();
    let closed = bounded(wait, async {
        loop {
            match r.read(64 * 1024).await {
                Ok(piece) if piece.is_empty() => return true,
                Ok(piece) => got.extend_from_slice(&piece),
                Err(_) => return true, // reset by the server: closed too
            }
        }
    })
    .await
    .unwrap_or(false);
    w.close();
    Reply {
        text: String::from_utf8_lossy(&got).into_owned(),
        closed,
    }
}

/// [`raw_for`] with the test bound: a reply from a server that must close.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    raw_for(addr, request, EXCHANGE_BOUND).await
}

/// `fut`'s output, or `None` if `limit` passes first.
pub async fn bounded<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    let timer = tulip::sleep(limit);
    futures::pin_mut!(fut, timer);
    match futures::future::select(fut, timer).await {
        futures::future::Either::Left((v, _)) => Some(v),
        futures::future::Either::Right(_) => None,
    }
}
