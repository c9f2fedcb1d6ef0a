//! The speed figure's reference: the same hello answer from hyper 1.x on tokio.
//!
//! `cargo run --release -p tulip-web --example hyper_tokio_hello -- current_thread|multi_thread [ADDR]`
//! (default 127.0.0.1:8081) serves until killed.
use std::convert::Infallible;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, SERVER};
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut resp = Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(SERVER, HeaderValue::from_static("hyper"));
    Ok(resp)
}

async fn serve(addr: String) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("hyper on tokio on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let mut b = auto::Builder::new(TokioExecutor::new());
            b.http1().timer(TokioTimer::new());
            let _ = b
                .serve_connection(TokioIo::new(stream), hyper::service::service_fn(hello))
                .await;
        });
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flavor = args.first().map_or("current_thread", String::as_str);
    let addr = args
        .get(1)
        .map_or("127.0.0.1:8081", String::as_str)
        .to_string();
    let rt = match flavor {
        "current_thread" => tokio::runtime::Builder::new_current_thread(),
        "multi_thread" => tokio::runtime::Builder::new_multi_thread(),
        other => {
            return Err(format!("unknown flavor {other:?}: current_thread or multi_thread").into())
        }
    }
    .enable_all()
    .build()?;
    rt.block_on(serve(addr))?;
    Ok(())
}
