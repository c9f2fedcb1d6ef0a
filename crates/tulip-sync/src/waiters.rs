//! The FIFO of waiters every primitive is built on.
//!
//! Design: each waiter owns a slot (a `slab` key) holding its waker and, once it is
//! chosen, its notification. `order` lists the keys still *waiting*, oldest first.
//! `notify_one` pops the oldest waiting key, stores the notification in its slot and
//! wakes it: the notification now belongs to that waiter (a lock or a permit is handed
//! over, not merely announced). The waiter collects it with `take`.
//!
//! A waiter that gives up (cancelled, or its future dropped) calls `remove`; if it had
//! already been notified, `remove` returns the notification and the primitive passes
//! it on (to the next waiter, or back to its counter). That is the whole
//! cancellation story: no wake-up, permit or item is lost.
//!
//! The primitive's own mutex guards the queue; nothing here locks.

use std::collections::VecDeque;
use std::task::Waker;

use slab::Slab;

struct Slot<N> {
    waker: Waker,
    note: Option<N>,
}

pub(crate) struct WaitQueue<N> {
    slots: Slab<Slot<N>>,
    order: VecDeque<usize>,
}

impl<N> Default for WaitQueue<N> {
    fn default() -> Self {
        WaitQueue {
            slots: Slab::new(),
            order: VecDeque::new(),
        }
    }
}

impl<N> WaitQueue<N> {
    /// Queues a new waiter at the back; returns its key.
    pub(crate) fn push(&mut self, waker: &Waker) -> usize {
        let key = self.slots.insert(Slot {
            waker: waker.clone(),
            note: None,
        });
        self.order.push_back(key);
        key
    }

    /// Collects the waiter's notification and frees its slot; `None` (and the waker
    /// refreshed) while it is still waiting.
    pub(crate) fn take(&mut self, key: usize, waker: &Waker) -> Option<N> {
        let slot = &mut self.slots[key];
        if slot.note.is_none() {
            if !slot.waker.will_wake(waker) {
                slot.waker = waker.clone();
            }
            return None;
        }
        self.slots.remove(key).note
    }

    /// The waiter gives up. Returns the notification it had already received, which
    /// the caller must pass on.
    #[must_use]
    pub(crate) fn remove(&mut self, key: usize) -> Option<N> {
        let slot = self.slots.remove(key);
        if slot.note.is_none() {
            if let Some(pos) = self.order.iter().position(|&k| k == key) {
                self.order.remove(pos);
            }
        }
        slot.note
    }

    /// Hands `note` to the oldest waiting waiter and wakes it; gives it back when
    /// nobody waits.
    pub(crate) fn notify_one(&mut self, note: N) -> Result<(), N> {
        let Some(key) = self.order.pop_front() else {
            return Err(note);
        };
        let slot = &mut self.slots[key];
        slot.note = Some(note);
        slot.waker.wake_by_ref();
        Ok(())
    }

    /// Notifies every waiting waiter with a clone of `note`; returns how many.
    pub(crate) fn notify_all(&mut self, note: N) -> usize
    where
        N: Clone,
    {
        let n = self.order.len();
        while self.notify_one(note.clone()).is_ok() {}
        n
    }

    /// True when nobody is waiting (notified waiters that have not collected their
    /// notification yet do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// How many are waiting.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_pass_on() {
        let w = Waker::noop();
        let mut q = WaitQueue::default();
        let a = q.push(w);
        let b = q.push(w);
        let c = q.push(w);
        assert_eq!(q.notify_one(1), Ok(()));
        // `a` got it; it gives up and hands the note back.
        assert_eq!(q.remove(a), Some(1));
        assert_eq!(q.remove(c), None);
        assert_eq!(q.len(), 1);
        assert_eq!(q.notify_one(2), Ok(()));
        assert_eq!(q.take(b, w), Some(2));
        assert!(q.is_empty());
        assert_eq!(q.notify_one(3), Err(3));
    }
}
