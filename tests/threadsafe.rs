//! `run_coroutine_threadsafe`: plain threads submitting work to a running loop and
//! blocking on the result, on every executor.
mod common;

use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::{within, Factory, Log};
use tulip::core::run_coroutine_threadsafe;
use tulip::Error;

/// Runs `lp` forever on this thread while `body` runs on a plain thread; `body` gets
/// the loop and its return value is handed back once the loop stopped.
fn with_running_loop<R: Send + 'static>(
    lp: &tulip::EventLoop,
    body: impl FnOnce(tulip::EventLoop) -> R + Send + 'static,
) -> R {
    let lp2 = lp.clone();
    let t = std::thread::spawn(move || {
        let r = body(lp2.clone());
        let stopper = lp2.clone();
        lp2.call_soon_threadsafe(move || stopper.stop()).unwrap();
        r
    });
    within(Duration::from_secs(20), || lp.run_forever().unwrap());
    t.join().unwrap()
}

fn a_plain_thread_gets_the_result(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let v = with_running_loop(&lp, |lp| {
        let f = run_coroutine_threadsafe(
            async {
                tulip::sleep(Duration::from_millis(10)).await?;
                Ok::<_, Error>(42)
            },
            &lp,
        )
        .unwrap();
        let v = f.result(Some(Duration::from_secs(10)));
        (v, f.done(), f.result(None))
    });
    assert_eq!(v.0.unwrap(), 42);
    assert!(v.1);
    assert!(matches!(v.2, Err(Error::InvalidState(_))));
}

/// A timeout leaves the work running; `cancel()` then cancels it: the handle is
/// cancelled at once and the task sees `Err(Cancelled)` at its await point.
fn timeout_then_cancel(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let (seen_tx, seen_rx) = mpsc::channel();
    let out = with_running_loop(&lp, move |lp| {
        let f = run_coroutine_threadsafe(
            async move {
                let r = tulip::sleep(Duration::from_secs(30)).await;
                l.push(format!("task saw cancel: {}", r.is_err()));
                let _ = seen_tx.send(());
                r
            },
            &lp,
        )
        .unwrap();
        let first = f.result(Some(Duration::from_millis(20)));
        let cancelled = f.cancel();
        let again = f.cancel();
        let state = (f.done(), f.cancelled());
        let after = f.result(None);
        let task_saw = seen_rx.recv_timeout(Duration::from_secs(10)).is_ok();
        (first, cancelled, again, state, after, task_saw)
    });
    assert!(
        matches!(out.0, Err(Error::TimeoutError(None))),
        "{:?}",
        out.0
    );
    assert!(out.1);
    assert!(!out.2, "a second cancel returns false");
    assert_eq!(out.3, (true, true));
    assert!(matches!(out.4, Err(Error::Cancelled(_))));
    assert!(out.5);
    assert_eq!(log.take(), ["task saw cancel: true"]);
}

fn a_panic_is_the_callers_error(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = with_running_loop(&lp, |lp| {
        let work = async {
            if std::hint::black_box(true) {
                panic!("threadsafe boom");
            }
            Ok::<(), Error>(())
        };
        run_coroutine_threadsafe(work, &lp)
            .unwrap()
            .result(Some(Duration::from_secs(10)))
    });
    match r {
        Err(Error::Panicked(msg)) => assert_eq!(&*msg, "threadsafe boom"),
        other => panic!("{other:?}"),
    }
}

/// Waiting on the loop's own thread would wait for itself: refused.
fn result_on_the_loops_own_thread_is_refused(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = lp
        .run_until_complete(async {
            let lp = tulip::get_running_loop()?;
            let f = run_coroutine_threadsafe(async { Ok::<_, Error>(1) }, &lp)?;
            // The refusal is main's value, not its error.
            Ok::<_, Error>(f.result(Some(Duration::from_millis(1))))
        })
        .unwrap();
    assert!(matches!(r, Err(Error::WrongThread)), "{r:?}");
}

/// Work submitted to a loop that is closed before running it ends cancelled; a closed
/// loop refuses new work.
fn a_loop_closed_before_running_the_work_cancels_it(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let f = run_coroutine_threadsafe(async { Ok::<_, Error>(1) }, &lp).unwrap();
    lp.close().unwrap();
    let r = f.result(Some(Duration::from_secs(5)));
    assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
    assert!(matches!(
        run_coroutine_threadsafe(async { Ok::<_, Error>(2) }, &lp),
        Err(Error::LoopClosed)
    ));
}

/// Many threads submitting at once all get their own results.
fn many_threads_submit_at_once(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let sums = with_running_loop(&lp, |lp| {
        let lp = Arc::new(lp);
        let ts: Vec<_> = (0..4u64)
            .map(|k| {
                let lp = lp.clone();
                std::thread::spawn(move || {
                    (0..100u64)
                        .map(|i| {
                            run_coroutine_threadsafe(
                                async move { Ok::<_, Error>(k * 1000 + i) },
                                &lp,
                            )
                            .unwrap()
                            .result(Some(Duration::from_secs(10)))
                            .unwrap()
                        })
                        .sum::<u64>()
                })
            })
            .collect();
        ts.into_iter()
            .map(|t| t.join().unwrap())
            .collect::<Vec<_>>()
    });
    let want: Vec<u64> = (0..4u64)
        .map(|k| (0..100).map(|i| k * 1000 + i).sum())
        .collect();
    assert_eq!(sums, want);
}

per_executor!(
    a_plain_thread_gets_the_result,
    timeout_then_cancel,
    a_panic_is_the_callers_error,
    result_on_the_loops_own_thread_is_refused,
    a_loop_closed_before_running_the_work_cancels_it,
    many_threads_submit_at_once,
);
