//! Micro-benchmarks of tulip's core paths (criterion).
//!
//! `cargo bench -p tulip-bench --bench core` (or `-- tasks::` to pick a group). Each benchmark
//! reuses one event loop across iterations, so loop creation is not measured.
//!
//! With `--features tulip-threaded`, the `threaded::` group runs spawn-join, the timer
//! burst and the ping-pong on the work-stealing loop too: the paths its workers' timer
//! firing and spinning before they park changed.

use std::future::poll_fn;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

fn new_loop() -> tulip::EventLoop {
    tulip::new_event_loop().expect("new_event_loop")
}

/// Runs `body` on `lp` and checks that it added up the indexes 0..10,000.
fn expect_index_sum<F>(lp: &tulip::EventLoop, body: F)
where
    F: std::future::Future<Output = Result<u64, tulip::Error>> + Send + 'static,
{
    let sum = lp.run_until_complete(body).expect("run_until_complete");
    assert_eq!(sum, 10_000 * 9_999 / 2);
}

/// Awaits each task in turn and adds up what they return.
async fn join_sum(handles: Vec<tulip::Task<u64>>) -> Result<u64, tulip::Error> {
    let mut sum = 0;
    for h in handles {
        sum += h.await?;
    }
    Ok(sum)
}

/// Spawns 10,000 tasks that return their index and awaits them all.
fn spawn_join_10k(lp: &tulip::EventLoop) {
    expect_index_sum(lp, async {
        let handles: Vec<_> = (0..10_000u64)
            .map(|i| {
                tulip::create_task(async move { Ok::<_, tulip::Error>(i) }).expect("create_task")
            })
            .collect();
        join_sum(handles).await
    });
}

/// Spawns 10,000 tasks each parked on its own promise, then sets every promise and
/// awaits the tasks: the awaiter's registration, completion and wake-up of a
/// `Promise` (the `idle_promise` row's path).
fn promise_await_10k(lp: &tulip::EventLoop) {
    expect_index_sum(lp, async {
        let promises: Vec<tulip::Promise<u64>> =
            (0..10_000).map(|_| tulip::Promise::new()).collect();
        let handles: Vec<_> = promises
            .iter()
            .map(|p| tulip::create_task(p.clone()).expect("create_task"))
            .collect();
        tulip::yield_now().await?;
        for (i, p) in (0..).zip(&promises) {
            p.set_result(i)?;
        }
        join_sum(handles).await
    });
}

/// 10,000 tasks each awaiting a child task that is still pending (parked on one
/// shared promise), then the promise is set and the parents joined: the awaiter's
/// registration on a pending task and its wake-up at the child's finish (the path
/// "The awaiter in the done-list" changed).
fn await_pending_10k(lp: &tulip::EventLoop) {
    expect_index_sum(lp, async {
        let gate: tulip::Promise<()> = tulip::Promise::new();
        let parents: Vec<_> = (0..10_000u64)
            .map(|i| {
                let g = gate.clone();
                let child = tulip::create_task(async move {
                    g.await?;
                    Ok::<_, tulip::Error>(i)
                })
                .expect("create_task");
                tulip::create_task(child).expect("create_task")
            })
            .collect();
        tulip::yield_now().await?;
        tulip::yield_now().await?;
        gate.set_result(())?;
        join_sum(parents).await
    });
}

/// 10,000 references to the running task: `current_task()` and a clone of it, both
/// dropped, each made and given back through the header's key (the path "Task
/// references are one pointer" changed). Adds up their ids' equality as a check.
fn task_refs_10k(lp: &tulip::EventLoop) {
    let same = lp
        .run_until_complete(async {
            let me = tulip::current_task().expect("inside a task");
            let mut same = 0u64;
            for _ in 0..10_000 {
                let r = black_box(tulip::current_task().expect("inside a task"));
                let copy = black_box(r.clone());
                same += u64::from(copy.id() == me.id());
            }
            Ok::<_, tulip::Error>(same)
        })
        .expect("run_until_complete");
    assert_eq!(same, 10_000);
}

fn tasks(c: &mut Criterion) {
    let lp = new_loop();
    c.bench_function("tasks::spawn_join_10k", |b| b.iter(|| spawn_join_10k(&lp)));
    c.bench_function("tasks::promise_await_10k", |b| {
        b.iter(|| promise_await_10k(&lp))
    });
    c.bench_function("tasks::await_pending_10k", |b| {
        b.iter(|| await_pending_10k(&lp))
    });
    c.bench_function("tasks::task_refs_10k", |b| b.iter(|| task_refs_10k(&lp)));
    c.bench_function("tasks::yield_1k", |b| {
        b.iter(|| {
            lp.run_until_complete(async {
                for _ in 0..1_000 {
                    tulip::yield_now().await.expect("yield_now");
                }
                Ok::<_, tulip::Error>(())
            })
            .expect("run_until_complete")
        })
    });
    lp.close().expect("close");
}

fn event_loop(c: &mut Criterion) {
    let lp = new_loop();
    c.bench_function("loop::call_soon_10k", |b| {
        b.iter(|| {
            let hits = Arc::new(AtomicUsize::new(0));
            for _ in 0..10_000 {
                let hits = hits.clone();
                lp.call_soon(move || {
                    hits.fetch_add(1, Ordering::Relaxed);
                })
                .expect("call_soon");
            }
            let stopper = lp.clone();
            lp.call_soon(move || stopper.stop()).expect("call_soon");
            lp.run_forever().expect("run_forever");
            assert_eq!(hits.load(Ordering::Relaxed), 10_000);
        })
    });
    lp.close().expect("close");
}

