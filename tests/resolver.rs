//! Name resolution on the bounded blocking pool, on every executor: 500 concurrent
//! lookups of `localhost` never hold more threads than the pool's maximum plus what
//! the process had before; IP literals resolve with no thread and no wait; the
//! answers match the OS resolver's; connect and bind by name work.
#![cfg(feature = "net")]
mod common;

use std::collections::BTreeSet;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{within, Factory};
use futures::FutureExt;
use tulip::core::default_pool;
use tulip::net::{lookup_host, open_connection, Error, TcpListener};

/// Concurrent lookups in the load scenario.
const LOOKUPS: usize = 500;

/// The scenarios count the process's threads: they must not overlap each other.
static SERIAL: Mutex<()> = Mutex::new(());

/// Threads of this process now (`/proc/self/task`), less the test harness's threads
/// for other tests (named after their test, `local::…`), which come and go as the
/// harness runs tests in parallel and which wait on [`SERIAL`] here, and less the
/// main thread's name: a thread libtest has just started carries it until the
/// thread names itself (a run counted one such and failed).
fn threads_now() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let me = std::fs::read_to_string("/proc/thread-self/comm").unwrap_or_default();
    let main = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
    dir.filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        // Other tests' threads are not counted.
        .filter(|name| *name == me || (!common::is_test_thread(name) && *name != main))
        // async-io's reactor thread is process-wide, made once by whichever test
        // first runs an async-io loop: not the resolver's.
        .filter(|name| name.trim_end() != "async-io")
        .count()
}

/// What the OS resolver says `host` is, as a set (the order is the resolver's
/// business).
fn os_answer(host: &str, port: u16) -> BTreeSet<SocketAddr> {
    (host, port).to_socket_addrs().unwrap().collect()
}

/// A thread that samples the thread count until told to stop, keeping the peak.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicUsize>,
    handle: std::thread::JoinHandle<()>,
}

impl Sampler {
    fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicUsize::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let handle = std::thread::Builder::new()
            .name("sampler".into())
            .spawn(move || {
                while !s.load(Ordering::SeqCst) {
                    p.fetch_max(threads_now(), Ordering::SeqCst);
                    std::thread::sleep(Duration::from_micros(200));
                }
            });
        let handle = handle.unwrap();
        Sampler { stop, peak, handle }
    }

    fn finish(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().unwrap();
        self.peak.load(Ordering::SeqCst)
    }
}

/// 500 lookups of `localhost` at once: every answer is the OS resolver's, and the
/// process never has more threads than before the lookups (the loop's own threads,
/// the sampler, the harness, and the pool threads alive then) plus the pool's
/// maximum less the pool threads already counted.
fn concurrent_lookups_stay_within_the_pool(new_loop: Factory) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // async-io's reactor thread (process-wide, made on first use) is not the
    // resolver's: make it before counting.
    common::warm_up_process_globals();
    let want = os_answer("localhost", 80);
    let pool = default_pool();
    let lp = new_loop().unwrap();
    // The loop's own threads start with its first run.
    lp.run_until_complete(async { tulip::yield_now().await })
        .unwrap();
    let sampler = Sampler::start();
    let (before, pool_before) = (threads_now(), pool.threads());
    let bound = before - pool_before.min(before) + pool.max_workers();
    let answers = within(Duration::from_secs(60), || {
        lp.run_until_complete(async {
            let mut tasks = Vec::with_capacity(LOOKUPS);
            for _ in 0..LOOKUPS {
                tasks.push(tulip::create_task(lookup_host(("localhost", 80)))?);
            }
            let mut out = Vec::with_capacity(LOOKUPS);
            for t in tasks {
                out.push(t.await?);
            }
            Ok::<_, Error>(out)
        })
        .unwrap()
    });
    let peak = sampler.finish();
    lp.close().unwrap();
    println!(
        "{LOOKUPS} lookups: peak {peak} threads (harness threads of other tests excluded); \
         before {before} with {pool_before} pool threads; pool maximum {}; bound {bound}",
        pool.max_workers()
    );
    assert_eq!(answers.len(), LOOKUPS);
    for a in &answers {
        assert_eq!(a.iter().copied().collect::<BTreeSet<_>>(), want);
    }
    assert!(
        peak <= bound,
        "{peak} threads during the lookups; bound {bound} = {before} before \
         - {pool_before} pool threads then + pool maximum {}",
        pool.max_workers()
    );
    assert!(pool.threads() <= pool.max_workers());
}

/// IP literals — v4, v6, v6 in brackets, `"host:port"` strings — resolve on the
/// first poll (no pool job could answer that fast) and start no thread.
fn ip_literals_touch_no_thread(new_loop: Factory) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    common::warm_up_process_globals();
    let lp = new_loop().unwrap();
    lp.run_until_complete(async { tulip::yield_now().await })
        .unwrap();
    let before = threads_now();
    let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
    let v6: SocketAddr = "[::1]:80".parse().unwrap();
    lp.run_until_complete(async move {
        for _ in 0..100 {
            let cases: [(Option<Vec<SocketAddr>>, SocketAddr); 5] = [
                (
                    lookup_host(("127.0.0.1", 80)).now_or_never().transpose()?,
                    v4,
                ),
                (lookup_host(("::1", 80)).now_or_never().transpose()?, v6),
                (lookup_host(("[::1]", 80)).now_or_never().transpose()?, v6),
                (lookup_host("[::1]:80").now_or_never().transpose()?, v6),
                (lookup_host("127.0.0.1:80").now_or_never().transpose()?, v4),
            ];
            for (got, want) in cases {
                assert_eq!(got, Some(vec![want]), "a literal waited");
            }
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    lp.close().unwrap();
    // Idle pool threads may have exited meanwhile; none may have started.
    assert!(threads_now() <= before, "a literal lookup started a thread");
}

/// Connect and bind by name go through the resolver: a server bound on
/// `("localhost", 0)` is reached with `open_connection(("localhost", port))`.
fn connect_and_bind_by_name(new_loop: Factory) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let want = os_answer("localhost", 0);
    let lp = new_loop().unwrap();
    within(Duration::from_secs(30), || {
        lp.run_until_complete(async {
            let l = TcpListener::bind(("localhost", 0)).await?;
            let addr = l.local_addr()?;
            assert!(
                want.iter().any(|a| a.ip() == addr.ip()),
                "bound {addr}, localhost is {want:?}"
            );
            let accept = tulip::create_task(async move {
                let (mut s, _) = l.accept().await?;
                s.write_all(b"hi").await?;
                Ok::<_, Error>(())
            })?;
            let (mut r, _w) = open_connection(("localhost", addr.port())).await?;
            assert_eq!(r.read_to_end().await?, b"hi");
            accept.await
        })
        .unwrap()
    });
    lp.close().unwrap();
}

per_executor!(
    concurrent_lookups_stay_within_the_pool,
    ip_literals_touch_no_thread,
    connect_and_bind_by_name,
);
