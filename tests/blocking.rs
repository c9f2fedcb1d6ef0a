//! The blocking pool: `to_thread`, `run_in_executor`, user pools, on every executor.
mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::{within, Factory};
use tulip::core::{default_pool, to_thread, ThreadPool};
use tulip::Error;

/// The blocking call runs on a pool thread, never on the loop's, and the loop keeps
/// running tasks while it blocks (the tutorials' gevent "monkey patch" idea). The call
/// blocks until a task on the loop has ticked five times (bounded: it gives up after
/// 10 s), so the test waits for the event, not for a time: a stalled loop would leave
/// the count short.
fn to_thread_runs_off_the_loop_and_the_loop_keeps_going(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let loop_thread = std::thread::current().id();
    let ticks = Arc::new(AtomicUsize::new(0));
    let (seen, ticked) = (ticks.clone(), ticks.clone());
    let (seen_by_call, ran_on) = lp
        .run_until_complete(async move {
            let job = tulip::create_task(to_thread(move || {
                let start = Instant::now();
                while seen.load(Ordering::SeqCst) < 5 && start.elapsed() < Duration::from_secs(10) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                (seen.load(Ordering::SeqCst), std::thread::current())
            }))?;
            let ticker = tulip::create_task(async move {
                for _ in 0..5 {
                    tulip::sleep(Duration::from_millis(1)).await?;
                    ticked.fetch_add(1, Ordering::SeqCst);
                }
                Ok::<_, Error>(())
            })?;
            ticker.await?;
            job.await
        })
        .unwrap();
    assert_eq!(
        seen_by_call, 5,
        "the loop stalled while the call blocked: {seen_by_call} ticks"
    );
    assert_ne!(ran_on.id(), loop_thread);
    assert!(ran_on.name().unwrap().starts_with("tulip-blocking"));
}

/// A user pool limits how many calls run at once; results come back in order.
fn a_user_pool_limits_concurrency(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let pool = ThreadPool::new(2);
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r2, p2) = (running.clone(), peak.clone());
    let out = lp
        .run_until_complete(async move {
            let lp = tulip::get_running_loop()?;
            let jobs: Vec<_> = (0..6)
                .map(|i| {
                    let (running, peak) = (r2.clone(), p2.clone());
                    lp.run_in_executor(Some(&pool), move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        i * i
                    })
                })
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for j in jobs {
                out.push(j.await?);
            }
            assert!(pool.threads() <= 2);
            Ok::<_, Error>(out)
        })
        .unwrap();
    assert_eq!(out, [0, 1, 4, 9, 16, 25]);
    assert!(peak.load(Ordering::SeqCst) <= 2);
}

/// Cancelling the awaiting task gives it `Err(Cancelled)` at once (it ends cancelled,
/// as an asyncio task awaiting `to_thread` does); the call still finishes on its
/// thread and its result is dropped. The call blocks until the await returned, so
/// "at once" needs no clock: were the awaiter to wait for the call, the call would
/// give up after 10 s and `finished` would be set.
fn cancelling_the_awaiter_does_not_stop_the_call(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let (tx, rx) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let finished = Arc::new(AtomicBool::new(false));
    let f2 = finished.clone();
    let (r, cancelled) = lp
        .run_until_complete(async move {
            let started = tulip::Promise::<()>::new();
            let s2 = started.clone();
            let t = tulip::create_task(async move {
                let job = to_thread(move || {
                    let _ = s2.set_result(());
                    let _ = released.recv_timeout(Duration::from_secs(10));
                    f2.store(true, Ordering::SeqCst);
                    let _ = tx.send(());
                    "late"
                });
                job.await
            })?;
            started.await?;
            t.cancel();
            let tr = t.task_ref();
            let r = t.await;
            Ok::<_, Error>((r, tr.cancelled()))
        })
        .unwrap();
    assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
    assert!(cancelled);
    assert!(!finished.load(Ordering::SeqCst));
    release.send(()).unwrap();
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the call finished on its thread");
}

/// A panic in the call is an error value for the awaiter.
fn a_panicking_call_is_an_error(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = lp.run_until_complete(to_thread(|| -> u8 { panic!("blocking boom") }));
    match r {
        Err(Error::Panicked(msg)) => assert_eq!(&*msg, "blocking boom"),
        other => panic!("{other:?}"),
    }
}

/// `run_in_executor` on a closed loop is refused and runs nothing.
fn run_in_executor_on_a_closed_loop_fails(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.close().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let r2 = ran.clone();
    let r = lp.run_in_executor(None, move || r2.store(true, Ordering::SeqCst));
    assert!(matches!(r, Err(Error::LoopClosed)));
    assert!(!ran.load(Ordering::SeqCst));
}

per_executor!(
    to_thread_runs_off_the_loop_and_the_loop_keeps_going,
    a_user_pool_limits_concurrency,
    cancelling_the_awaiter_does_not_stop_the_call,
    a_panicking_call_is_an_error,
    run_in_executor_on_a_closed_loop_fails,
);

/// asyncio's default executor size: `min(32, cpus + 4)`.
#[test]
fn the_default_pool_has_asyncios_size() {
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(default_pool().max_workers(), (cpus + 4).min(32));
}

/// Threads start lazily and exit after being idle; a shut-down pool refuses work.
#[test]
fn pool_threads_start_lazily_and_exit_when_idle() {
    let pool = ThreadPool::new(4).with_idle_timeout(Duration::from_millis(50));
    assert_eq!(pool.threads(), 0);
    let v = futures::executor::block_on(pool.submit(|| 5)).unwrap();
    assert_eq!(v, 5);
    assert!(pool.threads() <= 1);
    within(Duration::from_secs(5), || {
        while pool.threads() > 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    // A later job starts a thread again.
    assert_eq!(futures::executor::block_on(pool.submit(|| 6)).unwrap(), 6);
    pool.shutdown(true);
    assert_eq!(pool.threads(), 0);
    let r = futures::executor::block_on(pool.submit(|| 7));
    assert!(matches!(r, Err(Error::InvalidState(_))), "{r:?}");
}
