//! A loop's tasks — what `all_tasks()`, the task dump and `close()` read — held by
//! header pointer, each entry with the count its header took on its own cell at
//! launch (`HeaderRef::launch`): while an entry is in the slab, the header it points
//! to is alive. A reference handed out is a new count made through the header's key.
//!
//! A task does not leave when it finishes, but when the registry next sweeps: its
//! entry stays, read as done, until then. Taking it out in `finish` cost a lock and a
//! slab write on the thread that finished the task, on lines the spawning thread had
//! just written: a quarter of the threaded loop's spawn_join (benchmarks.md). A
//! finishing task only adds one to a count striped by thread
//! ([`TaskRegistry::note_finished`]), and the registry sweeps out its finished
//! tasks, giving their counts back:
//! - when an insert finds the slab full (before it would grow), if at least a
//!   quarter of it finished since the last sweep; else it grows. So a loop keeps at
//!   most its slab's capacity of finished tasks, and the slab grows only when over
//!   three quarters of it are pending;
//! - when the loop is about to wait with nothing to run ([`TaskRegistry::sweep`]), on
//!   the same condition;
//! - at `close()`, all of them. A task that finishes once its loop is closed takes
//!   itself out at once: the entries' counts keep the loop's executor alive (a
//!   task's header, or a local task's schedule function, holds it), so none may
//!   linger past the close.
//!
//! The count decides only when a sweep is worth a walk over the slab (each entry a
//! header to read, likely out of cache); a sweep frees what is done whatever it says.

// Dereferences the entries' header pointers (see above).
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use slab::Slab;

use crate::header::{Header, HeaderPtr, HeaderRef, TaskRef};

/// A sweep that would free fewer tasks than this waits (not worth a pass).
const SWEEP_MIN: usize = 64;

/// Stripes of the finished count: threads finishing tasks at once add to different
/// cache lines.
const STRIPES: usize = 8;

/// The tasks of one loop.
#[derive(Default)]
pub(crate) struct TaskRegistry {
    tasks: Mutex<Entries>,
    /// Tasks that finished on the open loop, ever, split by thread: summed, less
    /// [`Entries::swept_at`], what a sweep would find.
    finished: [Stripe; STRIPES],
}

/// One cache line's worth (two, against the adjacent-line prefetcher) of count.
#[derive(Default)]
#[repr(align(128))]
struct Stripe(AtomicUsize);

#[derive(Default)]
struct Entries {
    slab: Slab<HeaderPtr>,
    /// The finished count when the last sweep began.
    swept_at: usize,
}

thread_local! {
    /// This thread's stripe of every registry's finished count.
    static STRIPE: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES
    };
}

impl TaskRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a task at its launch, with the count its header took on its own cell;
    /// sweeps first if the slab is full.
    ///
    /// Keys are 32 bits in the header: a loop past 2^32 - 1 tasks in at once (some
    /// terabytes of them) would stop listing the newest, not fail.
    pub(crate) fn insert(&self, header: &Header) {
        let mut gone = Vec::new();
        {
            let mut e = self.lock();
            if e.slab.len() == e.slab.capacity() {
                let finished = self.finished();
                if e.worth_a_sweep(finished) {
                    e.take_finished(finished, &mut gone);
                }
            }
            let entry = e.slab.vacant_entry();
            match u32::try_from(entry.key()) {
                Ok(key) if key != u32::MAX => {
                    entry.insert(HeaderPtr::new(header));
                    header.slot.store(key, Ordering::Release);
                }
                // Not listed: give its count back now (the caller holds another).
                _ => gone.push(HeaderPtr::new(header)),
            }
        }
        release(gone);
    }

    /// Takes a task out now, giving its count back; false if it was not in. For a
    /// task that finishes on a closed loop (see the module docs); the caller holds
    /// another count.
    pub(crate) fn remove(&self, header: &Header) -> bool {
        let key = header.slot.swap(u32::MAX, Ordering::AcqRel);
        let out = key != u32::MAX && self.lock().slab.try_remove(key as usize).is_some();
        if out {
            release([HeaderPtr::new(header)]);
        }
        out
    }

    /// Counts a task that finished on the open loop (it stays in until a sweep).
    #[inline]
    pub(crate) fn note_finished(&self) {
        let stripe = STRIPE.try_with(|s| *s).unwrap_or(0);
        self.finished[stripe].0.fetch_add(1, Ordering::Relaxed);
    }

    /// Tasks that finished on the open loop, ever (wrapping).
    fn finished(&self) -> usize {
        self.finished
            .iter()
            .fold(0, |sum, s| sum.wrapping_add(s.0.load(Ordering::Relaxed)))
    }

    /// Takes the finished tasks out and gives their counts back: all of them if
    /// `all`, else only if a quarter of the registry finished since the last sweep.
    pub(crate) fn sweep(&self, all: bool) {
        let mut gone = Vec::new();
        {
            let mut e = self.lock();
            let finished = self.finished();
            if !all && !e.worth_a_sweep(finished) {
                return;
            }
            e.take_finished(finished, &mut gone);
        }
        release(gone);
    }

    /// How many tasks are in and not done.
    pub(crate) fn count_pending(&self) -> usize {
        let e = self.lock();
        e.slab
            .iter()
            // SAFETY: an entry's header is alive while it is in and the lock is held
            // (module docs).
            .filter(|(_, h)| !unsafe { h.get() }.is_done())
            .count()
    }

    /// References to the tasks that are in and not done, in no order.
    pub(crate) fn pending(&self) -> Vec<TaskRef> {
        let e = self.lock();
        let mut v = Vec::new();
        for (_, &ptr) in e.slab.iter() {
            // SAFETY: an entry's header is alive while it is in and the lock is held
            // (module docs).
            let header = unsafe { ptr.get() };
            if header.is_done() {
                continue;
            }
            // SAFETY: alive (above), and its key was set at launch, before it came in.
            v.push(TaskRef::from_header(unsafe { HeaderRef::mint(header) }));
        }
        v
    }
}

