//! What the threaded executor promises beyond the shared suite: callback order across
//! threads, timers with parked workers, `!Send` tasks pinned to their thread, no task
//! progress outside a run, and no thread outliving its loop.
#![cfg(feature = "threaded")]
mod common;

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tulip::executors::threaded::{current_worker, Builder};
use tulip::Error;

/// `call_soon` from four threads at once: each thread's callbacks run in the order it
/// queued them (FIFO), and none is lost.
#[test]
fn call_soon_from_many_threads_keeps_each_threads_order() {
    let lp = Builder::new().workers(2).build().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..4u32)
        .map(|k| {
            let (lp, log) = (lp.clone(), log.clone());
            std::thread::spawn(move || {
                for i in 0..1000u32 {
                    let log = log.clone();
                    lp.call_soon_threadsafe(move || log.lock().unwrap().push((k, i)))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let lp2 = lp.clone();
    lp.call_soon(move || lp2.stop()).unwrap();
    lp.run_forever().unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 4000);
    for k in 0..4 {
        let mine: Vec<u32> = log
            .iter()
            .filter(|(t, _)| *t == k)
            .map(|(_, i)| *i)
            .collect();
        assert_eq!(mine, (0..1000).collect::<Vec<_>>());
    }
}

/// A timer fires on time while every worker is parked with nothing to do.
#[test]
fn timers_fire_with_every_worker_parked() {
    let lp = Builder::new().workers(2).build().unwrap();
    let start = Instant::now();
    let fired = lp
        .run_until_complete(async {
            let lp = tulip::get_running_loop()?;
            let p = lp.create_future::<Instant>();
            let p2 = p.clone();
            lp.call_later(Duration::from_millis(50), move || {
                let _ = p2.set_result(Instant::now());
            })?;
            p.await
        })
        .unwrap();
    let took = fired - start;
    assert!(took >= Duration::from_millis(50), "{took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

/// Sleeps in tasks spread over the workers run in parallel: ten 200 ms sleeps take
/// about 200 ms, not 2 s.
#[test]
fn sleeping_tasks_overlap() {
    let lp = Builder::new().workers(2).build().unwrap();
    common::within(Duration::from_millis(1500), || {
        lp.run_until_complete(async {
            let ts: Vec<_> = (0..10)
                .map(|_| tulip::create_task(tulip::sleep(Duration::from_millis(200))))
                .collect::<Result<_, _>>()?;
            for t in ts {
                t.await?;
            }
            Ok::<_, Error>(())
        })
        .unwrap()
    });
}

/// A `!Send` task spawned on a worker stays on that worker for every step, even when
/// its wake-ups come from the driver's timers.
#[test]
fn a_local_task_spawned_on_a_worker_stays_on_it() {
    let lp = Builder::new().workers(2).build().unwrap();
    let (home, steps) = lp
        .run_until_complete(async {
            tulip::create_task(async {
                let home = current_worker();
                let local = tulip::spawn_local(async {
                    let not_send = Rc::new(());
                    let mut on = Vec::new();
                    for _ in 0..5 {
                        tulip::sleep(Duration::from_millis(2)).await?;
                        on.push(current_worker());
                    }
                    drop(not_send);
                    Ok::<_, Error>(on)
                })?;
                Ok::<_, Error>((home, local.await?))
            })?
            .await
        })
        .unwrap();
    assert!(home.is_some());
    assert_eq!(steps, vec![home; 5]);
}

/// A `!Send` task spawned by the main future runs on the driving thread.
#[test]
fn a_local_task_spawned_by_main_runs_on_the_driving_thread() {
    let lp = Builder::new().workers(2).build().unwrap();
    let me = std::thread::current().id();
    let ran_on = lp
        .run_until_complete(async {
            let t = tulip::spawn_local(async {
                let rc = Rc::new(5);
                tulip::yield_now().await?;
                Ok::<_, Error>((std::thread::current().id(), *rc))
            })?;
            t.await
        })
        .unwrap();
    assert_eq!(ran_on, (me, 5));
}

/// Tasks make progress only while the loop runs: after `run_until_complete` returns,
/// a busy task is frozen until the next run. Each run waits until the task has made
/// progress (not for a time: a worker need not have picked it up within a few ms).
#[test]
fn tasks_do_not_run_between_runs() {
    let lp = Builder::new().workers(2).build().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let (c2, c3) = (count.clone(), count.clone());
    lp.run_until_complete(async move {
        tulip::create_task(async move {
            loop {
                c2.fetch_add(1, Ordering::SeqCst);
                if let Err(e) = tulip::yield_now().await {
                    break Err::<(), _>(e);
                }
            }
        })?;
        common::until(|| c3.load(Ordering::SeqCst) > 0).await;
        Ok::<_, Error>(())
    })
    .unwrap();
    let frozen = count.load(Ordering::SeqCst);
    assert!(frozen > 0);
    std::thread::sleep(Duration::from_millis(30)); // nothing may happen meanwhile
    assert_eq!(count.load(Ordering::SeqCst), frozen);
    let c4 = count.clone();
    lp.run_until_complete(async move {
        common::until(|| c4.load(Ordering::SeqCst) > frozen).await;
        Ok::<_, Error>(())
    })
    .unwrap();
    lp.close().unwrap();
}

/// Tasks created from a foreign thread while the loop runs are picked up.
#[test]
fn create_task_from_a_foreign_thread_runs() {
    let lp = Builder::new().workers(2).build().unwrap();
    let lp2 = lp.clone();
    let v = lp
        .run_until_complete(async move {
            let t = std::thread::spawn(move || lp2.create_task(async { Ok::<_, Error>(40 + 2) }))
                .join()
                .unwrap()?;
            t.await
        })
        .unwrap();
    assert_eq!(v, 42);
}

#[cfg(target_os = "linux")]
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.starts_with(prefix))
        .count()
}

/// Waits (bounded) until a freshly spawned thread has set its name.
#[cfg(target_os = "linux")]
fn eventually_threads(prefix: &str, n: usize) {
    common::within(Duration::from_secs(5), || {
        while threads_named(prefix) != n {
            std::thread::yield_now();
        }
    });
}

/// `close()` joins every worker; dropping the last handle of an unclosed loop does too.
#[cfg(target_os = "linux")]
#[test]
fn no_worker_outlives_its_loop() {
    let lp = Builder::new()
        .workers(3)
        .thread_name("tjoin")
        .build()
        .unwrap();
    assert_eq!(threads_named("tjoin-"), 0, "workers start at the first run");
    lp.run_until_complete(async { Ok::<_, Error>(()) }).unwrap();
    eventually_threads("tjoin-", 3);
    lp.close().unwrap();
    // close() has joined them; a joined thread can still be listed in /proc/self/task
    // for a moment (join returns when the thread clears its id, before the kernel
    // removes it; CI caught one such), so wait, bounded, for the list to catch up.
    eventually_threads("tjoin-", 0);
    assert!(matches!(lp.close(), Ok(())));
    assert!(matches!(
        lp.run_until_complete(async { Ok::<_, Error>(()) }),
        Err(Error::LoopClosed)
    ));

    let dropped = Builder::new()
        .workers(2)
        .thread_name("tdrop")
        .build()
        .unwrap();
    dropped
        .run_until_complete(async { Ok::<_, Error>(()) })
        .unwrap();
    eventually_threads("tdrop-", 2);
    drop(dropped);
    // The last handle may be released by a worker a moment after ours (it held a
    // clone while finishing its step); the workers then exit on their own: wait,
    // bounded, for that instead of asserting at once.
    eventually_threads("tdrop-", 0);
}

/// `close()` drops the task steps still queued: whoever awaits such a task (here on
/// another loop) sees it cancelled, and its future is dropped.
#[test]
fn close_drops_queued_task_steps() {
    struct DropFlag(Arc<AtomicU64>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let lp = Builder::new().workers(2).build().unwrap();
    // the workers exist and are parked
    lp.run_until_complete(async { Ok::<_, Error>(()) }).unwrap();
    let dropped = Arc::new(AtomicU64::new(0));
    let flag = DropFlag(dropped.clone());
    // Queued while the loop is not running: it never gets a step.
    let t = lp
        .create_task(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
            Ok::<_, Error>(())
        })
        .unwrap();
    lp.close().unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    assert!(t.cancelled());
    let other = tulip::executors::threaded::new_event_loop().unwrap();
    let r = other.run_until_complete(t);
    assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
    other.close().unwrap();
}

/// Echoes `n` items from `ping` back on `pong`, on a worker; the worker's index.
async fn echo_on_a_worker(
    ping: tulip::Queue<u32>,
    pong: tulip::Queue<u32>,
    n: u32,
) -> Result<Option<usize>, tulip::SyncError> {
    for _ in 0..n {
        let v = ping.get().await?;
        pong.put(v).await?;
    }
    Ok(current_worker())
}

/// Sends `0..n` on `ping`, and checks each answer on `pong` is what it sent.
async fn send_and_check(
    ping: &tulip::Queue<u32>,
    pong: &tulip::Queue<u32>,
    n: u32,
) -> Result<(), tulip::SyncError> {
    for i in 0..n {
        ping.put(i).await?;
        assert_eq!(pong.get().await?, i, "the answer to message {i}");
    }
    Ok(())
}

/// The main future and a task on a worker pass messages both ways; every message
/// arrives, in order. The driver spins before it waits after each step of the main
/// future (`Builder::spin`), so a worker's answer usually reaches it without the
/// poller; this checks that no answer is lost either way, spinning or not.
#[test]
fn main_and_a_worker_task_pass_every_message() {
    for spin in [true, false] {
        let lp = Builder::new().workers(2).spin(spin).build().unwrap();
        let worker = lp
            .run_until_complete(async {
                let (ping, pong) = (tulip::Queue::new(1), tulip::Queue::new(1));
                let echo = tulip::create_task(echo_on_a_worker(ping.clone(), pong.clone(), 2000))?;
                send_and_check(&ping, &pong, 2000).await?;
                echo.await
            })
            .unwrap();
        assert!(worker.is_some(), "the echo ran on a worker (spin: {spin})");
        lp.close().unwrap();
    }
}

/// The same from a local task on the driving thread, under `run_forever`; the echo
/// on the worker stops the loop when it is done, which ends the run whether the
/// driver was spinning or waiting then.
#[test]
fn a_local_task_and_a_worker_task_pass_every_message_then_stop_the_loop() {
    for spin in [true, false] {
        let lp = Builder::new().workers(2).spin(spin).build().unwrap();
        let checked = Arc::new(AtomicU64::new(0));
        let (lp2, checked2) = (lp.clone(), checked.clone());
        lp.call_soon(move || {
            let (ping, pong) = (tulip::Queue::new(1), tulip::Queue::new(1));
            let (ping2, pong2) = (ping.clone(), pong.clone());
            let lp3 = lp2.clone();
            lp2.create_task(async move {
                let worker = echo_on_a_worker(ping2, pong2, 2000).await?;
                lp3.stop();
                Ok::<_, tulip::SyncError>(worker)
            })
            .unwrap();
            tulip::spawn_local(async move {
                send_and_check(&ping, &pong, 2000).await?;
                checked2.store(2000, Ordering::SeqCst);
                Ok::<_, tulip::SyncError>(())
            })
            .unwrap();
        })
        .unwrap();
        lp.run_forever().unwrap();
        // The echo stops the loop after its last `put`; the local task's last `get`
        // may still be queued behind it: one more run finishes it.
        lp.run_until_complete(async {
            common::until(|| checked.load(Ordering::SeqCst) != 0).await;
            Ok::<_, Error>(())
        })
        .unwrap();
        lp.close().unwrap();
    }
}

/// While every worker is busy and steps queue for them, the step a due timer wakes
/// runs on the driver right after the timer's callback, instead of queueing behind
/// them. Both workers are held by tasks that spin until released (they are awake,
/// not parked), a third task queues behind them, and a task already waiting on a
/// promise is woken by a `call_later` callback.
#[test]
fn a_step_woken_by_a_timer_runs_on_the_driver_while_every_worker_is_busy() {
    use std::sync::atomic::AtomicBool;
    let lp = Builder::new().workers(2).build().unwrap();
    let driver = std::thread::current().id();
    let (woken_on, blockers_started) = lp
        .run_until_complete(async move {
            let lp = tulip::get_running_loop()?;
            let p = lp.create_future::<()>();
            let waiting = Arc::new(AtomicBool::new(false));
            let (p2, waiting2) = (p.clone(), waiting.clone());
            let woken = tulip::create_task(async move {
                waiting2.store(true, Ordering::SeqCst);
                p2.await?;
                Ok::<_, Error>(std::thread::current().id())
            })?;
            common::until(|| waiting.load(Ordering::SeqCst)).await;
            let release = Arc::new(AtomicBool::new(false));
            let started = Arc::new(AtomicU64::new(0));
            let blockers: Vec<_> = (0..2)
                .map(|_| {
                    let (release, started) = (release.clone(), started.clone());
                    tulip::create_task(async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        while !release.load(Ordering::SeqCst) {
                            std::hint::spin_loop();
                        }
                        Ok::<_, Error>(())
                    })
                })
                .collect::<Result<_, _>>()?;
            common::until(|| started.load(Ordering::SeqCst) == 2).await;
            // Queued behind the two busy workers until they are released.
            let queued = tulip::create_task(async { Ok::<_, Error>(()) })?;
            lp.call_later(Duration::from_millis(1), move || {
                let _ = p.set_result(());
            })?;
            // Were the step queued for the workers instead, it would wait for
            // them forever: a guard releases them after 10 s, and the assert
            // below then fails instead of the test hanging.
            let (done, guard_rx) = std::sync::mpsc::channel::<()>();
            let guard_release = release.clone();
            let guard = std::thread::spawn(move || {
                if guard_rx.recv_timeout(Duration::from_secs(10)).is_err() {
                    guard_release.store(true, Ordering::SeqCst);
                }
            });
            let on = woken.await;
            release.store(true, Ordering::SeqCst);
            let _ = done.send(());
            guard.join().unwrap();
            for b in blockers {
                b.await?;
            }
            queued.await?;
            Ok::<_, Error>((on?, started.load(Ordering::SeqCst)))
        })
        .unwrap();
    assert_eq!(blockers_started, 2);
    assert_eq!(woken_on, driver, "the woken step ran on the driving thread");
    lp.close().unwrap();
}
