//! Issue 15's reliability suite: an echo soak, cross-thread wake-ups, a cancellation
//! storm over every primitive and I/O, and loop lifecycles under a leak check — on
//! every executor compiled in. See `docs/reliability.md`.
//!
//! Two forms:
//! - bounded (the default, what CI runs under `cargo test`, debug builds included):
//!   small sizes, about two seconds in all;
//! - long: `TULIP_RELIABILITY=long cargo test --release --all-features --test
//!   reliability -- --nocapture` (sizes in [`Sizes::LONG`]); each scenario prints its
//!   figures.
//!
//! `TULIP_RELIABILITY_SEED=<u64>` replays another random schedule (the seed is
//! printed by every scenario).
//!
//! The scenarios count the whole process's descriptors, threads and resident memory,
//! so they take one lock and run one at a time; they live in their own test binary so
//! that no other test's sockets or threads are counted. No assertion depends on
//! timing or on which thread runs first: every wait is for an event, and a hang is
//! caught by a generous per-scenario deadline (the test fails with "hang").
//!
//! The `*_with_*` scenarios (a loop released while a lock, a semaphore, a queue
//! hand-over or an event has a waiter) found a deadlock, since fixed: see
//! docs/reliability.md, part 5. A scenario that hangs prints its loop's task dump.
#![cfg(feature = "net")]
mod common;

use std::future::Future;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::Factory;
use tulip::net::{
    open_connection, start_server_with, ListenOptions, Server, TcpListener, TcpStream,
};
use tulip::{
    Cancelled, Condition, Error, Event, Lock, Promise, PutError, Queue, Semaphore, Task, TaskGroup,
    TaskGroupError,
};

// ---------------------------------------------------------------------------------
// Sizes and the two forms
// ---------------------------------------------------------------------------------

/// How big each part runs.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Echo soak: connections in all, and how many are open at once (capped by
    /// `RLIMIT_NOFILE`).
    connections: usize,
    concurrency: usize,
    /// Echo soak: messages per connection (1..=max) and bytes per message (1..=max).
    max_messages: usize,
    max_message: usize,
    /// Cross-thread wake-ups: `call_soon_threadsafe` calls in all, from `PRODUCERS`
    /// threads.
    wakeups: usize,
    /// Cancellation storm: tasks spawned in all, tasks alive at the start, driver
    /// rounds.
    storm_tasks: usize,
    storm_live: usize,
    storm_rounds: usize,
    /// Loop lifecycle: loops created, used and dropped per variant.
    loops: usize,
    /// Resident-memory growth allowed between "before" and "after" (allocator
    /// caches, per-thread malloc arenas, lazily grown tables).
    rss_slack_kib: u64,
    /// The watchdog's deadline per scenario: a hang aborts the process.
    deadline: Duration,
}

impl Sizes {
    const BOUNDED: Sizes = Sizes {
        connections: 64,
        concurrency: 16,
        max_messages: 4,
        max_message: 16 * 1024,
        wakeups: 100_000,
        storm_tasks: 2_000,
        storm_live: 200,
        storm_rounds: 20_000,
        loops: 50,
        rss_slack_kib: 16 * 1024,
        deadline: Duration::from_secs(300),
    };

    const LONG: Sizes = Sizes {
        connections: 2_000,
        concurrency: 500,
        max_messages: 16,
        max_message: 256 * 1024,
        wakeups: 1_000_000,
        storm_tasks: 50_000,
        storm_live: 2_000,
        storm_rounds: 500_000,
        loops: 1_000,
        rss_slack_kib: 32 * 1024,
        deadline: Duration::from_secs(900),
    };

    /// The form asked for; `TULIP_RELIABILITY_DEADLINE=<seconds>` shortens (or
    /// lengthens) the watchdog's deadline, to catch a rare hang in a loop of runs.
    fn get() -> Sizes {
        let mut sizes = match std::env::var("TULIP_RELIABILITY").as_deref() {
            Ok("long") => Sizes::LONG,
            _ => Sizes::BOUNDED,
        };
        if let Some(secs) = std::env::var("TULIP_RELIABILITY_DEADLINE")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            sizes.deadline = Duration::from_secs(secs);
        }
        sizes
    }

    fn form() -> &'static str {
        match std::env::var("TULIP_RELIABILITY").as_deref() {
            Ok("long") => "long",
            _ => "bounded",
        }
    }
}

/// Parks a task that holds `$prim` (taken with `$prim.$take()`) in a long sleep, waits
/// until it holds it, then parks a second task waiting for it.
macro_rules! park_holder_and_waiter {
    ($park:ident, $expected:ident, $prim:ident, $take:ident) => {{
        let held = Arc::new(AtomicBool::new(false));
        {
            let ($prim, held) = ($prim.clone(), held.clone());
            $park(
                Box::pin(async move {
                    let _guard = $prim.$take().await?;
                    held.store(true, Ordering::SeqCst);
                    tulip::sleep(Duration::from_secs(3600)).await?;
                    Ok(())
                }),
                &mut $expected,
            )?;
        }
        common::until(|| held.load(Ordering::SeqCst)).await;
        $park(
            Box::pin(async move {
                let _guard = $prim.$take().await?;
                Ok(())
            }),
            &mut $expected,
        )?;
    }};
}

