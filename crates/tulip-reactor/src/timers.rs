//! The timer queue: earliest deadline first, ties in insertion order, cancellable by
//! id. The order is kept by [`DeadlineBuckets`] (see `buckets.rs` for why buckets
//! and not a heap).
//!
//! Cancelling a timer removes its payload at once (so whatever it holds, a waker or a
//! callback, is dropped promptly); its bucket entry is skipped when it surfaces.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use slab::Slab;

use crate::buckets::DeadlineBuckets;

/// Where [`TimerId::fresh_seq`] counts from.
static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

/// Identifies a timer: its slab key and an insertion number no other timer in the
/// process has, so an id handed to the wrong queue (a sleep dropped while another
/// loop runs) matches nothing there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId {
    seq: u64,
    key: usize,
}

impl TimerId {
    /// An insertion number no timer in the process had before, rising with each
    /// call (so it also orders ties within one queue).
    pub fn fresh_seq() -> u64 {
        NEXT_SEQ.fetch_add(1, Ordering::Relaxed)
    }

    /// The id of the entry at slab key `key` inserted as number `seq` (from
    /// [`fresh_seq`](Self::fresh_seq)), for executors that keep their own slab beside
    /// [`DeadlineBuckets`] (a [`TimerQueue`] makes its ids itself).
    pub fn new(seq: u64, key: usize) -> TimerId {
        TimerId { seq, key }
    }

    /// The insertion number: unique in the process.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The slab key (reused once the entry is gone; `seq` tells them apart).
    pub fn key(&self) -> usize {
        self.key
    }
}

