//! An HTTP/1 upgrade: after `101 Switching Protocols` both sides wrap hyper's
//! `Upgraded` in `TulipIo` and speak plain bytes through `futures::io`, here an
//! echo of 256 KiB checked byte for byte.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{payload, run_unreported, BoxError, Factory};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tulip_hyper::TulipIo;
use tulip_net::TcpListener;

const ECHOED: usize = 256 * 1024;

/// Answers 101 and, on the upgraded connection, echoes bytes until end of stream;
/// `copied` gets how many.
async fn upgrade_to_echo(
    req: Request<Incoming>,
    copied: tulip_core::Promise<u64>,
) -> Result<Response<Empty<Bytes>>, BoxError> {
    if req.headers().get("upgrade").map(|v| v.as_bytes()) != Some(b"echo") {
        let mut resp = Response::new(Empty::new());
        *resp.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(resp);
    }
    tulip_core::create_task(async move {
        let upgraded = hyper::upgrade::on(req).await?;
        let (reader, mut writer) = TulipIo::new(upgraded).split();
        let n = futures::io::copy(reader, &mut writer).await?;
        writer.close().await?;
        copied.set_result(n)?;
        Ok::<_, BoxError>(())
    })?;
    let mut resp = Response::new(Empty::new());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    resp.headers_mut().insert("connection", "upgrade".parse()?);
    resp.headers_mut().insert("upgrade", "echo".parse()?);
    Ok(resp)
}

fn upgrade_echo(new_loop: Factory) {
    run_unreported(new_loop, Duration::from_secs(60), async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let copied = tulip_core::Promise::<u64>::new();
        let c = copied.clone();
        let server = tulip_core::create_task(async move {
            let (stream, _) = listener.accept().await?;
            let svc = hyper::service::service_fn(move |req| upgrade_to_echo(req, c.clone()));
            tulip_hyper::server::serve_http1(stream, svc).await?;
            Ok::<_, BoxError>(())
        })?;
        let mut sender = tulip_hyper::client::connect(addr).await?;
        let req = Request::get("/")
            .header("connection", "upgrade")
            .header("upgrade", "echo")
            .body(Empty::<Bytes>::new())?;
        let resp = sender.send_request(req).await?;
        assert_eq!(resp.status(), StatusCode::SWITCHING_PROTOCOLS);
        let upgraded = hyper::upgrade::on(resp).await?;
        let (mut reader, mut writer) = TulipIo::new(upgraded).split();
        let sent = payload(42, ECHOED);
        let to_send = sent.clone();
        let writing = tulip_core::create_task(async move {
            writer.write_all(&to_send).await?;
            writer.close().await?;
            Ok::<_, BoxError>(())
        })?;
        let mut got = Vec::new();
        reader.read_to_end(&mut got).await?;
        writing.await?;
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "echo differs");
        assert_eq!(copied.await?, ECHOED as u64);
        // The HTTP/1 connection future ended at the upgrade.
        server.await?;
        Ok::<_, BoxError>(())
    });
}

per_executor!(upgrade_echo);