fn seed() -> u64 {
    std::env::var("TULIP_RELIABILITY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7u64 << 60 | 0x0715_1115)
}

// ---------------------------------------------------------------------------------
// Process measurements
// ---------------------------------------------------------------------------------

/// Scenarios count process-wide resources: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process's threads, minus the test harness's own: libtest names each test's
/// thread after the test (`local::…`, `threaded::…`), and starts the next test's
/// thread whenever one finishes — those come and go on their own schedule. Tulip
/// names every thread it starts, and the lifecycle scenario runs its loops on a
/// thread of its own (`rel-loops`), so a thread leaked by tulip is never mistaken for
/// a harness thread.
fn threads() -> Vec<String> {
    // The main thread's name (the binary's): a thread libtest has just started
    // carries it until the thread names itself.
    let main = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
    let main = main.trim_end();
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .map(|comm| comm.trim_end().to_string())
        .filter(|comm| !common::is_test_thread(comm) && comm != main)
        .collect();
    names.sort();
    names
}

/// The threads once they match `expected`, or after 10 s whatever they are. A joined
/// thread is gone for the program at once, but the kernel lists it in
/// /proc/self/task until it has finished exiting, a moment after `join` returned:
/// this waits for that event (a thread that never ends still fails the check).
fn threads_settled(expected: &[String]) -> Vec<String> {
    let start = Instant::now();
    loop {
        let now = threads();
        if now == expected || start.elapsed() > Duration::from_secs(10) {
            return now;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The threads once no threaded loop's worker is listed, and no `rel-run` thread but
/// the caller's own (at most 10 s). A thread that `join` returned for can still be
/// listed for a moment: the joiner wakes when the thread clears its id, before the
/// kernel has removed it from `/proc/self/task`. So the previous scenario's `rel-run`
/// thread, or one it started (which inherits the name), may still show.
fn threads_without_workers() -> Vec<String> {
    let start = Instant::now();
    loop {
        let now = threads();
        let settled = !now.iter().any(|t| t.starts_with("tulip-worker"))
            && now.iter().filter(|t| *t == "rel-run").count() <= 1;
        if settled || start.elapsed() > Duration::from_secs(10) {
            return now;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Resident memory (VmRSS), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// The soft `RLIMIT_NOFILE` (read from /proc: the facade package has no libc).
fn nofile_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// fds, threads and RSS at one moment.
#[derive(Debug, Clone)]
struct Snapshot {
    fds: usize,
    threads: Vec<String>,
    rss_kib: u64,
}

impl Snapshot {
    fn take() -> Snapshot {
        Snapshot {
            fds: common::open_fds(),
            threads: threads(),
            rss_kib: rss_kib(),
        }
    }
}

/// Runs `pass` twice and checks the process came back each time: the same
/// descriptors and threads before the first pass, between the passes and after the
/// second; and no more resident memory after the second pass than after the first,
/// give or take `rss_slack_kib`.
///
/// Why two passes: the first one is the warm-up. It creates what is created once per
/// process (or per thread), and it leaves the allocator at its high-water mark (glibc
/// keeps freed memory in its arenas, and raises its mmap threshold after large frees,
/// so RSS does not return to the very start). A leak grows with the work done: the
/// second, identical pass would add the same amount again.
fn two_passes(what: &str, sizes: &Sizes, pass: impl Fn()) {
    common::warm_up_process_globals();
    let mut start = Snapshot::take();
    // No loop is alive here (scenarios run one at a time and close theirs), but the
    // previous scenario's workers may still be listed while they finish exiting: wait
    // for them, or they would be "expected" forever.
    start.threads = threads_without_workers();
    let t0 = Instant::now();
    pass();
    let mut mid = Snapshot::take();
    mid.threads = threads_settled(&start.threads);
    mid.fds = common::fds_settled(start.fds);
    let t1 = Instant::now();
    pass();
    let mut end = Snapshot::take();
    end.threads = threads_settled(&start.threads);
    end.fds = common::fds_settled(start.fds);
    let t2 = Instant::now();
    eprintln!(
        "  {what}: fds {} -> {} -> {}, threads {} -> {} -> {}, rss {} -> {} -> {} KiB \
         (second pass {:+} KiB), wall {:.2?} + {:.2?}",
        start.fds,
        mid.fds,
        end.fds,
        start.threads.len(),
        mid.threads.len(),
        end.threads.len(),
        start.rss_kib,
        mid.rss_kib,
        end.rss_kib,
        end.rss_kib as i64 - mid.rss_kib as i64,
        t1 - t0,
        t2 - t1,
    );
    assert_eq!(
        (mid.fds, end.fds),
        (start.fds, start.fds),
        "{what}: descriptors leaked"
    );
    assert_eq!(
        mid.threads, start.threads,
        "{what}: threads left after the first pass"
    );
    assert_eq!(
        end.threads, start.threads,
        "{what}: threads left after the second pass"
    );
    assert!(
        end.rss_kib <= mid.rss_kib + sizes.rss_slack_kib,
        "{what}: resident memory grew from {} KiB to {} KiB in the second pass (slack {} KiB)",
        mid.rss_kib,
        end.rss_kib,
        sizes.rss_slack_kib
    );
}

/// The loop the running scenario drives, if it says so ([`watch`]): a hang prints
/// its task dump, so the failure says which await never ended.
static WATCHED: Mutex<Option<tulip::EventLoop>> = Mutex::new(None);

/// Names `lp` as the loop to dump if this scenario hangs, until the guard drops
/// (before the loop is, so the scenario's leak check sees it gone).
fn watch(lp: &tulip::EventLoop) -> Watching {
    *WATCHED.lock().unwrap_or_else(|e| e.into_inner()) = Some(lp.clone());
    Watching
}

struct Watching;

impl Drop for Watching {
    fn drop(&mut self) {
        WATCHED.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// Runs one scenario's body on a thread of its own (`rel-run`, so that the threads
/// it starts inherit a name `threads()` counts) and fails the test if it has not
/// finished within `deadline`: a hang fails the run instead of stalling CI. A hung
/// body's thread is left behind, blocked; it holds what it held, so later scenarios'
/// before/after counts are unaffected.
fn guarded(what: String, deadline: Duration, body: impl FnOnce() + Send + 'static) {
    let _serial = serial();
    let (finished, done) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("rel-run".into())
        .spawn(move || {
            // Dropped when the body returns or unwinds: the test thread hears either.
            let _finished = finished;
            body();
        })
        .unwrap();
    match done.recv_timeout(deadline) {
        Err(RecvTimeoutError::Timeout) => {
            // Taken, not cloned: the hung body never drops its guard, and a later
            // scenario that watches nothing must not dump this loop.
            let watched = WATCHED.lock().unwrap_or_else(|e| e.into_inner()).take();
            let dump = watched.map_or_else(
                || "(no loop watched)".into(),
                |lp| format!("{}{:#?}", lp.dump_tasks(), lp.stats()),
            );
            panic!("{what}: still running after {deadline:?}: hang; its loop's tasks:\n{dump}")
        }
        _ => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

/// Which executor the running scenario is on, for the printed figures: the harness
/// names each test's thread `local::…` or `threaded::…` (see [`per_executor!`]).
fn executor_name() -> String {
    let name = std::thread::current().name().unwrap_or("?").to_string();
    name.split("::").next().unwrap_or("?").to_string()
}

// ---------------------------------------------------------------------------------
// Random numbers and checksums (no external crates)
// ---------------------------------------------------------------------------------

/// xorshift64*: fast, seeded, reproducible.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed: distinct nearby seeds give unrelated streams, and
        // the state is never zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    /// A message size: mostly small, one in four up to `max`.
    fn message_size(&mut self, max: usize) -> usize {
        if self.below(4) == 0 {
            self.between(1, max)
        } else {
            self.between(1, max.min(1024))
        }
    }
}

/// FNV-1a, 64 bits.
fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

// ---------------------------------------------------------------------------------
// The echo server shared by the soak and the storm
// ---------------------------------------------------------------------------------

/// What the echo server's handlers did.
#[derive(Default)]
struct EchoStats {
    started: AtomicUsize,
    finished: AtomicUsize,
    bytes: AtomicU64,
}

/// An asyncio-streams echo server on 127.0.0.1: each handler echoes until EOF (or an
/// error: a storm's client may vanish mid-message), then closes its writer.
async fn echo_server(stats: Arc<EchoStats>) -> Result<Server, tulip::net::Error> {
    let opts = ListenOptions {
        backlog: 1024,
        ..Default::default()
    };
    start_server_with(
        move |mut r, w| {
            let stats = stats.clone();
            stats.started.fetch_add(1, Ordering::SeqCst);
            async move {
                loop {
                    match r.read(64 * 1024).await {
                        Ok(data) if !data.is_empty() => {
                            stats.bytes.fetch_add(data.len() as u64, Ordering::SeqCst);
                            w.write(&data);
                            if w.drain().await.is_err() {
                                break;
                            }
                        }
                        _ => break,
                    }
                }
                w.close();
                let _ = w.wait_closed().await;
                stats.finished.fetch_add(1, Ordering::SeqCst);
            }
        },
        "127.0.0.1:0",
        opts,
    )
    .await
}

/// Closes the server and waits until every handler it started has finished.
async fn stop_echo_server(server: Server, stats: &EchoStats) -> Result<(), tulip::net::Error> {
    server.close();
    server.wait_closed().await?;
    common::until(|| stats.finished.load(Ordering::SeqCst) == stats.started.load(Ordering::SeqCst))
        .await;
    Ok(())
}

/// What one echo client verified.
#[derive(Default, Clone, Copy)]
struct Checked {
    messages: u64,
    bytes: u64,
    mismatches: u64,
}

/// One connection through tulip's own `TcpStream`: `messages` random payloads, each
/// written whole and read back whole; then a half-close, and the server's EOF.
async fn echo_over_tcp_stream(
    addr: SocketAddr,
    rng: &mut Rng,
    messages: usize,
    max_message: usize,
) -> Result<Checked, Error> {
    let mut s = TcpStream::connect(addr).await?;
    let mut c = Checked::default();
    let mut back = Vec::new();
    for _ in 0..messages {
        let mut out = vec![0u8; rng.message_size(max_message)];
        rng.fill(&mut out);
        s.write_all(&out).await?;
        back.clear();
        back.resize(out.len(), 0);
        let mut got = 0;
        while got < back.len() {
            let n = s.read(&mut back[got..]).await?;
            if n == 0 {
                break;
            }
            got += n;
        }
        c.messages += 1;
        if got == out.len() && checksum(&back) == checksum(&out) && back == out {
            c.bytes += out.len() as u64;
        } else {
            c.mismatches += 1;
        }
    }
    s.shutdown(Shutdown::Write)?;
    let mut one = [0u8; 1];
    if s.read(&mut one).await? != 0 {
        c.mismatches += 1;
    }
    Ok(c)
}

/// One connection through asyncio's streams (`open_connection`): as above with
/// `write` + `drain`, `readexactly`, `write_eof`, `close` + `wait_closed`.
async fn echo_over_streams(
    addr: SocketAddr,
    rng: &mut Rng,
    messages: usize,
    max_message: usize,
) -> Result<Checked, Error> {
    let (mut r, w) = open_connection(addr).await?;
    let mut c = Checked::default();
    for _ in 0..messages {
        let mut out = vec![0u8; rng.message_size(max_message)];
        rng.fill(&mut out);
        w.write(&out);
        w.drain().await?;
        let back = r.readexactly(out.len()).await?;
        c.messages += 1;
        if checksum(&back) == checksum(&out) && back == out {
            c.bytes += out.len() as u64;
        } else {
            c.mismatches += 1;
        }
    }
    w.write_eof();
    if !r.read(1).await?.is_empty() {
        c.mismatches += 1;
    }
    w.close();
    w.wait_closed().await?;
    Ok(c)
}

// ---------------------------------------------------------------------------------
// 1. Echo soak
// ---------------------------------------------------------------------------------

/// Many connections to one echo server, at most `concurrency` open at once (a
/// semaphore), half through `TcpStream`, half through `open_connection`; each sends
/// seeded random payloads of random sizes and checks every byte that comes back.
/// Asserts: every byte checked, 0 mismatches, the server echoed exactly what was
/// sent, and fds / RSS back to where they were before the loop was created.
fn echo_soak(new_loop: Factory) {
    let exe = executor_name();
    guarded(
        format!("echo_soak/{exe}"),
        Sizes::get().deadline,
        move || {
            two_passes("echo_soak", &Sizes::get(), || {
                echo_soak_body(new_loop, &exe)
            })
        },
    );
}

fn echo_soak_body(new_loop: Factory, exe: &str) {
    let sizes = Sizes::get();
    let seed = seed();

    // Room for two descriptors per open connection, plus margin.
    let room = nofile_limit().saturating_sub(common::open_fds() + 64) / 2;
    let concurrency = sizes.concurrency.min(room).max(1);
    let connections = sizes.connections;

    let lp = new_loop().unwrap();
    let watching = watch(&lp);
    let stats = Arc::new(EchoStats::default());
    let st = stats.clone();
    let totals = lp
        .run_until_complete(async move {
            let inner_fds = common::open_fds();
            let server = echo_server(st.clone()).await?;
            let addr = server.local_addr().unwrap();
            let gate = Arc::new(Semaphore::new(concurrency));
            let open_now = Arc::new(AtomicUsize::new(0));
            let most_open = Arc::new(AtomicUsize::new(0));
            let mut clients: Vec<Task<Checked, Error>> = Vec::with_capacity(connections);
            for i in 0..connections {
                let (gate, open_now, most_open) =
                    (gate.clone(), open_now.clone(), most_open.clone());
                let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let messages = rng.between(1, sizes.max_messages);
                clients.push(tulip::create_task(async move {
                    let _permit = gate.acquire().await?;
                    let now = open_now.fetch_add(1, Ordering::SeqCst) + 1;
                    most_open.fetch_max(now, Ordering::SeqCst);
                    let c = if i % 2 == 0 {
                        echo_over_tcp_stream(addr, &mut rng, messages, sizes.max_message).await
                    } else {
                        echo_over_streams(addr, &mut rng, messages, sizes.max_message).await
                    };
                    open_now.fetch_sub(1, Ordering::SeqCst);
                    c
                })?);
            }
            let mut total = Checked::default();
            for c in clients {
                let c = c.await?;
                total.messages += c.messages;
                total.bytes += c.bytes;
                total.mismatches += c.mismatches;
            }
            stop_echo_server(server, &st).await?;
            // A handler counts itself finished a moment before its socket is dropped;
            // on the threaded loop that drop may still be running on a worker.
            common::until(|| common::open_fds() <= inner_fds).await;
            assert_eq!(
                common::open_fds(),
                inner_fds,
                "descriptors left open inside the loop"
            );
            Ok::<_, Error>((total, most_open.load(Ordering::SeqCst)))
        })
        .unwrap();
    lp.close().unwrap();
    drop(watching);
    drop(lp);

    let (total, most_open) = totals;
    eprintln!(
        "reliability[{}] echo_soak/{exe} seed={seed}: {connections} connections \
         (at most {most_open} open at once, limit {concurrency}), {} messages, \
         {} bytes verified, {} mismatches, server echoed {} bytes",
        Sizes::form(),
        total.messages,
        total.bytes,
        total.mismatches,
        stats.bytes.load(Ordering::SeqCst)
    );
    assert_eq!(
        total.mismatches, 0,
        "echoed bytes differ from what was sent"
    );
    assert_eq!(stats.started.load(Ordering::SeqCst), connections);
    assert_eq!(stats.bytes.load(Ordering::SeqCst), total.bytes);
    assert!(total.messages >= connections as u64);
}

// ---------------------------------------------------------------------------------
// 2. Cross-thread wake-ups
// ---------------------------------------------------------------------------------

const PRODUCERS: usize = 4;
/// Callbacks one producer may have queued and not yet run.
const WINDOW: usize = 1024;

/// `PRODUCERS` foreign threads call `call_soon_threadsafe` `wakeups / PRODUCERS`
/// times each; every callback marks its own slot. Asserts: every callback ran exactly
/// once (no loss, no duplicate), each producer's callbacks ran in the order it
/// scheduled them (asyncio's FIFO), all on the thread running the loop, every
/// `call_soon_threadsafe` returned `Ok`, and every callback was dropped once run.
/// Each producer keeps at most `WINDOW` callbacks queued.
fn cross_thread_wakeups(new_loop: Factory) {
    let exe = executor_name();
    guarded(
        format!("cross_thread_wakeups/{exe}"),
        Sizes::get().deadline,
        move || {
            two_passes("cross_thread_wakeups", &Sizes::get(), || {
                cross_thread_wakeups_body(new_loop, &exe)
            })
        },
    );
}

fn cross_thread_wakeups_body(new_loop: Factory, exe: &str) {
    let sizes = Sizes::get();
    let per = sizes.wakeups / PRODUCERS;

    struct Marks {
        slots: Vec<Vec<AtomicU8>>,
        next: Vec<AtomicUsize>,
        out_of_order: AtomicUsize,
        duplicates: AtomicUsize,
        off_thread: AtomicUsize,
        ran: AtomicUsize,
    }
    let marks = Arc::new(Marks {
        slots: (0..PRODUCERS)
            .map(|_| (0..per).map(|_| AtomicU8::new(0)).collect())
            .collect(),
        next: (0..PRODUCERS).map(|_| AtomicUsize::new(0)).collect(),
        out_of_order: AtomicUsize::new(0),
        duplicates: AtomicUsize::new(0),
        off_thread: AtomicUsize::new(0),
        ran: AtomicUsize::new(0),
    });

    let lp = new_loop().unwrap();
    let watching = watch(&lp);
    let (lp2, m) = (lp.clone(), marks.clone());
    let total = per * PRODUCERS;
    let loop_thread = std::thread::current().id();
    lp.run_until_complete(async move {
        let all_ran = Promise::<()>::new();
        let producers: Vec<JoinHandle<usize>> = (0..PRODUCERS)
            .map(|k| {
                let (lp, m, all_ran) = (lp2.clone(), m.clone(), all_ran.clone());
                std::thread::Builder::new()
                    .name(format!("rel-producer-{k}"))
                    .spawn(move || {
                        let mut refused = 0;
                        for seq in 0..per {
                            // At most WINDOW of this producer's callbacks queued: the
                            // loop keeps draining its queue and going back to sleep
                            // (so the wake-up path is what is exercised), and memory
                            // does not depend on how far the producers get ahead.
                            while seq.saturating_sub(m.next[k].load(Ordering::SeqCst)) >= WINDOW {
                                std::thread::yield_now();
                            }
                            let (m, all_ran) = (m.clone(), all_ran.clone());
                            let scheduled = lp.call_soon_threadsafe(move || {
                                if m.slots[k][seq].fetch_add(1, Ordering::SeqCst) != 0 {
                                    m.duplicates.fetch_add(1, Ordering::SeqCst);
                                }
                                if m.next[k].swap(seq + 1, Ordering::SeqCst) != seq {
                                    m.out_of_order.fetch_add(1, Ordering::SeqCst);
                                }
                                if std::thread::current().id() != loop_thread {
                                    m.off_thread.fetch_add(1, Ordering::SeqCst);
                                }
                                if m.ran.fetch_add(1, Ordering::SeqCst) + 1 == total {
                                    all_ran.set_result(()).unwrap();
                                }
                            });
                            if scheduled.is_err() {
                                refused += 1;
                            }
                        }
                        refused
                    })
                    .unwrap()
            })
            .collect();
        all_ran.await?;
        let refused: usize = producers.into_iter().map(|p| p.join().unwrap()).sum();
        assert_eq!(refused, 0, "call_soon_threadsafe refused callbacks");
        Ok::<_, Error>(())
    })
    .unwrap();
    lp.close().unwrap();
    drop(watching);
    drop(lp);

    assert_eq!(
        Arc::strong_count(&marks),
        1,
        "callbacks (or their closures) still alive after the loop was dropped"
    );
    let missing: usize = marks
        .slots
        .iter()
        .map(|s| s.iter().filter(|c| c.load(Ordering::SeqCst) == 0).count())
        .sum();
    eprintln!(
        "reliability[{}] cross_thread_wakeups/{exe}: {total} call_soon_threadsafe from \
         {PRODUCERS} threads, {} callbacks ran, {missing} missing, {} duplicated, {} out \
         of order, {} off the loop thread",
        Sizes::form(),
        marks.ran.load(Ordering::SeqCst),
        marks.duplicates.load(Ordering::SeqCst),
        marks.out_of_order.load(Ordering::SeqCst),
        marks.off_thread.load(Ordering::SeqCst),
    );
    assert_eq!(missing, 0, "callbacks lost");
    assert_eq!(
        marks.duplicates.load(Ordering::SeqCst),
        0,
        "callbacks ran twice"
    );
    assert_eq!(marks.ran.load(Ordering::SeqCst), total);
    assert_eq!(
        marks.out_of_order.load(Ordering::SeqCst),
        0,
        "FIFO per producer"
    );
    assert_eq!(
        marks.off_thread.load(Ordering::SeqCst),
        0,
        "callbacks off the loop thread"
    );
    for k in 0..PRODUCERS {
        assert_eq!(marks.next[k].load(Ordering::SeqCst), per);
    }
}

// ---------------------------------------------------------------------------------
// 3. Cancellation storm
// ---------------------------------------------------------------------------------

type BoxFut = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// Everything the storm's tasks share.
struct Storm {
    lock: Lock,
    in_lock: AtomicUsize,
    sem: Semaphore,
    in_sem: AtomicUsize,
    cond: Condition,
    event: Event,
    queue: Queue<u64>,
    put: AtomicU64,
    got: AtomicU64,
    violations: AtomicUsize,
    echo: SocketAddr,
    io_bytes: AtomicU64,
    io_mismatches: AtomicU64,
    ops_done: AtomicU64,
}

const SEM_PERMITS: usize = 3;
const QUEUE_MAX: usize = 8;

/// Counts a task inside a critical section while it lives; a count above `limit`
/// is a violation of the primitive's exclusion.
struct Inside<'a>(&'a AtomicUsize);

impl<'a> Inside<'a> {
    fn enter(count: &'a AtomicUsize, limit: usize, violations: &AtomicUsize) -> Inside<'a> {
        if count.fetch_add(1, Ordering::SeqCst) + 1 > limit {
            violations.fetch_add(1, Ordering::SeqCst);
        }
        Inside(count)
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn cancelled() -> Error {
    Error::Cancelled(Cancelled::default())
}

/// One leaf operation on one primitive or on I/O. Every wait in it ends either by
/// the storm's driver (notify, set, put, get) or by a cancel.
fn leaf(s: Arc<Storm>, rng: &mut Rng) -> BoxFut {
    let kind = rng.below(8);
    let n = rng.between(1, 3);
    let mut r = Rng::new(rng.next());
    Box::pin(async move {
        match kind {
            0 => {
                for _ in 0..n {
                    let _g = s.lock.acquire().await?;
                    let _in = Inside::enter(&s.in_lock, 1, &s.violations);
                    tulip::yield_now().await?;
                }
            }
            1 => {
                for _ in 0..n {
                    let _p = s.sem.acquire().await?;
                    let _in = Inside::enter(&s.in_sem, SEM_PERMITS, &s.violations);
                    tulip::yield_now().await?;
                }
            }
            2 => {
                let mut g = s.cond.acquire().await?;
                let waited = s.cond.wait(&mut g).await;
                // Woken or cancelled, the lock is held again.
                if !s.cond.locked() {
                    s.violations.fetch_add(1, Ordering::SeqCst);
                }
                waited?;
            }
            3 => s.event.wait().await?,
            4 => {
                for _ in 0..n {
                    match s.queue.put(r.next()).await {
                        Ok(()) => {
                            s.put.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(PutError::Cancelled(_item, c)) => return Err(Error::Cancelled(c)),
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            5 => {
                for _ in 0..n {
                    s.queue.get().await?;
                    s.got.fetch_add(1, Ordering::SeqCst);
                }
            }
            6 => {
                if r.below(4) == 0 {
                    // Only a cancel ends this one.
                    tulip::sleep(Duration::from_secs(3600)).await?;
                } else {
                    tulip::sleep(Duration::from_millis(r.below(3) as u64)).await?;
                }
            }
            _ => {
                let mut sock = TcpStream::connect(s.echo).await?;
                let mut out = vec![0u8; r.message_size(64 * 1024)];
                r.fill(&mut out);
                sock.write_all(&out).await?;
                let mut back = vec![0u8; out.len()];
                let mut got = 0;
                while got < back.len() {
                    let k = sock.read(&mut back[got..]).await?;
                    if k == 0 {
                        break;
                    }
                    got += k;
                }
                if back == out {
                    s.io_bytes.fetch_add(out.len() as u64, Ordering::SeqCst);
                } else {
                    s.io_mismatches.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        s.ops_done.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
}

/// A task body: a leaf, or a combinator over leaves (gather, wait_for with a long
/// and with a short timeout, TaskGroup).
fn storm_task(s: Arc<Storm>, rng: &mut Rng) -> BoxFut {
    let kind = rng.below(12);
    match kind {
        0..=6 => leaf(s, rng),
        7 | 8 => {
            let children: Vec<BoxFut> = (0..rng.between(2, 4))
                .map(|_| leaf(s.clone(), rng))
                .collect();
            Box::pin(async move {
                tulip::gather(children).await?;
                Ok(())
            })
        }
        9 => {
            let child = leaf(s, rng);
            Box::pin(async move { tulip::wait_for(child, Duration::from_secs(3600)).await })
        }
        10 => {
            let child = leaf(s, rng);
            let limit = Duration::from_millis(rng.below(3) as u64);
            Box::pin(async move {
                match tulip::wait_for(child, limit).await {
                    Err(e) if e.is_timeout() => Ok(()),
                    other => other,
                }
            })
        }
        _ => {
            let children: Vec<BoxFut> = (0..rng.between(2, 4))
                .map(|_| leaf(s.clone(), rng))
                .collect();
            Box::pin(async move {
                let r = TaskGroup::run(move |tg| async move {
                    for c in children {
                        tg.create_task(c)?;
                    }
                    Ok(())
                })
                .await;
                match r {
                    Ok(()) => Ok(()),
                    Err(TaskGroupError::Cancelled(c)) => Err(Error::Cancelled(c)),
                    Err(TaskGroupError::Failed(errors)) => {
                        Err(errors.into_iter().next().unwrap_or_else(cancelled))
                    }
                }
            })
        }
    }
}

/// Tasks on a lock, a semaphore, a condition, an event, a bounded queue (put and
/// get), sleeps, echo connections, and gather / wait_for / TaskGroup over those; a
/// driver cancels them at random (seeded), notifies, sets, puts and gets, and spawns
/// more; at the end it cancels every task left. Asserts: every task ends (returned
/// or cancelled, none raised, no hang); no queue item lost (put == got + left); no
/// exclusion violated; no primitive stranded (the lock and the condition's lock are
/// free and acquirable, all permits back, no waiter left); echoed bytes intact; fds
/// back.
fn cancellation_storm(new_loop: Factory) {
    let exe = executor_name();
    guarded(
        format!("cancellation_storm/{exe}"),
        Sizes::get().deadline,
        move || {
            two_passes("cancellation_storm", &Sizes::get(), || {
                cancellation_storm_body(new_loop, &exe)
            })
        },
    );
}

fn cancellation_storm_body(new_loop: Factory, exe: &str) {
    let sizes = Sizes::get();
    let seed = seed();

    let lp = new_loop().unwrap();
    let watching = watch(&lp);
    let reports = common::Log::default();
    let rep = reports.clone();
    lp.set_exception_handler(Some(
        move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| rep.push(ctx.message.clone()),
    ));
    let echo_stats = Arc::new(EchoStats::default());
    let es = echo_stats.clone();
    let (s, figures) = lp
        .run_until_complete(async move {
            let server = echo_server(es.clone()).await?;
            let s = Arc::new(Storm {
                lock: Lock::new(),
                in_lock: AtomicUsize::new(0),
                sem: Semaphore::new(SEM_PERMITS),
                in_sem: AtomicUsize::new(0),
                cond: Condition::new(),
                event: Event::new(),
                queue: Queue::new(QUEUE_MAX),
                put: AtomicU64::new(0),
                got: AtomicU64::new(0),
                violations: AtomicUsize::new(0),
                echo: server.local_addr().unwrap(),
                io_bytes: AtomicU64::new(0),
                io_mismatches: AtomicU64::new(0),
                ops_done: AtomicU64::new(0),
            });
            let mut rng = Rng::new(seed);
            let mut tasks: Vec<Task<(), Error>> = Vec::with_capacity(sizes.storm_tasks);
            let spawn = |tasks: &mut Vec<Task<(), Error>>, rng: &mut Rng| -> Result<(), Error> {
                tasks.push(tulip::create_task(storm_task(s.clone(), rng))?);
                Ok(())
            };
            for _ in 0..sizes.storm_live.min(sizes.storm_tasks) {
                spawn(&mut tasks, &mut rng)?;
            }
            let mut cancels = 0u64;
            for _ in 0..sizes.storm_rounds {
                if tasks.len() < sizes.storm_tasks && rng.below(2) == 0 {
                    spawn(&mut tasks, &mut rng)?;
                }
                match rng.below(12) {
                    0..=2 => {
                        let t = &tasks[rng.below(tasks.len())];
                        if t.cancel() {
                            cancels += 1;
                        }
                    }
                    3 => s.event.set(),
                    4 => s.event.clear(),
                    5 => {
                        let g = s.cond.acquire().await?;
                        if rng.below(4) == 0 {
                            s.cond.notify_all()?;
                        } else {
                            s.cond.notify(rng.between(1, 3))?;
                        }
                        drop(g);
                    }
                    6 => {
                        if s.queue.put_nowait(rng.next()).is_ok() {
                            s.put.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    7 => {
                        if s.queue.get_nowait().is_ok() {
                            s.got.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    8 => tulip::sleep(Duration::ZERO).await?,
                    _ => tulip::yield_now().await?,
                }
            }
            // The end of the storm: cancel every task left, then every one must end.
            let mut final_cancels = 0u64;
            for t in &tasks {
                if t.cancel() {
                    final_cancels += 1;
                }
            }
            let spawned = tasks.len();
            let (mut returned, mut were_cancelled) = (0u64, 0u64);
            let mut raised = Vec::new();
            for t in tasks {
                match t.await {
                    Ok(()) => returned += 1,
                    Err(e) if e.is_cancelled() => were_cancelled += 1,
                    Err(e) => raised.push(e.to_string()),
                }
            }
            stop_echo_server(server, &es).await?;
            Ok::<_, Error>((
                s,
                (
                    spawned,
                    cancels,
                    final_cancels,
                    returned,
                    were_cancelled,
                    raised,
                ),
            ))
        })
        .unwrap();
    lp.close().unwrap();
    drop(watching);
    drop(lp);

    let (spawned, cancels, final_cancels, returned, were_cancelled, raised) = figures;
    let (put, got, left) = (
        s.put.load(Ordering::SeqCst),
        s.got.load(Ordering::SeqCst),
        s.queue.qsize() as u64,
    );
    eprintln!(
        "reliability[{}] cancellation_storm/{exe} seed={seed}: {spawned} tasks, {cancels} \
         random cancels + {final_cancels} final ones accepted, {returned} returned, {were_cancelled} ended cancelled, {} raised; \
         {} leaf operations completed; queue: {put} put = {got} got + {left} left; echo \
         bytes verified {} ({} mismatches); {} exclusion violations",
        Sizes::form(),
        raised.len(),
        s.ops_done.load(Ordering::SeqCst),
        s.io_bytes.load(Ordering::SeqCst),
        s.io_mismatches.load(Ordering::SeqCst),
        s.violations.load(Ordering::SeqCst),
    );
    assert!(raised.is_empty(), "tasks raised: {raised:?}");
    assert_eq!(
        returned + were_cancelled,
        spawned as u64,
        "every task ended"
    );
    assert_eq!(put, got + left, "queue items lost or duplicated");
    assert_eq!(s.violations.load(Ordering::SeqCst), 0, "exclusion violated");
    assert_eq!(
        s.io_mismatches.load(Ordering::SeqCst),
        0,
        "echoed bytes differ"
    );
    // Nothing stranded.
    assert!(!s.lock.locked(), "lock stranded");
    assert!(s.lock.try_acquire().is_some(), "lock not acquirable");
    assert_eq!(s.lock.waiters(), 0);
    assert_eq!(s.sem.available(), SEM_PERMITS, "semaphore permits stranded");
    assert_eq!(s.sem.waiters(), 0);
    assert!(!s.cond.locked(), "condition's lock stranded");
    assert!(s.cond.lock().try_acquire().is_some());
    assert_eq!(s.cond.waiters(), 0);
    assert_eq!(s.event.waiters(), 0);
    assert_eq!(s.queue.waiters(), (0, 0));
    let reports = reports.take();
    assert!(reports.is_empty(), "exception handler called: {reports:?}");
}

// ---------------------------------------------------------------------------------
// 4. Loop lifecycle under a leak check
// ---------------------------------------------------------------------------------

/// Which contended primitive a lifecycle loop parks: a holder parked while owning
/// it, and a waiter parked in `acquire`.
#[derive(Debug, Clone, Copy)]
enum Contended {
    No,
    Lock,
    Semaphore,
    /// Two getters on an empty queue; an item is put (handed to the first) just
    /// before the loop stops, so the first is notified but has not run.
    Queue,
    /// Two event waiters and a task owning a guard that sets the event when dropped.
    Event,
}

/// Sets its event when dropped (a "done" guard).
struct SetOnDrop(Arc<Event>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// Counts its drops.
struct Token(Arc<AtomicUsize>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Tokens made and dropped.
#[derive(Default)]
struct Tokens {
    made: AtomicUsize,
    dropped: Arc<AtomicUsize>,
}

impl Tokens {
    fn make(&self) -> Token {
        self.made.fetch_add(1, Ordering::SeqCst);
        Token(self.dropped.clone())
    }
}

/// One loop's life: sockets (a listener, a connected pair, a stream server with a
/// connected client), finished tasks, and tasks parked where only the loop can reach
/// them — a long sleep, a socket read, an accept, a lock held and a lock waited for,
/// a queue get and a queue put, an event, a condition, gather, wait_for, a TaskGroup,
/// a stream handler's read — plus a timer far away. Each parked thing owns a token.
/// Then the loop is closed and dropped, or just dropped: every token must be dropped.
fn one_loop(new_loop: Factory, close_first: bool, contended: Contended, tokens: &Arc<Tokens>) {
    let lp = new_loop().unwrap();
    let tk = tokens.clone();
    lp.run_until_complete(async move {
        let parked = Arc::new(AtomicUsize::new(0));
        let mut expected = 0;
        let handover = Queue::<Token>::new(0);
        // Parks `fut` in a task that owns a token.
        let park = |fut: BoxFut, expected: &mut usize| -> Result<(), Error> {
            let (token, parked) = (tk.make(), parked.clone());
            *expected += 1;
            tulip::create_task(async move {
                let _token = token;
                parked.fetch_add(1, Ordering::SeqCst);
                fut.await
            })?;
            Ok(())
        };

        // Finished work first: a task that returned, a short echo.
        assert_eq!(tulip::create_task(async { Ok::<_, Error>(7) })?.await?, 7);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut client = TcpStream::connect(addr).await?;
        let (mut served, _) = listener.accept().await?;
        client.write_all(b"ping").await?;
        let mut buf = [0u8; 4];
        let mut n = 0;
        while n < 4 {
            n += served.read(&mut buf[n..]).await?;
        }
        assert_eq!(&buf, b"ping");

        // Parked on I/O.
        park(
            Box::pin(async move {
                let mut one = [0u8; 1];
                client.read(&mut one).await?;
                Ok(())
            }),
            &mut expected,
        )?;
        park(
            Box::pin(async move {
                let _keep = served;
                let _ = listener.accept().await?;
                Ok(())
            }),
            &mut expected,
        )?;
        let server = tulip::net::start_server(
            {
                let tk = tk.clone();
                move |mut r, _w| {
                    let token = tk.make();
                    async move {
                        let _token = token;
                        let _ = r.read(1).await;
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await?;
        let (r, w) = open_connection(server.local_addr().unwrap()).await?;
        park(
            Box::pin(async move {
                let (mut r, _w, _server) = (r, w, server);
                r.read(1).await?;
                Ok(())
            }),
            &mut expected,
        )?;

        // Parked on timers and primitives.
        park(
            Box::pin(async {
                tulip::sleep(Duration::from_secs(3600)).await?;
                Ok(())
            }),
            &mut expected,
        )?;
        match contended {
            Contended::No => {}
            // A task holds the primitive (parked in a long sleep), another waits for it.
            Contended::Lock => {
                let lock = Arc::new(Lock::new());
                park_holder_and_waiter!(park, expected, lock, acquire);
            }
            Contended::Semaphore => {
                let sem = Arc::new(Semaphore::new(1));
                park_holder_and_waiter!(park, expected, sem, acquire);
            }
            Contended::Queue => {
                for _ in 0..2 {
                    let q = handover.clone();
                    park(
                        Box::pin(async move {
                            drop(q.get().await?);
                            Ok(())
                        }),
                        &mut expected,
                    )?;
                }
                common::until(|| handover.waiters() == (2, 0)).await;
            }
            Contended::Event => {
                let event = Arc::new(Event::new());
                for i in 0..3 {
                    let event = event.clone();
                    park(
                        Box::pin(async move {
                            if i == 1 {
                                let _set_on_drop = SetOnDrop(event);
                                tulip::sleep(Duration::from_secs(3600)).await?;
                            } else {
                                event.wait().await?;
                            }
                            Ok(())
                        }),
                        &mut expected,
                    )?;
                }
                common::until(|| event.waiters() == 2).await;
            }
        }
        let empty = Queue::<Token>::new(1);
        let full = Queue::<Token>::new(1);
        full.put_nowait(tk.make())?;
        let extra = tk.make();
        park(
            Box::pin(async move {
                let _ = empty.get().await?;
                Ok(())
            }),
            &mut expected,
        )?;
        park(
            Box::pin(async move {
                full.put(extra).await?;
                Ok(())
            }),
            &mut expected,
        )?;
        park(
            Box::pin(async move {
                let event = Event::new();
                event.wait().await?;
                Ok(())
            }),
            &mut expected,
        )?;
        park(
            Box::pin(async move {
                let cond = Condition::new();
                let mut g = cond.acquire().await?;
                cond.wait(&mut g).await?;
                Ok(())
            }),
            &mut expected,
        )?;
        park(
            Box::pin(async move {
                tulip::gather((0..2).map(|_| async {
                    tulip::sleep(Duration::from_secs(3600)).await?;
                    Ok::<_, Error>(())
                }))
                .await?;
                Ok(())
            }),
            &mut expected,
        )?;
        park(
            Box::pin(async move {
                tulip::wait_for(
                    async {
                        tulip::sleep(Duration::from_secs(3600)).await?;
                        Ok::<_, Error>(())
                    },
                    Duration::from_secs(7200),
                )
                .await
            }),
            &mut expected,
        )?;
        park(
            Box::pin(async move {
                TaskGroup::<Error>::run(|tg| async move {
                    tg.create_task(async {
                        tulip::sleep(Duration::from_secs(3600)).await?;
                        Ok::<_, Error>(())
                    })?;
                    Ok(())
                })
                .await
                .map_err(|_| cancelled())
            }),
            &mut expected,
        )?;

        // A timer far away, owning a token.
        let token = tk.make();
        tulip::get_running_loop()?.call_later(Duration::from_secs(3600), move || drop(token))?;

        common::until(|| parked.load(Ordering::SeqCst) == expected).await;
        if let Contended::Queue = contended {
            // The last thing before the loop stops: the first getter is handed the
            // item and woken, and will not run before the loop is released.
            handover.put_nowait(tk.make())?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    // With tulip's poller every waker runs on the loop's own threads, so `close`
    // and drop release everything before they return. In async-io's reactor, the
    // `async-io` thread may have woken a task just before `close`: that task's
    // future is then dropped on that thread, a moment later (measured: tens of µs,
    // a few hundred under load). Released all the same, so wait for it (bounded).
    let settle = lp.reactor().kind().wakes_inside_park();
    let all_dropped = || {
        let start = Instant::now();
        loop {
            let done = tokens.dropped.load(Ordering::SeqCst) == tokens.made.load(Ordering::SeqCst);
            if done || !settle || start.elapsed() > Duration::from_secs(5) {
                return (
                    tokens.dropped.load(Ordering::SeqCst),
                    tokens.made.load(Ordering::SeqCst),
                );
            }
            std::thread::yield_now();
        }
    };
    if close_first {
        lp.close().unwrap();
        let (dropped, made) = all_dropped();
        assert_eq!(dropped, made, "close() left parked futures or timers alive");
    }
    drop(lp);
    let (dropped, made) = all_dropped();
    assert_eq!(
        dropped, made,
        "dropping the loop left parked futures or timers alive"
    );
}

/// `loops` loops created, used (see [`one_loop`]) and released; fds, threads and RSS
/// measured before and after.
fn loop_lifecycle(new_loop: Factory, close_first: bool, contended: Contended, loops: usize) {
    let exe = executor_name();
    let what = match (close_first, contended) {
        (true, Contended::No) => "loop_lifecycle_close_then_drop".to_string(),
        (false, Contended::No) => "loop_lifecycle_just_drop".to_string(),
        (true, c) => format!("loop_close_with_contended_{c:?}"),
        (false, c) => format!("loop_drop_with_contended_{c:?}"),
    };
    let sizes = Sizes::get();
    let deadline = match contended {
        Contended::No => sizes.deadline,
        // Eight small loops take milliseconds: 10 s is generous even in a loaded
        // debug build.
        _ => Duration::from_secs(10),
    };
    guarded(format!("{what}/{exe}"), deadline, move || {
        two_passes(&what, &sizes, || {
            let tokens = Arc::new(Tokens::default());
            for _ in 0..loops {
                one_loop(new_loop, close_first, contended, &tokens);
            }
            eprintln!(
                "reliability[{}] {what}/{exe}: {loops} loops created, used and released; \
                 {} parked futures and timers released",
                Sizes::form(),
                tokens.made.load(Ordering::SeqCst),
            );
        });
    });
}

fn loop_lifecycle_close_then_drop(new_loop: Factory) {
    loop_lifecycle(new_loop, true, Contended::No, Sizes::get().loops);
}

fn loop_lifecycle_just_drop(new_loop: Factory) {
    loop_lifecycle(new_loop, false, Contended::No, Sizes::get().loops);
}

/// The contended variants, each on a few loops: a separate test per primitive and
/// per way of releasing the loop, so that one deadlock does not hide another.
macro_rules! contended {
    ($($name:ident: $close:expr, $what:ident;)*) => {$(
        fn $name(new_loop: Factory) {
            loop_lifecycle(new_loop, $close, Contended::$what, 5);
        }
    )*};
}

contended! {
    loop_close_with_lock_waiter: true, Lock;
    loop_drop_with_lock_waiter: false, Lock;
    loop_close_with_semaphore_waiter: true, Semaphore;
    loop_drop_with_semaphore_waiter: false, Semaphore;
    loop_close_with_queue_handover: true, Queue;
    loop_drop_with_queue_handover: false, Queue;
    loop_close_with_event_set_on_drop: true, Event;
    loop_drop_with_event_set_on_drop: false, Event;
}

per_executor!(
    echo_soak,
    cross_thread_wakeups,
    cancellation_storm,
    loop_lifecycle_close_then_drop,
    loop_lifecycle_just_drop,
    loop_close_with_lock_waiter,
    loop_drop_with_lock_waiter,
    loop_close_with_semaphore_waiter,
    loop_drop_with_semaphore_waiter,
    loop_close_with_queue_handover,
    loop_drop_with_queue_handover,
    loop_close_with_event_set_on_drop,
    loop_drop_with_event_set_on_drop,
);
