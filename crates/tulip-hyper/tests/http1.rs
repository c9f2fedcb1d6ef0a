//! HTTP/1 on tulip through tulip-hyper: round trips with bodies checked byte for
//! byte, keep-alive, the header-read timeout, cancellation of a served connection.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{payload, run_unreported, transformed, BoxError, Factory};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tulip_net::{TcpListener, TcpStream};

/// Answers with the request body transformed, and says which request of its
/// connection this was (`x-nth`, from 1) and the method and path it saw.
fn echo_service(
    nth: Arc<AtomicUsize>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = hyper::Error,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, hyper::Error>> + Send,
> + Clone {
    hyper::service::service_fn(move |req: Request<Incoming>| {
        let n = nth.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            let seen = format!("{} {}", req.method(), req.uri().path());
            let body = req.into_body().collect().await?.to_bytes();
            let mut resp = Response::new(Full::new(Bytes::from(transformed(&body))));
            let h = resp.headers_mut();
            h.insert("x-nth", n.to_string().parse().unwrap());
            h.insert("x-seen", seen.parse().unwrap());
            Ok(resp)
        }
    })
}

/// One connection, requests with bodies from empty to 1 MiB + 1, each answer
/// checked byte for byte.
fn round_trip(new_loop: Factory) {
    run_unreported(new_loop, Duration::from_secs(60), async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tulip_core::create_task(async move {
            let (stream, _) = listener.accept().await?;
            let nth = Arc::new(AtomicUsize::new(0));
            tulip_hyper::server::serve_http1(stream, echo_service(nth)).await?;
            Ok::<_, BoxError>(())
        })?;
        let mut sender = tulip_hyper::client::connect(addr).await?;
        for (i, len) in [0usize, 1, 100, 64 * 1024 + 7, 1024 * 1024 + 1]
            .into_iter()
            .enumerate()
        {
            // hyper's HTTP/1 sender takes the next request only once the
            // connection task has finished the previous exchange.
            sender.ready().await?;
            let body = payload(i as u64 + 1, len);
            let req =
                Request::post(format!("/up/{i}")).body(Full::new(Bytes::from(body.clone())))?;
            let resp = sender.send_request(req).await?;
            assert_eq!(resp.status(), StatusCode::OK);
            assert_eq!(resp.headers()["x-seen"], format!("POST /up/{i}").as_str());
            assert_eq!(resp.headers()["x-nth"], (i + 1).to_string().as_str());
            let got = resp.into_body().collect().await?.to_bytes();
            assert_eq!(got.len(), len, "request {i}: length");
            assert!(
                got[..] == transformed(&body)[..],
                "request {i}: bytes differ"
            );
        }
        drop(sender);
        // The client's close ends the server's connection cleanly.
        server.await?;
        Ok::<_, BoxError>(())
    });
}

/// Ten sequential requests reuse one connection: the server accepts once, and
/// numbers the requests 1..=10 in order.
fn keep_alive(new_loop: Factory) {
    run_unreported(new_loop, Duration::from_secs(30), async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let acc = accepted.clone();
        let server = tulip_core::create_task(async move {
            let (stream, _) = listener.accept().await?;
            acc.fetch_add(1, Ordering::SeqCst);
            let nth = Arc::new(AtomicUsize::new(0));
            tulip_hyper::server::serve_http1(stream, echo_service(nth)).await?;
            Ok::<_, BoxError>(())
        })?;
        let mut sender = tulip_hyper::client::connect(addr).await?;
        for i in 1..=10usize {
            sender.ready().await?;
            let body = payload(100 + i as u64, 10 * i);
            let req = Request::put("/k").body(Full::new(Bytes::from(body.clone())))?;
            let resp = sender.send_request(req).await?;
            assert_eq!(resp.headers()["x-nth"], i.to_string().as_str());
            let got = resp.into_body().collect().await?.to_bytes();
            assert_eq!(got[..], transformed(&body)[..]);
        }
        drop(sender);
        server.await?;
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        Ok::<_, BoxError>(())
    });
}

