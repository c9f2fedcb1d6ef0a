//! The threaded scheduler under load: a million wake-ups from foreign threads.
#![cfg(feature = "threaded")]
mod common;

use std::collections::BTreeSet;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use futures::task::AtomicWaker;
use tulip::executors::threaded::{current_worker, Builder};

/// Ticks delivered to one task by foreign threads, with the waker to call.
#[derive(Default)]
struct Ticks {
    count: AtomicU64,
    waker: AtomicWaker,
}

const TASKS: usize = 1_000;
const TICKS_PER_TASK: u64 = 1_000;
const FOREIGN_THREADS: usize = 4;

/// Waits until `ticks` counted past `seen`; returns the new count.
async fn next_tick(ticks: &Ticks, seen: u64, polls: &AtomicU64) -> u64 {
    poll_fn(|cx| {
        polls.fetch_add(1, Ordering::Relaxed);
        ticks.waker.register(cx.waker());
        let now = ticks.count.load(Ordering::Acquire);
        if now > seen {
            Poll::Ready(now)
        } else {
            Poll::Pending
        }
    })
    .await
}

/// 1,000 tasks, 4 foreign threads, 1,000,000 `wake()` calls in all (each thread owns
/// 250 tasks and ticks each of them 1,000 times, round by round). Every task must see
/// all of its ticks, the tasks must have run on more than one worker, and the whole
/// run is bounded in time.
#[test]
fn a_million_foreign_wakeups_every_task_completes() {
    let lp = Builder::new().workers(4).build().unwrap();
    let ticks: Arc<Vec<Ticks>> = Arc::new((0..TASKS).map(|_| Ticks::default()).collect());
    let workers_seen = Arc::new(Mutex::new(BTreeSet::new()));
    let woken = Arc::new(AtomicU64::new(0));
    let polls = Arc::new(AtomicU64::new(0));
    let (ticks2, seen2, woken2) = (ticks.clone(), workers_seen.clone(), woken.clone());
    let polls2 = polls.clone();
    let finished = common::within(Duration::from_secs(60), move || {
        lp.run_until_complete(async move {
            let mut tasks = Vec::with_capacity(TASKS);
            for i in 0..TASKS {
                let (ticks, seen, polls) = (ticks2.clone(), seen2.clone(), polls2.clone());
                tasks.push(tulip::create_task(async move {
                    let mut got = 0;
                    let mut on = BTreeSet::new();
                    while got < TICKS_PER_TASK {
                        got = next_tick(&ticks[i], got, &polls).await;
                        on.extend(current_worker());
                    }
                    seen.lock().unwrap().extend(on);
                    Ok::<_, tulip::Error>(got)
                })?);
            }
            let per_thread = TASKS / FOREIGN_THREADS;
            let threads: Vec<_> = (0..FOREIGN_THREADS)
                .map(|k| {
                    let (ticks, woken) = (ticks2.clone(), woken2.clone());
                    std::thread::spawn(move || {
                        for _round in 0..TICKS_PER_TASK {
                            for t in &ticks[k * per_thread..(k + 1) * per_thread] {
                                t.count.fetch_add(1, Ordering::Release);
                                t.waker.wake();
                                woken.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    })
                })
                .collect();
            let mut finished = 0;
            for t in tasks {
                assert_eq!(t.await?, TICKS_PER_TASK);
                finished += 1;
            }
            for t in threads {
                t.join().unwrap();
            }
            Ok::<_, tulip::Error>(finished)
        })
        .unwrap()
    });
    assert_eq!(finished, TASKS);
    assert_eq!(woken.load(Ordering::Relaxed), 1_000_000);
    // Wakes of a task that is already queued coalesce into one step, as with any waker.
    eprintln!(
        "1,000,000 wake() calls -> {} task polls",
        polls.load(Ordering::Relaxed)
    );
    let seen = workers_seen.lock().unwrap();
    assert!(seen.len() > 1, "all steps ran on one worker: {seen:?}");
}

/// The same million wake-ups without coalescing: a foreign thread ticks each of its
/// tasks, then waits until every one of them consumed the tick before the next round,
/// so nearly every wake-up schedules a real step of its own.
#[test]
fn a_million_uncoalesced_wakeups_each_one_a_step() {
    let lp = Builder::new().workers(4).build().unwrap();
    let ticks: Arc<Vec<Ticks>> = Arc::new((0..TASKS).map(|_| Ticks::default()).collect());
    let consumed: Arc<Vec<AtomicU64>> = Arc::new((0..TASKS).map(|_| AtomicU64::new(0)).collect());
    let polls = Arc::new(AtomicU64::new(0));
    let (ticks2, consumed2, polls2) = (ticks.clone(), consumed.clone(), polls.clone());
    common::within(Duration::from_secs(60), move || {
        lp.run_until_complete(async move {
            let mut tasks = Vec::with_capacity(TASKS);
            for i in 0..TASKS {
                let (ticks, consumed, polls) = (ticks2.clone(), consumed2.clone(), polls2.clone());
                tasks.push(tulip::create_task(async move {
                    let mut got = 0;
                    while got < TICKS_PER_TASK {
                        got = next_tick(&ticks[i], got, &polls).await;
                        consumed[i].store(got, Ordering::Release);
                    }
                    Ok::<_, tulip::Error>(())
                })?);
            }
            let per_thread = TASKS / FOREIGN_THREADS;
            let threads: Vec<_> = (0..FOREIGN_THREADS)
                .map(|k| {
                    let (ticks, consumed) = (ticks2.clone(), consumed2.clone());
                    std::thread::spawn(move || {
                        let mine = k * per_thread..(k + 1) * per_thread;
                        for round in 1..=TICKS_PER_TASK {
                            for t in &ticks[mine.clone()] {
                                t.count.fetch_add(1, Ordering::Release);
                                t.waker.wake();
                            }
                            for c in &consumed[mine.clone()] {
                                while c.load(Ordering::Acquire) < round {
                                    std::thread::yield_now();
                                }
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await?;
            }
            for t in threads {
                t.join().unwrap();
            }
            Ok::<_, tulip::Error>(())
        })
        .unwrap()
    });
    assert!(consumed
        .iter()
        .all(|c| c.load(Ordering::Acquire) == TICKS_PER_TASK));
    // At least one poll saw each tick (a tick that lands before the task parks again is
    // taken without a wake-up, so the count is not exact).
    let polls = polls.load(Ordering::Relaxed);
    assert!(polls >= TASKS as u64 * TICKS_PER_TASK, "{polls} polls");
    eprintln!("1,000,000 handshaken ticks -> {polls} polls");
}
