//! tulip-web against a hostile client, on every executor: every request-smuggling
//! framing is refused with 400 and a closed connection, and the request hidden in
//! it never reaches a handler; a chunk size near 2^64 is a 400, not a panic; heads,
//! bodies and idle connections are bounded in size and time; connections are
//! bounded in number; TCP_NODELAY is on by default.
#![cfg(feature = "web")]
mod common;
mod web_support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::Factory;
use tulip::web::{client, Request};
use web_support::{raw, raw_for, run, serve_test_app, test_app, Hits};

/// The request smuggled inside each attack: it must never run.
const HIDDEN: &str = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

/// What hyper and tulip-web answer a smuggling attempt with.
const BAD_REQUEST: &str = "HTTP/1.1 400 Bad Request\r\n";

/// Each attack: its name, the bytes sent, and the status line expected.
fn smuggling_attacks() -> Vec<(&'static str, String, &'static str)> {
    let hidden_len = HIDDEN.len();
    vec![
        (
            "two different Content-Length headers",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello{HIDDEN}"),
            BAD_REQUEST,
        ),
        (
            "Transfer-Encoding: gzip without chunked, no length",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n{HIDDEN}"),
            BAD_REQUEST,
        ),
        (
            "TE gzip and TE chunked in two headers, plus Content-Length",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n{hidden_len:x}\r\n{HIDDEN}\r\n0\r\n\r\n"
            ),
            BAD_REQUEST,
        ),
        (
            "Content-Length: +5",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello{HIDDEN}"),
            BAD_REQUEST,
        ),
        (
            "chunk size +5",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n{HIDDEN}"),
            BAD_REQUEST,
        ),
        (
            "Transfer-Encoding: xchunked",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n{HIDDEN}"),
            BAD_REQUEST,
        ),
        (
            "Transfer-Encoding: gzip, chunked (a coding nobody decodes)",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n{hidden_len:x}\r\n{HIDDEN}\r\n0\r\n\r\n"),
            BAD_REQUEST,
        ),
        (
            "Transfer-Encoding: chunked, identity",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n{HIDDEN}"),
            BAD_REQUEST,
        ),
        // 0xffffffffffffffff fits in a u64, so hyper takes it as a chunk size and the
        // hidden request as that chunk's first bytes; the rest never comes, and the
        // body timeout ends it (a sender that kept going would meet the 413).
        (
            "a chunk size of 2^64 - 1 after one chunk",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\nffffffffffffffff\r\n{HIDDEN}"),
            "HTTP/1.1 408 Request Timeout\r\n",
        ),
        (
            "a chunk size of exactly 2^64 after one chunk",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n10000000000000000\r\n{HIDDEN}"),
            BAD_REQUEST,
        ),
        (
            "a chunk size past 2^64",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nA\r\n0\r\n\r\n{HIDDEN}"),
            BAD_REQUEST,
        ),
    ]
}

