//! Tasks: a future scheduled on a loop, with asyncio's cancellation.
//!
//! Design:
//! - Every task is allocated once with `async-task` (in [`spawn`]), wrapping the user's
//!   future in a [`TaskFuture`] that (a) makes the task's [`Header`] the thread's
//!   *current task* while it is polled, (b) turns a panic into `Err(Panicked)` and a
//!   report to the exception handler, (c) finishes the task: state, done-callbacks
//!   (scheduled with `call_soon`, as asyncio does), untracking.
//! - `cancel()` only *asks*: it sets `cancel_requested` and wakes the task. The next
//!   tulip await point polled inside the task (sleep, promise, task, lock, queue, I/O…)
//!   takes the request with [`take_cancel`] and returns `Err(Cancelled)`, so the task
//!   can clean up asynchronously, return a value, or carry on.
//! - A cancel that nothing took (the task is parked on a future tulip cannot reach)
//!   is enforced by dropping the future after the poll it was woken for: the task
//!   ends cancelled. A request that arrives *during* a poll (from another thread, or
//!   the task cancelling itself) is delivered at the next poll instead.
//! - A task cancelled before its first poll never runs its body (asyncio throws into
//!   the coroutine before its first line).
//! - `CURRENT` holds the header by value and is swapped in and out around each poll, so
//!   tracking the current task costs no reference counting.
//!
//! Who touches what: `state` and `cancel_requested` are atomics; the rest of the header
//! (`name`, message, the task's waker, callbacks) sits behind one mutex, touched off
//! the hot path.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::error::{Cancelled, Error, Result};
use crate::event_loop::EventLoop;
use crate::handle::Callback;
use crate::promise::Promise;
use crate::registry::{get_running_loop, ExceptionContext};

const PENDING: u8 = 0;
const DONE: u8 = 1;
const CANCELLED: u8 = 2;
const FAILED: u8 = 3;

static NEXT_TASK_ID: AtomicU64 = AtomicU64::new(1);

type DoneCallback = Box<dyn FnOnce(&TaskRef) + Send + 'static>;

#[derive(Default)]
struct HeaderInner {
    name: Option<String>,
    cancel_msg: Option<String>,
    /// The task's own waker, stored the first time the task waits (a task that
    /// finishes in its first poll never pays for it), so that `cancel()` can wake it.
    waker: Option<Waker>,
    callbacks: Vec<DoneCallback>,
}

