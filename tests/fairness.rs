//! Issue 10, part 3: fair interleaving. A task whose await points are always ready
//! (a fast socket, a full buffer) spends the core's cooperative budget
//! (`tulip_core::coop`, 128 ready operations per poll) and then lets the other
//! tasks run, as asyncio's one-callback-per-iteration loop does; and opening
//! connections keeps the seed wget's order (tests/asyncio_ref/open_connection_order.py).
//!
//! The deterministic checks (counted in reads between two turns of another task, and
//! the order of printed lines) need tasks that take turns, so they run on the local
//! executor only: on the threaded executor the tasks run in parallel and neither
//! bound nor order is defined. The ticker check runs on both executors with a
//! generous bound (timing on a shared 2-core machine is noisy); it prints the real
//! figure.
#![cfg(feature = "net")]
mod common;

use std::io::Write;
#[cfg(feature = "local")]
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(feature = "local")]
use common::Log;
use common::{within, Factory};
#[cfg(feature = "local")]
use tulip::net::{open_connection, start_server};
use tulip::net::{Error, TcpListener};

/// The core's budget: ready operations a task may do in one poll.
#[cfg(feature = "local")]
const BUDGET: usize = tulip::core::coop::BUDGET as usize;

/// Runs `fut` on a fresh loop of `new_loop`'s executor and closes the loop.
fn run<T>(new_loop: Factory, fut: impl std::future::Future<Output = Result<T, Error>>) -> T {
    let lp = new_loop().unwrap();
    let out = lp.run_until_complete(fut).unwrap();
    lp.close().unwrap();
    out
}

/// A thread that connects to `addr` and writes `total` bytes as fast as the socket
/// takes them, then closes.
fn fast_sender(addr: std::net::SocketAddr, total: usize) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let chunk = vec![0x5au8; 1 << 20];
        let mut left = total;
        while left > 0 {
            let n = left.min(chunk.len());
            s.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
    })
}

/// Bytes the bulk reader reads in the ticker test: 1 GiB, about 1–2 s in a debug
/// build on the development machine (the 2 GiB takes twice that).
const BULK: usize = 1 << 30;

/// A 10 ms ticker beside a task reading 1 GiB from a fast local sender (a thread)
/// through a `StreamReader`: every tick comes back. Asserted: no period above
/// 500 ms, a bound that survives a loaded shared machine (median 14 ms, worst 178 ms
/// over 40 runs under a load average of 2–7 on 2 cores); printed: the real maximum.
/// What the budget changes is asserted without timing by
/// `reads_between_turns_of_another_task_are_bounded`.
fn ticker_keeps_its_period_beside_a_bulk_reader(new_loop: Factory) {
    let (max_gap, ticks, took) = within(Duration::from_secs(120), || {
        run(new_loop, async {
            let l = TcpListener::bind("127.0.0.1:0").await?;
            let sender = fast_sender(l.local_addr()?, BULK);
            let done = Arc::new(AtomicBool::new(false));
            let d2 = done.clone();
            let start = Instant::now();
            let reader = tulip::create_task(async move {
                let (s, _) = l.accept().await?;
                let (mut r, _w) = s.into_streams();
                let mut total = 0;
                loop {
                    let n = r.read(64 * 1024).await?.len();
                    if n == 0 {
                        break;
                    }
                    total += n;
                }
                d2.store(true, Ordering::SeqCst);
                Ok::<_, Error>(total)
            })?;
            let mut max_gap = Duration::ZERO;
            let mut ticks = 0;
            while !done.load(Ordering::SeqCst) {
                let t0 = Instant::now();
                tulip::sleep(Duration::from_millis(10)).await?;
                max_gap = max_gap.max(t0.elapsed());
                ticks += 1;
            }
            assert_eq!(reader.await?, BULK);
            sender.join().unwrap();
            Ok((max_gap, ticks, start.elapsed()))
        })
    });
    println!("read {BULK} bytes in {took:?}; {ticks} ticks, longest period {max_gap:?}");
    assert!(
        max_gap < Duration::from_millis(500),
        "a 10 ms ticker waited {max_gap:?}"
    );
}

per_executor!(ticker_keeps_its_period_beside_a_bulk_reader);

