//! The outcome contract: a task ends with a result, cancelled, or raised, decided by
//! what its body returned — checked against what CPython 3.11 prints for the same
//! programs (tests/asyncio_ref/task_outcome.py, never_retrieved.py,
//! never_retrieved_callbacks.py, done_callback_order.py,
//! remove_callbacks_keeps_awaiter.py).
mod common;

use std::time::Duration;

use common::{until, Factory, Log};
use tulip::Error;

/// Spawns `body` as a task and waits until it has started (so a cancel that follows
/// finds it inside `body`, as asyncio's `await asyncio.sleep(0)` would).
async fn started_task<F, T>(body: F) -> Result<tulip::Task<T>, Error>
where
    F: std::future::Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    let started = tulip::Promise::<()>::new();
    let s = started.clone();
    let t = tulip::create_task(async move {
        s.set_result(())?;
        body.await
    })?;
    started.await?;
    Ok(t)
}

async fn sleeper() -> Result<&'static str, Error> {
    tulip::sleep(Duration::from_secs(10)).await?;
    Ok("never")
}

/// task_outcome.py, part 1: a body that lets the cancel propagate ends cancelled.
fn propagated_cancel_ends_cancelled(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let trace = lp
        .run_until_complete(async {
            let mut trace = Vec::new();
            let mut t = started_task(sleeper()).await?;
            t.cancel_with("stop it");
            match (&mut t).await {
                Err(Error::Cancelled(c)) => trace.push(format!("await: Cancelled {:?}", c.msg)),
                other => trace.push(format!("await: {other:?}")),
            }
            trace.push(format!("cancelled={} done={}", t.cancelled(), t.done()));
            if let Err(Error::Cancelled(_)) = t.exception() {
                trace.push("exception(): Cancelled".into());
            }
            if let Err(Error::InvalidState(_)) = t.result() {
                // The await above moved the outcome out; the state still says cancelled.
                trace.push("result(): moved".into());
            }
            Ok::<_, Error>(trace)
        })
        .unwrap();
    assert_eq!(
        trace,
        [
            "await: Cancelled Some(\"stop it\")",
            "cancelled=true done=true",
            "exception(): Cancelled",
            "result(): moved",
        ]
    );
}

/// task_outcome.py, part 2: a body that returns an error ends raised; result() and
/// exception() can be read again and again.
fn returned_error_ends_raised(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let trace = lp
        .run_until_complete(async {
            let mut trace = Vec::new();
            let mut t = tulip::create_task(async { Err::<(), _>(Error::InvalidState("bad")) })?;
            tulip::all_done([t.task_ref()].iter()).await?;
            trace.push(format!(
                "cancelled={} failed={} exception={}",
                t.cancelled(),
                t.failed(),
                t.exception()?.map(|e| e.to_string()).unwrap_or_default()
            ));
            trace.push(format!(
                "exception again={}",
                t.exception()?.map(|e| e.to_string()).unwrap_or_default()
            ));
            for _ in 0..2 {
                if let Err(Error::InvalidState("bad")) = t.result() {
                    trace.push("result(): the error".into());
                }
            }
            match t.await {
                Err(Error::InvalidState(m)) => trace.push(format!("await: {m}")),
                other => trace.push(format!("await: {other:?}")),
            }
            Ok::<_, Error>(trace)
        })
        .unwrap();
    assert_eq!(
        trace,
        [
            "cancelled=false failed=true exception=invalid state: bad",
            "exception again=invalid state: bad",
            "result(): the error",
            "result(): the error",
            "await: bad",
        ]
    );
}

/// task_outcome.py, part 3: a body that catches the cancel and returns has a result.
fn swallowed_cancel_ends_with_a_result(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let (v, cancelled, cancelling) = lp
        .run_until_complete(async {
            let started = tulip::Promise::<()>::new();
            let s = started.clone();
            let t = tulip::create_task(async move {
                s.set_result(())?;
                match tulip::sleep(Duration::from_secs(10)).await {
                    Err(Error::Cancelled(_)) => Ok::<_, Error>("caught"),
                    other => other.map(|_| "slept"),
                }
            })?;
            started.await?;
            t.cancel();
            let r = t.task_ref();
            let v = t.await?;
            Ok::<_, Error>((v, r.cancelled(), r.cancelling()))
        })
        .unwrap();
    assert_eq!((v, cancelled, cancelling), ("caught", false, 1));
}

/// task_outcome.py, part 4: cancelling() counts requests; uncancel() withdraws one;
/// the task still ends cancelled.
#[cfg(feature = "local")]
fn cancelling_and_uncancel(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let trace = lp
        .run_until_complete(async {
            let mut trace = Vec::new();
            let t = started_task(sleeper()).await?;
            t.cancel();
            t.cancel();
            trace.push(format!("cancelling={}", t.cancelling()));
            trace.push(format!("uncancel={}", t.uncancel()));
            let r = t.task_ref();
            if t.await.is_err() {
                trace.push(format!("still cancelled={}", r.cancelled()));
            }
            Ok::<_, Error>(trace)
        })
        .unwrap();
    assert_eq!(
        trace,
        ["cancelling=2", "uncancel=1", "still cancelled=true"]
    );
}