/// The part of a task every handle shares: identity, state, cancel request.
pub struct Header {
    id: u64,
    loop_id: u64,
    state: AtomicU8,
    cancel_requested: AtomicBool,
    /// Times `cancel()` was asked (asyncio's `cancelling()`).
    cancelling: AtomicU64,
    /// Raised (for good) by the first `add_done_callback`; see `finish`.
    has_callbacks: AtomicBool,
    /// Key in the loop's task registry (`usize::MAX`: not tracked).
    pub(crate) slot: AtomicUsize,
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
    pub(crate) fn new(loop_id: u64) -> Arc<Header> {
        Arc::new(Header {
            id: NEXT_TASK_ID.fetch_add(1, Ordering::Relaxed),
            loop_id,
            state: AtomicU8::new(PENDING),
            cancel_requested: AtomicBool::new(false),
            cancelling: AtomicU64::new(0),
            has_callbacks: AtomicBool::new(false),
            slot: AtomicUsize::new(usize::MAX),
            inner: Mutex::new(HeaderInner::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HeaderInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state.load(Ordering::Acquire) != PENDING
    }

    fn set_waker(&self, w: &Waker) {
        self.lock().waker = Some(w.clone());
    }

    /// Asks for cancellation; false if the task is already done.
    pub(crate) fn request_cancel(&self, msg: Option<String>) -> bool {
        if self.is_done() {
            return false;
        }
        self.cancelling.fetch_add(1, Ordering::Relaxed);
        let waker = {
            let mut inner = self.lock();
            if msg.is_some() {
                inner.cancel_msg = msg;
            }
            self.raise_cancel_flag();
            inner.waker.clone()
        };
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// Takes a pending cancel request, if any.
    fn take_cancel(&self) -> Option<Cancelled> {
        if !self.cancel_requested.load(Ordering::Acquire) {
            return None;
        }
        let mut inner = self.lock();
        if !self.lower_cancel_flag() {
            return None;
        }
        Some(Cancelled {
            msg: inner.cancel_msg.take(),
        })
    }

    /// True if a request is waiting to be taken. Reads only the process-wide count
    /// while it is zero, so the common case does not touch the header at all.
    #[inline]
    fn cancel_pending(&self) -> bool {
        CANCELS_PENDING.load(Ordering::SeqCst) != 0 && self.cancel_requested.load(Ordering::Acquire)
    }

    /// Sets the request flag; counts it in `CANCELS_PENDING` if it was down.
    fn raise_cancel_flag(&self) {
        if !self.cancel_requested.swap(true, Ordering::AcqRel) {
            CANCELS_PENDING.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Clears the request flag; true if it was up (and uncounts it).
    fn lower_cancel_flag(&self) -> bool {
        let was = self.cancel_requested.load(Ordering::Acquire)
            && self.cancel_requested.swap(false, Ordering::AcqRel);
        if was {
            CANCELS_PENDING.fetch_sub(1, Ordering::SeqCst);
        }
        was
    }

    /// Marks the task done and takes its callbacks. Lock-free when none were added:
    /// `add_done_callback` raises `has_callbacks` before it reads `state`, and this
    /// writes `state` before it reads `has_callbacks` (all SeqCst), so at least one
    /// side sees the other and no callback is lost; whoever takes the list second
    /// finds it empty, so none runs twice.
    fn finish(&self, state: u8) -> Vec<DoneCallback> {
        self.lower_cancel_flag();
        self.state.store(state, Ordering::SeqCst);
        if !self.has_callbacks.load(Ordering::SeqCst) {
            return Vec::new();
        }
        std::mem::take(&mut self.lock().callbacks)
    }
}

thread_local! {
    static CURRENT: Cell<Option<Arc<Header>>> = const { Cell::new(None) };
}

/// How many tasks in the process have a cancel request nobody has taken yet. Await
/// points read it first: while it is zero — nearly always — they skip the look-up of
/// the current task. A request raises the flag and the count *before* waking the
/// task, so the poll that follows the wake-up always sees it.
static CANCELS_PENDING: AtomicUsize = AtomicUsize::new(0);

#[inline]
fn with_current<R>(f: impl FnOnce(Option<&Arc<Header>>) -> R) -> R {
    CURRENT.with(|c| {
        let h = c.take();
        let r = f(h.as_ref());
        c.set(h);
        r
    })
}

/// Takes the current task's pending cancel request. Every tulip await point calls this
/// first when polled and, on `Some`, stops waiting and returns `Err(Cancelled)`.
///
/// Outside a task (or with no request) returns `None`.
#[inline]
pub fn take_cancel() -> Option<Cancelled> {
    if CANCELS_PENDING.load(Ordering::SeqCst) == 0 {
        return None;
    }
    with_current(|h| h.and_then(|h| h.take_cancel()))
}

/// [`take_cancel`] as a `Result`: `Err(Error::Cancelled)` when a cancel was pending.
///
/// # Errors
/// `Cancelled` when the current task was asked to cancel.
pub fn check_cancel() -> Result<()> {
    match take_cancel() {
        Some(c) => Err(Error::Cancelled(c)),
        None => Ok(()),
    }
}

/// The task being run on this thread (asyncio's `current_task()`).
pub fn current_task() -> Option<TaskRef> {
    with_current(|h| h.cloned().map(TaskRef::from_header))
}

/// A shareable reference to a task: identity, state, cancel, done-callbacks. What
/// done-callbacks receive and what [`current_task`] returns.
#[derive(Clone)]
pub struct TaskRef {
    header: Arc<Header>,
}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRef")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("done", &self.done())
            .finish()
    }
}

impl PartialEq for TaskRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.header, &other.header)
    }
}
impl Eq for TaskRef {}

impl TaskRef {
    pub(crate) fn from_header(header: Arc<Header>) -> TaskRef {
        TaskRef { header }
    }

    /// The task's id, unique in the process, increasing in creation order.
    pub fn id(&self) -> u64 {
        self.header.id
    }

    /// The id of the loop the task was created on.
    pub fn loop_id(&self) -> u64 {
        self.header.loop_id
    }

    /// The task's name: the one given with `set_name`, or `Task-<id>` as in asyncio.
    pub fn name(&self) -> String {
        self.header
            .lock()
            .name
            .clone()
            .unwrap_or_else(|| format!("Task-{}", self.header.id))
    }

    /// Renames the task.
    pub fn set_name(&self, name: impl Into<String>) {
        self.header.lock().name = Some(name.into());
    }

    /// Asks the task to cancel: the next tulip await point inside it returns
    /// `Err(Cancelled)`. Returns false if the task is already done.
    pub fn cancel(&self) -> bool {
        self.header.request_cancel(None)
    }

