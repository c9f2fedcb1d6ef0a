//! asyncio's cancellation: cancel() asks, the next await point answers with
//! Err(Cancelled), and the task decides what to do (CPython's outcomes in comments;
//! tests/asyncio_ref/cancel_outcomes.py prints them).
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{within, Factory, Log};
use tulip::Error;

/// CPython: the child catches CancelledError('bye'), sleeps, returns 5;
/// `await t` gives 5 and `t.cancelled()` is False.
fn cancelled_task_can_clean_up_asynchronously_and_return_a_value(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let (r, cancelled) = lp
        .run_until_complete(async move {
            let started = tulip::Promise::<()>::new();
            let s2 = started.clone();
            let t = tulip::create_task(async move {
                let _ = s2.set_result(());
                match tulip::sleep(Duration::from_secs(10)).await {
                    Err(Error::Cancelled(c)) => {
                        l.push(format!("caught {:?}", c.msg));
                        tulip::sleep(Duration::from_millis(10)).await?;
                        l.push("cleaned");
                        Ok::<_, Error>(5)
                    }
                    other => panic!("expected a cancel, got {other:?}"),
                }
            })?;
            started.await?; // the child reached its await point
            assert!(t.cancel_with("bye"));
            let tr = t.task_ref();
            let r = t.await?;
            Ok::<_, Error>((r, tr.cancelled()))
        })
        .unwrap();
    assert_eq!(r, 5);
    assert!(!cancelled);
    assert_eq!(log.take(), ["caught Some(\"bye\")", "cleaned"]);
}

/// CPython ("propagated"): the cancel propagates out of the body, so the task ends
/// cancelled: `await` raises CancelledError, `cancelled()` is True and `exception()`
/// raises CancelledError too.
fn cancel_propagated_out_makes_the_task_cancelled(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let (r, state, exc) = lp
        .run_until_complete(async {
            let started = tulip::Promise::<()>::new();
            let s2 = started.clone();
            let t = tulip::create_task(async move {
                let _ = s2.set_result(());
                tulip::sleep(Duration::from_secs(10)).await?;
                Ok::<_, Error>(())
            })?;
            started.await?; // the child reached its await point
            t.cancel();
            let tr = t.task_ref();
            let r = t.await;
            Ok::<_, Error>((r, (tr.done(), tr.cancelled(), tr.failed()), tr.exception()))
        })
        .unwrap();
    assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
    assert_eq!(state, (true, true, false), "(done, cancelled, failed)");
    assert!(matches!(exc, Err(Error::Cancelled(_))), "{exc:?}");
}

/// CPython: a task cancelled before it first runs never executes its body.
#[cfg(feature = "local")]
fn task_cancelled_before_it_starts_never_runs(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let r2 = ran.clone();
    let (r, cancelled) = lp
        .run_until_complete(async move {
            let t = tulip::create_task(async move {
                r2.store(true, Ordering::SeqCst);
                Ok::<_, Error>(())
            })?;
            assert!(t.cancel());
            let tr = t.task_ref();
            Ok::<_, Error>((t.await, tr.cancelled()))
        })
        .unwrap();
    assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
    assert!(cancelled);
    assert!(!ran.load(Ordering::SeqCst));
}

/// CPython ("swallowed"): the body catches the cancel at its first await point and
/// carries on; its later await points are not cancelled, it returns 1 and is not
/// cancelled. (The first sleep is long so that the cancel always lands in it.)
fn a_task_may_swallow_the_cancel_and_carry_on(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let (r, cancelled) = lp
        .run_until_complete(async {
            let started = tulip::Promise::<()>::new();
            let s2 = started.clone();
            let t = tulip::create_task(async move {
                let _ = s2.set_result(());
                let mut cancels = 0;
                for ms in [10_000, 1, 1] {
                    if tulip::sleep(Duration::from_millis(ms)).await.is_err() {
                        cancels += 1;
                    }
                }
                Ok::<_, Error>(cancels)
            })?;
            started.await?; // the child reached its await point
            t.cancel();
            let tr = t.task_ref();
            Ok::<_, Error>((t.await?, tr.cancelled()))
        })
        .unwrap();
    assert_eq!((r, cancelled), (1, false));
}

