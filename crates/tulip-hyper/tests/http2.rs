//! HTTP/2 on tulip through tulip-hyper: 20 concurrent streams on one connection,
//! each checking its own body; the automatic server picks HTTP/2 from the preface.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{payload, record_reports, run_unreported, transformed, within, BoxError, Factory};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, Version};
use tulip_net::TcpListener;

/// Concurrent streams per connection.
const STREAMS: usize = 20;

/// Echoes the body transformed; `x-stream` repeats the request's path. Each
/// handler waits at a barrier of [`STREAMS`] parties before answering, so the test
/// passes only if all the streams are in flight at once (bounded: 10 s).
async fn echo(
    req: Request<Incoming>,
    served: Arc<AtomicUsize>,
    all_in: tulip_sync::Barrier,
) -> Result<Response<Full<Bytes>>, BoxError> {
    assert_eq!(req.version(), Version::HTTP_2);
    let path = req.uri().path().to_string();
    let body = req.into_body().collect().await?.to_bytes();
    let arrived = async move { all_in.wait().await.map(drop) };
    tulip_sync::wait_for(arrived, Duration::from_secs(10))
        .await
        .map_err(|e| format!("{path}: not all streams arrived: {e}"))?;
    served.fetch_add(1, Ordering::SeqCst);
    let mut resp = Response::new(Full::new(Bytes::from(transformed(&body))));
    resp.headers_mut().insert("x-stream", path.parse()?);
    Ok(resp)
}

/// Starts a server for one connection (`auto`: automatic protocol, else HTTP/2
/// only), opens an HTTP/2 client, runs [`STREAMS`] requests at once, each from its
/// own task, and checks every answer against its own request.
fn streams(new_loop: Factory, auto: bool) {
    let lp = new_loop().unwrap();
    let reports = record_reports(&lp);
    let served = Arc::new(AtomicUsize::new(0));
    let s = served.clone();
    within(Duration::from_secs(60), || {
        lp.run_until_complete(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = tulip_core::create_task(async move {
                let (stream, _) = listener.accept().await?;
                let all_in = tulip_sync::Barrier::new(STREAMS);
                let svc =
                    hyper::service::service_fn(move |req| echo(req, s.clone(), all_in.clone()));
                if auto {
                    tulip_hyper::server::serve(stream, svc).await?;
                } else {
                    tulip_hyper::server::serve_http2(stream, svc).await?;
                }
                Ok::<_, BoxError>(())
            })?;
            let sender = tulip_hyper::client::connect_http2(addr).await?;
            let mut clients = Vec::new();
            for i in 0..STREAMS {
                let mut sender = sender.clone();
                clients.push(tulip_core::create_task(async move {
                    // Sizes from 0 to past h2's 64 KiB initial window.
                    let body = payload(i as u64 + 7, i * 4099);
                    let req = Request::post(format!("/s{i}"))
                        .body(Full::new(Bytes::from(body.clone())))?;
                    let resp = sender.send_request(req).await?;
                    assert_eq!(resp.status(), StatusCode::OK);
                    assert_eq!(resp.version(), Version::HTTP_2);
                    assert_eq!(resp.headers()["x-stream"], format!("/s{i}").as_str());
                    let got = resp.into_body().collect().await?.to_bytes();
                    assert_eq!(got.len(), body.len(), "stream {i}: length");
                    assert!(
                        got[..] == transformed(&body)[..],
                        "stream {i}: bytes differ"
                    );
                    Ok::<_, BoxError>(i)
                })?);
            }
            let mut done = Vec::new();
            for c in clients {
                done.push(c.await?);
            }
            assert_eq!(done, (0..STREAMS).collect::<Vec<_>>());
            drop(sender);
            server.await?;
            Ok::<_, BoxError>(())
        })
        .unwrap();
    });
    assert_eq!(served.load(Ordering::SeqCst), STREAMS);
    // hyper's per-stream tasks were spawned detached and ended well: no reports.
    assert_eq!(reports.take(), Vec::<String>::new());
}

fn concurrent_streams(new_loop: Factory) {
    streams(new_loop, false);
}

fn concurrent_streams_auto(new_loop: Factory) {
    streams(new_loop, true);
}

/// An HTTP/2 server whose service is not `Send` (it counts in an `Rc<Cell>`), on
/// `server::http2_local()`: the connection runs as a local task, its streams as
/// local tasks on the same thread; 20 concurrent requests each get their own body
/// back and the counter sees all 20.
fn local_service_streams(new_loop: Factory) {
    use std::cell::Cell;
    use std::rc::Rc;

    run_unreported(new_loop, Duration::from_secs(60), async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let count = Rc::new(Cell::new(0usize));
        let seen = count.clone();
        let server = tulip_core::spawn_local(async move {
            let (stream, _) = listener.accept().await?;
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let count = count.clone();
                async move {
                    let body = req.into_body().collect().await?.to_bytes();
                    count.set(count.get() + 1);
                    Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from(transformed(&body)))))
                }
            });
            let conn = tulip_hyper::server::http2_local()
                .serve_connection(tulip_hyper::TulipIo::new(stream), svc);
            tulip_hyper::Cancellable::new(conn).await??;
            Ok::<_, BoxError>(())
        })?;
        let sender = tulip_hyper::client::connect_http2(addr).await?;
        let mut clients = Vec::new();
        for i in 0..STREAMS {
            let mut sender = sender.clone();
            clients.push(tulip_core::create_task(async move {
                let body = payload(i as u64 + 99, 1000 + i);
                let req = Request::post("/").body(Full::new(Bytes::from(body.clone())))?;
                let got = sender
                    .send_request(req)
                    .await?
                    .into_body()
                    .collect()
                    .await?;
                assert!(got.to_bytes()[..] == transformed(&body)[..], "stream {i}");
                Ok::<_, BoxError>(())
            })?);
        }
        for c in clients {
            c.await?;
        }
        drop(sender);
        server.await?;
        assert_eq!(seen.get(), STREAMS);
        Ok::<_, BoxError>(())
    });
}

per_executor!(
    concurrent_streams,
    concurrent_streams_auto,
    local_service_streams
);
