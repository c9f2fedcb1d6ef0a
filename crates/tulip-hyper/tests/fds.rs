//! No descriptor outlives its connection: HTTP/1 and HTTP/2 connections, served and
//! driven by tulip-hyper's tasks, leave the process's descriptor count where it was
//! once the loop is gone. One test in its own binary, so no other test opens files
//! meanwhile; the scenarios run one after the other.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::BoxError;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use tulip_net::TcpListener;

/// Connections per protocol.
const CONNS: usize = 10;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// The descriptor count once it has not changed for 100 ms (bounded: 10 s).
fn steady_fds() -> usize {
    let start = Instant::now();
    let mut last = open_fds();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let n = open_fds();
        if n == last || start.elapsed() > Duration::from_secs(10) {
            return n;
        }
        last = n;
    }
}

/// Waits (bounded, 10 s) for the descriptor count to come back to `want`; threads
/// of a closed loop may still be releasing theirs.
fn settles_at(want: usize) -> usize {
    let start = Instant::now();
    loop {
        let n = open_fds();
        if n <= want || start.elapsed() > Duration::from_secs(10) {
            return n;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    Ok(Response::new(Full::new(Bytes::from_static(b"hi"))))
}

/// CONNS HTTP/1 and CONNS HTTP/2 connections, each with a few requests, each served
/// by its own task through `server::serve`; the clients close, the servers end.
fn traffic(lp: tulip_core::EventLoop) {
    lp.run_until_complete(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tulip_core::create_task(async move {
            let mut served = Vec::new();
            for _ in 0..2 * CONNS {
                let (stream, _) = listener.accept().await?;
                served.push(tulip_core::create_task(async move {
                    tulip_hyper::server::serve(stream, hyper::service::service_fn(hello)).await
                })?);
            }
            for s in served {
                s.await?;
            }
            Ok::<_, BoxError>(())
        })?;
        for _ in 0..CONNS {
            let mut h1 = tulip_hyper::client::connect(addr).await?;
            for _ in 0..3 {
                h1.ready().await?;
                let resp = h1.send_request(Request::get("/").body(Full::new(Bytes::new()))?);
                assert_eq!(resp.await?.into_body().collect().await?.to_bytes(), "hi");
            }
        }
        for _ in 0..CONNS {
            let mut h2 = tulip_hyper::client::connect_http2(addr).await?;
            for _ in 0..3 {
                let resp = h2.send_request(Request::get("/").body(Full::new(Bytes::new()))?);
                assert_eq!(resp.await?.into_body().collect().await?.to_bytes(), "hi");
            }
        }
        server.await?;
        Ok::<_, BoxError>(())
    })
    .unwrap();
    lp.close().unwrap();
}

#[test]
fn no_descriptor_leaks() {
    // Warm up once per executor first: lazily created process-wide descriptors
    // (the blocking pool's, say) are not leaks.
    traffic(tulip_local::new_event_loop().unwrap());
    traffic(tulip_threaded::new_event_loop().unwrap());
    let before = steady_fds();
    for factory in [tulip_local::new_event_loop, tulip_threaded::new_event_loop] {
        traffic(factory().unwrap());
        let after = settles_at(before);
        assert_eq!(after, before, "descriptors: {before} before, {after} after");
    }
}
