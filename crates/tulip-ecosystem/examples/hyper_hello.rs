//! hyper 1.x on tulip, no glue: a server that answers HTTP/1 and HTTP/2 on one port,
//! and a client of each kind.
//!
//! `cargo run -p tulip-ecosystem --example hyper_hello --features hyper` serves on a free port on
//! 127.0.0.1, fetches `/hello/tulip` over HTTP/1 and over HTTP/2, prints the two
//! answers and exits.
use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The service: one answer per request, naming the protocol it came over.
async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let name = req.uri().path().trim_start_matches("/hello/").to_string();
    let text = format!("hello, {name}! ({:?})", req.version());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

async fn main_task() -> Result<(), BoxError> {
    let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // The accept loop: one task per connection, HTTP/1 or HTTP/2 as the client speaks.
    let server = tulip::create_task(async move {
        loop {
            let (stream, _) = listener.accept().await?;
            tulip::create_task(async move {
                let svc = hyper::service::service_fn(hello);
                match tulip::hyper::server::serve(stream, svc).await {
                    // A cancel goes on up, as asyncio's CancelledError should.
                    Err(e) if e.is_cancelled() => Err(e),
                    Err(e) => {
                        eprintln!("connection: {e}");
                        Ok(())
                    }
                    Ok(()) => Ok(()),
                }
            })?;
        }
        #[allow(unreachable_code)]
        Ok::<_, tulip::net::Error>(())
    })?;

    // An HTTP/1 client: the connection's driver runs as its own task.
    let mut h1 = tulip::hyper::client::connect(addr).await?;
    let resp = h1
        .send_request(Request::get("/hello/tulip").body(Empty::<Bytes>::new())?)
        .await?;
    let body = resp.into_body().collect().await?.to_bytes();
    println!("HTTP/1: {}", String::from_utf8_lossy(&body));

    // An HTTP/2 client (prior knowledge), on the same server.
    let mut h2 = tulip::hyper::client::connect_http2(addr).await?;
    let resp = h2
        .send_request(Request::get("/hello/tulip").body(Empty::<Bytes>::new())?)
        .await?;
    let body = resp.into_body().collect().await?.to_bytes();
    println!("HTTP/2: {}", String::from_utf8_lossy(&body));

    // Done: stop the server (tulip::run would also cancel it on the way out).
    server.cancel();
    Ok(())
}

fn main() -> Result<(), BoxError> {
    tulip::run(main_task())
}
