//! `wait_for` and `timeout` / `timeout_at` scopes: expiry cancels the work, its
//! clean-up runs first, the caller sees `TimeoutError`, and no cancel leaks.
//!
//! Every scenario runs on a virtual clock (exact deadlines, no wall time); the scope
//! expiry also runs on the real clock.
mod common;

use std::time::{Duration, Instant};

use common::{until, Factory, Log};
use tulip::{create_task, current_task, sleep, timeout, timeout_at, wait_for, Error, Timeout};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The running loop's time.
fn now() -> Instant {
    tulip::get_running_loop().unwrap().time()
}

/// On a virtual clock the loop's time moved by exactly `want` since `t0`; on the
/// real clock, by at least that much (and by less than a coarse bound).
fn moved_by(lp: &tulip::EventLoop, t0: Instant, want: Duration) {
    let moved = lp.time() - t0;
    if lp.virtual_clock().is_some() {
        assert_eq!(moved, want);
    } else {
        assert!(moved >= want && moved < Duration::from_secs(5), "{moved:?}");
    }
}

/// A body that sleeps `n` ms; when cancelled it cleans up asynchronously and logs it.
/// The log without `long_job`'s "started" marks.
fn events(log: &Log) -> Vec<String> {
    log.take().into_iter().filter(|e| e != "started").collect()
}

async fn long_job(log: Log, n: u64) -> tulip::Result<&'static str> {
    log.push("started");
    if let Err(e) = sleep(ms(n)).await {
        sleep(ms(10)).await?;
        log.push("cleanup done");
        return Err(e);
    }
    Ok("finished")
}

fn wait_for_expiry_runs_cleanup_first(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let t0 = lp.time();
    let r = lp
        .run_until_complete(async move {
            let r = wait_for(long_job(l.clone(), 10_000), ms(20)).await;
            l.push("wait_for returned");
            Ok::<_, Error>(r)
        })
        .unwrap();
    assert!(matches!(r, Err(Error::TimeoutError(Some(_)))), "{r:?}");
    assert_eq!(events(&log), ["cleanup done", "wait_for returned"]);
    // The deadline, then the 10 ms clean-up.
    moved_by(&lp, t0, ms(30));
}

fn wait_for_in_time(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let t0 = lp.time();
    let r = lp
        .run_until_complete(wait_for(long_job(Log::default(), 5), ms(2000)))
        .unwrap();
    assert_eq!(r, "finished");
    moved_by(&lp, t0, ms(5));
}

/// Cancelling the task in `wait_for` cancels the inner task and waits for it.
fn wait_for_cancelled_from_outside(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let l2 = l.clone();
        let outer = create_task(wait_for(long_job(l, 10_000), Duration::from_secs(60))).unwrap();
        until(|| l2.count(|e| e == "started") == 1).await;
        outer.cancel();
        let r = outer.await;
        assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
        assert_eq!(events(&log), ["cleanup done"]);
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn timeout_scope_expires(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let t0 = lp.time();
    lp.run_until_complete(async move {
        let cm = timeout(ms(20));
        let r = cm.run(long_job(l.clone(), 10_000)).await;
        assert!(matches!(r, Err(Error::TimeoutError(Some(_)))), "{r:?}");
        assert!(cm.expired());
        assert_eq!(events(&log), ["cleanup done"]);
        // The scope's own cancel does not leak into the task.
        let me = current_task().unwrap();
        assert_eq!(me.cancelling(), 0);
        sleep(ms(1)).await.expect("no stray cancel after the scope");
        Ok::<_, Error>(())
    })
    .unwrap();
    moved_by(&lp, t0, ms(20 + 10 + 1));
}

fn timeout_scope_in_time(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let cm = timeout_at(now() + Duration::from_secs(5));
        let r = cm.run(long_job(Log::default(), 5)).await;
        assert_eq!(r.unwrap(), "finished");
        assert!(!cm.expired());
        sleep(ms(1)).await
    })
    .unwrap();
}

