//! A loop's live tasks — what `all_tasks()`, the task dump and `close()` read — held
//! by pointer: the registry keeps no count on a task.
//!
//! Why a pointer is enough: a task enters at its launch and leaves in `finish`, which
//! runs inside its last poll or while its future is dropped, both while async-task
//! holds a count on the task's cell (the `Runnable`'s). So while an entry is in the
//! slab — read under the slab's lock — the header it points to is alive (the header
//! also holds a count on its own cell from launch to finish, `HeaderRef::launch`). A
//! reference handed out is a new count made through the header's key.

// Dereferences the entries' header pointers (see above).
#![allow(unsafe_code)]

use std::sync::atomic::Ordering;
use std::sync::Mutex;

use slab::Slab;

use crate::header::{Header, HeaderPtr, HeaderRef, TaskRef};

/// The live tasks of one loop.
#[derive(Default)]
pub(crate) struct TaskRegistry {
    tasks: Mutex<Slab<HeaderPtr>>,
}

impl TaskRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slab<HeaderPtr>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a task at its launch (the caller holds a count on it).
    ///
    /// Keys are 32 bits in the header: a loop past 2^32 - 1 live tasks at once (some
    /// terabytes of them) would stop listing the newest, not fail.
    pub(crate) fn insert(&self, header: &Header) {
        let mut tasks = self.lock();
        let entry = tasks.vacant_entry();
        if let Ok(key) = u32::try_from(entry.key()) {
            if key != u32::MAX {
                entry.insert(HeaderPtr::new(header));
                header.slot.store(key, Ordering::Release);
            }
        }
    }

    /// Takes a finishing task out; false if it was not in.
    pub(crate) fn remove(&self, header: &Header) -> bool {
        let key = header.slot.swap(u32::MAX, Ordering::AcqRel);
        key != u32::MAX && self.lock().try_remove(key as usize).is_some()
    }

    /// How many tasks are in and not done.
    pub(crate) fn count_pending(&self) -> usize {
        let tasks = self.lock();
        tasks
            .iter()
            // SAFETY: an entry's header is alive while it is in and the lock is held
            // (module docs).
            .filter(|(_, h)| !unsafe { h.get() }.is_done())
            .count()
    }

    /// References to the tasks that are in and not done, in no order.
    pub(crate) fn pending(&self) -> Vec<TaskRef> {
        let tasks = self.lock();
        let mut v = Vec::with_capacity(tasks.len());
        for (_, &ptr) in tasks.iter() {
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

/// The registry's pointers across a task's life, without an executor, so that Miri
/// can check them (`cargo +nightly miri test -p tulip-core --lib task_registry`).
#[cfg(test)]
mod tests {
    use std::panic::Location;

    use super::TaskRegistry;
    use crate::header::{Header, HeaderPtr, HeaderRef};

    #[test]
    fn a_registered_task_is_listed_until_it_leaves_and_outlives_the_listing() {
        let reg = TaskRegistry::default();
        let (runnable, task) = async_task::Builder::new()
            .metadata(Header::new(1, Location::caller()))
            .spawn(|_: &Header| async { 9u8 }, drop);
        // What `spawn::launch` does: the key and the own count, then the registry.
        // SAFETY: once, before the runnable is scheduled.
        let me = unsafe { HeaderRef::launch(&runnable) };
        reg.insert(&me);
        drop(me);
        let listed = reg.pending();
        assert_eq!(listed.len(), 1);
        assert_eq!(reg.count_pending(), 1);
        // What `finish` does, inside the task's last step: leave, give up the
        // header's own count.
        assert!(!runnable.run(), "not woken while it ran");
        let header = task.metadata();
        assert!(reg.remove(header));
        assert!(!reg.remove(header));
        // SAFETY: the count `launch` gave the header, given up once.
        drop(unsafe { HeaderRef::adopt(HeaderPtr::new(header)) });
        assert!(reg.pending().is_empty());
        assert_eq!(futures::executor::block_on(task), 9);
        // The listed reference is the last count: the header is still readable.
        assert_eq!(listed[0].loop_id(), 1);
    }
}