fn smuggling_is_refused_and_the_hidden_request_never_runs(new_loop: Factory) {
    run(new_loop, async {
        let hits = Hits::default();
        let mut app = test_app(&hits);
        app.limits.body_read_timeout = Duration::from_millis(500);
        let srv = app.serve("127.0.0.1:0").await.unwrap();
        for (name, attack, status_line) in smuggling_attacks() {
            let r = raw(srv.local_addr(), attack.as_bytes()).await;
            assert!(r.text.starts_with(status_line), "{name}: {}", r.text);
            assert_eq!(r.responses(), 1, "{name}: {}", r.text);
            assert!(r.closed, "{name}: the connection stayed open");
            assert_eq!(hits.smuggled(), 0, "{name}: the hidden request ran");
        }
        // The server is still up, and the hidden request does run when sent openly.
        let open = client::get(srv.local_addr(), "/smuggled").await.unwrap();
        assert_eq!(open.text(), "smuggled");
        assert_eq!(hits.smuggled(), 1);
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// `Content-Length` with `Transfer-Encoding: chunked` (CL.TE, TE.CL): hyper frames
/// by the chunks and drops the length (RFC 9112 §6.1 allows either that or a 400);
/// either way the connection closes after the one response and the request hidden
/// after the chunks never runs.
fn length_with_chunked_is_framed_by_chunks_and_closed(new_loop: Factory) {
    run(new_loop, async {
        let hits = Hits::default();
        let srv = test_app(&hits).serve("127.0.0.1:0").await.unwrap();
        for attack in [
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n{HIDDEN}"),
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n2\r\nhi\r\n0\r\n\r\n{HIDDEN}"),
        ] {
            let r = raw(srv.local_addr(), attack.as_bytes()).await;
            assert!(r.text.starts_with("HTTP/1.1 200 OK\r\n"), "{}", r.text);
            assert!(r.text.ends_with("\r\n\r\nPOST hi"), "{}", r.text);
            assert_eq!(r.responses(), 1, "{}", r.text);
            assert!(r.closed);
            assert_eq!(hits.smuggled(), 0);
        }
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// Malformed heads: 400 and closed, quickly (no waiting for 16 KiB or a timeout).
fn malformed_heads_are_400(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        for bad in [
            &b"THIS IS NOT HTTP\r\n\r\n"[..],
            b"GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
            b"GET /x HTTP/1.1\r\nX: a\0b\r\n\r\n",
        ] {
            let r = raw(srv.local_addr(), bad).await;
            assert!(
                r.text.starts_with("HTTP/1.1 400 Bad Request\r\n"),
                "{:?}: {}",
                String::from_utf8_lossy(bad),
                r.text
            );
            assert!(r.closed);
        }
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// A head with bare-LF line endings is answered at once (httparse accepts them);
/// junk that never ends its head is cut off at the head limit with 431, not left
/// waiting.
fn bare_lf_heads_and_endless_junk_get_prompt_answers(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let r = raw(
            srv.local_addr(),
            b"GET /slow/0 HTTP/1.1\nHost: x\nConnection: close\n\n",
        )
        .await;
        assert!(r.text.starts_with("HTTP/1.1 200 OK\r\n"), "{}", r.text);
        assert!(r.text.ends_with("slept 0") && r.closed, "{}", r.text);
        let mut junk = b"GET / HTTP/1.1\r\nHost: x\r\nX: ".to_vec();
        junk.resize(tulip::web::MIN_HEAD_SIZE + 1, b'y');
        let r = raw(srv.local_addr(), &junk).await;
        assert!(
            r.text
                .starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{}",
            r.text
        );
        assert!(r.closed);
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// A head over the limit is 431; a body over client_max_size is 413, whether its
/// length is declared or it arrives chunked.
fn oversized_heads_are_431_and_bodies_413(new_loop: Factory) {
    run(new_loop, async {
        let mut app = test_app(&Hits::default());
        app.limits.client_max_size = 1024;
        let srv = app.serve("127.0.0.1:0").await.unwrap();
        let mut head = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
        for i in 0..1000 {
            head.extend_from_slice(format!("X-Filler-{i}: yes\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        let r = raw(srv.local_addr(), &head).await;
        assert!(
            r.text
                .starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{}",
            r.text
        );
        assert!(r.closed);
        let declared = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n{}",
            "x".repeat(4096)
        );
        let r = raw(srv.local_addr(), declared.as_bytes()).await;
        assert!(
            r.text.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
            "{}",
            r.text
        );
        assert!(r.closed);
        let chunk = "y".repeat(800);
        let chunked = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n{chunk}\r\n320\r\n{chunk}\r\n0\r\n\r\n"
        );
        let r = raw(srv.local_addr(), chunked.as_bytes()).await;
        assert!(
            r.text.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
            "{}",
            r.text
        );
        assert!(r.closed);
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// A body promised and not sent: 408 and closed once body_read_timeout passes, not
/// before.
fn promised_body_not_sent_is_closed_after_the_body_timeout(new_loop: Factory) {
    run(new_loop, async {
        let mut app = test_app(&Hits::default());
        let limit = Duration::from_millis(300);
        app.limits.body_read_timeout = limit;
        let srv = app.serve("127.0.0.1:0").await.unwrap();
        let start = Instant::now();
        let r = raw(
            srv.local_addr(),
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\nonly this",
        )
        .await;
        assert!(
            start.elapsed() >= limit,
            "closed after {:?}",
            start.elapsed()
        );
        assert!(
            r.text.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{}",
            r.text
        );
        assert!(r.closed);
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// A head that never ends is closed after header_read_timeout; an idle keep-alive
/// connection after keepalive_timeout; neither reaches a handler.
fn slow_heads_and_idle_connections_are_closed(new_loop: Factory) {
    run(new_loop, async {
        let hits = Hits::default();
        let mut app = test_app(&hits);
        app.limits.header_read_timeout = Duration::from_millis(300);
        app.limits.keepalive_timeout = Duration::from_millis(200);
        let srv = app.serve("127.0.0.1:0").await.unwrap();
        let start = Instant::now();
        let r = raw(
            srv.local_addr(),
            b"GET /slow/0 HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        )
        .await;
        assert!(r.closed);
        assert!(
            start.elapsed() >= Duration::from_millis(200),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(hits.served.load(Ordering::SeqCst), 0);
        // Silent from the start (before hyper knows HTTP/1 from HTTP/2).
        let r = raw(srv.local_addr(), b"").await;
        assert!(r.closed && r.text.is_empty(), "{}", r.text);
        // One request answered, then idle.
        let start = Instant::now();
        let r = raw(srv.local_addr(), b"GET /slow/0 HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(r.text.ends_with("slept 0"), "{}", r.text);
        assert!(r.closed);
        assert!(
            start.elapsed() >= Duration::from_millis(200),
            "{:?}",
            start.elapsed()
        );
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// With max_connections = 2, a third client is not served until one of the first
/// two leaves.
fn connections_are_bounded(new_loop: Factory) {
    run(new_loop, async {
        let hits = Hits::default();
        let mut app = test_app(&hits);
        app.limits.max_connections = 2;
        let srv = app.serve("127.0.0.1:0").await.unwrap();
        let addr = srv.local_addr();
        let mut held = Vec::new();
        for _ in 0..2 {
            let (mut r, w) = tulip::net::open_connection(addr).await.unwrap();
            w.write(b"GET /slow/0 HTTP/1.1\r\nHost: x\r\n\r\n");
            w.drain().await.unwrap();
            let head = r.readuntil(b"\r\n\r\n").await.unwrap();
            assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"));
            held.push((r, w));
        }
        assert_eq!(srv.connections(), 2);
        let third = tulip::create_task(async move {
            let r = raw(
                addr,
                b"GET /slow/0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            Ok::<_, tulip::Error>(r)
        })
        .unwrap();
        tulip::sleep(Duration::from_millis(300)).await.unwrap();
        assert_eq!(
            hits.served.load(Ordering::SeqCst),
            2,
            "a third connection was served"
        );
        assert!(srv.connections() <= 2);
        let (_r, w) = held.pop().unwrap();
        w.close();
        let r = third.await.unwrap();
        assert!(r.text.ends_with("slept 0"), "{}", r.text);
        assert_eq!(hits.served.load(Ordering::SeqCst), 3);
        drop(held);
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// Accepted connections get TCP_NODELAY unless the application turns it off.
fn tcp_nodelay_is_on_by_default(new_loop: Factory) {
    run(new_loop, async {
        for (setting, expected) in [(None, true), (Some(false), false)] {
            let mut app = tulip::web::Application::new();
            if let Some(on) = setting {
                app.tcp_nodelay = on;
            }
            app.router.add_get("/nodelay", |r: Request| async move {
                format!("{:?}", r.tcp_nodelay())
            });
            let srv = app.serve("127.0.0.1:0").await.unwrap();
            let r = client::get(srv.local_addr(), "/nodelay").await.unwrap();
            assert_eq!(r.text(), format!("Some({expected})"));
            srv.close();
            srv.wait_closed().await.unwrap();
        }
    });
}

/// A connection that stays open while the server is closed is told to finish:
/// `wait_closed` does not wait for the keep-alive timeout.
fn close_ends_idle_keep_alive_connections(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let r = tulip::create_task({
            let addr = srv.local_addr();
            async move {
                Ok::<_, tulip::Error>(
                    raw_for(
                        addr,
                        b"GET /slow/0 HTTP/1.1\r\nHost: x\r\n\r\n",
                        Duration::from_secs(20),
                    )
                    .await,
                )
            }
        })
        .unwrap();
        let s = srv.clone();
        common::until(move || s.connections() == 1).await;
        srv.close();
        srv.wait_closed().await.unwrap();
        let r = r.await.unwrap();
        assert!(r.closed);
    });
}

per_executor!(
    smuggling_is_refused_and_the_hidden_request_never_runs,
    length_with_chunked_is_framed_by_chunks_and_closed,
    malformed_heads_are_400,
    bare_lf_heads_and_endless_junk_get_prompt_answers,
    oversized_heads_are_431_and_bodies_413,
    promised_body_not_sent_is_closed_after_the_body_timeout,
    slow_heads_and_idle_connections_are_closed,
    connections_are_bounded,
    tcp_nodelay_is_on_by_default,
    close_ends_idle_keep_alive_connections,
);
