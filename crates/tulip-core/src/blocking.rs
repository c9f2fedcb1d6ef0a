//! Blocking work off the loop: a pool of plain threads, [`to_thread`], and
//! [`EventLoop::run_in_executor`](crate::EventLoop::run_in_executor).
//!
//! Blocking calls (file I/O, DNS, CPU-heavy work, a library with no async API) must
//! never run on a loop thread: they would stop every other task of that thread. They
//! run here instead, and the awaiting task gets the result through a oneshot channel.
//!
//! The pool is asyncio's `ThreadPoolExecutor`: at most `max_workers` threads, started
//! lazily (a job starts a thread only when no idle thread can take it); a thread that
//! stayed idle for `idle_timeout` exits. The default pool, shared by the process, has
//! `min(32, cpus + 4)` workers, as asyncio's default executor.
//!
//! State: one mutex holds the job queue and the counts (`threads` alive, `idle`
//! waiting); a thread exits only when it finds the queue empty under that mutex, and a
//! submit starts a thread whenever the queued jobs outnumber the idle threads, so a
//! queued job always has a thread coming for it.
//!
//! Cancellation: the job of a cancelled or dropped [`Blocking`] future is not stopped
//! (a thread cannot be interrupted); it finishes its call, and its result is dropped.
//! The awaiting task gets `Err(Cancelled)` at once.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::channel::oneshot;

use crate::clock::OutsideWork;
use crate::current::take_cancel;
use crate::error::{Cancelled, Error, Result};
use crate::running::with_running_loop;

type Job = Box<dyn FnOnce() + Send + 'static>;

struct PoolState {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
    shutdown: bool,
    next_name: usize,
}

struct PoolInner {
    max_workers: usize,
    idle_timeout: Duration,
    name: String,
    state: Mutex<PoolState>,
    cv: Condvar,
    exited: Condvar,
}

/// A pool of threads for blocking calls (asyncio's `ThreadPoolExecutor`). Cheap to
/// clone; clones share the pool.
///
/// # Examples
/// ```
/// use tulip::ThreadPool;
/// let pool = ThreadPool::new(2);
/// let lp = tulip::new_event_loop()?;
/// let n = lp.run_until_complete(async {
///     let a = pool.submit(|| (1..=10u64).product::<u64>());
///     let b = pool.submit(|| 7);
///     Ok::<_, tulip::Error>(a.await? + b.await?)
/// })?;
/// assert_eq!(n, 3628807);
/// # Ok::<(), tulip::Error>(())
/// ```
#[derive(Clone)]
pub struct ThreadPool {
    inner: Arc<PoolInner>,
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("max_workers", &self.inner.max_workers)
            .field("threads", &self.threads())
            .finish()
    }
}

impl ThreadPool {
    /// A pool of at most `max_workers` threads (0 counts as 1), none started yet; idle
    /// threads exit after 10 seconds.
    pub fn new(max_workers: usize) -> ThreadPool {
        Self::build(max_workers, Duration::from_secs(10), "tulip-blocking")
    }

    /// Sets how long a thread may stay idle before it exits.
    pub fn with_idle_timeout(self, idle_timeout: Duration) -> ThreadPool {
        let name = self.inner.name.clone();
        Self::build(self.inner.max_workers, idle_timeout, &name)
    }

    fn build(max_workers: usize, idle_timeout: Duration, name: &str) -> ThreadPool {
        ThreadPool {
            inner: Arc::new(PoolInner {
                max_workers: max_workers.max(1),
                idle_timeout,
                name: name.to_string(),
                state: Mutex::new(PoolState {
                    jobs: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    shutdown: false,
                    next_name: 0,
                }),
                cv: Condvar::new(),
                exited: Condvar::new(),
            }),
        }
    }

    /// The most threads this pool runs at once.
    pub fn max_workers(&self) -> usize {
        self.inner.max_workers
    }

    /// How many of its threads are alive now.
    pub fn threads(&self) -> usize {
        self.inner.lock().threads
    }

    /// Threads alive, and how many of them wait for a job.
    pub fn thread_counts(&self) -> (usize, usize) {
        let st = self.inner.lock();
        (st.threads, st.idle)
    }

