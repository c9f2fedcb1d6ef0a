//! The loop's timers: deadline buckets ([`DeadlineBuckets`], tulip-reactor's, the
//! same order as the local loop's timers) the driver fires from, which idle workers
//! help empty (a binary heap until 2026-12-03).
//!
//! Firing a timer whose callback runs user code is the driver's job (the callback runs
//! on the lane, in asyncio's order), but finding the due timers is not: a worker with
//! nothing to run (and a busy one, every 61st step) moves due timers, in firing
//! order, from the buckets to a `ready` list
//! ([`Timers::take_due`]). At the start of its iteration the driver merges `ready` with
//! whatever else is due in the buckets ([`Timers::expire`]), so the driver fires exactly
//! the timers, in exactly the order, it would have found on its own: deadline first,
//! ties in insertion (`seq`) order. A cancelled timer is skipped by the driver, as
//! before.
//!
//! The exception is the commonest timer, a `sleep`'s, which only wakes its task
//! ([`Callback::only_wakes`]): the worker that takes it out fires it itself, as long as
//! no callback due before it is still waiting for the driver (`ready` is empty, and none
//! came before it in the batch). Its task then runs on the workers while the driver is
//! busy, say polling a main future that spawns a hundred thousand sleepers; before, every
//! such wake waited for the driver's next iteration.
//!
//! `next_due` mirrors the buckets' earliest deadline (in ticks), so a worker tells
//! "nothing due" from one atomic load and a clock read, without the lock.

use std::time::{Duration, Instant};

use slab::Slab;
use tulip_core::Callback;
use tulip_reactor::{DeadlineBuckets, TimerId};

use crate::sync::{AtomicU64, Ordering};

/// How many timers a worker moves per [`Timers::take_due`]: bounds how long it holds
/// the lock that `call_at` and the driver need.
pub(crate) const TAKE_BATCH: usize = 128;

struct Entry {
    ticks: u64,
    seq: u64,
    cb: Callback,
}

impl Entry {
    fn key(&self) -> (u64, u64) {
        (self.ticks, self.seq)
    }
}

/// The unit the timers count in: nanoseconds since the loop was built (deadlines
/// before that count as 0, due at once anyway, ties in insertion order).
#[derive(Clone, Copy)]
pub(crate) struct Clock {
    epoch: Instant,
}

impl Clock {
    /// Counting from `epoch` (the loop's: where a virtual clock starts).
    pub(crate) fn with_epoch(epoch: Instant) -> Clock {
        Clock { epoch }
    }

