//! Callback scheduling on the loop: asyncio's order, stop and error rules.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{within, Factory, Log};

fn call_soon_runs_100k_callbacks_in_fifo_order(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let seen = Arc::new(Mutex::new(Vec::with_capacity(100_000)));
    for i in 0..100_000u32 {
        let seen = seen.clone();
        lp.call_soon(move || seen.lock().unwrap().push(i)).unwrap();
    }
    let lp2 = lp.clone();
    lp.call_soon(move || lp2.stop()).unwrap();
    within(Duration::from_secs(10), || lp.run_forever().unwrap());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 100_000);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "callbacks ran out of order"
    );
    lp.close().unwrap();
}

/// On a virtual clock (exact, no wall time): each callback runs at exactly its
/// deadline, in deadline order, ties in the order they were scheduled.
fn call_later_fires_by_deadline_and_ties_by_insertion(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let t0 = lp.time();
    let at = |name: String| {
        let (log, lp2) = (log.clone(), lp.clone());
        move || log.lock().unwrap().push((name, lp2.time() - t0))
    };
    let t = t0 + Duration::from_millis(30);
    for i in 0..5 {
        lp.call_at(t, at(format!("tie{i}"))).unwrap();
    }
    lp.call_later(Duration::from_millis(10), at("early".into()))
        .unwrap();
    let late = lp
        .call_at(t + Duration::from_millis(20), at("late".into()))
        .unwrap();
    assert_eq!(late.when(), t + Duration::from_millis(20));
    let cancelled = lp.call_at(t, at("cancelled".into())).unwrap();
    cancelled.cancel();
    assert!(cancelled.cancelled());
    lp.run_until_complete(tulip::sleep(Duration::from_millis(80)))
        .unwrap();
    let ms = Duration::from_millis;
    let mut want = vec![("early".to_string(), ms(10))];
    want.extend((0..5).map(|i| (format!("tie{i}"), ms(30))));
    want.push(("late".into(), ms(50)));
    assert_eq!(*log.lock().unwrap(), want);
    assert_eq!(lp.time() - t0, ms(80));
}

fn cancelled_call_soon_handle_does_not_run(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let h = lp.call_soon(move || l.push("no")).unwrap();
    let l = log.clone();
    lp.call_soon(move || l.push("yes")).unwrap();
    h.cancel();
    lp.run_until_complete(tulip::sleep(Duration::ZERO)).unwrap();
    assert_eq!(log.take(), ["yes"]);
}

/// CPython: a() stops the loop and schedules c; b (already queued) still runs in this
/// iteration, c waits for the next run: ['a', 'b'] then ['a', 'b', 'c'].
fn stop_returns_after_the_callbacks_already_queued(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let (l, lp2) = (log.clone(), lp.clone());
    lp.call_soon(move || {
        l.push("a");
        lp2.stop();
        let l2 = l.clone();
        lp2.call_soon(move || l2.push("c")).unwrap();
    })
    .unwrap();
    let l = log.clone();
    lp.call_soon(move || l.push("b")).unwrap();
    lp.run_forever().unwrap();
    assert_eq!(log.take(), ["a", "b"]);
    let lp2 = lp.clone();
    lp.call_soon(move || lp2.stop()).unwrap();
    lp.run_forever().unwrap();
    assert_eq!(log.take(), ["c"]);
}

/// CPython: stop() before run_forever() runs one iteration, then returns.
fn stop_before_run_forever_runs_one_iteration(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.call_soon(move || l.push("x")).unwrap();
    lp.stop();
    within(Duration::from_secs(5), || lp.run_forever().unwrap());
    assert_eq!(log.take(), ["x"]);
}

fn panicking_callback_is_reported_and_the_loop_goes_on(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let r = reports.clone();
    lp.set_exception_handler(Some(
        move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| {
            r.lock().unwrap().push(ctx.to_string());
        },
    ));
    let log = Log::default();
    lp.call_soon(|| panic!("boom in callback")).unwrap();
    let l = log.clone();
    lp.call_soon(move || l.push("after")).unwrap();
    lp.run_until_complete(tulip::sleep(Duration::from_millis(1)))
        .unwrap();
    assert_eq!(log.take(), ["after"]);
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert!(
        reports[0].contains("Exception in callback"),
        "{}",
        reports[0]
    );
    assert!(reports[0].contains("boom in callback"), "{}", reports[0]);
}

fn call_soon_threadsafe_wakes_a_blocked_loop(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let fired_at = Arc::new(Mutex::new(None));
    let (lp2, f2) = (lp.clone(), fired_at.clone());
    let sent_at = Arc::new(Mutex::new(None));
    let s2 = sent_at.clone();
    let th = std::thread::spawn(move || {
        // The loop has nothing to do: it blocks in the poller with no timeout.
        std::thread::sleep(Duration::from_millis(50));
        *s2.lock().unwrap() = Some(Instant::now());
        let lp3 = lp2.clone();
        lp2.call_soon_threadsafe(move || {
            *f2.lock().unwrap() = Some(Instant::now());
            lp3.stop();
        })
        .unwrap();
    });
    within(Duration::from_secs(5), || lp.run_forever().unwrap());
    th.join().unwrap();
    let delay = fired_at.lock().unwrap().unwrap() - sent_at.lock().unwrap().unwrap();
    assert!(delay < Duration::from_millis(200), "woke after {delay:?}");
}

fn timers_scheduled_from_another_thread_fire(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let (lp2, h2) = (lp.clone(), hits.clone());
    let th = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        let lp3 = lp2.clone();
        lp2.call_later(Duration::from_millis(20), move || {
            h2.fetch_add(1, Ordering::SeqCst);
            lp3.stop();
        })
        .unwrap();
    });
    within(Duration::from_secs(5), || lp.run_forever().unwrap());
    th.join().unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

per_executor!(virtual: call_later_fires_by_deadline_and_ties_by_insertion);

per_executor!(
    call_soon_runs_100k_callbacks_in_fifo_order,
    cancelled_call_soon_handle_does_not_run,
    stop_returns_after_the_callbacks_already_queued,
    stop_before_run_forever_runs_one_iteration,
    panicking_callback_is_reported_and_the_loop_goes_on,
    call_soon_threadsafe_wakes_a_blocked_loop,
    timers_scheduled_from_another_thread_fire,
);
