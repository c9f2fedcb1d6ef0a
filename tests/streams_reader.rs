//! asyncio's StreamReader on every executor: readline, readuntil, readexactly, read,
//! limits, EOF, cancellation.
#![cfg(feature = "net")]
mod common;

use std::future::Future;
use std::time::Duration;

use common::Factory;
use tulip::net::{open_connection, start_server, Error, StreamReader, StreamWriter};

fn run<F: Future>(new_loop: Factory, fut: F) -> F::Output {
    let lp = new_loop().unwrap();
    let out = lp.run_until_complete(fut).unwrap();
    lp.close().unwrap();
    out
}

/// A server that sends `payload`, then closes; the client's reader.
async fn reader_of(payload: &'static [u8]) -> (StreamReader, StreamWriter, tulip::net::Server) {
    let server = start_server(
        move |_r, w| async move {
            w.write(payload);
            w.close();
            w.wait_closed().await.unwrap();
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let (r, w) = open_connection(server.local_addr().unwrap()).await.unwrap();
    (r, w, server)
}

fn readline_splits_lines_and_ends_with_empty(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"HTTP/1.0 200 OK\r\nA: b\r\n\r\ntail").await;
        assert_eq!(r.readline().await.unwrap(), b"HTTP/1.0 200 OK\r\n");
        assert_eq!(r.readline().await.unwrap(), b"A: b\r\n");
        assert_eq!(r.readline().await.unwrap(), b"\r\n");
        assert!(!r.at_eof());
        assert_eq!(r.readline().await.unwrap(), b"tail");
        assert!(r.at_eof());
        assert_eq!(r.readline().await.unwrap(), b"");
    });
}

/// asyncio: readline past the limit raises; here the data stays readable.
fn readline_past_limit_is_limit_overrun_and_data_stays(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"0123456789abcdefghij\nnext\n").await;
        r.set_limit(8);
        match r.readline().await {
            Err(Error::LimitOverrun { consumed, limit }) => {
                assert!(consumed > 8, "{consumed}");
                assert_eq!(limit, 8);
            }
            other => panic!("expected LimitOverrun, got {other:?}"),
        }
        // Nothing was lost: the long line can still be read in pieces.
        assert_eq!(r.readexactly(10).await.unwrap(), b"0123456789");
        r.set_limit(64);
        assert_eq!(r.readline().await.unwrap(), b"abcdefghij\n");
        assert_eq!(r.readline().await.unwrap(), b"next\n");
    });
}

fn readexactly_at_eof_is_incomplete_read_with_partial(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"abc").await;
        match r.readexactly(5).await {
            Err(Error::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"abc");
                assert_eq!(expected, Some(5));
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        assert!(r.at_eof());
    });
}

fn readuntil_separator_and_incomplete(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"one||two||three").await;
        assert_eq!(r.readuntil(b"||").await.unwrap(), b"one||");
        assert_eq!(r.readuntil(b"||").await.unwrap(), b"two||");
        match r.readuntil(b"||").await {
            Err(Error::IncompleteRead {
                partial,
                expected: None,
            }) => {
                assert_eq!(partial, b"three")
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
    });
}

fn read_n_and_read_to_end(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"0123456789").await;
        assert_eq!(r.read(3).await.unwrap(), b"012");
        assert_eq!(r.read_to_end().await.unwrap(), b"3456789");
        assert_eq!(r.read(10).await.unwrap(), b"");
        assert!(r.at_eof());
    });
}

/// A readline cancelled while waiting for the end of the line keeps what it had
/// buffered: the next readline returns the whole line.
fn cancelled_readline_loses_nothing(new_loop: Factory) {
    run(new_loop, async {
        let (tx, rx) = futures::channel::oneshot::channel::<StreamWriter>();
        let tx = std::sync::Mutex::new(Some(tx));
        let server = start_server(
            move |_r, w| {
                let tx = tx.lock().unwrap().take();
                async move {
                    w.write(b"first half, ");
                    let _ = tx.unwrap().send(w);
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (r, _w) = open_connection(server.local_addr().unwrap()).await.unwrap();
        let server_w = rx.await.unwrap();
        let t = tulip::create_task(async move {
            let mut r = r;
            let res = r.readline().await;
            (res.map_err(|e| e.is_cancelled()), r)
        })
        .unwrap();
        tulip::sleep(Duration::from_millis(20)).await.unwrap();
        t.cancel();
        let (res, mut r) = t.await.unwrap();
        assert_eq!(res, Err(true));
        server_w.write(b"second half\n");
        assert_eq!(r.readline().await.unwrap(), b"first half, second half\n");
        server.close();
    });
}

per_executor!(
    readline_splits_lines_and_ends_with_empty,
    readline_past_limit_is_limit_overrun_and_data_stays,
    readexactly_at_eof_is_incomplete_read_with_partial,
    readuntil_separator_and_incomplete,
    read_n_and_read_to_end,
    cancelled_readline_loses_nothing,
);
