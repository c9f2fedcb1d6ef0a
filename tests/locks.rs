//! Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier: FIFO fairness, limits,
//! and cancelled waiters that never strand a lock, a permit or a notification.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{Factory, Log};
use tulip::{
    create_task, gather, sleep, yield_now, Barrier, BoundedSemaphore, Condition, Error, Event,
    Lock, Semaphore, SyncError,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Yields until `cond` holds (e.g. the waiters are queued), on any executor; the
/// bound turns a hang into a failure.
async fn until(cond: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "condition never held"
        );
        yield_now().await.unwrap();
    }
}

fn lock_is_fifo(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let lock = Lock::new();
        let held = lock.acquire().await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (lk, l) = (lock.clone(), l.clone());
            tasks.push(create_task(async move {
                let _g = lk.acquire().await?;
                l.push(format!("{i}"));
                sleep(ms(1)).await
            })?);
            until(|| lock.waiters() == i + 1).await; // queue them in this order
        }
        assert!(lock.try_acquire().is_none());
        drop(held);
        for t in tasks {
            t.await?;
        }
        assert!(!lock.locked());
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(log.take(), ["0", "1", "2", "3", "4"]);
}

/// The lock is handed to waiter A, and A is cancelled before it runs: A returns
/// `Cancelled` and the lock passes on to B.
fn cancelled_lock_waiter_does_not_strand_the_lock(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let lock = Lock::new();
        let held = lock.acquire().await.unwrap();
        let la = lock.clone();
        let a = create_task(async move { la.acquire().await.map(drop) }).unwrap();
        until(|| lock.waiters() == 1).await;
        let lb = lock.clone();
        let b = create_task(async move {
            let _g = lb.acquire().await?;
            Ok::<_, Error>("b got the lock")
        })
        .unwrap();
        until(|| lock.waiters() == 2).await;
        a.cancel(); // A is cancelled, and before it runs (on one thread)...
        drop(held); // ...the lock is handed to it
        assert!(matches!(a.await, Err(Error::Cancelled(_))));
        let got = tulip::wait_for(b, Duration::from_secs(5)).await;
        assert_eq!(got.unwrap(), "b got the lock");
        assert!(!lock.locked());

        // A waiter cancelled while still queued just leaves the queue.
        let held = lock.acquire().await.unwrap();
        let la = lock.clone();
        let a = create_task(async move { la.acquire().await.map(drop) }).unwrap();
        until(|| lock.waiters() == 1).await;
        a.cancel();
        assert!(a.await.is_err());
        drop(held);
        assert!(!lock.locked());
        assert!(lock.try_acquire().is_some());
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
}

/// `Semaphore(3)` over 1,000 tasks never admits a fourth.
fn semaphore_never_admits_more_than_its_value(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (i2, p2) = (inside.clone(), peak.clone());
    let done = lp
        .run_until_complete(async move {
            let sem = Semaphore::new(3);
            let jobs = (0..1000).map(|_| {
                let (sem, inside, peak) = (sem.clone(), i2.clone(), p2.clone());
                async move {
                    let _permit = sem.acquire().await?;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    yield_now().await?;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, Error>(())
                }
            });
            let n = gather(jobs).await?.len();
            assert_eq!(sem.available(), 3);
            Ok::<_, Error>(n)
        })
        .unwrap();
    assert_eq!(done, 1000);
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

/// A permit handed to a waiter that is then cancelled goes to the next waiter.
fn cancelled_semaphore_waiter_passes_the_permit(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let sem = Semaphore::new(1);
        let p = sem.acquire().await.unwrap();
        let s = sem.clone();
        let a = create_task(async move { s.acquire().await.map(|p| p.forget()) }).unwrap();
        until(|| sem.waiters() == 1).await;
        let s = sem.clone();
        let b = create_task(async move { s.acquire().await.map(drop) }).unwrap();
        until(|| sem.waiters() == 2).await;
        a.cancel();
        drop(p);
        assert!(a.await.is_err());
        b.await.unwrap();
        assert_eq!(sem.available(), 1);
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
}

fn bounded_semaphore_over_release_is_an_error(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let sem = BoundedSemaphore::new(2);
        let p = sem.acquire().await.unwrap();
        p.forget();
        assert!(sem.release().is_ok());
        assert!(matches!(sem.release(), Err(SyncError::ValueError(_))));
        assert_eq!(sem.available(), 2);
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
}

fn event_wakes_every_waiter(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let ev = Event::new();
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let ev = ev.clone();
                create_task(async move { ev.wait().await.map(|_| i) }).unwrap()
            })
            .collect();
        until(|| ev.waiters() == 3).await;
        assert!(waiters.iter().all(|t| !t.done()));
        ev.set();
        ev.clear(); // waiters already released still return
        for (i, t) in waiters.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), i);
        }
        ev.set();
        ev.wait().await.unwrap(); // set: returns at once
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
}