/// A panic is a raised exception too: `failed()`, `exception()` gives `Panicked`.
fn panic_ends_raised(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.set_exception_handler(Some(|_: &tulip::EventLoop, _: &tulip::ExceptionContext| {}));
    let (failed, exc) = lp
        .run_until_complete(async {
            let t = tulip::create_task(async {
                if std::hint::black_box(true) {
                    panic!("kaboom");
                }
                Ok::<(), Error>(())
            })?;
            tulip::all_done([t.task_ref()].iter()).await?;
            let exc = t.exception()?;
            Ok::<_, Error>((t.failed(), exc))
        })
        .unwrap();
    assert!(failed);
    assert!(matches!(exc, Some(Error::Panicked(m)) if &*m == "kaboom"));
}

/// never_retrieved.py: only the raised task nobody retrieved is reported — not the
/// awaited one, not the one whose exception() was read, not the cancelled one.
fn only_unretrieved_exceptions_are_reported(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let reports = Log::default();
    reports.reports_of(&lp, "");
    assert!(lp.get_exception_handler().is_some());
    let boom = |msg: &'static str| async move { Err::<(), _>(Error::InvalidState(msg)) };
    lp.run_until_complete(async move {
        // awaited: retrieved
        let t = tulip::create_task(boom("awaited"))?;
        assert!(t.await.is_err());
        // exception() read: retrieved
        let t = tulip::create_task(boom("read"))?;
        tulip::all_done([t.task_ref()].iter()).await?;
        assert!(t.exception()?.is_some());
        drop(t);
        // cancelled: not an exception
        let t = tulip::create_task(sleeper())?;
        tulip::sleep(Duration::ZERO).await?;
        t.cancel();
        tulip::all_done([t.task_ref()].iter()).await?;
        drop(t);
        // detached, then it fails: reported
        let t = tulip::create_task(boom("lost"))?;
        let r = t.task_ref();
        drop(t);
        tulip::all_done([r].iter()).await?;
        // failed, then the handle is dropped unread: reported
        let t = tulip::create_task(boom("dropped"))?;
        tulip::all_done([t.task_ref()].iter()).await?;
        drop(t);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        reports.take(),
        [
            "Task exception was never retrieved: invalid state: lost",
            "Task exception was never retrieved: invalid state: dropped",
        ]
    );
}

/// never_retrieved_callbacks.py: the report waits for the task's done-callbacks, since
/// one of them may retrieve the exception: a `TaskGroup`'s does, so its failed child is
/// not reported; a callback that reads `exception()` retrieves it; one that does not
/// runs, and the report follows it.
fn done_callbacks_run_before_the_unretrieved_report(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    log.reports_of(&lp, "report: ");
    let boom = |msg: &'static str| async move { Err::<(), _>(Error::InvalidState(msg)) };
    let l = log.clone();
    lp.run_until_complete(async move {
        let group = tulip::TaskGroup::run(|tg| async move {
            tg.create_task(boom("child"))?;
            Ok(())
        })
        .await;
        match group {
            Err(tulip::TaskGroupError::Failed(errs)) => {
                let errs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
                l.push(format!("group raised: {errs:?}"));
            }
            other => panic!("{other:?}"),
        }

        let t = tulip::create_task(boom("read by callback"))?;
        let l2 = l.clone();
        t.add_done_callback(move |t| {
            let e = t.exception().ok().flatten().map(|e| e.to_string());
            l2.push(format!("callback read: {}", e.unwrap_or_default()));
        });
        drop(t);
        // On the threaded loop the task may be done before the callback is added;
        // either way the callback runs, as a callback, later: wait for it.
        until(|| l.count(|e| e.starts_with("callback read")) == 1).await;

        let t = tulip::create_task(boom("unread"))?;
        let l2 = l.clone();
        t.add_done_callback(move |_| l2.push("callback ran"));
        drop(t);
        until(|| l.count(|e| e.starts_with("report")) == 1).await;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        log.take(),
        [
            "group raised: [\"invalid state: child\"]",
            "callback read: invalid state: read by callback",
            "callback ran",
            "report: Task exception was never retrieved: invalid state: unread",
        ]
    );
}

/// done_callback_order.py: a promise's done-callbacks and awaiters run in the order
/// they were registered, each as its own callback; one that panics is reported and
/// the rest still run. Then the same for a task.
#[cfg(feature = "local")]
fn callbacks_and_awaiters_run_in_registration_order(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let trace = Log::default();
    let h = trace.clone();
    lp.set_exception_handler(Some(
        move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| {
            h.push(format!("handler: {}", ctx.message))
        },
    ));
    let tr = trace.clone();
    lp.run_until_complete(async move {
        let lp = tulip::get_running_loop()?;
        let fut: tulip::Promise<u32> = lp.create_future();
        let t1 = tr.clone();
        fut.add_done_callback(move |_| t1.push("cb1"));
        let (f2, t2) = (fut.clone(), tr.clone());
        let w = tulip::create_task(async move {
            f2.await?;
            t2.push("awaiter");
            Ok::<_, Error>(())
        })?;
        tulip::sleep(Duration::ZERO).await?;
        let t3 = tr.clone();
        fut.add_done_callback(move |_| {
            t3.push("cb2 panics");
            panic!("oops");
        });
        let t4 = tr.clone();
        fut.add_done_callback(move |_| t4.push("cb3"));
        fut.set_result(1)?;
        w.await?;

        let child = tulip::create_task(async {
            tulip::sleep(Duration::ZERO).await?;
            Ok::<_, Error>(5)
        })?;
        let t5 = tr.clone();
        child.add_done_callback(move |t| {
            t5.push(format!(
                "task cb1 exception={:?}",
                t.exception().map(|e| e.is_none())
            ))
        });
        let r = child.task_ref();
        let t6 = tr.clone();
        let tw = tulip::create_task(async move {
            let v = child.await?;
            t6.push(format!("task awaiter {v}"));
            Ok::<_, Error>(())
        })?;
        tulip::sleep(Duration::ZERO).await?;
        let t7 = tr.clone();
        r.add_done_callback(move |_| t7.push("task cb2"));
        tw.await?;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        trace.take(),
        [
            "cb1",
            "awaiter",
            "cb2 panics",
            "handler: Exception in callback",
            "cb3",
            "task cb1 exception=Ok(true)",
            "task awaiter 5",
            "task cb2",
        ]
    );
}

/// A task body may use `Box<dyn Error + Send + Sync>`: a propagated cancel is still
/// recognised as one.
fn boxed_errors_know_a_cancel(new_loop: Factory) {
    type BoxError = Box<dyn std::error::Error + Send + Sync>;
    let lp = new_loop().unwrap();
    let (cancelled, failed) = lp
        .run_until_complete(async {
            let started = tulip::Promise::<()>::new();
            let s = started.clone();
            let t = tulip::create_task(async move {
                s.set_result(())?;
                tulip::sleep(Duration::from_secs(10)).await?;
                Ok::<(), BoxError>(())
            })?;
            started.await?;
            t.cancel();
            let r = t.task_ref();
            assert!(t.await.is_err());
            let bad = tulip::create_task(async { Err::<(), BoxError>("no".into()) })?;
            let b = bad.task_ref();
            assert_eq!(bad.await.unwrap_err().to_string(), "no");
            Ok::<_, BoxError>((r.cancelled(), b.failed()))
        })
        .unwrap();
    assert!(cancelled && failed);
}

/// remove_callbacks_keeps_awaiter.py: clearing a task's done-callbacks removes the
/// callbacks, not the task awaiting it (its wake-up sits in the same list).
fn clearing_callbacks_keeps_the_awaiter(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let trace = Log::default();
    let tr = trace.clone();
    let (removed, got) = lp
        .run_until_complete(async move {
            let gate = tulip::Promise::<()>::new();
            let g = gate.clone();
            let child = tulip::create_task(async move {
                g.await?;
                Ok::<_, Error>(5)
            })?;
            let r = child.task_ref();
            let t1 = tr.clone();
            r.add_done_callback(move |_| t1.push("cb1"));
            let waiter = tulip::create_task(child)?;
            // Until the waiter is parked on the child (registered after cb1); on
            // the threaded loop it runs on another thread.
            let w = waiter.task_ref();
            until(|| {
                matches!(
                    w.info().waiting_on,
                    Some(tulip::introspect::Waiting::Task { .. })
                )
            })
            .await;
            let t2 = tr.clone();
            r.add_done_callback(move |_| t2.push("cb2"));
            let removed = r.clear_done_callbacks();
            gate.set_result(())?;
            // Bounded: a lost wake-up fails the test instead of hanging it.
            let got = tulip::wait_for(waiter, Duration::from_secs(10))
                .await
                .map_err(|e| Error::Exception(std::sync::Arc::new(e)))?;
            tulip::sleep(Duration::ZERO).await?;
            Ok::<_, Error>((removed, got))
        })
        .unwrap();
    assert_eq!((removed, got), (2, 5));
    assert_eq!(trace.take(), Vec::<String>::new());
}

per_executor!(
    clearing_callbacks_keeps_the_awaiter,
    propagated_cancel_ends_cancelled,
    returned_error_ends_raised,
    swallowed_cancel_ends_with_a_result,
    panic_ends_raised,
    only_unretrieved_exceptions_are_reported,
    done_callbacks_run_before_the_unretrieved_report,
    boxed_errors_know_a_cancel,
);

// The exact interleaving of callbacks and awaiting tasks is asyncio's on the
// single-threaded loop; on the threaded loop task steps run in parallel.
// Two cancels in a row count twice only while the task is parked; on the threaded
// loop it may take the first one on another thread before the second is asked.
#[cfg(feature = "local")]
#[test]
fn cancelling_and_uncancel_local() {
    cancelling_and_uncancel(tulip::executors::local::new_event_loop);
}

#[cfg(feature = "local")]
#[test]
fn callbacks_and_awaiters_in_order_local() {
    callbacks_and_awaiters_run_in_registration_order(tulip::executors::local::new_event_loop);
}
