//! The part of a task every handle shares: identity, state, the cancel request, the
//! done-callbacks (awaiters included) and, once done, how it ended.
//!
//! Who touches what: `state`, `cancel_requested` and the report flags are atomics;
//! the task's key waker is written once before the header is shared; the rest
//! (`name`, the cancel message, callbacks, the ending) sits behind one mutex, touched
//! off the hot path.

// `HeaderPtr`, `HeaderRef` and the key: a header inside async-task's cell, kept alive
// by counts made through a waker of the task.
#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::fmt;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use crate::error::Cancelled;
use crate::first_rest::FirstRest;
use crate::outcome::Ending;

pub(crate) const PENDING: u8 = 0;
pub(crate) const DONE: u8 = 1;
pub(crate) const CANCELLED: u8 = 2;
pub(crate) const FAILED: u8 = 3;

/// Report flags: the task raised; its exception was retrieved; its handle is gone.
/// Whoever sets the second of `RAISED` and `DETACHED` while `RETRIEVED` is still
/// down reports "Task exception was never retrieved", so exactly one side does —
/// unless a batch of the task's done-callbacks is scheduled and has not run yet: one
/// of them may retrieve the exception (a `TaskGroup`'s does), so the check queued
/// behind each batch decides instead (asyncio reports when the task is collected,
/// after its callbacks ran). The bits above the low byte count those batches.
pub(crate) const RAISED: u32 = 1;
pub(crate) const RETRIEVED: u32 = 2;
pub(crate) const DETACHED: u32 = 4;
/// The report was made (claimed with [`Header::claim_report`]): never twice.
pub(crate) const REPORTED: u32 = 8;
/// One batch of done-callbacks in flight (the count is `report >> 8`).
pub(crate) const CALLBACK_BATCH: u32 = 1 << 8;
pub(crate) const BATCHES: u32 = !0xff;

static NEXT_TASK_ID: AtomicU64 = AtomicU64::new(1);

/// How many tasks in the process have a cancel request nobody has taken yet. Await
/// points read it first: while it is zero — nearly always — they skip the look-up of
/// the current task. A request raises the flag and the count *before* waking the
/// task, so the poll that follows the wake-up always sees it.
pub(crate) static CANCELS_PENDING: AtomicUsize = AtomicUsize::new(0);

/// A task step, ready to run. Running it polls the task once.
pub type Runnable = async_task::Runnable<Header>;

/// What queues a spawned task's steps: its loop's executor, which every
/// [`Backend`](crate::Backend) is. The header of a spawned (`Send`) task holds it, so
/// that async-task's schedule function captures nothing (see `spawn.rs`,
/// `schedule_spawned`).
pub trait Schedule: Send + Sync + 'static {
    /// Queues a task step (called by the task's waker, from any thread).
    fn schedule(&self, runnable: Runnable);
}

/// A done-callback as the header keeps it.
pub(crate) type DoneEntry = Box<dyn FnOnce(&TaskRef) + Send + 'static>;

/// What waits for a task to finish: a done-callback, or the task awaiting this one
/// through its `Task` handle (in asyncio an awaiting task's wake-up is a
/// done-callback too, so both run in the order they were registered: the list's).
pub(crate) enum Waiting {
    Call(DoneEntry),
    Wake(Waker),
}

/// Done-callbacks and the awaiter in registration order. The first is kept inline:
/// a list allocation per task showed up in spawn/join profiles.
pub(crate) type DoneList = FirstRest<Waiting>;

/// True if a done-callback (not only an awaiter) is in `list`.
pub(crate) fn has_calls(list: &DoneList) -> bool {
    list.iter().any(|w| matches!(w, Waiting::Call(..)))
}

#[derive(Default)]
pub(crate) struct HeaderInner {
    /// The name, cancel message and birth time, which most tasks never get.
    pub(crate) extra: Option<Box<Extra>>,
    /// Done-callbacks and the awaiter, in registration order.
    pub(crate) callbacks: DoneList,
}

