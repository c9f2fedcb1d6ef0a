//! Unix domain sockets on every executor: raw streams, asyncio streams, the server's
//! socket file.
#![cfg(feature = "net")]
mod common;

use std::future::Future;
use std::path::PathBuf;

use common::Factory;
use tulip::net::{open_unix_connection, start_unix_server, Address, UnixListener, UnixStream};

/// Runs `fut` on a fresh loop of `new_loop`'s executor and closes the loop.
fn run<T>(
    new_loop: Factory,
    fut: impl Future<Output = Result<T, tulip::net::Error>>,
) -> Result<T, tulip::net::Error> {
    let lp = new_loop().unwrap();
    let out = lp.run_until_complete(fut);
    lp.close().unwrap();
    out
}

fn sock_path(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = std::env::temp_dir().join(format!("tulip-{name}-{}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

fn unix_stream_roundtrip_and_half_close(new_loop: Factory) {
    let path = sock_path("raw");
    run(new_loop, async {
        let l = UnixListener::bind(&path).unwrap();
        assert_eq!(l.local_addr().unwrap(), Address::Unix(Some(path.clone())));
        let mut c = UnixStream::connect(&path).await.unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        c.write_all(b"over unix").await.unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4];
        loop {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"over unix");
        s.write_all(b"ok").await.unwrap();
        let n = c.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ok");
        Ok(())
    })
    .unwrap();
    let _ = std::fs::remove_file(&path);
}

fn unix_server_with_streams(new_loop: Factory) {
    let path = sock_path("srv");
    run(new_loop, async {
        let server = start_unix_server(
            |mut r, w| async move {
                while let Ok(line) = r.readline().await {
                    if line.is_empty() {
                        break;
                    }
                    w.write(&line.to_ascii_uppercase());
                }
                w.close();
            },
            &path,
        )
        .await
        .unwrap();
        let (mut r, w) = open_unix_connection(&path).await.unwrap();
        w.write(b"hello\nworld\n");
        assert_eq!(r.readline().await.unwrap(), b"HELLO\n");
        assert_eq!(r.readline().await.unwrap(), b"WORLD\n");
        w.close();
        server.close();
        server.wait_closed().await.unwrap();
        assert!(!path.exists(), "the socket file is removed on close");
        Ok(())
    })
    .unwrap();
}

fn connecting_to_a_missing_path_is_a_clear_error(new_loop: Factory) {
    let path = sock_path("missing");
    let err = run(new_loop, UnixStream::connect(&path)).unwrap_err();
    assert_eq!(err.io_kind(), Some(std::io::ErrorKind::NotFound));
    assert!(err.to_string().contains(&path.display().to_string()));
}

per_executor!(
    unix_stream_roundtrip_and_half_close,
    unix_server_with_streams,
    connecting_to_a_missing_path_is_a_clear_error,
);