    /// Runs `f` on one of the pool's threads; the returned future gives its result.
    /// The job starts now, whether or not the future is awaited.
    ///
    /// The future's output is `Ok(value)`, `Err(Panicked)` if `f` panicked,
    /// `Err(Cancelled)` if the awaiting task was cancelled (the call still finishes,
    /// its result is dropped), or `Err(InvalidState)` if the pool was shut down.
    pub fn submit<F, T>(&self, f: F) -> Blocking<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let counted = with_running_loop(|lp| lp.backend().common().clock().outside_work());
        self.submit_counted(f, counted.flatten())
    }

    /// `submit`, holding `counted` (a virtual clock's count of work in flight for its
    /// loop) until the result has been sent, and so its waiter woken.
    fn submit_counted<F, T>(&self, f: F, counted: Option<OutsideWork>) -> Blocking<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let out = catch_unwind(AssertUnwindSafe(f))
                .map_err(|p| Error::Panicked(crate::error::panic_message(p.as_ref()).into()));
            let _ = tx.send(out);
            drop(counted);
        });
        if self.push(job).is_err() {
            let (tx, rx) = oneshot::channel();
            let _ = tx.send(Err(Error::InvalidState("thread pool is shut down")));
            return Blocking { rx };
        }
        Blocking { rx }
    }

    fn push(&self, job: Job) -> std::result::Result<(), Job> {
        let mut st = self.inner.lock();
        if st.shutdown {
            return Err(job);
        }
        st.jobs.push_back(job);
        if st.jobs.len() > st.idle && st.threads < self.inner.max_workers {
            st.threads += 1;
            st.next_name += 1;
            let name = format!("{}-{}", self.inner.name, st.next_name);
            drop(st);
            self.spawn_thread(name);
        } else {
            drop(st);
            self.inner.cv.notify_one();
        }
        Ok(())
    }

    fn spawn_thread(&self, name: String) {
        let inner = self.inner.clone();
        let spawned = std::thread::Builder::new()
            .name(name)
            .spawn(move || inner.work());
        if let Err(e) = spawned {
            // No thread: undo the count. An existing thread takes the job; with none,
            // the queued jobs are dropped and their futures see `Cancelled`.
            let mut st = self.inner.lock();
            st.threads -= 1;
            if st.threads == 0 {
                let jobs = std::mem::take(&mut st.jobs);
                drop(st);
                drop(jobs);
                crate::running::report_exception(&crate::loop_common::ExceptionContext {
                    message: format!("could not start a blocking thread: {e}"),
                    error: None,
                    task: None,
                });
            }
        }
    }

    /// Stops accepting jobs (later submits give `Err(InvalidState)`); queued jobs still
    /// run. With `wait`, blocks until every thread has exited. (asyncio's
    /// `executor.shutdown(wait)`.)
    pub fn shutdown(&self, wait: bool) {
        if wait {
            crate::debug::blocking_call_on_loop_thread("ThreadPool::shutdown(wait=true)");
        }
        let mut st = self.inner.lock();
        st.shutdown = true;
        self.inner.cv.notify_all();
        if wait {
            while st.threads > 0 {
                st = self
                    .inner
                    .exited
                    .wait(st)
                    .unwrap_or_else(|e| e.into_inner());
            }
        }
    }
}

impl PoolInner {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A pool thread: take jobs until idle for `idle_timeout` (or shut down with no
    /// job left).
    fn work(&self) {
        let mut st = self.lock();
        loop {
            if let Some(job) = st.jobs.pop_front() {
                drop(st);
                job();
                st = self.lock();
                continue;
            }
            if st.shutdown {
                break;
            }
            st.idle += 1;
            let (next, timeout) = self
                .cv
                .wait_timeout(st, self.idle_timeout)
                .unwrap_or_else(|e| e.into_inner());
            st = next;
            st.idle -= 1;
            if timeout.timed_out() && st.jobs.is_empty() {
                break;
            }
        }
        st.threads -= 1;
        drop(st);
        self.exited.notify_all();
    }
}

/// The future of a job running on a [`ThreadPool`]: from [`ThreadPool::submit`],
/// [`to_thread`] and `EventLoop::run_in_executor`.
///
/// # Cancel safety
/// Dropping it (or cancelling the task awaiting it) does not stop the call: the thread
/// finishes it and the result is dropped.
#[must_use = "the job runs anyway; await the future to get its result"]
pub struct Blocking<T> {
    rx: oneshot::Receiver<Result<T>>,
}

impl<T> fmt::Debug for Blocking<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocking").finish_non_exhaustive()
    }
}

impl<T> Future for Blocking<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if let Some(c) = take_cancel() {
            self.rx.close();
            return Poll::Ready(Err(Error::Cancelled(c)));
        }
        match Pin::new(&mut self.rx).poll(cx) {
            Poll::Ready(Ok(out)) => Poll::Ready(out),
            Poll::Ready(Err(oneshot::Canceled)) => Poll::Ready(Err(Error::Cancelled(Cancelled {
                msg: Some("the blocking job was dropped before it ran".into()),
            }))),
            Poll::Pending => {
                crate::introspect::note_wait(crate::introspect::Waiting::Thread);
                Poll::Pending
            }
        }
    }
}

/// The process's default pool: `min(32, cpus + 4)` workers, as asyncio's default
/// executor. Started lazily, like its threads.
pub fn default_pool() -> &'static ThreadPool {
    static POOL: OnceLock<ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        ThreadPool::new((cpus + 4).min(32))
    })
}

/// Runs the blocking `f` on the default pool and waits for it without blocking the
/// loop (asyncio's `await asyncio.to_thread(f)`). Works on every executor, and outside
/// a loop too.
///
/// Nothing runs until the future is first polled (a coroutine in asyncio).
///
/// # Errors
/// `Panicked` if `f` panicked; `Cancelled` if the awaiting task was cancelled (the
/// call still finishes on its thread; its result is dropped).
///
/// # Cancel safety
/// Dropping the future after its first poll lets the call finish and drops its result.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let lp = tulip::new_event_loop()?;
/// let got = lp.run_until_complete(async {
///     let slow = tulip::to_thread(|| {
///         std::thread::sleep(Duration::from_millis(20)); // blocks its own thread only
///         std::thread::current().name().map(String::from)
///     });
///     slow.await
/// })?;
/// assert!(got.unwrap().starts_with("tulip-blocking"));
/// # Ok::<(), tulip::Error>(())
/// ```
pub async fn to_thread<F, T>(f: F) -> Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    crate::current::check_cancel()?;
    default_pool().submit(f).await
}

impl crate::event_loop::EventLoop {
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
    /// let lp = tulip::new_event_loop()?;
    /// let pool = tulip::ThreadPool::new(1);
    /// let job = lp.run_in_executor(Some(&pool), || 2 + 2)?;
    /// assert_eq!(lp.run_until_complete(job)?, 4);
    /// # Ok::<(), tulip::Error>(())
    /// ```
    pub fn run_in_executor<F, T>(&self, executor: Option<&ThreadPool>, f: F) -> Result<Blocking<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if self.is_closed() {
            return Err(Error::LoopClosed);
        }
        let counted = self.backend().common().clock().outside_work();
        Ok(executor
            .unwrap_or_else(|| default_pool())
            .submit_counted(f, counted))
    }
}