/// What few tasks have, boxed on first use so that a task without any of it carries
/// one pointer instead of two strings, a clock reading and an ending.
#[derive(Default)]
pub(crate) struct Extra {
    /// How the task ended, set when it is done — unless it returned (`DONE` says
    /// that alone), so a task that returns never boxes its extras for it.
    pub(crate) ending: Option<Ending>,
    /// Set with `set_name` (else the name is `Task-<id>`).
    pub(crate) name: Option<String>,
    /// The message of the pending cancel request.
    pub(crate) cancel_msg: Option<String>,
    /// When it was spawned, in nanoseconds on the process clock (`introspect`); only
    /// recorded in debug mode (reading the clock per spawn is not free).
    pub(crate) born: u64,
    /// Times `cancel()` was asked and not withdrawn (asyncio's `cancelling()`): here,
    /// not in every task's header, since most tasks are never cancelled.
    pub(crate) cancelling: u32,
}

impl HeaderInner {
    /// The extras, boxed now if they were not yet.
    pub(crate) fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }
}

/// A shareable reference to a task: identity, state, how it ended, cancel,
/// done-callbacks (its methods are in `task_ref.rs`). What done-callbacks receive and
/// what [`current_task`](crate::current_task) returns.
#[derive(Clone)]
pub struct TaskRef {
    pub(crate) header: HeaderRef,
}

/// Where a task's header lives, as a pointer that may cross threads (the header is
/// `Sync`; whoever dereferences it shows that it is alive).
#[derive(Clone, Copy)]
pub(crate) struct HeaderPtr(NonNull<Header>);

// SAFETY: a `HeaderPtr` is a shared reference in all but its lifetime, and `Header`
// is `Sync` (atomics and a mutex), so sharing or sending the pointer is sound; each
// dereference states why the header is still alive.
unsafe impl Send for HeaderPtr {}
// SAFETY: as for `Send`.
unsafe impl Sync for HeaderPtr {}

impl HeaderPtr {
    pub(crate) fn new(header: &Header) -> HeaderPtr {
        HeaderPtr(NonNull::from(header))
    }

    /// The header.
    ///
    /// # Safety
    /// The allocation holding the header must be alive for `'a`.
    pub(crate) unsafe fn get<'a>(self) -> &'a Header {
        // SAFETY: the caller keeps the header's allocation alive for `'a`, and a
        // header is never moved within it (see `HeaderRef`).
        unsafe { self.0.as_ref() }
    }
}

/// A counted reference to a task's header: one pointer.
///
/// A spawned task is one allocation: async-task's cell holds the header as its
/// metadata beside the future. async-task drops the metadata only when the cell is
/// freed — when its last count is gone — and never moves it (the future is built
/// from a reference to it). The header's key is a waker of that cell held without a
/// count; a `HeaderRef` owns one count made through the key's vtable (a clone of
/// the key) and gives it back through the same vtable when dropped. The main task
/// of `run_until_complete` is not spawned: its header sits in a [`Standalone`]
/// `Arc`, whose waker is its key.
pub(crate) struct HeaderRef {
    ptr: HeaderPtr,
}

impl HeaderRef {
    /// Takes over a count on the allocation holding the header at `ptr`.
    ///
    /// # Safety
    /// The caller owns a count on that allocation made through the header's key
    /// (a clone of it, or the waker the key was copied from), and gives it up; the
    /// allocation frees the header only once every such count is gone.
    pub(crate) unsafe fn adopt(ptr: HeaderPtr) -> HeaderRef {
        HeaderRef { ptr }
    }

    /// A new counted reference to `header`.
    ///
    /// # Safety
    /// `header` must be alive for this call (a count, or a poll of its task, holds
    /// it) and its key set ([`launch`](Self::launch), or a [`Standalone`]'s).
    pub(crate) unsafe fn mint(header: &Header) -> HeaderRef {
        std::mem::forget(header.key().clone());
        // SAFETY: the clone above is a count through the key, given up here.
        unsafe { HeaderRef::adopt(HeaderPtr::new(header)) }
    }

