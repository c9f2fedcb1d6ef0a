//! run_until_complete / run_forever / close / run: the states a loop goes through and
//! the errors asyncio raises for misuse (CPython's messages in the comments).
mod common;

use std::time::Duration;

use common::{Factory, Log};
use tulip::Error;

fn run_until_complete_twice_then_closed_loop_refuses(new_loop: Factory) {
    let lp = new_loop().unwrap();
    assert_eq!(lp.run_until_complete(async { 1 }).unwrap(), 1);
    assert_eq!(lp.run_until_complete(async { 2 }).unwrap(), 2);
    assert!(!lp.is_closed());
    lp.close().unwrap();
    assert!(lp.is_closed());
    lp.close().unwrap(); // idempotent, as in asyncio
                         // "Event loop is closed"
    assert!(matches!(
        lp.run_until_complete(async { 3 }),
        Err(Error::LoopClosed)
    ));
    assert!(matches!(lp.run_forever(), Err(Error::LoopClosed)));
    assert!(matches!(lp.call_soon(|| ()), Err(Error::LoopClosed)));
    assert!(matches!(lp.create_task(async {}), Err(Error::LoopClosed)));
}

/// "This event loop is already running"
fn nested_run_until_complete_is_an_error(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let inner = lp.clone();
    let r = lp
        .run_until_complete(async move {
            assert!(inner.is_running());
            inner.run_until_complete(async {}).map(|_| ())
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
        .run_until_complete(async move { other.run_until_complete(async {}).map(|_| ()) })
        .unwrap();
    assert!(matches!(r, Err(Error::AnotherLoopRunning)), "{r:?}");
}

/// "Cannot close a running event loop"
fn closing_a_running_loop_is_an_error(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let inner = lp.clone();
    let r = lp.run_until_complete(async move { inner.close() }).unwrap();
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

fn main_future_panicking_is_an_error_value(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = lp.run_until_complete(async {
        if true {
            panic!("main blew up");
        }
    });
    match r {
        Err(Error::Panicked(msg)) => assert!(msg.contains("main blew up")),
        other => panic!("expected Panicked, got {other:?}"),
    }
    // The loop is still usable.
    assert_eq!(lp.run_until_complete(async { 5 }).unwrap(), 5);
}

fn run_until_complete_borrows_from_the_caller(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let mut local = vec![1, 2];
    lp.run_until_complete(async {
        tulip::sleep(Duration::from_millis(1)).await.unwrap();
        local.push(3);
    })
    .unwrap();
    assert_eq!(local, [1, 2, 3]);
}

fn pending_work_survives_between_runs(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let t = lp
        .run_until_complete(async move {
            tulip::create_task(async move {
                tulip::sleep(Duration::from_millis(20)).await.unwrap();
                l.push("task finished");
                9
            })
        })
        .unwrap()
        .unwrap();
    assert!(log.take().is_empty());
    assert_eq!(lp.run_until_complete(t).unwrap().unwrap(), 9);
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

#[test]
fn run_returns_the_value_and_cleans_up_leftover_tasks() {
    let log = Log::default();
    let l = log.clone();
    let out = tulip::run(async move {
        tulip::create_task(async move {
            match tulip::sleep(Duration::from_secs(10)).await {
                Err(e) if e.is_cancelled() => {
                    tulip::sleep(Duration::from_millis(1)).await.unwrap();
                    l.push("leftover cleaned");
                }
                other => l.push(format!("unexpected {other:?}")),
            }
        })
        .unwrap();
        tulip::sleep(Duration::ZERO).await.unwrap();
        "m2"
    })
    .unwrap();
    assert_eq!(out, "m2");
    assert_eq!(log.take(), ["leftover cleaned"]);
}

#[test]
fn run_inside_a_running_loop_is_an_error() {
    let r = tulip::run(async { tulip::run(async {}).map(|_| ()) }).unwrap();
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
        .unwrap()
        .unwrap();
    assert_eq!(got, lp);
}