    /// [`cancel`](Self::cancel) with a message, carried by the `Cancelled` error.
    pub fn cancel_with(&self, msg: impl Into<String>) -> bool {
        self.header.request_cancel(Some(msg.into()))
    }

    /// How many times cancellation was requested (asyncio's `cancelling()`).
    pub fn cancelling(&self) -> u64 {
        self.header.cancelling.load(Ordering::Relaxed)
    }

    /// Withdraws one cancel request (asyncio's `uncancel()`): decrements
    /// [`cancelling`](Self::cancelling) and returns the new count. When it reaches
    /// zero, a request nobody has taken yet is dropped too (as in Python 3.13), so
    /// a timeout scope that cancelled its own task leaves no stray cancel behind.
    pub fn uncancel(&self) -> u64 {
        let h = &self.header;
        let mut n = h.cancelling.load(Ordering::Relaxed);
        while n > 0 {
            match h
                .cancelling
                .compare_exchange_weak(n, n - 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(cur) => n = cur,
            }
        }
        let left = n.saturating_sub(1);
        if left == 0 {
            let mut inner = h.lock();
            h.lower_cancel_flag();
            inner.cancel_msg = None;
        }
        left
    }

    /// True when the task has finished (returned, failed or was cancelled).
    pub fn done(&self) -> bool {
        self.header.is_done()
    }

    /// True when the task finished cancelled.
    pub fn cancelled(&self) -> bool {
        self.header.state.load(Ordering::Acquire) == CANCELLED
    }

    /// True when the task finished by panicking.
    pub fn failed(&self) -> bool {
        self.header.state.load(Ordering::Acquire) == FAILED
    }

    /// Schedules `cb` to run (with `call_soon`) once the task is done; if it is done
    /// already, schedules it now.
    pub fn add_done_callback<F: FnOnce(&TaskRef) + Send + 'static>(&self, cb: F) {
        let mut inner = self.header.lock();
        inner.callbacks.push(Box::new(cb));
        self.header.has_callbacks.store(true, Ordering::SeqCst);
        if self.header.state.load(Ordering::SeqCst) != PENDING {
            let cbs = std::mem::take(&mut inner.callbacks);
            drop(inner);
            schedule_done_callbacks(self, cbs);
        }
    }

    /// Removes every done-callback not yet scheduled; returns how many were removed.
    /// (Closures have no identity in Rust, so this is asyncio's
    /// `remove_done_callback` for all of them at once.)
    pub fn clear_done_callbacks(&self) -> usize {
        std::mem::take(&mut self.header.lock().callbacks).len()
    }
}

fn schedule_done_callbacks(task: &TaskRef, cbs: Vec<DoneCallback>) {
    if cbs.is_empty() {
        return;
    }
    let t = task.clone();
    let run_all = move || {
        for cb in cbs {
            cb(&t)
        }
    };
    match get_running_loop() {
        Ok(lp) => {
            if let Err(e) = lp.backend().call_soon(Callback::internal(run_all)) {
                // The loop is closed: asyncio would drop them silently; say why.
                let _ = e;
            }
        }
        Err(_) => run_all(),
    }
}

/// A handle to a spawned task. Await it for the task's result; dropping it detaches
/// the task (it keeps running), as in asyncio and tokio.
///
/// It dereferences to [`TaskRef`] for `cancel`, `done`, `name`, `add_done_callback`…
///
/// # Examples
/// ```
/// let lp = tulip_local::new_event_loop().unwrap();
/// let v = lp.run_until_complete(async {
///     let t = tulip_core::create_task(async { 6 * 7 })?;
///     t.await
/// });
/// assert_eq!(v.unwrap().unwrap(), 42);
/// ```
pub struct Task<T> {
    task: TaskRef,
    inner: Option<async_task::FallibleTask<Result<T>>>,
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.task.fmt(f)
    }
}

impl<T> std::ops::Deref for Task<T> {
    type Target = TaskRef;
    fn deref(&self) -> &TaskRef {
        &self.task
    }
}

impl<T> Task<T> {
    /// A shareable reference to this task.
    pub fn task_ref(&self) -> TaskRef {
        self.task.clone()
    }