fn cancelling_a_done_task_returns_false(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let t = tulip::create_task(async { Ok::<_, Error>(1) })?;
        let tr = t.task_ref();
        assert_eq!(t.await?, 1);
        assert!(tr.done());
        assert!(!tr.cancel());
        assert!(!tr.cancelled());
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// A task parked on a future tulip cannot reach is stopped by dropping that future.
fn cancel_of_a_task_on_a_foreign_future_drops_the_future(new_loop: Factory) {
    struct DropFlag(Arc<AtomicBool>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let lp = new_loop().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let d2 = dropped.clone();
    let (r, cancelled) = within(Duration::from_secs(5), || {
        lp.run_until_complete(async move {
            let started = tulip::Promise::<()>::new();
            let s2 = started.clone();
            let t = tulip::create_task(async move {
                let _flag = DropFlag(d2);
                let _ = s2.set_result(());
                std::future::pending::<()>().await;
                Ok::<_, Error>(())
            })?;
            started.await?; // the child reached its await point
            t.cancel();
            let tr = t.task_ref();
            Ok::<_, Error>((t.await, tr.cancelled()))
        })
        .unwrap()
    });
    assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
    assert!(cancelled, "the enforced cancel ends the task cancelled");
    assert!(dropped.load(Ordering::SeqCst));
}

/// CPython ("nested"): cancelling a task that awaits another task cancels the inner
/// task too; the inner one lets the cancel propagate, so both end cancelled and
/// awaiting the outer one raises CancelledError.
fn cancel_propagates_into_an_awaited_task(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let (r, inner_state, outer_cancelled) = lp
        .run_until_complete(async move {
            // Both tasks must be at their await points before the cancel (a parallel
            // executor does not promise that after a 1 ms sleep): wait for both.
            let (inner_started, outer_started) = (tulip::Promise::new(), tulip::Promise::new());
            let (is, os) = (inner_started.clone(), outer_started.clone());
            let inner = tulip::create_task(async move {
                let _ = is.set_result(());
                let r = tulip::sleep(Duration::from_secs(10)).await;
                l.push(format!("inner saw {}", r.is_err()));
                r
            })?;
            let inner_ref = inner.task_ref();
            let outer = tulip::create_task(async move {
                let _ = os.set_result(());
                inner.await
            })?;
            inner_started.await?;
            outer_started.await?;
            outer.cancel();
            let outer_ref = outer.task_ref();
            let r = outer.await;
            Ok::<_, Error>((
                r,
                (inner_ref.done(), inner_ref.cancelled()),
                outer_ref.cancelled(),
            ))
        })
        .unwrap();
    assert_eq!(log.take(), ["inner saw true"]);
    assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
    assert_eq!(inner_state, (true, true), "inner (done, cancelled)");
    assert!(outer_cancelled);
}

/// CPython ("main"): a cancelled main task that lets the cancel propagate makes
/// `run_until_complete` raise CancelledError.
fn cancelling_the_main_task_reaches_its_await_point(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = lp.run_until_complete(async {
        let me = tulip::current_task().expect("main runs as a task");
        tulip::get_running_loop()?.call_later(Duration::from_millis(5), move || {
            me.cancel();
        })?;
        tulip::sleep(Duration::from_secs(10)).await
    });
    assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
}

/// CPython ("future"): a task awaiting a future is cancelled: the future is
/// cancelled, and the task, which lets the cancel propagate, ends cancelled.
fn awaiting_a_promise_when_cancelled_cancels_the_promise(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let (r, t_cancelled, p_cancelled) = lp
        .run_until_complete(async {
            let lp = tulip::get_running_loop()?;
            let p: tulip::Promise<u8> = lp.create_future();
            let p2 = p.clone();
            let started = tulip::Promise::<()>::new();
            let s2 = started.clone();
            let t = tulip::create_task(async move {
                let _ = s2.set_result(());
                p2.await
            })?;
            started.await?; // the child reached its await point
            t.cancel();
            let tr = t.task_ref();
            let r = t.await;
            Ok::<_, Error>((r, tr.cancelled(), p.cancelled()))
        })
        .unwrap();
    assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
    assert!(t_cancelled);
    assert!(p_cancelled);
}

/// A request made while the task runs (here: by the task itself) is delivered at its
/// next await point, not enforced by dropping the task.
fn a_task_cancelling_itself_sees_it_at_its_next_await_point(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = lp
        .run_until_complete(async {
            let t = tulip::create_task(async {
                tulip::current_task().unwrap().cancel();
                let first = tulip::sleep(Duration::from_millis(1)).await;
                let second = tulip::sleep(Duration::from_millis(1)).await;
                Ok::<_, Error>((first.is_err(), second.is_ok()))
            })?;
            t.await
        })
        .unwrap();
    assert_eq!(r, (true, true));
}

per_executor!(
    a_task_cancelling_itself_sees_it_at_its_next_await_point,
    cancelled_task_can_clean_up_asynchronously_and_return_a_value,
    cancel_propagated_out_makes_the_task_cancelled,
    a_task_may_swallow_the_cancel_and_carry_on,
    cancelling_a_done_task_returns_false,
    cancel_of_a_task_on_a_foreign_future_drops_the_future,
    cancel_propagates_into_an_awaited_task,
    cancelling_the_main_task_reaches_its_await_point,
    awaiting_a_promise_when_cancelled_cancels_the_promise,
);

// On the threaded loop a worker may start the task before `cancel()` is asked (see
// docs/asyncio-to-tulip.md, "On the threaded executor"): asserted on local only.
#[cfg(feature = "local")]
#[test]
fn task_cancelled_before_it_starts_never_runs_local() {
    task_cancelled_before_it_starts_never_runs(tulip::executors::local::new_event_loop);
}