/// A queue of deadlines with payloads of type `T`.
///
/// Payloads live in a slab; the buckets hold `(deadline, seq, key)`. `seq` orders
/// ties by insertion and tells a live entry from a slab slot that was reused.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// let mut q = tulip::reactor::TimerQueue::new();
/// let now = Instant::now();
/// q.insert(now + Duration::from_millis(2), "late");
/// q.insert(now + Duration::from_millis(1), "early");
/// let due: Vec<_> = q.expire(now + Duration::from_millis(5)).collect();
/// assert_eq!(due, ["early", "late"]);
/// ```
#[derive(Debug)]
pub struct TimerQueue<T> {
    /// `(nanoseconds since epoch, seq, slab key)`: integers compare faster than
    /// `Instant`s.
    order: DeadlineBuckets<usize>,
    live: Slab<(u64, T)>,
    epoch: Instant,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> TimerQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::with_epoch(Instant::now())
    }

    /// An empty queue counting from `epoch`: deadlines at or after it come back from
    /// [`next_deadline`](Self::next_deadline) exactly (a loop passes the instant its
    /// clock starts at, so a virtual clock can jump to a deadline to the nanosecond).
    pub fn with_epoch(epoch: Instant) -> Self {
        TimerQueue {
            order: DeadlineBuckets::new(),
            live: Slab::new(),
            epoch,
        }
    }

    /// Deadlines before the epoch count as the epoch (they are due at once anyway);
    /// ~584 years of nanoseconds fit in a `u64`.
    fn ticks(&self, when: Instant) -> u64 {
        when.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    fn instant(&self, ticks: u64) -> Instant {
        self.epoch + std::time::Duration::from_nanos(ticks)
    }

    fn is_live(live: &Slab<(u64, T)>, seq: u64, key: usize) -> bool {
        live.get(key).is_some_and(|(s, _)| *s == seq)
    }

    /// Adds `payload` due at `when`; returns the id that [`cancel`](Self::cancel) takes.
    pub fn insert(&mut self, when: Instant, payload: T) -> TimerId {
        let seq = TimerId::fresh_seq();
        let key = self.live.insert((seq, payload));
        let ticks = self.ticks(when);
        self.order.push(ticks, seq, key);
        TimerId { seq, key }
    }

    /// Removes a timer that has not fired; returns its payload, or `None` if it already
    /// fired or was cancelled.
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        if !Self::is_live(&self.live, id.seq, id.key) {
            return None;
        }
        let (_, payload) = self.live.remove(id.key);
        if self.live.is_empty() {
            self.order.clear();
        }
        Some(payload)
    }

    /// The earliest deadline of a live timer.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        let live = &self.live;
        let &(when, _, _) = self
            .order
            .front(|seq, &key| !Self::is_live(live, seq, key))?;
        Some(self.instant(when))
    }

    /// Removes and yields, in deadline order, every timer due at or before `now`.
    pub fn expire(&mut self, now: Instant) -> impl Iterator<Item = T> + '_ {
        let now = self.ticks(now);
        std::iter::from_fn(move || {
            let live = &self.live;
            let (_, _, key) = self
                .order
                .pop_due(now, |seq, &key| !Self::is_live(live, seq, key))?;
            Some(self.live.remove(key).1)
        })
    }

    /// Number of live timers.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// True when no timer is live.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Drops every timer and its payload.
    pub fn clear(&mut self) {
        self.order.clear();
        self.live.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ties_fire_in_insertion_order() {
        let mut q = TimerQueue::new();
        let t = Instant::now();
        for i in 0..100 {
            q.insert(t, i);
        }
        let got: Vec<_> = q.expire(t).collect();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn cancelled_timer_never_fires_and_is_not_the_next_deadline() {
        let mut q = TimerQueue::new();
        let t = Instant::now();
        let a = q.insert(t, "a");
        q.insert(t + Duration::from_secs(1), "b");
        assert_eq!(q.cancel(a), Some("a"));
        assert_eq!(q.cancel(a), None);
        assert_eq!(q.next_deadline(), Some(t + Duration::from_secs(1)));
        assert_eq!(q.expire(t).count(), 0);
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn a_stale_id_does_not_cancel_the_timer_that_reused_its_slot() {
        let mut q = TimerQueue::new();
        let t = Instant::now();
        let old = q.insert(t, "old");
        assert_eq!(q.cancel(old), Some("old"));
        let new = q.insert(t, "new");
        assert_eq!(q.cancel(old), None);
        assert_eq!(q.expire(t).collect::<Vec<_>>(), ["new"]);
        assert_eq!(q.cancel(new), None);
    }

    /// Inserts (in and out of deadline order, many in one bucket, some far), cancels
    /// and expiries at rising instants, against a model that sorts everything: the
    /// same timers come out, in the same order, and the next deadline agrees.
    #[test]
    fn matches_a_fully_sorted_model_under_mixed_operations() {
        let mut q = TimerQueue::new();
        let t = q.epoch;
        let mut model: std::collections::BTreeMap<(u64, u64), u32> = Default::default();
        let mut ids = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut now = 0u64;
        let mut seq = 0u64;
        for step in 0..20_000u32 {
            match next() % 10 {
                0..=5 => {
                    // Mostly within 5 ms of now (a few buckets), sometimes far.
                    let r = next();
                    let spread = if r % 16 == 0 { 1 << 34 } else { 5_000_000 };
                    let when = now + r % spread;
                    ids.push((q.insert(t + Duration::from_nanos(when), step), when, seq));
                    model.insert((when, seq), step);
                    seq += 1;
                }
                6 => {
                    if !ids.is_empty() {
                        let (id, when, s) = ids.swap_remove((next() % ids.len() as u64) as usize);
                        assert_eq!(q.cancel(id), model.remove(&(when, s)));
                    }
                }
                _ => {
                    now += next() % 2_000_000;
                    let got: Vec<u32> = q.expire(t + Duration::from_nanos(now)).collect();
                    let due: Vec<(u64, u64)> =
                        model.range(..(now + 1, 0)).map(|(k, _)| *k).collect();
                    let want: Vec<u32> = due.iter().map(|k| model.remove(k).unwrap()).collect();
                    assert_eq!(got, want, "at {now} ns");
                }
            }
            assert_eq!(q.len(), model.len());
            let want_next = model
                .keys()
                .next()
                .map(|(w, _)| t + Duration::from_nanos(*w));
            assert_eq!(q.next_deadline(), want_next);
        }
    }

    #[test]
    fn not_due_stays() {
        let mut q = TimerQueue::new();
        let t = Instant::now();
        q.insert(t + Duration::from_secs(5), 1);
        assert_eq!(q.expire(t).count(), 0);
        assert!(!q.is_empty());
    }
}