    /// Sets up the header of the task `runnable` runs: its key, and the header's own
    /// count on its cell, which the caller hands to the loop's task registry
    /// (`TaskRegistry::insert`; the registry gives it back when it lets the task
    /// go), so that the registry's pointer stays valid and `cancel()` can wake it.
    /// Returns a reference for the task's handle.
    ///
    /// # Safety
    /// Once per task, before the runnable is scheduled or the header is shared.
    pub(crate) unsafe fn launch(runnable: &async_task::Runnable<Header>) -> HeaderRef {
        let header = runnable.metadata();
        let own = runnable.waker();
        // SAFETY: `own` is a waker of the cell that holds `header`, and nothing else
        // can see the header yet (the caller's contract).
        unsafe { header.key.set(&own) };
        std::mem::forget(own);
        // SAFETY: the runnable holds a count, and the key was just set.
        unsafe { HeaderRef::mint(header) }
    }

    /// The header of a task that is not spawned (the main task), in its own `Arc`,
    /// and that `Arc`, which keeps the waker that `cancel()` wakes it by.
    fn standalone(header: Header) -> (HeaderRef, Arc<Standalone>) {
        let arc = Arc::new(Standalone {
            header,
            waker: Mutex::new(None),
        });
        let own = Waker::from(arc.clone());
        // SAFETY: `own` is a waker over the `Arc` that holds the header, and the
        // header is not shared yet: only `arc` and `own` reach it.
        unsafe { arc.header.key.set(&own) };
        std::mem::forget(own);
        // SAFETY: `own`'s count (on the `Arc`, which frees its value only with its
        // last count) was made as the key's, and is given up here.
        let me = unsafe { HeaderRef::adopt(HeaderPtr::new(&arc.header)) };
        (me, arc)
    }

    pub(crate) fn ptr(&self) -> HeaderPtr {
        self.ptr
    }
}

impl Clone for HeaderRef {
    fn clone(&self) -> Self {
        std::mem::forget(self.key().clone());
        // SAFETY: a count through the key, made just above and given up here.
        unsafe { HeaderRef::adopt(self.ptr) }
    }
}

impl Drop for HeaderRef {
    fn drop(&mut self) {
        let key = self.key();
        // SAFETY: this reference owns one count made through the key's vtable
        // (`adopt`'s contract); rebuilding a waker from the key's parts and dropping
        // it gives that count back, once. The parts are copied out first: the drop
        // may free the header that holds the key.
        drop(unsafe { Waker::new(key.data(), key.vtable()) });
    }
}

impl std::ops::Deref for HeaderRef {
    type Target = Header;

    #[inline]
    fn deref(&self) -> &Header {
        // SAFETY: this reference owns a count on the allocation holding the header,
        // which frees it only with the last count (`adopt`'s contract).
        unsafe { self.ptr.get() }
    }
}

/// A header in an `Arc` of its own: the main task's. Its waker (the header's key)
/// wakes whatever the main task last waits with: `cancel()` and a closing loop wake
/// the task through the key, as they do a spawned one.
struct Standalone {
    header: Header,
    waker: Mutex<Option<Waker>>,
}

impl Standalone {
    /// Stores the waker the main task waits with (its executor's).
    fn set_waker(&self, w: &Waker) {
        *self.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(w.clone());
    }
}

/// The main task of a `run_until_complete`: its reference, and the allocation of
/// its own that holds its header and the waker it waits with.
pub(crate) struct MainTask {
    pub(crate) task: TaskRef,
    home: Arc<Standalone>,
}

impl MainTask {
    pub(crate) fn new(header: Header) -> MainTask {
        let (me, home) = HeaderRef::standalone(header);
        MainTask {
            task: TaskRef::from_header(me),
            home,
        }
    }

    /// Stores the waker the main task waits with, which `cancel()` wakes.
    pub(crate) fn set_waker(&self, w: &Waker) {
        self.home.set_waker(w);
    }
}

