//! `EventLoop`: the cheap, cloneable, thread-safe handle to a loop, whatever executor
//! stands behind it.
//!
//! The handle checks the loop's state (closed, running, another loop running on this
//! thread) and makes itself the thread's running loop; the executor ([`Backend`]) does
//! the scheduling. Everything here is asyncio's `AbstractEventLoop`, in Rust types.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tulip_reactor::Reactor;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::handle::{Callback, Handle, TimerHandle};
use crate::promise::Promise;
use crate::registry::{enter_running, has_running_loop, ExceptionContext, ExceptionHandler};
use crate::tasks::{self, Task, TaskFuture};

/// A handle to an event loop. `Clone + Send + Sync`; clones refer to the same loop.
///
/// # Examples
/// ```
/// let lp = tulip_local::new_event_loop().unwrap();
/// let out = lp.run_until_complete(async { 1 + 1 })?;
/// assert_eq!(out, 2);
/// lp.close()?;
/// assert!(matches!(lp.run_until_complete(async {}), Err(tulip_core::Error::LoopClosed)));
/// # Ok::<(), tulip_core::Error>(())
/// ```
#[derive(Clone)]
pub struct EventLoop {
    backend: Arc<dyn Backend>,
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("id", &self.id())
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl PartialEq for EventLoop {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}
impl Eq for EventLoop {}

impl EventLoop {
    /// Wraps an executor. Executor crates call this from their constructors.
    pub fn from_backend(backend: Arc<dyn Backend>) -> EventLoop {
        EventLoop { backend }
    }

    /// The executor behind this handle.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    pub(crate) fn backend_arc(&self) -> Arc<dyn Backend> {
        self.backend.clone()
    }

    /// The loop's id, unique in the process.
    pub fn id(&self) -> u64 {
        self.backend.common().id()
    }

    /// The loop's clock (asyncio's `loop.time()`, as an `Instant`).
    pub fn time(&self) -> Instant {
        Instant::now()
    }

    /// The I/O reactor the loop waits on.
    pub fn reactor(&self) -> &Arc<Reactor> {
        self.backend.reactor()
    }

    /// Schedules `f` to run on the loop, after the callbacks already queued (FIFO).
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed.
    pub fn call_soon<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<Handle> {
        let handle = Handle::new();
        self.backend
            .call_soon(Callback::new(Box::new(f), Some(handle.clone())))?;
        Ok(handle)
    }

    /// [`call_soon`](Self::call_soon) from another thread: the same call, and it wakes
    /// a loop blocked waiting for I/O or timers.
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed.
    pub fn call_soon_threadsafe<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<Handle> {
        self.call_soon(f)
    }

