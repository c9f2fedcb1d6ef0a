//! Deadline buckets: the ordered store under the loops' timers.
//!
//! Entries are kept in buckets of about a millisecond (2^20 ns) of deadline, in a
//! `BTreeMap` by bucket. A bucket is a plain queue, appended to, and sorted only when
//! it reaches the front (sorting is skipped while inserts arrive in order). Why not a
//! binary heap: under a burst of 100,000 timers the heap is megabytes, and each pop
//! walks it root to leaf with a cache miss per level (about 600 ns a timer inside a
//! busy loop); a bucket is swept front to back. A 4-ary heap was tried first and was
//! slower than `std`'s (`timers::queue_100k` in `crates/tulip-bench/benches/core.rs`).
//!
//! An insert that lands out of order in a sorted bucket makes the bucket sort again
//! when it is next at the front: at most once per look at the front, over about a
//! millisecond of deadlines. The sort is `std`'s stable one, which finds the sorted
//! run and merges the newcomers into it (about 12 µs for 2,000 timers), and was also
//! faster than the unstable one on the burst (14.0 against 15.5 ms).

use std::collections::{BTreeMap, VecDeque};

/// Deadlines that share `ticks >> BUCKET_SHIFT` share a bucket (~1.05 ms).
const BUCKET_SHIFT: u32 = 20;

/// One bucket: its entries `(ticks, seq, value)`, sorted by `(ticks, seq)` when
/// `sorted` says so.
#[derive(Debug)]
struct Bucket<T> {
    entries: VecDeque<(u64, u64, T)>,
    sorted: bool,
}

impl<T> Bucket<T> {
    /// Sorts the bucket if an insert broke its order, then drops the entries at its
    /// front that `dead` calls dead; returns how many it dropped.
    fn settle(&mut self, dead: &mut impl FnMut(u64, &T) -> bool) -> usize {
        if !self.sorted {
            self.entries.make_contiguous().sort_by_key(|e| (e.0, e.1));
            self.sorted = true;
        }
        let before = self.entries.len();
        while self.entries.front().is_some_and(|e| dead(e.1, &e.2)) {
            self.entries.pop_front();
        }
        before - self.entries.len()
    }
}

/// Values ordered by `(ticks, seq)`: earliest deadline first, `seq` (unique, rising
/// with insertion) breaking ties.
///
/// # Examples
/// ```
/// let mut b = tulip::reactor::DeadlineBuckets::new();
/// b.push(5_000_000, 0, "later");
/// b.push(1_000, 1, "sooner");
/// b.push(1_000, 2, "tie, inserted after");
/// let order: Vec<_> = std::iter::from_fn(|| b.pop_front(|_, _| false).map(|e| e.2)).collect();
/// assert_eq!(order, ["sooner", "tie, inserted after", "later"]);
/// ```
#[derive(Debug)]
pub struct DeadlineBuckets<T> {
    buckets: BTreeMap<u64, Bucket<T>>,
    len: usize,
}

impl<T> Default for DeadlineBuckets<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> DeadlineBuckets<T> {
    /// No entries.
    pub const fn new() -> Self {
        DeadlineBuckets {
            buckets: BTreeMap::new(),
            len: 0,
        }
    }

    /// Adds `value` due at `ticks`; `seq` must be unique and rise with each push, so
    /// that ties come out in insertion order.
    pub fn push(&mut self, ticks: u64, seq: u64, value: T) {
        let bucket = self.buckets.entry(ticks >> BUCKET_SHIFT).or_insert(Bucket {
            entries: VecDeque::new(),
            sorted: true,
        });
        // Still sorted if it goes after the last one: a burst of equal delays, or
        // deadlines that grow, never needs a sort.
        let in_order = bucket
            .entries
            .back()
            .is_none_or(|last| (last.0, last.1) <= (ticks, seq));
        bucket.sorted = (bucket.sorted || bucket.entries.is_empty()) && in_order;
        bucket.entries.push_back((ticks, seq, value));
        self.len += 1;
    }

    /// The earliest entry, once the entries before it that `dead(seq, value)` calls
    /// dead are dropped.
    pub fn front(&mut self, mut dead: impl FnMut(u64, &T) -> bool) -> Option<&(u64, u64, T)> {
        loop {
            let mut first = self.buckets.first_entry()?;
            self.len -= first.get_mut().settle(&mut dead);
            if first.get().entries.is_empty() {
                first.remove();
                continue;
            }
            // Borrowed again through `self` so that the reference outlives the map
            // entry handle.
            let key = *first.key();
            return self.buckets.get(&key).and_then(|b| b.entries.front());
        }
    }