/// A client that sends half a request head and waits: hyper's header-read timeout
/// (200 ms here) fires, the server ends the connection with a timeout error and
/// the client reads end of stream. Fails only if that takes over 10 s.
fn header_read_timeout(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let (server_err, client_saw, waited) = lp
        .run_until_complete(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = tulip_core::create_task(async move {
                let (stream, _) = listener.accept().await?;
                let nth = Arc::new(AtomicUsize::new(0));
                let conn = tulip_hyper::server::http1()
                    .header_read_timeout(Duration::from_millis(200))
                    .serve_connection(tulip_hyper::TulipIo::new(stream), echo_service(nth));
                Ok::<_, BoxError>(conn.await)
            })?;
            // Taken before connecting: the server cannot start its timer earlier.
            let start = Instant::now();
            let mut client = TcpStream::connect(addr).await?;
            client
                .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n")
                .await?;
            // Read until end of stream, within 10 s at most.
            let reading = tulip_sync::wait_for(
                async move {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 1024];
                    loop {
                        match client.read(&mut buf).await {
                            Ok(0) => return Ok::<_, tulip_net::Error>(Ok(got)),
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                            Err(e) if e.io_kind().is_some() => return Ok(Err(e.to_string())),
                            Err(e) => return Err(e),
                        }
                    }
                },
                Duration::from_secs(10),
            )
            .await;
            let waited = start.elapsed();
            let client_saw = reading.map_err(|e| format!("client never saw the close: {e}"))?;
            let server_err = server.await?.expect_err("the connection must fail");
            Ok::<_, BoxError>((server_err, client_saw, waited))
        })
        .unwrap();
    assert!(server_err.is_timeout(), "server error: {server_err}");
    // hyper closes without an answer (or the reset of an unread request head).
    match client_saw {
        Ok(bytes) => assert_eq!(bytes, b"", "server answered: {bytes:?}"),
        Err(e) => panic!("client read failed instead of end of stream: {e}"),
    }
    assert!(
        waited >= Duration::from_millis(200),
        "closed after {waited:?}"
    );
}

/// Cancelling the task that serves a (keep-alive, idle) connection ends the task
/// cancelled and closes the socket: the client reads end of stream.
fn cancel_serving_task(new_loop: Factory) {
    run_unreported(new_loop, Duration::from_secs(30), async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tulip_core::create_task(async move {
            let (stream, _) = listener.accept().await?;
            let nth = Arc::new(AtomicUsize::new(0));
            tulip_hyper::server::serve_http1(stream, echo_service(nth)).await?;
            Ok::<_, tulip_hyper::Error>(())
        })?;
        let mut client = TcpStream::connect(addr).await?;
        client
            .write_all(b"GET /one HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            .await?;
        // Read the whole answer (its body is empty: headers end the response).
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = client.read(&mut buf).await?;
            assert!(
                n > 0,
                "server closed early: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"), "{got:?}");
        // The connection now idles, kept alive; cancel its task.
        assert!(server.cancel());
        let out = server.await;
        let err = out.expect_err("a cancelled task has no result");
        assert!(err.is_cancelled(), "ended with {err}");
        assert_eq!(client.read(&mut buf).await?, 0, "socket left open");
        Ok::<_, BoxError>(())
    });
}

/// `server::serve` (automatic protocol) answers an HTTP/1 client, and HTTP/1 works
/// over a Unix socket pair as over TCP.
fn auto_over_unix_pair(new_loop: Factory) {
    run_unreported(new_loop, Duration::from_secs(30), async {
        let (a, b) = tulip_net::UnixStream::pair()?;
        let server = tulip_core::create_task(async move {
            let nth = Arc::new(AtomicUsize::new(0));
            tulip_hyper::server::serve(a, echo_service(nth)).await?;
            Ok::<_, BoxError>(())
        })?;
        let mut sender = tulip_hyper::client::handshake(b).await?;
        for i in 1..=3usize {
            sender.ready().await?;
            let body = payload(i as u64, 3000 * i);
            let req = Request::post("/u").body(Full::new(Bytes::from(body.clone())))?;
            let resp = sender.send_request(req).await?;
            assert_eq!(resp.headers()["x-nth"], i.to_string().as_str());
            let got = resp.into_body().collect().await?.to_bytes();
            assert_eq!(got[..], transformed(&body)[..]);
        }
        drop(sender);
        server.await?;
        Ok::<_, BoxError>(())
    });
}

per_executor!(
    round_trip,
    keep_alive,
    header_read_timeout,
    cancel_serving_task,
    auto_over_unix_pair
);
