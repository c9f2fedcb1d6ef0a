//! One reactor or two: a one-byte round trip over `async_io::Async<UnixStream>`,
//! the same code run three ways in one process:
//!
//! - `block_on`: inside `async_io::block_on` (smol's own way, the reference),
//! - `tulip-async-io`: inside a tulip-local loop parked in async-io's reactor
//!   (feature `async-io`, `ReactorKind::AsyncIo`),
//! - `tulip-polling`: inside a tulip-local loop on its default poller, where async-io
//!   runs as a second reactor on its own `async-io` thread.
//!
//! It prints the median µs per round trip of each, the ratio to `block_on`, and the CPU
//! time async-io's fallback thread used during each run (from
//! `/proc/self/task/*/stat`).
//!
//! Run: `cargo run --release -p tulip-bench --features async-io --bin aio_share -- [ROUNDS] [REPEAT]`

use std::future::Future;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use async_io::Async;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

/// `rounds` one-byte round trips between two tasks of the same thread; returns the
/// elapsed time.
async fn ping_pong(
    rounds: usize,
    spawn: impl Fn(std::pin::Pin<Box<dyn Future<Output = ()>>>),
) -> Duration {
    let (a, b) = UnixStream::pair().expect("socketpair");
    let mut a = Async::new(a).expect("register a");
    let mut b = Async::new(b).expect("register b");
    spawn(Box::pin(async move {
        let mut buf = [0u8; 1];
        for _ in 0..rounds {
            b.read_exact(&mut buf).await.expect("echo read");
            b.write_all(&buf).await.expect("echo write");
        }
    }));
    let start = Instant::now();
    let mut buf = [7u8; 1];
    for _ in 0..rounds {
        a.write_all(&buf).await.expect("ping write");
        a.read_exact(&mut buf).await.expect("pong read");
    }
    start.elapsed()
}

/// CPU time (user + system) of the thread named `async-io`, if it exists.
fn async_io_thread_cpu() -> Option<Duration> {
    let ticks = clock_ticks_per_second();
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = entry.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() != "async-io" {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // Fields after the `(comm)`: state is field 3; utime and stime are 14 and 15.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = f.get(11)?.parse().ok()?;
        let stime: u64 = f.get(12)?.parse().ok()?;
        return Some(Duration::from_secs_f64(
            (utime + stime) as f64 / ticks as f64,
        ));
    }
    None
}

/// Clock ticks per second for `/proc` times (USER_HZ, 100 on Linux).
fn clock_ticks_per_second() -> u64 {
    100
}

fn run_block_on(rounds: usize) -> Duration {
    let ex = async_executor::LocalExecutor::new();
    async_io::block_on(ex.run(ping_pong(rounds, |f| ex.spawn(f).detach())))
}

fn run_tulip(kind: tulip::ReactorKind, rounds: usize) -> Duration {
    let lp = tulip::executors::local::Builder::new()
        .reactor(kind)
        .build()
        .expect("loop");
    let d = lp
        .run_until_complete(async {
            Ok::<_, tulip::Error>(
                ping_pong(rounds, |f| {
                    tulip::spawn_local(async move {
                        f.await;
                        Ok::<_, tulip::Error>(())
                    })
                    .expect("spawn");
                })
                .await,
            )
        })
        .expect("run");
    lp.close().expect("close");
    d
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let repeat: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    // Start async-io's fallback thread before measuring, so every row sees it.
    run_block_on(10);

    type Row = (&'static str, Box<dyn Fn(usize) -> Duration>);
    let rows: Vec<Row> = vec![
        ("block_on", Box::new(run_block_on)),
        (
            "tulip-async-io",
            Box::new(|n| run_tulip(tulip::ReactorKind::AsyncIo, n)),
        ),
        (
            "tulip-polling",
            Box::new(|n| run_tulip(tulip::ReactorKind::Polling, n)),
        ),
    ];
    // AIO_SHARE_ONLY=name keeps one row (ratios are then to that row), for profiling.
    let only = std::env::var("AIO_SHARE_ONLY").ok();
    let rows: Vec<Row> = rows
        .into_iter()
        .enumerate()
        .filter(|(_, (n, _))| only.as_deref().is_none_or(|o| o == *n))
        .map(|(_, r)| r)
        .collect();
    let mut results: Vec<(&str, Vec<f64>, Duration)> = rows
        .iter()
        .map(|(n, _)| (*n, Vec::new(), Duration::ZERO))
        .collect();
    // Interleave the rows so drift of the machine hits all of them alike.
    for _ in 0..repeat {
        for (i, (_, f)) in rows.iter().enumerate() {
            let cpu0 = async_io_thread_cpu().unwrap_or_default();
            let d = f(rounds);
            let cpu1 = async_io_thread_cpu().unwrap_or_default();
            results[i].1.push(d.as_secs_f64() * 1e6 / rounds as f64);
            results[i].2 += cpu1.saturating_sub(cpu0);
        }
    }
    let base = median(results[0].1.clone());
    println!("aio_share: {rounds} one-byte round trips over Async<UnixStream>, median of {repeat}");
    println!(
        "{:<16} {:>10} {:>10} {:>22}",
        "runner", "us/rt", "ratio", "async-io thread CPU"
    );
    for (name, v, cpu) in &results {
        let m = median(v.clone());
        println!(
            "{:<16} {:>10.2} {:>9.2}x {:>19.0} ms",
            name,
            m,
            m / base,
            cpu.as_secs_f64() * 1e3
        );
    }
}