    /// The result if the task is done, without waiting (asyncio's `result()`), taking
    /// it out of the handle.
    ///
    /// # Errors
    /// `InvalidState` if the task is not done or its result was already taken;
    /// otherwise the task's own error (`Cancelled`, `Panicked`).
    pub fn try_result(&mut self) -> Result<T> {
        if !self.task.done() {
            return Err(Error::InvalidState("result is not set"));
        }
        let Some(inner) = self.inner.as_mut() else {
            return Err(Error::InvalidState("result was already taken"));
        };
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        // `done()` turns true inside the task's last poll, a moment before async-task
        // stores the output; on a multi-threaded loop another thread can look in
        // between. The gap is a few instructions, unless that worker is preempted:
        // spin briefly, then yield, for at most ~100 ms.
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(100);
        let mut spins = 0u32;
        loop {
            if let Poll::Ready(r) = Pin::new(&mut *inner).poll(&mut cx) {
                self.inner = None;
                return r.unwrap_or_else(|| Err(dropped()));
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::InvalidState("result is not set"));
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

fn dropped() -> Error {
    Error::Cancelled(Cancelled {
        msg: Some("task was dropped by its loop (loop closed)".into()),
    })
}

impl<T> Future for Task<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        // asyncio: cancelling a task that awaits another task cancels the inner one;
        // the outer then sees whatever the inner ends with.
        if let Some(c) = take_cancel() {
            self.task.header.request_cancel(c.msg);
        }
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(Err(Error::InvalidState("result was already taken")));
        };
        match Pin::new(inner).poll(cx) {
            Poll::Ready(r) => {
                self.inner = None;
                Poll::Ready(r.unwrap_or_else(|| Err(dropped())))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if let Some(t) = self.inner.take() {
            t.detach();
        }
    }
}

pin_project_lite::pin_project! {
    /// The future async-task runs: the user's future plus asyncio's task protocol.
    pub(crate) struct TaskFuture<F> {
        header: Option<Arc<Header>>,
        started: bool,
        // The main future of `run_until_complete`: its errors go to the caller, not
        // the exception handler.
        is_main: bool,
        lp: EventLoop,
        #[pin]
        fut: Option<F>,
    }
}

impl<F: Future> TaskFuture<F> {
    pub(crate) fn new(header: Arc<Header>, lp: EventLoop, fut: F, is_main: bool) -> Self {
        TaskFuture {
            header: Some(header),
            started: false,
            is_main,
            lp,
            fut: Some(fut),
        }
    }
}

impl<F: Future> Future for TaskFuture<F> {
    type Output = Result<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let header = this.header.take().expect("header present while pending");
        // A request that was there before this poll: the task was woken for it.
        let asked_before = header.cancel_pending();
        let first_poll = !*this.started;
        if first_poll {
            *this.started = true;
            if let Some(c) = header.take_cancel() {
                this.fut.set(None);
                return Poll::Ready(finish(header, this.lp, Err(Error::Cancelled(c))));
            }
        }
        let fut = this
            .fut
            .as_mut()
            .as_pin_mut()
            .expect("future present while pending");
        let prev = CURRENT.with(|c| c.replace(Some(header)));
        let res = catch_unwind(AssertUnwindSafe(|| fut.poll(cx)));
        let header = CURRENT
            .with(|c| c.replace(prev))
            .expect("current task restored");
        let outcome = match res {
            Ok(Poll::Pending) => {
                if first_poll {
                    // Stored before the flag is read again below; `request_cancel`
                    // raises the flag before it reads the waker, under the same lock.
                    header.set_waker(cx.waker());
                }
                if header.cancel_pending() {
                    if asked_before {
                        // The task was polled for the request and nothing inside took
                        // it: enforce it by dropping the future.
                        let c = header.take_cancel().unwrap_or_default();
                        this.fut.set(None);
                        return Poll::Ready(finish(header, this.lp, Err(Error::Cancelled(c))));
                    }
                    // It arrived while the task was running: deliver it at the next
                    // await point, on the next poll.
                    cx.waker().wake_by_ref();
                }
                *this.header = Some(header);
                return Poll::Pending;
            }
            Ok(Poll::Ready(v)) => Ok(v),
            Err(payload) => {
                let err = Error::from_panic(payload.as_ref());
                if !*this.is_main {
                    this.lp.call_exception_handler(&ExceptionContext {
                        message: "Task exception was never retrieved".into(),
                        error: Some(err.clone()),
                        task: Some(TaskRef::from_header(header.clone())),
                    });
                }
                Err(err)
            }
        };
        this.fut.set(None);
        Poll::Ready(finish(header, this.lp, outcome))
    }
}

fn finish<T>(header: Arc<Header>, lp: &EventLoop, outcome: Result<T>) -> Result<T> {
    let state = match &outcome {
        Ok(_) => DONE,
        Err(Error::Cancelled(_)) => CANCELLED,
        Err(_) => FAILED,
    };
    let cbs = header.finish(state);
    lp.backend().common().untrack(&header);
    schedule_done_callbacks(&TaskRef::from_header(header), cbs);
    outcome
}

/// Spawns `fut` on `lp` (Send futures, any thread).
pub(crate) fn spawn_on<F>(lp: &EventLoop, fut: F) -> Result<Task<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if lp.is_closed() {
        return Err(Error::LoopClosed);
    }
    let header = Header::new(lp.id());
    let backend = lp.backend_arc();
    let wrapped = TaskFuture::new(header.clone(), lp.clone(), fut, false);
    let (runnable, task) = async_task::spawn(wrapped, move |r| backend.schedule(r));
    Ok(launch(lp, header, runnable, task))
}

