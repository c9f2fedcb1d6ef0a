//! 1,000 clients each promise a 1 MiB body and send 17 KB of it: the server holds
//! them all with under 64 MiB of memory growth (the body is read as it arrives,
//! never reserved), then closes each after the body timeout with a 408.
//!
//! The two executors' runs take turns (one lock): they measure the same process.
#![cfg(feature = "web")]
mod common;
mod web_support;

use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

use common::Factory;
use web_support::{bounded, run, test_app, Hits, EXCHANGE_BOUND};

const CLIENTS: usize = 1000;
const SENT: usize = 17 * 1024;
const PROMISED: usize = 1024 * 1024;
const GROWTH_BOUND: usize = 64 * 1024 * 1024;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// This process's resident set, in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

/// Everything the server sends until it closes (a reset counts as closed).
async fn read_to_end(s: &mut tulip::net::TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = s.read(&mut buf).await {
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn thousand_stalled_bodies_stay_small(new_loop: Factory) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    run(new_loop, async {
        let hits = Hits::default();
        let mut app = test_app(&hits);
        app.limits.client_max_size = 2 * PROMISED;
        app.limits.body_read_timeout = Duration::from_secs(8);
        let srv = app.serve("127.0.0.1:0").await.unwrap();
        let addr = srv.local_addr();
        let before = rss();
        let head = format!("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: {PROMISED}\r\n\r\n");
        let part = vec![b'z'; SENT];
        let mut clients = Vec::with_capacity(CLIENTS);
        // Unbuffered sockets: the client side adds next to nothing to the figure.
        for _ in 0..CLIENTS {
            let mut s = tulip::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(head.as_bytes()).await.unwrap();
            s.write_all(&part).await.unwrap();
            clients.push(s);
        }
        let received = hits.body_bytes.clone();
        common::until(move || received.load(Ordering::SeqCst) == CLIENTS * SENT).await;
        assert_eq!(srv.connections(), CLIENTS);
        let grown = rss().saturating_sub(before);
        println!("{CLIENTS} stalled bodies: RSS grew {} KiB", grown / 1024);
        assert!(grown < GROWTH_BOUND, "RSS grew {grown} bytes");
        for mut s in clients {
            let reply = bounded(EXCHANGE_BOUND, read_to_end(&mut s))
                .await
                .expect("closed");
            assert!(
                reply.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
                "{reply}"
            );
        }
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

per_executor!(thousand_stalled_bodies_stay_small);