fn condition_notify_and_wait_for(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let cond = Condition::new();
        let items = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..3 {
            let (c, l, items) = (cond.clone(), l.clone(), items.clone());
            tasks.push(create_task(async move {
                let mut g = c.acquire().await?;
                c.wait_for(&mut g, || items.load(Ordering::SeqCst) > 0)
                    .await?;
                items.fetch_sub(1, Ordering::SeqCst);
                l.push(format!("consumer {i}"));
                Ok::<_, SyncError>(())
            })?);
            until(|| cond.waiters() == i + 1).await;
        }
        for _ in 0..3 {
            let _g = cond.acquire().await?;
            items.fetch_add(1, Ordering::SeqCst);
            assert_eq!(cond.notify(1).unwrap(), 1);
            drop(_g);
            until(|| items.load(Ordering::SeqCst) == 0).await;
        }
        for t in tasks {
            t.await?;
        }
        let held = cond.lock().try_acquire().unwrap();
        assert_eq!(cond.notify_all().unwrap(), 0);
        drop(held);
        Ok::<_, SyncError>(())
    })
    .unwrap();
    assert_eq!(log.take(), ["consumer 0", "consumer 1", "consumer 2"]);
}

/// A cancelled `wait` re-takes the lock before returning `Cancelled`, and a
/// notification it had received passes to the next waiter.
fn condition_cancelled_waiter(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let cond = Condition::new();
        let c = cond.clone();
        let a = create_task(async move {
            let mut g = c.acquire().await?;
            let r = c.wait(&mut g).await;
            let relocked = c.locked();
            drop(g);
            Ok::<_, SyncError>((r.map_err(|e| e.is_cancelled()), relocked))
        })
        .unwrap();
        until(|| cond.waiters() == 1).await;
        let c = cond.clone();
        let b = create_task(async move {
            let mut g = c.acquire().await?;
            c.wait(&mut g).await
        })
        .unwrap();
        until(|| cond.waiters() == 2).await;
        a.cancel(); // A is cancelled and, before it runs (on one thread)...
        let held = cond.lock().try_acquire().unwrap(); // (notify needs the lock)
        assert_eq!(cond.notify(1).unwrap(), 1); // ...notified
        drop(held);
        let (r, relocked) = a.await.unwrap();
        assert_eq!(r, Err(true));
        assert!(relocked, "the lock was held again when wait returned");
        tulip::wait_for(b, Duration::from_secs(5))
            .await
            .expect("B got the notification");
        // A guard of another lock is refused.
        let other = Lock::new();
        let mut g = other.acquire().await.unwrap();
        assert!(matches!(
            cond.wait(&mut g).await,
            Err(SyncError::RuntimeError(_))
        ));
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
}