/// 1,000 tasks each sleep 1..=50 µs: the timers' insertion and firing, not the wait,
/// dominate.
fn sleep_1k(lp: &tulip::EventLoop) {
    lp.run_until_complete(async {
        let handles: Vec<_> = (0..1_000u64)
            .map(|i| {
                tulip::create_task(tulip::sleep(Duration::from_micros(1 + i % 50)))
                    .expect("create_task")
            })
            .collect();
        for h in handles {
            // The task's body is the sleep: its error is the task's.
            h.await.expect("sleep task");
        }
        Ok::<_, tulip::Error>(())
    })
    .expect("run_until_complete")
}

/// The timer queue alone under a burst: 100,000 timers at pseudo-random deadlines
/// within 50 ms, then every one expired in deadline order (the heap's pops, which
/// miss the cache once per level at this size).
fn timer_queue_100k(start: std::time::Instant) -> usize {
    let mut q = tulip::reactor::TimerQueue::with_epoch(start);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in 0..100_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        q.insert(start + Duration::from_nanos(x % 50_000_000), i);
    }
    q.expire(start + Duration::from_secs(1)).count()
}

fn timers(c: &mut Criterion) {
    let lp = new_loop();
    c.bench_function("timers::sleep_1k", |b| b.iter(|| sleep_1k(&lp)));
    lp.close().expect("close");
    let start = std::time::Instant::now();
    c.bench_function("timers::queue_100k", |b| {
        b.iter(|| assert_eq!(timer_queue_100k(black_box(start)), 100_000))
    });
}

/// A single-slot channel on nothing but `Waker`: `send` waits while full, `recv` while empty.
struct Slot {
    state: Mutex<(Option<u64>, Option<Waker>, Option<Waker>)>,
}

impl Slot {
    fn new() -> Arc<Slot> {
        Arc::new(Slot {
            state: Mutex::new((None, None, None)),
        })
    }

    async fn send(&self, v: u64) {
        poll_fn(|cx| {
            let mut s = self.state.lock().unwrap();
            if s.0.is_some() {
                s.1 = Some(cx.waker().clone());
                return Poll::Pending;
            }
            s.0 = Some(v);
            if let Some(w) = s.2.take() {
                w.wake();
            }
            Poll::Ready(())
        })
        .await
    }

    async fn recv(&self) -> u64 {
        poll_fn(|cx| {
            let mut s = self.state.lock().unwrap();
            match s.0.take() {
                Some(v) => {
                    if let Some(w) = s.1.take() {
                        w.wake();
                    }
                    Poll::Ready(v)
                }
                None => {
                    s.2 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// Round trips per `ping_pong` iteration.
const ROUND_TRIPS: u64 = 10_000;

/// The echo side of `ping_pong`: sends back every value it receives.
async fn echo(ping: Arc<Slot>, pong: Arc<Slot>) -> tulip::Result<()> {
    for _ in 0..ROUND_TRIPS {
        let v = ping.recv().await;
        pong.send(v).await;
    }
    Ok(())
}

/// The pinging side of `ping_pong`: the last value echoed back.
async fn pinger(ping: Arc<Slot>, pong: Arc<Slot>) -> u64 {
    let mut last = 0;
    for i in 0..ROUND_TRIPS {
        ping.send(i).await;
        last = pong.recv().await;
    }
    last
}

/// 10,000 round trips between an echo task and the pinger: the main task itself,
/// or (`pinger_task`) a spawned task. On the threaded loop the main task runs on the
/// driver, so every message crosses threads; two spawned tasks run on workers, where
/// a step that wakes the other task alone keeps it on its worker.
fn ping_pong_10k(lp: &tulip::EventLoop, pinger_task: bool) -> u64 {
    lp.run_until_complete(async move {
        let (ping, pong) = (Slot::new(), Slot::new());
        let echo = tulip::create_task(echo(ping.clone(), pong.clone())).expect("create_task");
        let last = if pinger_task {
            tulip::create_task(async move { Ok::<_, tulip::Error>(pinger(ping, pong).await) })
                .expect("create_task")
                .await
                .expect("pinger task")
        } else {
            pinger(ping, pong).await
        };
        echo.await.expect("echo task");
        Ok::<_, tulip::Error>(last)
    })
    .expect("run_until_complete")
}

fn channel(c: &mut Criterion) {
    let lp = new_loop();
    c.bench_function("channel::ping_pong_10k", |b| {
        b.iter(|| black_box(ping_pong_10k(&lp, false)))
    });
    lp.close().expect("close");
}

/// The same paths on the work-stealing loop (default builder: spinning and hand-off on
/// where the process may use more than one CPU).
#[cfg(feature = "tulip-threaded")]
fn threaded(c: &mut Criterion) {
    let lp = tulip::executors::threaded::new_event_loop().expect("threaded loop");
    c.bench_function("threaded::spawn_join_10k", |b| {
        b.iter(|| spawn_join_10k(&lp))
    });
    c.bench_function("threaded::sleep_1k", |b| b.iter(|| sleep_1k(&lp)));
    c.bench_function("threaded::ping_pong_10k", |b| {
        b.iter(|| black_box(ping_pong_10k(&lp, false)))
    });
    c.bench_function("threaded::ping_pong_tasks_10k", |b| {
        b.iter(|| black_box(ping_pong_10k(&lp, true)))
    });
    lp.close().expect("close");
}

#[cfg(not(feature = "tulip-threaded"))]
fn threaded(_: &mut Criterion) {}

criterion_group!(benches, tasks, event_loop, timers, channel, threaded);
criterion_main!(benches);
