//! The timer heap: earliest deadline first, ties in insertion order.
//!
//! Cancelling a timer removes its payload at once (so whatever it holds, a waker or a
//! callback, is dropped promptly); the heap entry is skipped lazily when it surfaces.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

/// Identifies a timer inside one [`TimerQueue`]; unique for the queue's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(u64);

/// A min-heap of deadlines with payloads of type `T`.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// let mut q = tulip_reactor::TimerQueue::new();
/// let now = Instant::now();
/// q.insert(now + Duration::from_millis(2), "late");
/// q.insert(now + Duration::from_millis(1), "early");
/// let due: Vec<_> = q.expire(now + Duration::from_millis(5)).collect();
/// assert_eq!(due, ["early", "late"]);
/// ```
#[derive(Debug)]
pub struct TimerQueue<T> {
    heap: BinaryHeap<Reverse<(Instant, TimerId)>>,
    live: HashMap<TimerId, T>,
    next_id: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> TimerQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        TimerQueue {
            heap: BinaryHeap::new(),
            live: HashMap::new(),
            next_id: 0,
        }
    }

    /// Adds `payload` due at `when`; returns the id that [`cancel`](Self::cancel) takes.
    pub fn insert(&mut self, when: Instant, payload: T) -> TimerId {
        let id = TimerId(self.next_id);
        self.next_id += 1;
        self.heap.push(Reverse((when, id)));
        self.live.insert(id, payload);
        id
    }

    /// Removes a timer that has not fired; returns its payload, or `None` if it already
    /// fired or was cancelled.
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        let payload = self.live.remove(&id);
        if self.live.is_empty() {
            self.heap.clear();
        }
        payload
    }

    /// The earliest deadline of a live timer.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((when, id))) = self.heap.peek() {
            if self.live.contains_key(id) {
                return Some(*when);
            }
            self.heap.pop();
        }
        None
    }

    /// Removes and yields, in deadline order, every timer due at or before `now`.
    pub fn expire(&mut self, now: Instant) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || loop {
            let Reverse((when, id)) = *self.heap.peek()?;
            if when > now {
                return None;
            }
            self.heap.pop();
            if let Some(payload) = self.live.remove(&id) {
                return Some(payload);
            }
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
        self.heap.clear();
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
    fn not_due_stays() {
        let mut q = TimerQueue::new();
        let t = Instant::now();
        q.insert(t + Duration::from_secs(5), 1);
        assert_eq!(q.expire(t).count(), 0);
        assert!(!q.is_empty());
    }
}
