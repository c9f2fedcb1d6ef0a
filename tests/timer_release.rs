//! What a cancelled callback or sleep lets go of, and when: at the cancel, as
//! asyncio's `Handle.cancel()` clears the callback and its arguments
//! (asyncio_ref/cancelled_timer_releases.py) — not at the deadline, an hour later.
//! Before, the loop's queue kept a cancelled timer's closure, or a sleep's waker
//! (and with it the sleeping task's allocation), until the deadline came.
mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use common::Factory;
use tulip::Error;

/// Counts its drops.
struct Token(Arc<AtomicUsize>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

const HOUR: Duration = Duration::from_secs(3600);

/// asyncio_ref/cancelled_timer_releases.py: `call_later`'s and `call_soon`'s
/// callbacks are dropped by `cancel()` and never run.
fn cancelled_handles_drop_their_callbacks_at_once(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let dropped = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(Mutex::new(Vec::new()));
    let (d, r) = (dropped.clone(), ran.clone());
    lp.run_until_complete(async move {
        let lp = tulip::get_running_loop()?;
        let (token, r1) = (Token(d.clone()), r.clone());
        let later = lp.call_later(HOUR, move || {
            let _held = &token;
            r1.lock().unwrap().push("later");
        })?;
        assert_eq!(d.load(Ordering::SeqCst), 0, "held before the cancel");
        later.cancel();
        assert!(later.cancelled());
        assert_eq!(
            d.load(Ordering::SeqCst),
            1,
            "call_later: dropped by cancel()"
        );
        let (token, r2) = (Token(d.clone()), r.clone());
        let soon = lp.call_soon(move || {
            let _held = &token;
            r2.lock().unwrap().push("soon");
        })?;
        soon.cancel();
        assert_eq!(
            d.load(Ordering::SeqCst),
            2,
            "call_soon: dropped by cancel()"
        );
        tulip::sleep(Duration::ZERO).await?;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert!(ran.lock().unwrap().is_empty(), "{:?}", ran.lock().unwrap());
    // Cancelling again, or after the loop closed, changes nothing.
    lp.close().unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 2);
}

/// A waker that counts nothing itself: `Arc::strong_count` says who holds it.
struct Held;

impl Wake for Held {
    fn wake(self: Arc<Self>) {}
}

/// Polls `sleep` once with a waker of `held`: it arms its timer and stays pending.
fn poll_with(sleep: &mut Pin<Box<tulip::Sleep>>, held: &Arc<Held>) {
    let waker = Waker::from(held.clone());
    assert!(sleep
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
}

/// A sleep polled once arms a timer holding its waker; dropping the sleep (what
/// cancelling its task does) lets the loop's queue go of that waker at once — in the
/// main task and in a spawned one (a worker thread, on the threaded loop).
fn a_dropped_sleep_lets_go_of_its_waker(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        drop_a_polled_sleep();
        tulip::create_task(async {
            drop_a_polled_sleep();
            Ok::<_, Error>(())
        })?
        .await
    })
    .unwrap();
    lp.close().unwrap();
}

fn drop_a_polled_sleep() {
    let held = Arc::new(Held);
    let mut sleep = Box::pin(tulip::sleep(HOUR));
    poll_with(&mut sleep, &held);
    assert!(
        Arc::strong_count(&held) > 1,
        "the sleep and its timer hold the waker"
    );
    drop(sleep);
    assert_eq!(
        Arc::strong_count(&held),
        1,
        "the queue still holds the waker"
    );
}

/// Re-polled by another waker (the sleep moved to another task), the sleep re-arms
/// and the first waker is let go of at once, not at the deadline.
fn a_sleep_polled_by_another_waker_lets_go_of_the_first(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let (first, second) = (Arc::new(Held), Arc::new(Held));
        let mut sleep = Box::pin(tulip::sleep(HOUR));
        for h in [&first, &second] {
            poll_with(&mut sleep, h);
        }
        assert_eq!(
            Arc::strong_count(&first),
            1,
            "the first timer still holds its waker"
        );
        assert!(
            Arc::strong_count(&second) > 1,
            "the second timer holds its waker"
        );
        drop(sleep);
        assert_eq!(Arc::strong_count(&second), 1);
        Ok::<_, Error>(())
    })
    .unwrap();
    lp.close().unwrap();
}

/// A task sleeping for an hour, cancelled: it ends cancelled, what it owned is
/// dropped, and the run does not wait for the hour.
fn a_cancelled_sleeper_ends_at_once(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    common::within(Duration::from_secs(30), || {
        lp.run_until_complete(async move {
            let token = Token(d.clone());
            let t = tulip::create_task(async move {
                let _held = token;
                tulip::sleep(HOUR).await
            })?;
            tulip::sleep(Duration::ZERO).await?;
            t.cancel();
            assert!(t.await.unwrap_err().is_cancelled());
            assert_eq!(d.load(Ordering::SeqCst), 1);
            Ok::<_, Error>(())
        })
        .unwrap()
    });
    lp.close().unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

/// A sleep armed on loop A and dropped while loop B runs on the thread leaves B's
/// timers alone (B's first timer has the slab slot A's had; timer ids differ in a
/// number unique in the process); A's timer goes then (a cancellable handle) or when
/// A closes (a key in A's queue).
fn a_sleep_dropped_on_another_loop_leaves_that_loops_timers(new_loop: Factory) {
    let (a, b) = (new_loop().unwrap(), new_loop().unwrap());
    let held = Arc::new(Held);
    let h = held.clone();
    let from_a = a
        .run_until_complete(async move {
            let mut sleep = Box::pin(tulip::sleep(HOUR));
            poll_with(&mut sleep, &h);
            Ok::<_, Error>(sleep)
        })
        .unwrap();
    b.run_until_complete(async move {
        let mine = Arc::new(Held);
        let mut sleep = Box::pin(tulip::sleep(HOUR));
        poll_with(&mut sleep, &mine);
        let before = Arc::strong_count(&mine);
        drop(from_a);
        assert_eq!(
            Arc::strong_count(&mine),
            before,
            "dropping A's sleep disarmed B's timer"
        );
        drop(sleep);
        assert_eq!(Arc::strong_count(&mine), 1);
        Ok::<_, Error>(())
    })
    .unwrap();
    a.close().unwrap();
    assert_eq!(Arc::strong_count(&held), 1, "A's timer outlived A");
    b.close().unwrap();
}

per_executor!(
    a_sleep_dropped_on_another_loop_leaves_that_loops_timers,
    cancelled_handles_drop_their_callbacks_at_once,
    a_dropped_sleep_lets_go_of_its_waker,
    a_sleep_polled_by_another_waker_lets_go_of_the_first,
    a_cancelled_sleeper_ends_at_once,
);