/// asyncio_ref/condition_wait_cancelled_first.py: `wait` called with a cancel
/// already requested lets the lock go (a queued task takes it), then takes it again,
/// behind that task, before it returns `Cancelled`. It once kept the lock and then
/// waited for it, forever (the threaded executor's cancellation storm found it: a
/// `cancel()` from another thread landing between `acquire` and `wait`).
fn condition_wait_with_a_cancel_already_requested(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let cond = Condition::new();
        let c = cond.clone();
        let waiter = create_task(async move {
            let mut g = c.acquire().await?;
            let (c2, l2) = (c.clone(), l.clone());
            let other = create_task(async move {
                let _g = c2.acquire().await?;
                l2.push("other has the lock");
                Ok::<_, SyncError>(())
            })?;
            until(|| c.lock().waiters() == 1).await; // other queues on the lock
            tulip::current_task().unwrap().cancel();
            match c.wait(&mut g).await {
                Err(e) if e.is_cancelled() => {
                    l.push(format!("wait raised Cancelled, locked={}", c.locked()))
                }
                Err(e) => panic!("wait: {e}"),
                Ok(()) => l.push("wait returned"),
            }
            tulip::current_task().unwrap().uncancel();
            drop(g);
            other.await?;
            l.push(format!("end, locked={}", c.locked()));
            Ok::<_, SyncError>(())
        })?;
        waiter.await?;
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
    assert_eq!(
        log.take(),
        [
            "other has the lock",
            "wait raised Cancelled, locked=true",
            "end, locked=false"
        ]
    );
}

fn barrier_passes_aborts_and_resets(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let b = Barrier::new(3);
        let parties: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                create_task(async move { b.wait().await }).unwrap()
            })
            .collect();
        let mut idx = Vec::new();
        for t in parties {
            idx.push(t.await.unwrap());
        }
        idx.sort();
        assert_eq!(idx, [0, 1, 2]);

        // A cancelled waiter no longer counts as arrived.
        let b2 = b.clone();
        let gone = create_task(async move { b2.wait().await }).unwrap();
        until(|| b.n_waiting() == 1).await;
        assert_eq!(b.n_waiting(), 1);
        gone.cancel();
        assert!(gone.await.is_err());
        assert_eq!(b.n_waiting(), 0);

        let b2 = b.clone();
        let waiting = create_task(async move { b2.wait().await }).unwrap();
        until(|| b.n_waiting() == 1).await;
        b.abort();
        assert!(matches!(waiting.await, Err(SyncError::BrokenBarrier)));
        assert!(matches!(b.wait().await, Err(SyncError::BrokenBarrier)));
        b.reset();
        assert!(!b.broken());
        let b2 = Barrier::new(1);
        assert_eq!(b2.wait().await.unwrap(), 0);
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
}

/// asyncio_ref/condition_notify.py: `notify`/`notify_all` without holding the lock
/// is a `RuntimeError`; while it is held they work.
fn condition_notify_needs_the_lock(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let cond = Condition::new();
        if let Err(SyncError::RuntimeError(m)) = cond.notify(1) {
            l.push(format!("notify: RuntimeError: {m}"));
        }
        if let Err(SyncError::RuntimeError(m)) = cond.notify_all() {
            l.push(format!("notify_all: RuntimeError: {m}"));
        }
        let _g = cond.acquire().await?;
        cond.notify(1)?;
        cond.notify_all()?;
        l.push("notify while held: ok");
        Ok::<_, SyncError>(())
    })
    .unwrap();
    assert_eq!(
        log.take(),
        [
            "notify: RuntimeError: cannot notify on un-acquired lock",
            "notify_all: RuntimeError: cannot notify on un-acquired lock",
            "notify while held: ok"
        ]
    );
}

per_executor!(
    condition_notify_needs_the_lock,
    lock_is_fifo,
    cancelled_lock_waiter_does_not_strand_the_lock,
    semaphore_never_admits_more_than_its_value,
    cancelled_semaphore_waiter_passes_the_permit,
    bounded_semaphore_over_release_is_an_error,
    event_wakes_every_waiter,
    condition_notify_and_wait_for,
    condition_cancelled_waiter,
    condition_wait_with_a_cancel_already_requested,
    barrier_passes_aborts_and_resets,
);
