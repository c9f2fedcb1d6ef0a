//! run_until_complete / run_forever / close / run: the states a loop goes through and
//! the errors asyncio raises for misuse (CPython's messages in the comments).
mod common;

use std::time::Duration;

use common::{Factory, Log};
use tulip::Error;

fn run_until_complete_twice_then_closed_loop_refuses(new_loop: Factory) {
    let lp = new_loop().unwrap();
    assert_eq!(
        lp.run_until_complete(async { Ok::<_, Error>(1) }).unwrap(),
        1
    );
    assert_eq!(
        lp.run_until_complete(async { Ok::<_, Error>(2) }).unwrap(),
        2
    );
    assert!(!lp.is_closed());
    lp.close().unwrap();
    assert!(lp.is_closed());
    lp.close().unwrap(); // idempotent, as in asyncio

    // "Event loop is closed"
    assert!(matches!(
        lp.run_until_complete(async { Ok::<_, Error>(3) }),
        Err(Error::LoopClosed)
    ));
    assert!(matches!(lp.run_forever(), Err(Error::LoopClosed)));
    assert!(matches!(lp.call_soon(|| ()), Err(Error::LoopClosed)));
    assert!(matches!(
        lp.create_task(async { Ok::<_, Error>(()) }),
        Err(Error::LoopClosed)
    ));
}

/// "This event loop is already running"
fn nested_run_until_complete_is_an_error(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let inner = lp.clone();
    let r = lp
        .run_until_complete(async move {
            assert!(inner.is_running());
            // The inner refusal is the main future's value, not its error.
            Ok::<_, Error>(inner.run_until_complete(async { Ok::<_, Error>(()) }))
        })
        .unwrap();
    assert!(matches!(r, Err(Error::LoopRunning)), "{r:?}");
    assert!(!lp.is_running());
}

/// "Cannot run the event loop while another loop is running"
fn running_a_second_loop_inside_a_running_one_is_an_error(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let other = new_loop().unwrap();
    let r = lp
        .run_until_complete(async move {
            Ok::<_, Error>(other.run_until_complete(async { Ok::<_, Error>(()) }))
        })
        .unwrap();
    assert!(matches!(r, Err(Error::AnotherLoopRunning)), "{r:?}");
}

/// "Cannot close a running event loop"
fn closing_a_running_loop_is_an_error(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let inner = lp.clone();
    let r = lp
        .run_until_complete(async move { Ok::<_, Error>(inner.close()) })
        .unwrap();
    assert!(matches!(r, Err(Error::LoopRunning)), "{r:?}");
    assert!(!lp.is_closed());
}

/// "Event loop stopped before Future completed."
fn stop_before_the_future_completes_is_reported(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let inner = lp.clone();
    let r = lp.run_until_complete(async move {
        inner.stop();
        tulip::sleep(Duration::from_secs(30)).await
    });
    assert!(matches!(r, Err(Error::StoppedBeforeComplete)), "{r:?}");
}

/// raised_task.py: the main coroutine raising makes `run_until_complete` raise it;
/// nothing goes to the exception handler, and the loop is still usable.
fn main_future_panicking_is_an_error_value(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let reports = Log::default();
    let rep = reports.clone();
    lp.set_exception_handler(Some(
        move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| rep.push(ctx.to_string()),
    ));
    let r = lp.run_until_complete(async {
        if std::hint::black_box(true) {
            panic!("main blew up");
        }
        Ok::<(), Error>(())
    });
    match r {
        Err(Error::Panicked(msg)) => assert!(msg.contains("main blew up")),
        other => panic!("expected Panicked, got {other:?}"),
    }
    // The loop is still usable.
    assert_eq!(
        lp.run_until_complete(async { Ok::<_, Error>(5) }).unwrap(),
        5
    );
    assert!(reports.take().is_empty());
}

fn run_until_complete_borrows_from_the_caller(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let mut local = vec![1, 2];
    lp.run_until_complete(async {
        tulip::sleep(Duration::from_millis(1)).await?;
        local.push(3);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(local, [1, 2, 3]);
}

/// A task still pending when `run_until_complete` returns waits for the next run.
/// (It waits for `go`, set in the second run, not for a time: on the threaded loop a
/// timer could otherwise fire before the first run has returned.)
fn pending_work_survives_between_runs(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let go = tulip::Promise::<()>::new();
    let g = go.clone();
    let t = lp
        .run_until_complete(async move {
            tulip::create_task(async move {
                g.await?;
                l.push("task finished");
                Ok::<_, Error>(9)
            })
        })
        .unwrap();
    assert!(!t.done());
    assert!(log.take().is_empty());
    let v = lp
        .run_until_complete(async move {
            go.set_result(())?;
            t.await
        })
        .unwrap();
    assert_eq!(v, 9);
    assert_eq!(log.take(), ["task finished"]);
}

per_executor!(
    run_until_complete_twice_then_closed_loop_refuses,
    nested_run_until_complete_is_an_error,
    running_a_second_loop_inside_a_running_one_is_an_error,
    closing_a_running_loop_is_an_error,
    stop_before_the_future_completes_is_reported,
    main_future_panicking_is_an_error_value,
    run_until_complete_borrows_from_the_caller,
    pending_work_survives_between_runs,
);

/// run_cleans_up.py: `run` returns main's value, then cancels the task left over,
/// which cleans up (with an await of its own) before the loop closes. Main waits
/// until the task has started, not for a number of loop iterations: on the threaded
/// executor a `sleep(0)` does not mean another task has run.
#[test]
fn run_returns_the_value_and_cleans_up_leftover_tasks() {
    let log = Log::default();
    let l = log.clone();
    let out = tulip::run(async move {
        let started = tulip::Promise::<()>::new();
        let s = started.clone();
        tulip::create_task(async move {
            s.set_result(())?;
            match tulip::sleep(Duration::from_secs(10)).await {
                Err(e) if e.is_cancelled() => {
                    tulip::sleep(Duration::from_millis(1)).await?;
                    l.push("leftover cleaned");
                    Err(e)
                }
                other => {
                    l.push(format!("unexpected {other:?}"));
                    other
                }
            }
        })?;
        started.await?;
        Ok::<_, Error>("m2")
    })
    .unwrap();
    assert_eq!(out, "m2");
    assert_eq!(log.take(), ["leftover cleaned"]);
}

#[test]
fn run_inside_a_running_loop_is_an_error() {
    let r = tulip::run(async { Ok::<_, Error>(tulip::run(async { Ok::<_, Error>(()) })) }).unwrap();
    assert!(matches!(r, Err(Error::AnotherLoopRunning)), "{r:?}");
}

#[test]
fn get_running_loop_outside_a_loop_is_no_running_loop() {
    assert!(matches!(
        tulip::get_running_loop(),
        Err(Error::NoRunningLoop)
    ));
    let lp = tulip::new_event_loop().unwrap();
    let got = lp
        .run_until_complete(async { tulip::get_running_loop() })
        .unwrap();
    assert_eq!(got, lp);
}
