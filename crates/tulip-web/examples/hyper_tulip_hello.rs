//! The speed figure's middle column: hyper on tulip through tulip-hyper's glue with
//! no tulip-web in between, so the figure splits into what the runtime costs and
//! what tulip-web's layer costs.
//!
//! `cargo run --release -p tulip-web --example hyper_tulip_hello -- local|threaded [ADDR]`
use std::convert::Infallible;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, SERVER};
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let executor = args.first().map_or("local", String::as_str);
    let addr = args
        .get(1)
        .map_or("127.0.0.1:8082", String::as_str)
        .to_string();
    let lp = match executor {
        "local" => tulip_local::new_event_loop()?,
        "threaded" => tulip_threaded::new_event_loop()?,
        other => return Err(format!("unknown executor {other:?}: local or threaded").into()),
    };
    lp.run_until_complete(async move {
        let listener = tulip_net::TcpListener::bind(addr).await?;
        println!(
            "hyper on tulip ({executor}) on http://{}",
            listener.local_addr()?
        );
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tulip_core::create_task(async move {
                let _ = tulip_hyper::server::serve(stream, hyper::service::service_fn(hello)).await;
                Ok::<(), tulip_core::Error>(())
            })?;
        }
        #[allow(unreachable_code)]
        Ok::<(), tulip_net::Error>(())
    })?;
    Ok(())
}