/// A task reading small pieces from a socket that always has data (a fast sender,
/// 64 MiB) and a task that only yields take turns: between two turns of the
/// yielder the reader does at most `BUDGET` reads (each read spends at least one
/// unit). Without the budget it would read until the socket is momentarily empty,
/// thousands of reads.
#[cfg(feature = "local")]
fn reads_between_turns_of_another_task_are_bounded(new_loop: Factory) {
    const TOTAL: usize = 64 << 20;
    let (max_run, turns) = run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let sender = fast_sender(l.local_addr()?, TOTAL);
        let (s, _) = l.accept().await?;
        let (mut r, _w) = s.into_streams();
        let turns = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (t2, d2) = (turns.clone(), done.clone());
        let yielder = tulip::create_task(async move {
            while !d2.load(Ordering::SeqCst) {
                t2.fetch_add(1, Ordering::SeqCst);
                tulip::yield_now().await?;
            }
            Ok::<_, Error>(())
        })?;
        let (mut total, mut max_run, mut run_len) = (0, 0, 0);
        let mut seen = turns.load(Ordering::SeqCst);
        loop {
            let n = r.read(4096).await?.len();
            if n == 0 {
                break;
            }
            total += n;
            let now = turns.load(Ordering::SeqCst);
            if now != seen {
                seen = now;
                run_len = 0;
            }
            run_len += 1;
            max_run = max_run.max(run_len);
        }
        done.store(true, Ordering::SeqCst);
        yielder.await?;
        sender.join().unwrap();
        assert_eq!(total, TOTAL);
        Ok((max_run, turns.load(Ordering::SeqCst)))
    });
    println!("longest run of reads between two turns of the yielder: {max_run} ({turns} turns)");
    assert!(
        max_run <= BUDGET,
        "{max_run} reads between two turns of another task (budget {BUDGET})"
    );
}

/// Seeds 001/002 (tests/asyncio_ref/open_connection_order.py): three tasks each log
/// a start line, open a connection, send a request and log the header lines; all
/// three start lines come before any header line, in 20 rounds, with a server on
/// another thread that answers at once and with a server in the same loop.
#[cfg(feature = "local")]
fn three_open_connections_print_every_start_before_any_header(new_loop: Factory) {
    // The thread server: answers each request as soon as its head is in.
    let lsock = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let thread_addr = lsock.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let server_thread = std::thread::spawn(move || {
        for conn in lsock.incoming() {
            if stop2.load(Ordering::SeqCst) {
                return;
            }
            let mut conn = conn.unwrap();
            let mut data = Vec::new();
            let mut buf = [0u8; 1024];
            while !data.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = std::io::Read::read(&mut conn, &mut buf).unwrap();
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            let head = String::from_utf8_lossy(&data).into_owned();
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let _ = conn.write_all(format!("HTTP/1.0 200 OK\r\nX-Path: {path}\r\n\r\n").as_bytes());
        }
    });
    run(new_loop, async move {
        let loop_server = start_server(
            |mut r, w| async move {
                let head = r.readuntil(b"\r\n\r\n").await.unwrap_or_default();
                let head = String::from_utf8_lossy(&head).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                w.write(format!("HTTP/1.0 200 OK\r\nX-Path: {path}\r\n\r\n").as_bytes());
                w.close();
            },
            "127.0.0.1:0",
        )
        .await?;
        let loop_addr = loop_server.local_addr().unwrap();
        for round in 0..40 {
            let addr = if round % 2 == 0 {
                thread_addr
            } else {
                loop_addr
            };
            let log = Log::default();
            let mut tasks = Vec::new();
            for path in ["/a", "/b", "/c"] {
                let log = log.clone();
                tasks.push(tulip::create_task(async move {
                    log.push(format!("wget {path}..."));
                    let (mut r, w) = open_connection(addr).await?;
                    w.write(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes());
                    w.drain().await?;
                    loop {
                        let line = r.readline().await?;
                        if line == b"\r\n" || line.is_empty() {
                            break;
                        }
                        let line = String::from_utf8_lossy(&line).trim_end().to_string();
                        log.push(format!("{path} header > {line}"));
                    }
                    w.close();
                    Ok::<_, Error>(())
                })?);
            }
            for t in tasks {
                t.await?;
            }
            let lines = log.take();
            // The start lines first, in creation order; then each task's header lines,
            // in order (which task's answer comes first is the server's business).
            assert_eq!(
                lines[..3],
                ["wget /a...", "wget /b...", "wget /c..."],
                "round {round}: {lines:#?}"
            );
            for path in ["/a", "/b", "/c"] {
                let mine: Vec<&String> = lines[3..]
                    .iter()
                    .filter(|l| l.starts_with(&format!("{path} ")))
                    .collect();
                assert_eq!(
                    mine,
                    [
                        &format!("{path} header > HTTP/1.0 200 OK"),
                        &format!("{path} header > X-Path: {path}"),
                    ],
                    "round {round}: {lines:#?}"
                );
            }
            assert_eq!(lines.len(), 9, "round {round}: {lines:#?}");
        }
        loop_server.close();
        Ok(())
    });
    stop.store(true, Ordering::SeqCst);
    let _ = std::net::TcpStream::connect(thread_addr);
    server_thread.join().unwrap();
}

#[cfg(feature = "local")]
mod local_only {
    #[test]
    fn reads_between_turns_of_another_task_are_bounded() {
        super::reads_between_turns_of_another_task_are_bounded(
            tulip::executors::local::new_event_loop,
        );
    }

    #[test]
    fn three_open_connections_print_every_start_before_any_header() {
        super::three_open_connections_print_every_start_before_any_header(
            tulip::executors::local::new_event_loop,
        );
    }
}