impl Entries {
    /// Whether enough tasks finished since the last sweep (`finished`: the count
    /// now) to walk the slab for them.
    fn worth_a_sweep(&self, finished: usize) -> bool {
        let fresh = finished.wrapping_sub(self.swept_at);
        fresh >= SWEEP_MIN && fresh >= self.slab.len() / 4
    }

    /// Moves the finished tasks' entries into `gone` (their counts go back once the
    /// lock is released: the last one frees the task's cell); `finished` is the
    /// finished count read before the walk.
    fn take_finished(&mut self, finished: usize, gone: &mut Vec<HeaderPtr>) {
        self.swept_at = finished;
        self.slab.retain(|key, ptr| {
            // SAFETY: an entry's header is alive while it is in and the lock is held
            // (module docs).
            let header = unsafe { ptr.get() };
            // Claimed here, or by a `remove` that will not find it in any more.
            let leave = header.is_done()
                && header
                    .slot
                    .compare_exchange(key as u32, u32::MAX, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok();
            if leave {
                gone.push(*ptr);
            }
            !leave
        });
    }
}

/// Gives back the counts of entries taken out.
fn release(gone: impl IntoIterator<Item = HeaderPtr>) {
    for ptr in gone {
        // SAFETY: the entry held the count its header took at launch, and it was
        // taken out exactly once (its slot claimed under the lock), so this gives
        // that count back once.
        drop(unsafe { HeaderRef::adopt(ptr) });
    }
}

/// The registry's pointers across a task's life, without an executor, so that Miri
/// can check them (`cargo +nightly miri test -p tulip-core --lib task_registry`).
#[cfg(test)]
mod tests {
    use std::panic::Location;

    use super::{TaskRegistry, SWEEP_MIN};
    use crate::header::{Header, HeaderRef};
    use crate::outcome::Ending;

    /// A task as the tests hold it: its first step, and its handle.
    type Launched = (async_task::Runnable<Header>, async_task::Task<u8, Header>);

    /// A task made the way `spawn::launch` makes one: its key and own count, then
    /// the registry.
    fn launch(reg: &TaskRegistry) -> Launched {
        let (runnable, task) = async_task::Builder::new()
            .metadata(Header::new(1, Location::caller(), None))
            .spawn(|_: &Header| async { 9u8 }, drop);
        // SAFETY: once, before the runnable is scheduled.
        let me = unsafe { HeaderRef::launch(&runnable) };
        reg.insert(&me);
        (runnable, task)
    }

    /// What `finish` does on an open loop: marks the header done and counts it.
    fn finish(reg: &TaskRegistry, task: &async_task::Task<u8, Header>) {
        assert!(task.metadata().finish(Ending::Returned).is_none());
        reg.note_finished();
    }

    /// Launches tasks until the slab is full (at least `at_least` of them).
    fn fill(reg: &TaskRegistry, at_least: usize) -> Vec<Launched> {
        let mut tasks: Vec<_> = (0..at_least).map(|_| launch(reg)).collect();
        while !full(reg) {
            tasks.push(launch(reg));
        }
        tasks
    }

    fn full(reg: &TaskRegistry) -> bool {
        let e = reg.lock();
        e.slab.len() == e.slab.capacity()
    }