    pub(crate) fn ticks(&self, when: Instant) -> u64 {
        when.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    fn instant(&self, ticks: u64) -> Instant {
        self.epoch + Duration::from_nanos(ticks)
    }
}

/// Whether the bucket entry `(seq, key)` still has its payload: one removed by
/// [`Timers::cancel`] is skipped when it surfaces (a callback with a handle that was
/// cancelled is live here, and skipped when it runs, by its handle's flag).
fn is_live(live: &Slab<(u64, Callback)>, seq: u64, key: usize) -> bool {
    live.get(key).is_some_and(|(s, _)| *s == seq)
}

/// The buckets, the payloads they point at, and the due timers workers already took
/// out of them (under one lock).
pub(crate) struct Timers {
    /// `(ticks, seq, slab key)`.
    buckets: DeadlineBuckets<usize>,
    /// The payloads by slab key, with their `seq`: a sleep's timer is removed from
    /// here by key ([`cancel`](Timers::cancel)), dropping its waker at once.
    live: Slab<(u64, Callback)>,
    /// Due timers taken out of the buckets by workers, in firing order.
    ready: Vec<Entry>,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            buckets: DeadlineBuckets::new(),
            live: Slab::new(),
            ready: Vec::new(),
        }
    }

    /// Timers not yet handed to the driver.
    pub(crate) fn len(&self) -> usize {
        self.live.len() + self.ready.len()
    }

    fn publish(&mut self, next_due: &AtomicU64) {
        let live = &self.live;
        let t = self
            .buckets
            .front(|seq, &key| !is_live(live, seq, key))
            .map_or(u64::MAX, |e| e.0);
        next_due.store(t, Ordering::Relaxed);
    }

    /// Adds `cb` due at `ticks`; returns the id [`cancel`](Self::cancel) takes.
    pub(crate) fn insert(&mut self, ticks: u64, cb: Callback, next_due: &AtomicU64) -> TimerId {
        let seq = TimerId::fresh_seq();
        let key = self.live.insert((seq, cb));
        self.buckets.push(ticks, seq, key);
        if ticks < next_due.load(Ordering::Relaxed) {
            next_due.store(ticks, Ordering::Relaxed);
        }
        TimerId::new(seq, key)
    }

    /// Removes the timer `id` if it is still in the buckets, and returns its payload
    /// (for the caller to drop once the lock is let go of). A timer a worker already
    /// took out fires as it would have. `next_due` may stay earlier than the new
    /// front: whoever looks then finds nothing due and publishes the right one.
    pub(crate) fn cancel(&mut self, id: TimerId) -> Option<Callback> {
        if !is_live(&self.live, id.seq(), id.key()) {
            return None;
        }
        let (_, cb) = self.live.remove(id.key());
        if self.live.is_empty() {
            self.buckets.clear();
        }
        Some(cb)
    }

    /// The earliest deadline: `now`-or-earlier (zero wait) when workers already took
    /// due timers out.
    pub(crate) fn next_deadline(&mut self, clock: &Clock) -> Option<Instant> {
        if let Some(e) = self.ready.first() {
            return Some(clock.instant(e.ticks));
        }
        let live = &self.live;
        self.buckets
            .front(|seq, &key| !is_live(live, seq, key))
            .map(|e| clock.instant(e.0))
    }

    /// A worker's help: takes up to [`TAKE_BATCH`] timers due at `now` out of the buckets.
    /// Those that only wake a task, with no callback due before them still waiting,
    /// go to `fire`, for the worker to run once it dropped the lock; the rest go to
    /// `ready`, for the driver. Returns how many it took.
    pub(crate) fn take_due(
        &mut self,
        now: u64,
        next_due: &AtomicU64,
        fire: &mut Vec<Callback>,
    ) -> usize {
        let mut n = 0;
        while n < TAKE_BATCH {
            let live = &self.live;
            let Some((ticks, seq, key)) = self
                .buckets
                .pop_due(now, |seq, &key| !is_live(live, seq, key))
            else {
                break;
            };
            let (_, cb) = self.live.remove(key);
            if self.ready.is_empty() && cb.only_wakes() {
                fire.push(cb);
            } else {
                self.ready.push(Entry { ticks, seq, cb });
            }
            n += 1;
        }
        self.publish(next_due);
        n
    }

    /// The driver's expiry: every timer due at `now`, in firing order, appended to
    /// `out` (the ones workers took out merged with the ones still in the buckets).
    pub(crate) fn expire(&mut self, now: u64, out: &mut Vec<Callback>, next_due: &AtomicU64) {
        let Timers {
            buckets,
            live,
            ready,
            ..
        } = self;
        let mut taken = ready.drain(..).peekable();
        loop {
            let dead = |seq, key: &usize| !is_live(live, seq, *key);
            let bucketed = match taken.peek() {
                // Nothing taken (left): the buckets' due timers, one look-up each.
                None => buckets.pop_due(now, dead),
                Some(t) => {
                    let first = buckets.front(dead);
                    if first.is_some_and(|h| h.0 <= now && (h.0, h.1) < t.key()) {
                        buckets.pop_front(dead)
                    } else {
                        match taken.next() {
                            Some(e) => {
                                out.push(e.cb);
                                continue;
                            }
                            None => break,
                        }
                    }
                }
            };
            match bucketed {
                Some((_, _, key)) => out.push(live.remove(key).1),
                None => break,
            }
        }
        drop(taken);
        self.publish(next_due);
    }

    /// Drops every timer and its payload.
    pub(crate) fn clear(&mut self, next_due: &AtomicU64) {
        self.buckets.clear();
        self.live.clear();
        self.ready.clear();
        self.publish(next_due);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn cb(log: &Arc<Mutex<Vec<u32>>>, i: u32) -> Callback {
        let log = log.clone();
        Callback::internal(move || log.lock().unwrap().push(i))
    }

    /// Whatever workers took out beforehand, the driver fires in (deadline, insertion)
    /// order, exactly what one ordered store would give.
    #[test]
    fn taken_and_bucketed_timers_merge_in_firing_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let next_due = AtomicU64::new(u64::MAX);
        let mut t = Timers::new();
        // (ticks, id): ties at 5 and 7 keep insertion order.
        for (ticks, id) in [(7, 0), (5, 1), (9, 2), (5, 3), (7, 4), (30, 5)] {
            t.insert(ticks, cb(&log, id), &next_due);
        }
        assert_eq!(next_due.load(Ordering::Relaxed), 5);
        let mut fire = Vec::new();
        assert_eq!(t.take_due(6, &next_due, &mut fire), 2); // 1, 3
        assert_eq!(next_due.load(Ordering::Relaxed), 7);
        // Inserted after the worker's take, earlier than what it took, and a tie.
        t.insert(2, cb(&log, 6), &next_due);
        t.insert(5, cb(&log, 7), &next_due);
        let mut out = Vec::new();
        t.expire(9, &mut out, &next_due);
        for c in out {
            c.run();
        }
        assert_eq!(*log.lock().unwrap(), [6, 1, 3, 7, 0, 4, 2]);
        assert!(
            fire.is_empty(),
            "a callback running user code is the driver's"
        );
        assert_eq!(next_due.load(Ordering::Relaxed), 30);
        assert!(t.ready.is_empty());
    }

    #[test]
    fn take_due_moves_at_most_a_batch_and_nothing_early() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let next_due = AtomicU64::new(u64::MAX);
        let mut t = Timers::new();
        for i in 0..(TAKE_BATCH as u32 + 10) {
            t.insert(1, cb(&log, i), &next_due);
        }
        t.insert(100, cb(&log, 999), &next_due);
        let mut fire = Vec::new();
        assert_eq!(t.take_due(0, &next_due, &mut fire), 0);
        assert_eq!(t.take_due(1, &next_due, &mut fire), TAKE_BATCH);
        assert_eq!(t.take_due(1, &next_due, &mut fire), 10);
        assert_eq!(t.take_due(1, &next_due, &mut fire), 0);
        assert!(fire.is_empty());
        let mut out = Vec::new();
        t.expire(50, &mut out, &next_due);
        assert_eq!(out.len(), TAKE_BATCH + 10);
        for c in out {
            c.run();
        }
        let got = log.lock().unwrap().clone();
        assert_eq!(got, (0..(TAKE_BATCH as u32 + 10)).collect::<Vec<_>>());
        assert_eq!(next_due.load(Ordering::Relaxed), 100);
    }

    /// A cancelled timer gives its payload back at once, is neither fired nor the
    /// next deadline, and leaves the order of the others as it was; one a worker
    /// already took out cannot be cancelled any more.
    #[test]
    fn cancelled_timers_are_gone_at_once() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let next_due = AtomicU64::new(u64::MAX);
        let clock = Clock::with_epoch(Instant::now());
        let mut t = Timers::new();
        let first = t.insert(5, cb(&log, 0), &next_due);
        let _second = t.insert(7, cb(&log, 1), &next_due);
        let third = t.insert(7, cb(&log, 2), &next_due);
        let _fourth = t.insert(9, cb(&log, 3), &next_due);
        assert_eq!(t.len(), 4);
        assert!(t.cancel(first).is_some());
        assert!(t.cancel(first).is_none(), "cancelled twice");
        assert_eq!(t.len(), 3);
        // A new timer reuses the slab slot of the cancelled one: the old id stays dead.
        let reused = t.insert(8, cb(&log, 4), &next_due);
        assert_eq!(reused.key(), first.key());
        assert!(t.cancel(first).is_none());
        assert_eq!(t.len(), 4);
        assert_eq!(t.next_deadline(&clock), Some(clock.instant(7)));
        let mut fire = Vec::new();
        assert_eq!(t.take_due(7, &next_due, &mut fire), 2); // 1 and 2
        assert!(t.cancel(third).is_none(), "taken out already: it fires");
        let mut out = Vec::new();
        t.expire(9, &mut out, &next_due);
        for c in out {
            c.run();
        }
        assert_eq!(*log.lock().unwrap(), [1, 2, 4, 3]);
        assert_eq!(t.len(), 0);
        assert_eq!(next_due.load(Ordering::Relaxed), u64::MAX);
    }

    /// Wakes `log` with its id: a sleep's timer, as far as the timers can tell.
    struct LogWake(Arc<Mutex<Vec<u32>>>, u32);
    impl std::task::Wake for LogWake {
        fn wake(self: Arc<Self>) {
            self.0.lock().unwrap().push(self.1);
        }
    }

    fn wake(log: &Arc<Mutex<Vec<u32>>>, i: u32) -> Callback {
        Callback::wake_only(std::task::Waker::from(Arc::new(LogWake(log.clone(), i))))
    }

    /// A worker fires the wake-only timers at the front of what is due itself; from the
    /// first callback that runs user code on, everything waits for the driver, so no
    /// wake overtakes a callback due before it.
    #[test]
    fn worker_fires_leading_wakes_and_leaves_the_rest_in_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let next_due = AtomicU64::new(u64::MAX);
        let mut t = Timers::new();
        t.insert(1, wake(&log, 0), &next_due);
        t.insert(2, wake(&log, 1), &next_due);
        t.insert(3, cb(&log, 2), &next_due);
        t.insert(4, wake(&log, 3), &next_due);
        t.insert(9, wake(&log, 4), &next_due);
        let mut fire = Vec::new();
        assert_eq!(t.take_due(5, &next_due, &mut fire), 4);
        assert_eq!(fire.len(), 2);
        for c in fire.drain(..) {
            c.run();
        }
        assert_eq!(*log.lock().unwrap(), [0, 1]);
        // A wake due later, taken while the callback still waits: the driver's too.
        assert_eq!(t.take_due(9, &next_due, &mut fire), 1);
        assert!(fire.is_empty());
        let mut out = Vec::new();
        t.expire(9, &mut out, &next_due);
        for c in out {
            c.run();
        }
        assert_eq!(*log.lock().unwrap(), [0, 1, 2, 3, 4]);
        // Once the driver emptied `ready`, workers fire wakes again.
        t.insert(10, wake(&log, 5), &next_due);
        assert_eq!(t.take_due(10, &next_due, &mut fire), 1);
        assert_eq!(fire.len(), 1);
    }
}