    /// Removes and returns the earliest entry not `dead` (see [`front`](Self::front)).
    pub fn pop_front(&mut self, dead: impl FnMut(u64, &T) -> bool) -> Option<(u64, u64, T)> {
        self.pop_due(u64::MAX, dead)
    }

    /// Removes and returns the earliest entry not `dead`, if it is due at `now` (its
    /// ticks are at most `now`). One look-up of the front bucket per call, and none of
    /// a bucket that starts after `now`.
    pub fn pop_due(
        &mut self,
        now: u64,
        mut dead: impl FnMut(u64, &T) -> bool,
    ) -> Option<(u64, u64, T)> {
        loop {
            let mut first = self.buckets.first_entry()?;
            if *first.key() > now >> BUCKET_SHIFT {
                return None;
            }
            self.len -= first.get_mut().settle(&mut dead);
            let bucket = first.get_mut();
            match bucket.entries.front() {
                None => {
                    first.remove();
                }
                Some(e) if e.0 > now => return None,
                Some(_) => {
                    let entry = bucket.entries.pop_front();
                    self.len -= 1;
                    if bucket.entries.is_empty() {
                        first.remove();
                    }
                    return entry;
                }
            }
        }
    }

    /// Entries stored, dead ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.buckets.clear();
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::DeadlineBuckets;

    /// Entries across buckets and within one come out by `(ticks, seq)`; dead ones
    /// are dropped as they surface and leave the count; a push behind the front of a
    /// bucket already sorted is still found first.
    #[test]
    fn order_dead_entries_and_late_pushes() {
        let ms = 1 << 20;
        let mut b = DeadlineBuckets::new();
        for (seq, ticks) in [3 * ms, 5, ms + 1, 5, 2 * ms, 4, 7].into_iter().enumerate() {
            b.push(ticks, seq as u64, seq);
        }
        assert_eq!(b.len(), 7);
        // Seq 1 is dead: skipped and dropped.
        let dead = |seq: u64, _: &usize| seq == 1;
        assert_eq!(b.front(dead).map(|e| e.2), Some(5)); // ticks 4
        assert_eq!(b.pop_front(dead).map(|e| e.2), Some(5));
        assert_eq!(b.pop_front(dead).map(|e| e.2), Some(3)); // ticks 5, seq 3
        assert_eq!(b.len(), 4, "the dead entry and two popped are gone");
        // Into the front bucket, sorted by now, ahead of what is left there (ticks 7).
        b.push(0, 7, 7);
        let rest: Vec<usize> = std::iter::from_fn(|| b.pop_front(dead).map(|e| e.2)).collect();
        assert_eq!(rest, [7, 6, 2, 4, 0]);
        assert!(b.is_empty());
    }

    /// Against a model (a sorted set): random pushes near, behind and far from the
    /// front, pops at a rising `now`, entries marked dead on the way. Every pop and
    /// every front must be the model's earliest live entry.
    #[test]
    fn agrees_with_a_sorted_set() {
        use std::collections::{BTreeSet, HashSet};
        let ms: u64 = 1 << 20;
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rand = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut b = DeadlineBuckets::new();
        let mut model: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut dead: HashSet<u64> = HashSet::new();
        let (mut now, mut seq) = (0u64, 0u64);
        for step in 0..10_000 {
            match rand(10) {
                // Mostly near deadlines; some behind `now`, some seconds away.
                0..=4 => {
                    let ticks = match rand(4) {
                        0 => now.saturating_sub(rand(3 * ms)),
                        1 => now + 2_000 * ms + rand(1_000 * ms),
                        _ => now + rand(60 * ms),
                    };
                    b.push(ticks, seq, seq);
                    model.insert((ticks, seq));
                    seq += 1;
                }
                5 if seq > 0 => {
                    dead.insert(rand(seq));
                }
                6 => {
                    let is_dead = |s: u64, _: &u64| dead.contains(&s);
                    let want = model.iter().find(|e| !dead.contains(&e.1)).copied();
                    let got = b.front(is_dead).map(|e| (e.0, e.1));
                    assert_eq!(got, want);
                }
                _ => {
                    now += rand(4 * ms);
                    let is_dead = |s: u64, _: &u64| dead.contains(&s);
                    loop {
                        let want = model
                            .iter()
                            .find(|e| !dead.contains(&e.1))
                            .copied()
                            .filter(|e| e.0 <= now);
                        let got = b.pop_due(now, is_dead).map(|e| (e.0, e.1));
                        assert_eq!(got, want);
                        match want {
                            Some(e) => model.remove(&e),
                            None => break,
                        };
                    }
                }
            }
            if step % 64 == 0 {
                let live = model.iter().filter(|e| !dead.contains(&e.1)).count();
                assert!(b.len() >= live && b.len() <= model.len());
            }
        }
    }
}