    /// Schedules `f` to run after `delay`.
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed.
    pub fn call_later<F: FnOnce() + Send + 'static>(
        &self,
        delay: Duration,
        f: F,
    ) -> Result<TimerHandle> {
        self.call_at(Instant::now() + delay, f)
    }

    /// Schedules `f` to run at `when`; callbacks due at the same instant run in the
    /// order they were scheduled.
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed.
    pub fn call_at<F: FnOnce() + Send + 'static>(
        &self,
        when: Instant,
        f: F,
    ) -> Result<TimerHandle> {
        let handle = Handle::new();
        self.backend
            .call_at(when, Callback::new(Box::new(f), Some(handle.clone())))?;
        Ok(TimerHandle::new(handle, when))
    }

    /// Wraps `fut` in a task scheduled on this loop.
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed.
    pub fn create_task<F>(&self, fut: F) -> Result<Task<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tasks::spawn_on(self, fut)
    }

    /// Wraps a `!Send` future in a task pinned to the current thread.
    ///
    /// # Errors
    /// `LoopClosed` if closed; `WrongThread` if this thread cannot run the loop's
    /// local tasks (for the single-threaded loop: any thread but the one that created
    /// it).
    pub fn create_local_task<F>(&self, fut: F) -> Result<Task<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        tasks::spawn_local_on(self, fut)
    }

    /// Runs the blocking `f` on `executor` (`None`: the default pool, as asyncio's
    /// `loop.run_in_executor(None, f)`), never on a loop thread. The job starts now;
    /// await the returned future for its result.
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed (nothing runs). The future gives `Panicked` if
    /// `f` panicked, `Cancelled` if the awaiting task was cancelled.
    ///
    /// # Examples
    /// ```
    /// let lp = tulip_local::new_event_loop()?;
    /// let pool = tulip_core::ThreadPool::new(1);
    /// let job = lp.run_in_executor(Some(&pool), || 2 + 2)?;
    /// assert_eq!(lp.run_until_complete(job)??, 4);
    /// # Ok::<(), tulip_core::Error>(())
    /// ```
    pub fn run_in_executor<F, T>(
        &self,
        executor: Option<&crate::blocking::ThreadPool>,
        f: F,
    ) -> Result<crate::blocking::Blocking<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if self.is_closed() {
            return Err(Error::LoopClosed);
        }
        Ok(executor
            .unwrap_or_else(|| crate::blocking::default_pool())
            .submit(f))
    }

    /// A new promise bound to this loop (asyncio's `loop.create_future()`): its
    /// done-callbacks are scheduled on this loop.
    pub fn create_future<T: Send + 'static>(&self) -> Promise<T> {
        Promise::with_loop(self.clone())
    }

    fn check_can_run(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::LoopClosed);
        }
        if self.is_running() {
            return Err(Error::LoopRunning);
        }
        if has_running_loop() {
            return Err(Error::AnotherLoopRunning);
        }
        Ok(())
    }

    /// Runs the loop until `fut` completes and returns its output. `fut` runs as the
    /// loop's main task: `current_task()` inside it is that task, and cancelling it
    /// makes its next await point return `Err(Cancelled)`.
    ///
    /// # Errors
    /// `LoopClosed`, `LoopRunning`, `AnotherLoopRunning` before starting;
    /// `StoppedBeforeComplete` if `stop()` ended the loop first; `Cancelled` if the main
    /// task was cancelled and did not catch it; `Panicked` if it panicked.
    pub fn run_until_complete<F: Future>(&self, fut: F) -> Result<F::Output> {
        self.check_can_run()?;
        let header = tasks::main_header(self);
        let mut out = None;
        {
            let tracked = TaskFuture::new(header, self.clone(), fut, true);
            let main = pin!(async {
                out = Some(tracked.await);
            });
            let _running = enter_running(self.clone());
            self.backend.run_until(main)?;
        }
        out.unwrap_or(Err(Error::StoppedBeforeComplete))
    }

    /// Runs the loop until [`stop`](Self::stop) is called.
    ///
    /// # Errors
    /// `LoopClosed`, `LoopRunning`, `AnotherLoopRunning`.
    pub fn run_forever(&self) -> Result<()> {
        self.check_can_run()?;
        let _running = enter_running(self.clone());
        self.backend.run_forever()
    }

    /// Asks the loop to stop: `run_forever` returns after running the callbacks that
    /// were already queued for the current iteration.
    pub fn stop(&self) {
        self.backend.stop()
    }

    /// Closes the loop: queued callbacks and task steps are dropped, later calls fail
    /// with `LoopClosed`. Idempotent.
    ///
    /// # Errors
    /// `LoopRunning` if the loop is running.
    pub fn close(&self) -> Result<()> {
        if self.is_running() {
            return Err(Error::LoopRunning);
        }
        self.backend.close()
    }

    /// True while the loop runs.
    pub fn is_running(&self) -> bool {
        self.backend.is_running()
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.backend.is_closed()
    }

    /// Sets (or with `None`, resets) the handler for errors nobody else receives: task
    /// panics, callback panics.
    pub fn set_exception_handler<F>(&self, handler: Option<F>)
    where
        F: Fn(&EventLoop, &ExceptionContext) + Send + Sync + 'static,
    {
        self.backend
            .common()
            .set_handler(handler.map(|h| Arc::new(h) as ExceptionHandler));
    }

    /// Calls the exception handler (or, with none set, prints the context to stderr,
    /// as asyncio's default handler logs it). A panicking handler falls back to the
    /// default.
    pub fn call_exception_handler(&self, ctx: &ExceptionContext) {
        if let Some(h) = self.backend.common().handler() {
            if catch_unwind(AssertUnwindSafe(|| h(self, ctx))).is_ok() {
                return;
            }
            eprintln!("tulip: exception handler panicked");
        }
        eprintln!("tulip: {ctx}");
    }
}