impl std::task::Wake for Standalone {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let w = self.waker.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// A waker of the task held without a count: what counted references are made
/// through (`HeaderRef`) and what wakes the task for `cancel()` or a closing loop.
/// A no-op waker until it is set, once, before the header is shared.
struct Key(UnsafeCell<ManuallyDrop<Waker>>);

// SAFETY: the cell is written only by `set`, whose caller has the header to itself;
// after that it is only read, and a `Waker` is `Sync`.
unsafe impl Sync for Key {}

impl Key {
    fn unset() -> Key {
        Key(UnsafeCell::new(ManuallyDrop::new(Waker::noop().clone())))
    }

    /// Stores `w`'s parts, without a count.
    ///
    /// # Safety
    /// No other thread can reach the header yet, and `w` is a waker of the
    /// allocation that holds it.
    unsafe fn set(&self, w: &Waker) {
        // SAFETY: nobody else reads or writes the cell now (the caller's contract).
        // The copy owns no count: it is never dropped (`ManuallyDrop`), only cloned
        // and woken by reference.
        unsafe { *self.0.get() = ManuallyDrop::new(Waker::new(w.data(), w.vtable())) };
    }

    fn get(&self) -> &Waker {
        // SAFETY: written only before the header is shared (`set`), so every read
        // sees the final value and no write races it.
        unsafe { &*self.0.get() }
    }
}

impl TaskRef {
    pub(crate) fn from_header(header: HeaderRef) -> TaskRef {
        TaskRef { header }
    }
}

/// The part of a task every handle shares.
pub struct Header {
    pub(crate) id: u64,
    pub(crate) loop_id: u64,
    pub(crate) state: AtomicU8,
    cancel_requested: AtomicBool,
    /// Raised (for good) by the first done-callback or awaiter; see `finish`.
    pub(crate) has_callbacks: AtomicBool,
    /// `RAISED | RETRIEVED | DETACHED`.
    pub(crate) report: AtomicU32,
    /// Key in the loop's task registry (`u32::MAX`: not tracked).
    pub(crate) slot: AtomicU32,
    /// Where the task was spawned (`#[track_caller]` through the spawn functions).
    pub(crate) site: &'static Location<'static>,
    /// Polls begun plus polls ended: odd while a poll runs. Only the polling thread
    /// writes it (a load and a store, no read-modify-write).
    pub(crate) steps: AtomicU32,
    /// What the task waits on, as its last await point said (`introspect::Wait`,
    /// encoded; 0: unknown). Cleared when a poll begins.
    pub(crate) wait: AtomicU64,
    /// The task's span, entered around each poll (feature `tracing`).
    #[cfg(feature = "tracing")]
    pub(crate) span: tracing::Span,
    /// The executor that queues the task's steps: a spawned `Send` task's (`None`
    /// for a local task, whose schedule closure keeps its own, and for the main task).
    pub(crate) sched: Option<Arc<dyn Schedule>>,
    key: Key,
    inner: Mutex<HeaderInner>,
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish()
    }
}