/// `reschedule` from inside the scope, both earlier and later (asyncio 3.11).
fn timeout_reschedule(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let cm = Timeout::new(None);
        let inner = cm.clone();
        let start = now();
        let r = cm
            .run(async move {
                inner.reschedule(Some(now() + ms(20))).unwrap();
                sleep(Duration::from_secs(10)).await
            })
            .await;
        assert!(matches!(r, Err(Error::TimeoutError(Some(_)))));
        assert_eq!(now() - start, ms(20));

        let cm = timeout(ms(10));
        let inner = cm.clone();
        let r = cm
            .run(async move {
                inner
                    .reschedule(Some(now() + Duration::from_secs(5)))
                    .unwrap();
                sleep(ms(40)).await
            })
            .await;
        assert!(r.is_ok());
        assert!(!cm.expired());
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// A cancel from outside during a scope stays a cancel, not a timeout.
fn timeout_outside_cancel_propagates(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let cm = timeout(Duration::from_secs(10));
        let cm2 = cm.clone();
        let started = tulip::Promise::<()>::new();
        let s2 = started.clone();
        let t = create_task(async move {
            let _ = s2.set_result(());
            cm2.run(sleep(Duration::from_secs(10))).await
        })
        .unwrap();
        started.await.unwrap();
        t.cancel();
        let r = t.await;
        assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
        assert!(!cm.expired());
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// A body parked on a future tulip cannot reach is dropped at expiry; the task lives.
fn timeout_over_foreign_future(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let r = timeout(ms(10))
            .run(futures::future::pending::<tulip::Result<()>>())
            .await;
        assert!(matches!(r, Err(Error::TimeoutError(Some(_)))));
        sleep(ms(1)).await.expect("task still usable");
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// Nested scopes: the inner one expires, the outer one does not see it.
fn nested_timeouts(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let outer = timeout(Duration::from_secs(5));
        let r = outer
            .run(async {
                let inner = timeout(ms(10)).run(sleep(Duration::from_secs(10))).await;
                assert!(matches!(inner, Err(Error::TimeoutError(Some(_)))));
                sleep(ms(5)).await?;
                Ok::<_, Error>("outer body done")
            })
            .await;
        assert_eq!(r.unwrap(), "outer body done");
        assert!(!outer.expired());
        // Entering a scope twice is an error, as in asyncio.
        assert!(matches!(
            outer.run(async { Ok::<_, Error>(()) }).await,
            Err(Error::InvalidState(_))
        ));
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// The cause of a timeout error: its `source()`, which must be a `Cancelled`.
fn cause_name(e: &Error) -> &'static str {
    match std::error::Error::source(e) {
        Some(c) if c.downcast_ref::<tulip::Cancelled>().is_some() => "Cancelled",
        Some(_) => "other",
        None => "none",
    }
}

/// asyncio_ref/wait_for_semantics.py, "swallowed": the inner work swallows the cancel
/// and returns a value; `wait_for` returns that value (3.11).
fn wait_for_returns_value_of_swallowed_cancel(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let l2 = l.clone();
        let r = wait_for(
            async move {
                l2.push("started");
                if sleep(Duration::from_secs(10)).await.is_err() {
                    l2.push("swallowed");
                    return Ok("value after cancel");
                }
                Ok::<_, Error>("finished")
            },
            ms(20),
        )
        .await?;
        l.push(format!("wait_for returned {r:?}"));
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        log.take(),
        [
            "started",
            "swallowed",
            r#"wait_for returned "value after cancel""#
        ]
    );
}

/// asyncio_ref/wait_for_semantics.py, "zero": a zero timeout cancels the inner task
/// before its body runs; the caller gets a timeout whose source is the cancellation.
fn wait_for_zero_cancels_at_once(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let l2 = l.clone();
        let w = wait_for(
            async move {
                l2.push("body ran");
                Ok::<_, Error>(1)
            },
            Duration::ZERO,
        );
        if let Err(e) = w.await {
            assert!(e.is_timeout(), "{e:?}");
            l.push(format!("TimeoutError cause={}", cause_name(&e)));
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(log.take(), ["TimeoutError cause=Cancelled"]);
}

/// asyncio_ref/wait_for_semantics.py, "cleanup": the inner task's clean-up ends before
/// the caller sees the timeout, whose source is the cancellation.
fn wait_for_timeout_source_is_cancellation(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        if let Err(e) = wait_for(long_job(l.clone(), 10_000), ms(20)).await {
            l.push(format!("TimeoutError cause={}", cause_name(&e)));
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        log.take(),
        ["started", "cleanup done", "TimeoutError cause=Cancelled"]
    );
}

/// asyncio_ref/timeout_semantics.py, "past": a deadline already past lets the body
/// start and cancels it at its first await.
fn timeout_past_deadline_cancels_at_first_await(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let past = now().checked_sub(ms(1000)).unwrap_or_else(now);
        let cm = timeout_at(past);
        let l2 = l.clone();
        let r = cm
            .run(async move {
                l2.push("body started");
                sleep(Duration::from_secs(10)).await?;
                l2.push("not reached");
                Ok::<_, Error>(())
            })
            .await;
        if let Err(e) = r {
            assert!(e.is_timeout(), "{e:?}");
            l.push(format!("TimeoutError from {}", cause_name(&e)));
        }
        l.push(format!("expired={}", cm.expired()));
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        log.take(),
        [
            "body started",
            "TimeoutError from Cancelled",
            "expired=true"
        ]
    );
}

/// asyncio_ref/timeout_semantics.py, "swallow": a body that swallows the cancel and
/// returns normally makes the scope return normally, `expired()` true, no stray
/// cancel left.
fn timeout_body_swallows_cancel(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let cm = timeout(ms(10));
        let l2 = l.clone();
        cm.run(async move {
            if sleep(Duration::from_secs(10)).await.is_err() {
                l2.push("swallowed");
            }
            Ok::<_, Error>(())
        })
        .await?;
        l.push(format!("scope returned normally, expired={}", cm.expired()));
        l.push(format!(
            "cancelling={}",
            current_task().unwrap().cancelling()
        ));
        tulip::yield_now().await?;
        l.push("no stray cancel");
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        log.take(),
        [
            "swallowed",
            "scope returned normally, expired=true",
            "cancelling=0",
            "no stray cancel"
        ]
    );
}

/// asyncio_ref/timeout_semantics.py, "reschedule": `when()`, `reschedule()` while
/// active, and `RuntimeError` once the scope finished.
fn timeout_when_and_reschedule(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let cm = Timeout::new(None);
        let inner = cm.clone();
        let l2 = l.clone();
        cm.run(async move {
            l2.push(format!("when={:?}", inner.when()));
            inner
                .reschedule(Some(now() + Duration::from_secs(10)))
                .unwrap();
            l2.push(format!("rescheduled={}", inner.when().is_some()));
            inner.reschedule(None).unwrap();
            l2.push(format!("when={:?}", inner.when()));
            Ok::<_, Error>(())
        })
        .await?;
        match cm.reschedule(None) {
            Err(tulip::sync::Error::RuntimeError(m)) => l.push(format!("RuntimeError: {m}")),
            other => panic!("{other:?}"),
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        log.take(),
        [
            "when=None",
            "rescheduled=true",
            "when=None",
            "RuntimeError: cannot change state of finished timeout"
        ]
    );
}

// On the real clock too, a scope (its body runs inline, so no scheduling race with
// the deadline). `wait_for` on the real clock is not here: under load a worker may
// not even start the inner task within 20 ms, which is the virtual clock's point.
per_executor!(timeout_scope_expires);

per_executor!(virtual:
    wait_for_expiry_runs_cleanup_first,
    wait_for_in_time,
    wait_for_cancelled_from_outside,
    timeout_scope_expires,
    timeout_scope_in_time,
    timeout_reschedule,
    timeout_outside_cancel_propagates,
    timeout_over_foreign_future,
    nested_timeouts,
    wait_for_returns_value_of_swallowed_cancel,
    wait_for_zero_cancels_at_once,
    wait_for_timeout_source_is_cancellation,
    timeout_past_deadline_cancels_at_first_await,
    timeout_body_swallows_cancel,
    timeout_when_and_reschedule,
);