/// Spawns a `!Send` future on `lp`; the current thread must be one that runs `lp`.
pub(crate) fn spawn_local_on<F>(lp: &EventLoop, fut: F) -> Result<Task<F::Output>>
where
    F: Future + 'static,
    F::Output: 'static,
{
    if lp.is_closed() {
        return Err(Error::LoopClosed);
    }
    if !lp.backend().can_spawn_local() {
        return Err(Error::WrongThread);
    }
    let header = Header::new(lp.id());
    let backend = lp.backend_arc();
    let home = backend.local_home();
    let wrapped = TaskFuture::new(header.clone(), lp.clone(), fut, false);
    let (runnable, task) = async_task::spawn_local(wrapped, move |r| {
        if let Err(Error::LoopClosed) = backend.schedule_local_on(home, r) {
            // Dropped by the backend on its own thread, or leaked if woken elsewhere.
        }
    });
    Ok(launch(lp, header, runnable, task))
}

fn launch<T>(
    lp: &EventLoop,
    header: Arc<Header>,
    runnable: async_task::Runnable,
    task: async_task::Task<Result<T>>,
) -> Task<T> {
    lp.backend().common().track(&header);
    runnable.schedule();
    Task {
        task: TaskRef::from_header(header),
        inner: Some(task.fallible()),
    }
}

/// Spawns `fut` on the running loop (asyncio's `create_task` / `ensure_future`).
///
/// # Errors
/// `NoRunningLoop` outside a running loop; `LoopClosed` if the loop is closed.
pub fn create_task<F>(fut: F) -> Result<Task<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_on(&get_running_loop()?, fut)
}

/// Same as [`create_task`]: asyncio's older name.
///
/// # Errors
/// As [`create_task`].
pub fn ensure_future<F>(fut: F) -> Result<Task<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    create_task(fut)
}

/// Spawns a `!Send` future on the running loop, pinned to the current thread.
///
/// # Errors
/// `NoRunningLoop` outside a running loop; `WrongThread` if this thread cannot run the
/// loop's local tasks.
pub fn spawn_local<F>(fut: F) -> Result<Task<F::Output>>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_on(&get_running_loop()?, fut)
}

/// A promise that is resolved once every task in `tasks` is done (at once if there
/// are none). Built on done-callbacks, so it resolves one loop iteration after the
/// last task finishes, as asyncio's `wait` does.
///
/// # Examples
/// ```
/// let lp = tulip_local::new_event_loop()?;
/// lp.run_until_complete(async {
///     let a = tulip_core::create_task(async { 1 })?;
///     let b = tulip_core::create_task(async { 2 })?;
///     tulip_core::all_done([a.task_ref(), b.task_ref()].iter()).await?;
///     assert!(a.done() && b.done());
///     Ok::<_, tulip_core::Error>(())
/// })??;
/// # Ok::<(), tulip_core::Error>(())
/// ```
pub fn all_done<'a>(tasks: impl IntoIterator<Item = &'a TaskRef>) -> Promise<()> {
    let pending: Vec<&TaskRef> = tasks.into_iter().filter(|t| !t.done()).collect();
    let all: Promise<()> = Promise::new();
    if pending.is_empty() {
        let _ = all.set_result(());
        return all;
    }
    let left = Arc::new(AtomicUsize::new(pending.len()));
    for t in pending {
        let (left, all) = (left.clone(), all.clone());
        t.add_done_callback(move |_| {
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                let _ = all.set_result(());
            }
        });
    }
    all
}

/// The not-yet-done tasks of the running loop (asyncio's `all_tasks()`).
///
/// # Errors
/// `NoRunningLoop` outside a running loop.
pub fn all_tasks() -> Result<Vec<TaskRef>> {
    Ok(get_running_loop()?.backend().common().live_tasks())
}

pub(crate) fn main_header(lp: &EventLoop) -> Arc<Header> {
    Header::new(lp.id())
}
