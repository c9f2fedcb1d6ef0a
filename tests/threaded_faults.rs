//! Faults on the threaded executor: a worker blocked by a task, panicking tasks.
#![cfg(feature = "threaded")]
mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use tulip::executors::threaded::{current_worker, Builder};
use tulip::Error;

/// A task blocks its worker (a plain blocking `recv`, as blocking work would); 100
/// small tasks spawned meanwhile all finish on the other worker while it is blocked.
/// The blocker is released once they are done, so no timing is involved: were the
/// small tasks to wait for the blocker, it would give up after 10 s and the test fail.
#[test]
fn a_task_blocking_its_worker_does_not_stop_the_others() {
    let lp = Builder::new().workers(2).build().unwrap();
    let blocker_done = Arc::new(AtomicBool::new(false));
    let bd = blocker_done.clone();
    let finished_while_blocked = lp
        .run_until_complete(async move {
            let started_rx = tulip::Promise::<()>::new();
            let started_tx = started_rx.clone();
            let (release, released) = mpsc::channel::<()>();
            let bd2 = bd.clone();
            let blocker = tulip::create_task(async move {
                let _ = started_tx.set_result(());
                let _ = released.recv_timeout(Duration::from_secs(10));
                bd2.store(true, Ordering::SeqCst);
                Ok::<_, Error>(())
            })?;
            started_rx.await?;
            let quick: Vec<_> = (0..100)
                .map(|i| {
                    tulip::create_task(async move {
                        tulip::yield_now().await?;
                        Ok::<_, Error>(i)
                    })
                })
                .collect::<Result<_, _>>()?;
            let mut sum = 0;
            for t in quick {
                sum += t.await?;
            }
            let while_blocked = !bd.load(Ordering::SeqCst);
            let _ = release.send(());
            blocker.await?;
            assert_eq!(sum, (0..100).sum::<i32>());
            Ok::<_, Error>(while_blocked)
        })
        .unwrap();
    assert!(
        finished_while_blocked,
        "the small tasks waited for the blocker"
    );
    assert!(blocker_done.load(Ordering::SeqCst));
}

/// The small tasks are spawned by the blocking task itself, onto its own worker's
/// queue, right before it blocks: the other worker must steal them. The blocker waits
/// for their completion signal (bounded), so no timing is involved.
#[test]
fn tasks_queued_on_a_blocked_worker_are_stolen() {
    queued_on_a_blocked_worker_are_stolen(20);
}

/// The least that wakes a thief: a step that queues one task on its own worker wakes
/// nobody (the worker runs it next, see `push_task`); the second one queued does.
#[test]
fn two_tasks_queued_on_a_blocked_worker_are_stolen() {
    queued_on_a_blocked_worker_are_stolen(2);
}

fn queued_on_a_blocked_worker_are_stolen(n: usize) {
    let lp = Builder::new().workers(2).build().unwrap();
    let got_signal = lp
        .run_until_complete(async move {
            let blocker = tulip::create_task(async move {
                let (tx, rx) = mpsc::channel();
                let blocker_worker = current_worker();
                let on = Arc::new(Mutex::new(BTreeSet::new()));
                let left = Arc::new(AtomicUsize::new(n));
                for _ in 0..n {
                    let (tx, on, left) = (tx.clone(), on.clone(), left.clone());
                    tulip::create_task(async move {
                        on.lock().unwrap().extend(current_worker());
                        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                            let _ = tx.send(());
                        }
                        Ok::<_, Error>(())
                    })?;
                }
                // Block this worker until the others are done (or give up after 10 s).
                let signalled = rx.recv_timeout(Duration::from_secs(10)).is_ok();
                let on = on.lock().unwrap().clone();
                Ok::<_, Error>((signalled, blocker_worker, on))
            })?;
            blocker.await
        })
        .unwrap();
    let (signalled, blocker_worker, ran_on) = got_signal;
    assert!(
        signalled,
        "the queued tasks never ran while their worker was blocked"
    );
    assert!(!ran_on.contains(&blocker_worker.unwrap()), "{ran_on:?}");
}

/// Panicking tasks are error values for whoever awaits them; awaited, their
/// exceptions were retrieved and nothing is reported (raised_task.py), while each
/// detached one is reported once as never retrieved. Afterwards every worker still
/// runs tasks, and so does the next run of the loop.
#[test]
fn panicking_tasks_leave_the_pool_healthy() {
    let lp = Builder::new().workers(2).build().unwrap();
    let reported = Arc::new(Mutex::new(Vec::new()));
    let r2 = reported.clone();
    lp.set_exception_handler(Some(
        move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| {
            if matches!(ctx.error, Some(Error::Panicked(_))) {
                r2.lock().unwrap().push(ctx.message.clone());
            }
        },
    ));
    let boom = |i: usize| async move {
        if std::hint::black_box(true) {
            panic!("boom {i}");
        }
        Ok::<(), Error>(())
    };
    let panics = lp
        .run_until_complete(async {
            let bad: Vec<_> = (0..10)
                .map(|i| tulip::create_task(boom(i)))
                .collect::<Result<_, _>>()?;
            let mut panics = 0;
            for t in bad {
                match t.await {
                    Err(Error::Panicked(msg)) => {
                        assert!(msg.starts_with("boom"));
                        panics += 1;
                    }
                    other => panic!("expected a panic error, got {other:?}"),
                }
            }
            Ok::<_, Error>(panics)
        })
        .unwrap();
    assert_eq!(panics, 10);
    assert!(reported.lock().unwrap().is_empty());
    lp.run_until_complete(async {
        let lost: Vec<tulip::TaskRef> = (10..20)
            .map(|i| Ok::<_, Error>(tulip::create_task(boom(i))?.task_ref()))
            .collect::<Result<_, _>>()?;
        tulip::all_done(lost.iter()).await
    })
    .unwrap();
    assert_eq!(
        *reported.lock().unwrap(),
        vec!["Task exception was never retrieved".to_string(); 10]
    );
    for _run in 0..2 {
        let workers = lp
            .run_until_complete(async {
                let on = Arc::new(Mutex::new(BTreeSet::new()));
                let tasks: Vec<_> = (0..200)
                    .map(|_| {
                        let on = on.clone();
                        tulip::create_task(async move {
                            // Long enough that both workers get a share.
                            std::thread::sleep(Duration::from_micros(200));
                            on.lock().unwrap().extend(current_worker());
                            Ok::<_, Error>(())
                        })
                    })
                    .collect::<Result<_, _>>()?;
                for t in tasks {
                    t.await?;
                }
                let on = on.lock().unwrap().clone();
                Ok::<_, Error>(on)
            })
            .unwrap();
        assert_eq!(workers, BTreeSet::from([0, 1]));
    }
    lp.close().unwrap();
}

/// A panicking `call_soon` callback is reported and the loop goes on.
#[test]
fn a_panicking_callback_is_reported_and_the_loop_goes_on() {
    let lp = Builder::new().workers(2).build().unwrap();
    let reported = Arc::new(AtomicUsize::new(0));
    let r2 = reported.clone();
    lp.set_exception_handler(Some(
        move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| {
            assert_eq!(ctx.message, "Exception in callback");
            r2.fetch_add(1, Ordering::SeqCst);
        },
    ));
    lp.call_soon(|| panic!("callback boom")).unwrap();
    let v = lp
        .run_until_complete(async { tulip::create_task(async { Ok::<_, Error>(7) })?.await })
        .unwrap();
    assert_eq!(v, 7);
    assert_eq!(reported.load(Ordering::SeqCst), 1);
}