    /// Finishes the tasks still pending, and checks that a full sweep (`close()`'s)
    /// leaves the registry empty.
    fn finish_rest_and_sweep_all(reg: &TaskRegistry, rest: &[Launched]) {
        for (_, task) in rest {
            finish(reg, task);
        }
        reg.sweep(true);
        assert!(reg.lock().slab.is_empty());
    }

    #[test]
    fn a_registered_task_is_listed_until_it_leaves_and_outlives_the_listing() {
        let reg = TaskRegistry::default();
        let (runnable, task) = launch(&reg);
        let listed = reg.pending();
        assert_eq!(listed.len(), 1);
        assert_eq!(reg.count_pending(), 1);
        // A task finishing on a closed loop, inside its last step: it leaves, and
        // the registry gives its count back.
        assert!(!runnable.run(), "not woken while it ran");
        assert!(task.metadata().finish(Ending::Returned).is_none());
        let header = task.metadata();
        assert!(reg.remove(header));
        assert!(!reg.remove(header));
        assert!(reg.pending().is_empty());
        assert_eq!(futures::executor::block_on(task), 9);
        // The listed reference is the last count: the header is still readable.
        assert_eq!(listed[0].loop_id(), 1);
    }

    #[test]
    fn finished_tasks_stay_until_a_sweep_and_pending_ones_stay_after() {
        let reg = TaskRegistry::default();
        let tasks: Vec<_> = (0..3).map(|_| launch(&reg)).collect();
        for (_, task) in &tasks[..2] {
            finish(&reg, task);
        }
        assert_eq!(reg.count_pending(), 1);
        // Two finished: too few for a sweep that is not asked for all.
        reg.sweep(false);
        assert_eq!(reg.lock().slab.len(), 3);
        reg.sweep(true);
        assert_eq!(reg.lock().slab.len(), 1);
        assert_eq!(reg.pending().len(), 1);
        finish_rest_and_sweep_all(&reg, &tasks[2..]);
        // Each count went back once: the handles free the cells (Miri checks).
        drop(tasks);
    }

    #[test]
    fn an_insert_into_a_full_slab_sweeps_first() {
        let reg = TaskRegistry::default();
        let mut tasks = fill(&reg, SWEEP_MIN);
        for (_, task) in &tasks {
            finish(&reg, task);
        }
        tasks.push(launch(&reg));
        assert_eq!(reg.lock().slab.len(), 1);
        finish_rest_and_sweep_all(&reg, &tasks[tasks.len() - 1..]);
        drop(tasks);
    }

    #[test]
    fn a_full_slab_with_few_finished_grows_and_an_idle_sweep_waits_for_a_quarter() {
        let reg = TaskRegistry::default();
        let mut tasks = fill(&reg, 4 * SWEEP_MIN);
        let len = tasks.len();
        // Under a quarter finished: the insert grows the slab, sweeping nothing.
        for (_, task) in &tasks[..len / 4 - 1] {
            finish(&reg, task);
        }
        tasks.push(launch(&reg));
        assert_eq!(reg.lock().slab.len(), len + 1);
        reg.sweep(false);
        assert_eq!(
            reg.lock().slab.len(),
            len + 1,
            "under a quarter: no idle sweep"
        );
        // A quarter finished: the idle sweep frees them all, pending ones stay.
        for (_, task) in &tasks[len / 4 - 1..len / 4 + 1] {
            finish(&reg, task);
        }
        reg.sweep(false);
        assert_eq!(reg.lock().slab.len(), len + 1 - (len / 4 + 1));
        assert_eq!(reg.count_pending(), len + 1 - (len / 4 + 1));
        finish_rest_and_sweep_all(&reg, &tasks[len / 4 + 1..]);
        drop(tasks);
    }

    #[test]
    fn steady_churn_keeps_the_slab_small() {
        // A loop that never idles, spawning and finishing tasks with a few pending at
        // a time: the full-slab sweeps alone keep the slab at a bounded size.
        let reg = TaskRegistry::default();
        let rounds = if cfg!(miri) { 600 } else { 20_000 };
        let mut pending = std::collections::VecDeque::new();
        for _ in 0..rounds {
            pending.push_back(launch(&reg));
            if pending.len() > 8 {
                let (_, task) = pending.pop_front().unwrap();
                finish(&reg, &task);
            }
        }
        let capacity = reg.lock().slab.capacity();
        assert!(capacity <= 4 * SWEEP_MIN, "slab grew to {capacity} entries");
        assert_eq!(reg.count_pending(), 8);
        finish_rest_and_sweep_all(&reg, pending.make_contiguous());
    }
}