impl Header {
    pub(crate) fn new(
        loop_id: u64,
        site: &'static Location<'static>,
        sched: Option<Arc<dyn Schedule>>,
    ) -> Header {
        let id = NEXT_TASK_ID.fetch_add(1, Ordering::Relaxed);
        Header {
            #[cfg(feature = "tracing")]
            span: tracing::debug_span!(
                target: "tulip",
                "task",
                id,
                loop_id,
                name = %format_args!("Task-{id}"),
                spawn_site = %site
            ),
            id,
            loop_id,
            state: AtomicU8::new(PENDING),
            cancel_requested: AtomicBool::new(false),
            has_callbacks: AtomicBool::new(false),
            report: AtomicU32::new(0),
            slot: AtomicU32::new(u32::MAX),
            site,
            steps: AtomicU32::new(0),
            wait: AtomicU64::new(0),
            sched,
            key: Key::unset(),
            inner: Mutex::new(HeaderInner::default()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, HeaderInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state.load(Ordering::Acquire) != PENDING
    }

    /// A waker of the task, held without a count (see [`Key`]): clone it or wake it
    /// by reference while the header is alive; never drop a waker rebuilt from it
    /// without owning a count.
    pub(crate) fn key(&self) -> &Waker {
        self.key.get()
    }

    /// Asks for cancellation; false if the task is already done.
    pub(crate) fn request_cancel(&self, msg: Option<String>) -> bool {
        if self.is_done() {
            return false;
        }
        {
            let mut inner = self.lock();
            let extra = inner.extra();
            extra.cancelling = extra.cancelling.saturating_add(1);
            if msg.is_some() {
                extra.cancel_msg = msg;
            }
            self.raise_cancel_flag();
        }
        // A spawned task's key schedules it (a no-op once it has finished); the main
        // task's wakes what it waits with, or nothing before its first wait, whose
        // poll reads the flag after storing its waker (`TaskFuture::poll`).
        self.key().wake_by_ref();
        true
    }

    /// Times `cancel()` was asked and not withdrawn (asyncio's `cancelling()`).
    pub(crate) fn cancelling(&self) -> u32 {
        self.lock().extra.as_ref().map_or(0, |e| e.cancelling)
    }

    /// Takes a pending cancel request, if any.
    pub(crate) fn take_cancel(&self) -> Option<Cancelled> {
        if !self.cancel_requested.load(Ordering::Acquire) {
            return None;
        }
        let mut inner = self.lock();
        if !self.lower_cancel_flag() {
            return None;
        }
        Some(Cancelled {
            msg: inner.extra.as_mut().and_then(|e| e.cancel_msg.take()),
        })
    }

    /// True if a request is waiting to be taken. Reads only the process-wide count
    /// while it is zero, so the common case does not touch the header at all.
    #[inline]
    pub(crate) fn cancel_pending(&self) -> bool {
        CANCELS_PENDING.load(Ordering::SeqCst) != 0 && self.cancel_requested.load(Ordering::Acquire)
    }

    /// Sets the request flag; counts it in `CANCELS_PENDING` if it was down.
    fn raise_cancel_flag(&self) {
        if !self.cancel_requested.swap(true, Ordering::AcqRel) {
            CANCELS_PENDING.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Clears the request flag; true if it was up (and uncounts it).
    pub(crate) fn lower_cancel_flag(&self) -> bool {
        let was = self.cancel_requested.load(Ordering::Acquire)
            && self.cancel_requested.swap(false, Ordering::AcqRel);
        if was {
            CANCELS_PENDING.fetch_sub(1, Ordering::SeqCst);
        }
        was
    }

    /// Withdraws one cancel request (asyncio's `uncancel()`); returns what is left.
    pub(crate) fn uncancel(&self) -> u32 {
        let mut inner = self.lock();
        let left = match inner.extra.as_mut() {
            Some(e) => {
                e.cancelling = e.cancelling.saturating_sub(1);
                e.cancelling
            }
            None => 0,
        };
        if left == 0 {
            self.lower_cancel_flag();
            if let Some(e) = inner.extra.as_mut() {
                e.cancel_msg = None;
            }
        }
        left
    }

    /// Registers a done-callback. Returns `Err(entry)` if the task is done already
    /// (the caller schedules it itself).
    pub(crate) fn add_entry(&self, entry: DoneEntry) -> Result<(), DoneEntry> {
        let mut inner = self.lock();
        self.has_callbacks.store(true, Ordering::SeqCst);
        if self.state.load(Ordering::SeqCst) != PENDING {
            return Err(entry);
        }
        inner.callbacks.push(Waiting::Call(entry));
        Ok(())
    }

    /// Registers (or refreshes) the waker of the task awaiting this one through its
    /// `Task` handle (there is at most one), keeping the place its first
    /// registration took among the done-callbacks. False if this task is done:
    /// nothing was registered. The same handshake with `finish` as `add_entry`.
    pub(crate) fn set_awaiter(&self, waker: &Waker) -> bool {
        let mut inner = self.lock();
        self.has_callbacks.store(true, Ordering::SeqCst);
        if self.state.load(Ordering::SeqCst) != PENDING {
            return false;
        }
        for entry in inner.callbacks.iter_mut() {
            if let Waiting::Wake(w) = entry {
                if !w.will_wake(waker) {
                    w.clone_from(waker);
                }
                return true;
            }
        }
        inner.callbacks.push(Waiting::Wake(waker.clone()));
        true
    }

    /// Removes every done-callback not yet scheduled.
    pub(crate) fn clear_callbacks(&self) -> usize {
        self.lock()
            .callbacks
            .retain(|w| matches!(w, Waiting::Wake(..)))
    }

    /// Marks the task done with `ending` and takes its callbacks and awaiter.
    /// Lock-free when none were registered and the task returned: `add_entry` and
    /// `set_awaiter` raise `has_callbacks` before they read `state`, and this writes
    /// `state` before it reads `has_callbacks` (all SeqCst), so at least one side
    /// sees the other and no entry is lost; whoever takes the list second finds it
    /// empty, so none runs twice.
    #[inline]
    pub(crate) fn finish(&self, ending: Ending) -> Option<DoneList> {
        self.lower_cancel_flag();
        let state = match &ending {
            Ending::Returned => DONE,
            Ending::Cancelled(_) => CANCELLED,
            Ending::Raised(_) => FAILED,
        };
        if state == DONE {
            self.state.store(state, Ordering::SeqCst);
            if !self.has_callbacks.load(Ordering::SeqCst) {
                return None;
            }
            return Some(std::mem::take(&mut self.lock().callbacks));
        }
        let mut inner = self.lock();
        inner.extra().ending = Some(ending);
        self.state.store(state, Ordering::SeqCst);
        Some(std::mem::take(&mut inner.callbacks))
    }

    /// How the task ended, once it is done.
    pub(crate) fn ending(&self) -> Option<Ending> {
        match self.state.load(Ordering::Acquire) {
            PENDING => None,
            DONE => Some(Ending::Returned),
            _ => self.lock().extra.as_ref().and_then(|e| e.ending.clone()),
        }
    }

    /// Sets report flags; returns the flags as they were.
    pub(crate) fn flag(&self, bits: u32) -> u32 {
        self.report.fetch_or(bits, Ordering::AcqRel)
    }

    /// True for the one caller that gets to report the exception as never retrieved.
    pub(crate) fn claim_report(&self) -> bool {
        self.flag(REPORTED) & REPORTED == 0
    }

    /// Counts one more batch of done-callbacks in flight (see [`CALLBACK_BATCH`]),
    /// setting `bits` in the same atomic step.
    pub(crate) fn begin_batch(&self, bits: u32) {
        let _ = self
            .report
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |r| {
                Some((r | bits).wrapping_add(CALLBACK_BATCH))
            });
    }

    /// One batch of done-callbacks ran; returns the flags as they are now.
    pub(crate) fn end_batch(&self) -> u32 {
        self.report
            .fetch_sub(CALLBACK_BATCH, Ordering::AcqRel)
            .wrapping_sub(CALLBACK_BATCH)
    }
}

/// The header's life inside async-task's cell, without an executor, so that Miri can
/// check the pointer arithmetic of `HeaderRef`
/// (`cargo +nightly miri test -p tulip-core --lib header`).
#[cfg(test)]
mod tests {
    use std::panic::Location;
    use std::sync::{Arc, Mutex};

    use super::{Header, HeaderRef, PENDING};

    type Queue = Arc<Mutex<Vec<async_task::Runnable<Header>>>>;

    fn spawn(queue: &Queue, out: u32) -> (async_task::Task<u32, Header>, HeaderRef) {
        let q = queue.clone();
        let (runnable, task) = async_task::Builder::new()
            .metadata(Header::new(7, Location::caller(), None))
            .spawn(
                move |_: &Header| async move { out },
                move |r| q.lock().unwrap().push(r),
            );
        // SAFETY: once, before the runnable is scheduled.
        let me = unsafe { HeaderRef::launch(&runnable) };
        runnable.schedule();
        (task, me)
    }

    /// What `task_future::finish` does with the count the header has held on its
    /// own cell since `launch`: gives it up.
    fn finish_own(me: &HeaderRef) {
        // SAFETY: the count `launch` gave the header, given up once.
        drop(unsafe { HeaderRef::adopt(me.ptr()) });
    }

    fn run_all(queue: &Queue) {
        let steps: Vec<_> = std::mem::take(&mut *queue.lock().unwrap());
        for r in steps {
            r.run();
        }
    }

    #[test]
    fn a_reference_outlives_the_task_handle_and_its_run() {
        let queue = Queue::default();
        let (task, me) = spawn(&queue, 5);
        assert_eq!(me.loop_id, 7);
        run_all(&queue);
        finish_own(&me);
        assert_eq!(futures::executor::block_on(task), 5);
        // The handle and the step are gone: the reference alone keeps the header.
        assert_eq!(me.state.load(std::sync::atomic::Ordering::Relaxed), PENDING);
        let copy = me.clone();
        drop(me);
        assert_eq!(copy.loop_id, 7);
        assert_eq!(copy.name_for_test(), None);
    }

    #[test]
    fn a_task_dropped_unrun_frees_its_header_after_the_last_reference() {
        let queue = Queue::default();
        let (task, me) = spawn(&queue, 1);
        drop(task);
        // The scheduled step is dropped without running: the future goes, the
        // header stays for `me`.
        queue.lock().unwrap().clear();
        finish_own(&me);
        assert_eq!(me.loop_id, 7);
        drop(me);
    }

    #[test]
    fn the_key_wakes_the_task_and_mints_counted_references() {
        let queue = Queue::default();
        let (task, me) = spawn(&queue, 2);
        run_all(&queue);
        assert!(queue.lock().unwrap().is_empty());
        // Not done in this test's eyes (no `finish`): the key schedules it again.
        // SAFETY: `me` keeps the header alive; its key was set by `launch`.
        let minted = unsafe { HeaderRef::mint(&me) };
        finish_own(&me);
        drop(me);
        assert_eq!(futures::executor::block_on(task), 2);
        // The minted reference alone keeps the header now.
        minted.key().wake_by_ref();
        assert_eq!(minted.loop_id, 7);
        drop(minted);
    }

    #[test]
    fn the_header_stays_small() {
        // Every task's cell carries it (the spawn_join and idle-memory rows). The
        // awaiter in the done-list, instead of an `AtomicWaker` and an id beside
        // it, took it from 152 bytes to 120 (without the `tracing` feature's span);
        // the cancel count moved to the extras and a 32-bit registry key, to 112.
        // The executor moved in from the schedule closure (16 bytes, which the cell
        // no longer carries there): 128.
        #[cfg(not(feature = "tracing"))]
        assert!(std::mem::size_of::<Header>() <= 128);
        assert_eq!(std::mem::size_of::<Option<super::Waiting>>(), 24);
        // A reference is one pointer (its count goes through the header's key): the
        // `Task` handle, `current_task()` and every list of tasks carry it.
        assert_eq!(std::mem::size_of::<super::TaskRef>(), 8);
        assert_eq!(std::mem::size_of::<Option<super::TaskRef>>(), 8);
    }

    #[test]
    fn a_standalone_header_lives_while_a_clone_does() {
        let (me, home) = HeaderRef::standalone(Header::new(3, Location::caller(), None));
        drop(home);
        let copy = me.clone();
        drop(me);
        assert_eq!(copy.loop_id, 3);
        assert_eq!(super::HeaderPtr::new(&copy).0, copy.ptr().0);
    }

    #[test]
    fn a_standalone_key_wakes_what_the_main_task_waits_with() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let (me, home) = HeaderRef::standalone(Header::new(3, Location::caller(), None));
        // Before its first wait: nothing to wake.
        me.key().wake_by_ref();
        let count = Arc::new(Count(Default::default()));
        home.set_waker(&std::task::Waker::from(count.clone()));
        me.key().wake_by_ref();
        me.clone().key().wake_by_ref();
        assert_eq!(count.0.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    impl Header {
        fn name_for_test(&self) -> Option<String> {
            self.lock().extra.as_ref().and_then(|e| e.name.clone())
        }
    }
}
