//! Synchronization primitives: [`Lock`], [`Event`], [`Condition`], [`Semaphore`],
//! [`BoundedSemaphore`], [`Barrier`] — asyncio's, FIFO-fair and cancellation-aware.
//!
//! Design: every primitive is a cheap `Clone + Send + Sync` handle over one
//! `Arc<Mutex<state>>`, the state holding a counter or flag and a
//! [`WaitQueue`](crate::waiters) of waiters. Ownership is *handed over*: releasing a
//! lock (or a permit) with waiters queued gives it to the oldest waiter directly, so a
//! newcomer can never overtake the queue.
//!
//! Every waiting future takes a pending cancel request at the top of its `poll`
//! (`tulip::core::take_cancel`) and returns `Err(Cancelled)`. A waiter that gives up —
//! cancelled, or its future dropped — after it was handed the lock passes it on to the
//! next waiter, so the lock is never stranded.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use tulip_core::take_cancel;

use crate::error::Error;
use crate::waiters::WaitQueue;

/// Locks a state mutex; a panic while it was held does not poison the primitive.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------
// Lock

#[derive(Default)]
struct LockState {
    locked: bool,
    waiters: WaitQueue<()>,
}

impl LockState {
    /// Hands the lock to the oldest waiter, or unlocks it.
    fn release(&mut self) {
        if self.waiters.notify_one(()).is_err() {
            self.locked = false;
        }
    }
}

/// asyncio.Lock: a mutual-exclusion lock for tasks. Clones share the lock.
///
/// [`acquire`](Self::acquire) gives a [`LockGuard`]; dropping the guard releases the
/// lock (asyncio's `async with lock:`). Waiters get the lock in the order they asked.
///
/// # Examples
/// ```
/// use tulip::Lock;
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let lock = Lock::new();
///     let guard = lock.acquire().await?;
///     assert!(lock.locked());
///     drop(guard);
///     assert!(!lock.locked());
///     Ok::<_, tulip::Error>(())
/// })?;
/// # Ok::<(), tulip::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Lock {
    inner: Arc<Mutex<LockState>>,
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.inner);
        f.debug_struct("Lock")
            .field("locked", &st.locked)
            .field("waiters", &st.waiters.len())
            .finish()
    }
}

impl Lock {
    /// A new, unlocked lock.
    pub fn new() -> Lock {
        Lock::default()
    }

    /// True while some task holds the lock.
    pub fn locked(&self) -> bool {
        lock(&self.inner).locked
    }

    /// How many tasks are queued waiting right now (a snapshot, for tests and
    /// monitoring; asyncio keeps it private).
    pub fn waiters(&self) -> usize {
        lock(&self.inner).waiters.len()
    }

    /// Waits for the lock and returns a guard that releases it on drop.
    ///
    /// Output: the guard, or `Err(Cancelled)` if the task was cancelled while waiting.
    ///
    /// # Cancel safety
    /// Cancel safe: a cancelled or dropped `acquire` leaves the queue; if the lock had
    /// just been handed to it, it passes to the next waiter.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            lock: self,
            key: None,
            cancellable: true,
        }
    }

    /// Takes the lock if it is free and nobody is queued for it.
    pub fn try_acquire(&self) -> Option<LockGuard<'_>> {
        let mut st = lock(&self.inner);
        if st.locked || !st.waiters.is_empty() {
            return None;
        }
        st.locked = true;
        Some(LockGuard::new(self))
    }

    /// `acquire` that ignores cancel requests (used to re-take a condition's lock).
    fn acquire_uncancellable(&self) -> Acquire<'_> {
        Acquire {
            lock: self,
            key: None,
            cancellable: false,
        }
    }

    fn release(&self) {
        lock(&self.inner).release();
    }

    fn same(&self, other: &Lock) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// The future of [`Lock::acquire`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Acquire<'a> {
    lock: &'a Lock,
    key: Option<usize>,
    cancellable: bool,
}

impl<'a> Future for Acquire<'a> {
    type Output = tulip_core::Result<LockGuard<'a>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A ready await point spends the task's budget (tulip_core::coop).
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        let this = self.get_mut();
        if this.cancellable {
            if let Some(c) = take_cancel() {
                this.abandon();
                return Poll::Ready(Err(c.into()));
            }
        }
        let mut st = lock(&this.lock.inner);
        match this.key {
            None if !st.locked && st.waiters.is_empty() => {
                st.locked = true;
                Poll::Ready(Ok(LockGuard::new(this.lock)))
            }
            None => {
                this.key = Some(st.waiters.push(cx.waker()));
                crate::pending(tulip_core::introspect::Waiting::Lock {
                    addr: crate::addr(&this.lock.inner),
                })
            }
            Some(k) => match st.waiters.take(k, cx.waker()) {
                Some(()) => {
                    this.key = None;
                    Poll::Ready(Ok(LockGuard::new(this.lock)))
                }
                None => crate::pending(tulip_core::introspect::Waiting::Lock {
                    addr: crate::addr(&this.lock.inner),
                }),
            },
        }
    }
}

impl Acquire<'_> {
    fn abandon(&mut self) {
        if let Some(k) = self.key.take() {
            let mut st = lock(&self.lock.inner);
            if st.waiters.remove(k).is_some() {
                st.release();
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// Holds a [`Lock`]; releases it when dropped.
#[derive(Debug)]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
    held: bool,
}

impl<'a> LockGuard<'a> {
    fn new(lock: &'a Lock) -> Self {
        LockGuard { lock, held: true }
    }

    /// The lock this guard holds.
    pub fn lock(&self) -> &'a Lock {
        self.lock
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        if self.held {
            self.lock.release();
        }
    }
}

// ---------------------------------------------------------------------------------
// Event

#[derive(Default)]
struct EventState {
    set: bool,
    waiters: WaitQueue<()>,
}

/// asyncio.Event: a flag tasks can wait for. Clones share the flag.
///
/// # Examples
/// ```
/// use tulip::Event;
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let ev = Event::new();
///     let setter = ev.clone();
///     tulip::create_task(async move {
///         setter.set();
///         Ok::<_, tulip::Error>(())
///     })?;
///     ev.wait().await?;
///     assert!(ev.is_set());
///     Ok::<_, tulip::Error>(())
/// })?;
/// # Ok::<(), tulip::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Event {
    inner: Arc<Mutex<EventState>>,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

impl Event {
    /// A new, clear event.
    pub fn new() -> Event {
        Event::default()
    }

    /// True once [`set`](Self::set) (and not cleared since).
    pub fn is_set(&self) -> bool {
        lock(&self.inner).set
    }

    /// Sets the flag and wakes every waiter; they all return even if the flag is
    /// cleared before they run.
    pub fn set(&self) {
        let mut st = lock(&self.inner);
        st.set = true;
        st.waiters.notify_all(());
    }

    /// Clears the flag.
    pub fn clear(&self) {
        lock(&self.inner).set = false;
    }

    /// How many tasks are queued waiting right now (a snapshot, for tests and
    /// monitoring; asyncio keeps it private).
    pub fn waiters(&self) -> usize {
        lock(&self.inner).waiters.len()
    }

    /// Waits until the flag is set (at once if it is).
    ///
    /// Output: `Ok(())`, or `Err(Cancelled)`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
        }
    }
}

/// The future of [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl Future for EventWait<'_> {
    type Output = tulip_core::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A ready await point spends the task's budget (tulip_core::coop).
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        let this = self.get_mut();
        if let Some(c) = take_cancel() {
            this.abandon();
            return Poll::Ready(Err(c.into()));
        }
        let mut st = lock(&this.event.inner);
        match this.key {
            None if st.set => Poll::Ready(Ok(())),
            None => {
                this.key = Some(st.waiters.push(cx.waker()));
                crate::pending(tulip_core::introspect::Waiting::Event {
                    addr: crate::addr(&this.event.inner),
                })
            }
            Some(k) => match st.waiters.take(k, cx.waker()) {
                Some(()) => {
                    this.key = None;
                    Poll::Ready(Ok(()))
                }
                None => crate::pending(tulip_core::introspect::Waiting::Event {
                    addr: crate::addr(&this.event.inner),
                }),
            },
        }
    }
}

impl EventWait<'_> {
    fn abandon(&mut self) {
        if let Some(k) = self.key.take() {
            // A `set` it missed needs no passing on: every waiter got one.
            let _ = lock(&self.event.inner).waiters.remove(k);
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        self.abandon();
    }
}

// ---------------------------------------------------------------------------------
// Condition

/// asyncio.Condition: waiters that a holder of the lock notifies. Clones share it.
///
/// Take the lock with [`acquire`](Self::acquire), then [`wait`](Self::wait) with the
/// guard: it releases the lock while waiting and takes it again before returning —
/// even when the wait is cancelled, as asyncio does.
///
/// As in asyncio, [`notify`](Self::notify) and [`notify_all`](Self::notify_all) need
/// the lock to be held: otherwise they fail with `RuntimeError`.
///
/// # Examples
/// A wait always goes with a predicate that the notifier changes under the lock: on
/// the threaded executor the notifying task may run before the waiter waits, and a
/// bare `wait` would then miss the only notify.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use tulip::Condition;
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let cond = Condition::new();
///     let ready = Arc::new(AtomicBool::new(false));
///     let (c2, r2) = (cond.clone(), ready.clone());
///     tulip::create_task(async move {
///         let _g = c2.acquire().await?;
///         r2.store(true, Ordering::SeqCst); // the state changes under the lock
///         c2.notify_all()?;
///         Ok::<_, tulip::sync::Error>(())
///     })?;
///     let mut guard = cond.acquire().await?;
///     while !ready.load(Ordering::SeqCst) {
///         cond.wait(&mut guard).await?;
///     }
///     Ok::<_, tulip::sync::Error>(())
/// })?;
/// # Ok::<(), tulip::sync::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Condition {
    lock: Lock,
    waiters: Arc<Mutex<WaitQueue<()>>>,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .field("waiters", &lock(&self.waiters).len())
            .finish()
    }
}

impl Condition {
    /// A condition with its own new lock.
    pub fn new() -> Condition {
        Condition::default()
    }

    /// A condition over an existing lock (asyncio's `Condition(lock)`).
    pub fn with_lock(lock: Lock) -> Condition {
        Condition {
            lock,
            waiters: Arc::default(),
        }
    }

    /// The underlying lock.
    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// True while the lock is held.
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// How many tasks wait in [`wait`](Self::wait) right now (a snapshot, for tests
    /// and monitoring).
    pub fn waiters(&self) -> usize {
        lock(&self.waiters).len()
    }

    /// Takes the underlying lock ([`Lock::acquire`]).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub fn acquire(&self) -> Acquire<'_> {
        self.lock.acquire()
    }

    /// Releases the lock held by `guard`, waits for a notification, and takes the lock
    /// again before returning.
    ///
    /// # Errors
    /// `RuntimeError` if `guard` does not hold this condition's lock; `Cancelled` if the
    /// task was cancelled while waiting, or before (the lock is let go and held again
    /// all the same, as in asyncio: a task queued for it takes it in between).
    ///
    /// # Cancel safety
    /// Cancel safe with respect to `cancel()`: a notification given to a waiter that
    /// was just cancelled passes to the next waiter. Dropping the future while it waits
    /// leaves `guard` released (it will not release again on drop).
    pub async fn wait(&self, guard: &mut LockGuard<'_>) -> Result<(), Error> {
        if !guard.held || !guard.lock.same(&self.lock) {
            return Err(Error::RuntimeError(
                "wait() needs a held guard of the condition's lock",
            ));
        }
        let outcome = CondWait {
            cond: self,
            guard: &mut *guard,
            key: None,
        }
        .await;
        let mut again = self.lock.acquire_uncancellable().await?;
        again.held = false;
        guard.held = true;
        outcome.map_err(Error::from)
    }

    /// Waits until `predicate()` is true, re-checking after each notification.
    ///
    /// # Errors
    /// As [`wait`](Self::wait).
    ///
    /// # Cancel safety
    /// As [`wait`](Self::wait).
    pub async fn wait_for<P: FnMut() -> bool>(
        &self,
        guard: &mut LockGuard<'_>,
        mut predicate: P,
    ) -> Result<(), Error> {
        while !predicate() {
            self.wait(guard).await?;
        }
        Ok(())
    }

    /// Wakes up to `n` waiters, oldest first; returns how many.
    ///
    /// # Errors
    /// `RuntimeError` if the lock is not held (asyncio: "cannot notify on un-acquired
    /// lock").
    pub fn notify(&self, n: usize) -> Result<usize, Error> {
        self.check_held()?;
        let mut w = lock(&self.waiters);
        Ok((0..n).take_while(|_| w.notify_one(()).is_ok()).count())
    }

    /// Wakes every waiter; returns how many.
    ///
    /// # Errors
    /// As [`notify`](Self::notify).
    pub fn notify_all(&self) -> Result<usize, Error> {
        self.check_held()?;
        Ok(lock(&self.waiters).notify_all(()))
    }

    fn check_held(&self) -> Result<(), Error> {
        if self.lock.locked() {
            Ok(())
        } else {
            Err(Error::RuntimeError("cannot notify on un-acquired lock"))
        }
    }
}

struct CondWait<'a, 'g, 'l> {
    cond: &'a Condition,
    guard: &'g mut LockGuard<'l>,
    key: Option<usize>,
}

impl Future for CondWait<'_, '_, '_> {
    type Output = tulip_core::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(c) = take_cancel() {
            if this.key.is_none() && this.guard.held {
                // Cancelled before it queued: asyncio's `wait` lets the lock go
                // first all the same (a queued task takes it), and `wait` takes it
                // again. Holding on to it here would make that wait for ourselves.
                this.guard.held = false;
                this.cond.lock.release();
            }
            this.abandon();
            return Poll::Ready(Err(c.into()));
        }
        let mut w = lock(&this.cond.waiters);
        match this.key {
            None => {
                // Queue first, then release: a notify in between is not lost.
                this.key = Some(w.push(cx.waker()));
                drop(w);
                this.guard.held = false;
                this.cond.lock.release();
                crate::pending(tulip_core::introspect::Waiting::Condition {
                    addr: crate::addr(&this.cond.waiters),
                })
            }
            Some(k) => match w.take(k, cx.waker()) {
                Some(()) => {
                    this.key = None;
                    Poll::Ready(Ok(()))
                }
                None => crate::pending(tulip_core::introspect::Waiting::Condition {
                    addr: crate::addr(&this.cond.waiters),
                }),
            },
        }
    }
}

impl CondWait<'_, '_, '_> {
    fn abandon(&mut self) {
        if let Some(k) = self.key.take() {
            let mut w = lock(&self.cond.waiters);
            if w.remove(k).is_some() {
                let _ = w.notify_one(());
            }
        }
    }
}

impl Drop for CondWait<'_, '_, '_> {
    fn drop(&mut self) {
        self.abandon();
    }
}

// ---------------------------------------------------------------------------------
// Semaphore

struct SemState {
    value: usize,
    bound: Option<usize>,
    waiters: WaitQueue<()>,
}

impl SemState {
    /// Hands a permit to the oldest waiter, or returns it to the counter.
    fn release(&mut self) {
        if self.waiters.notify_one(()).is_err() {
            self.value += 1;
        }
    }
}

/// asyncio.Semaphore: at most `value` holders at a time. Clones share the counter.
///
/// [`acquire`](Self::acquire) gives a [`SemaphorePermit`] that releases on drop
/// (asyncio's `async with sem:`); [`SemaphorePermit::forget`] plus
/// [`release`](Self::release) are the explicit `acquire()`/`release()` pair.
/// Waiters are served in arrival order.
///
/// # Examples
/// ```
/// use tulip::Semaphore;
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let sem = Semaphore::new(2);
///     let a = sem.acquire().await?;
///     let _b = sem.acquire().await?;
///     assert!(sem.locked());
///     drop(a);
///     assert_eq!(sem.available(), 1);
///     Ok::<_, tulip::Error>(())
/// })?;
/// # Ok::<(), tulip::Error>(())
/// ```
#[derive(Clone)]
pub struct Semaphore {
    inner: Arc<Mutex<SemState>>,
}

impl std::fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.inner);
        f.debug_struct("Semaphore")
            .field("value", &st.value)
            .field("waiters", &st.waiters.len())
            .finish()
    }
}

impl Semaphore {
    /// A semaphore with `value` permits.
    pub fn new(value: usize) -> Semaphore {
        Semaphore::build(value, None)
    }

    fn build(value: usize, bound: Option<usize>) -> Semaphore {
        Semaphore {
            inner: Arc::new(Mutex::new(SemState {
                value,
                bound,
                waiters: WaitQueue::default(),
            })),
        }
    }

    /// Permits free right now.
    pub fn available(&self) -> usize {
        lock(&self.inner).value
    }

    /// How many tasks are queued waiting right now (a snapshot, for tests and
    /// monitoring; asyncio keeps it private).
    pub fn waiters(&self) -> usize {
        lock(&self.inner).waiters.len()
    }

    /// True when `acquire` would wait (asyncio's `locked()`).
    pub fn locked(&self) -> bool {
        let st = lock(&self.inner);
        st.value == 0 || !st.waiters.is_empty()
    }

    /// Waits for a permit.
    ///
    /// Output: the permit, or `Err(Cancelled)`.
    ///
    /// # Cancel safety
    /// Cancel safe: a permit handed to a waiter that was just cancelled passes to the
    /// next waiter.
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        SemaphoreAcquire {
            sem: self,
            key: None,
        }
    }

    /// Takes a permit if one is free and nobody is queued.
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        let mut st = lock(&self.inner);
        if st.value == 0 || !st.waiters.is_empty() {
            return None;
        }
        st.value -= 1;
        Some(SemaphorePermit { sem: self })
    }

    /// Adds a permit (wakes the oldest waiter, if any). A plain `Semaphore` has no
    /// upper bound; see [`BoundedSemaphore`].
    pub fn release(&self) {
        lock(&self.inner).release();
    }
}

/// The future of [`Semaphore::acquire`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct SemaphoreAcquire<'a> {
    sem: &'a Semaphore,
    key: Option<usize>,
}

impl<'a> Future for SemaphoreAcquire<'a> {
    type Output = tulip_core::Result<SemaphorePermit<'a>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A ready await point spends the task's budget (tulip_core::coop).
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        let this = self.get_mut();
        if let Some(c) = take_cancel() {
            this.abandon();
            return Poll::Ready(Err(c.into()));
        }
        let mut st = lock(&this.sem.inner);
        match this.key {
            None if st.value > 0 && st.waiters.is_empty() => {
                st.value -= 1;
                Poll::Ready(Ok(SemaphorePermit { sem: this.sem }))
            }
            None => {
                this.key = Some(st.waiters.push(cx.waker()));
                crate::pending(tulip_core::introspect::Waiting::Semaphore {
                    addr: crate::addr(&this.sem.inner),
                })
            }
            Some(k) => match st.waiters.take(k, cx.waker()) {
                Some(()) => {
                    this.key = None;
                    Poll::Ready(Ok(SemaphorePermit { sem: this.sem }))
                }
                None => crate::pending(tulip_core::introspect::Waiting::Semaphore {
                    addr: crate::addr(&this.sem.inner),
                }),
            },
        }
    }
}

impl SemaphoreAcquire<'_> {
    fn abandon(&mut self) {
        if let Some(k) = self.key.take() {
            let mut st = lock(&self.sem.inner);
            if st.waiters.remove(k).is_some() {
                st.release();
            }
        }
    }
}

impl Drop for SemaphoreAcquire<'_> {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// One permit of a [`Semaphore`]; released when dropped.
#[derive(Debug)]
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken without releasing it on drop (pair it with a later
    /// `release()`).
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release();
    }
}

/// asyncio.BoundedSemaphore: a [`Semaphore`] whose [`release`](Self::release) fails
/// when it would exceed the initial value.
///
/// # Examples
/// ```
/// use tulip::sync::{BoundedSemaphore, Error};
/// let sem = BoundedSemaphore::new(1);
/// assert!(matches!(sem.release(), Err(Error::ValueError(_))));
/// ```
#[derive(Clone, Debug)]
pub struct BoundedSemaphore {
    sem: Semaphore,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` permits, never more.
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            sem: Semaphore::build(value, Some(value)),
        }
    }

    /// Permits free right now.
    pub fn available(&self) -> usize {
        self.sem.available()
    }

    /// True when `acquire` would wait.
    pub fn locked(&self) -> bool {
        self.sem.locked()
    }

    /// Waits for a permit ([`Semaphore::acquire`]).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        self.sem.acquire()
    }

    /// Takes a permit if one is free and nobody is queued.
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.sem.try_acquire()
    }

    /// Gives a permit back.
    ///
    /// # Errors
    /// `ValueError` if that would make more permits than the initial value.
    pub fn release(&self) -> Result<(), Error> {
        let mut st = lock(&self.sem.inner);
        if st.bound.is_some_and(|b| st.value >= b) {
            return Err(Error::ValueError(
                "BoundedSemaphore released too many times",
            ));
        }
        st.release();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------
// Barrier

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Passed,
    Broken,
}

struct BarrierState {
    parties: usize,
    count: usize,
    broken: bool,
    waiters: WaitQueue<Pass>,
}

/// asyncio.Barrier: `parties` tasks wait until all of them have arrived.
/// Clones share the barrier.
///
/// [`wait`](Self::wait) returns the arrival index (`0..parties`) once the last party
/// arrives; [`abort`](Self::abort) breaks the barrier and every waiter gets
/// `BrokenBarrier`.
///
/// # Examples
/// ```
/// use tulip::Barrier;
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let b = Barrier::new(2);
///     let b2 = b.clone();
///     let t = tulip::create_task(async move { b2.wait().await })?;
///     let mine = b.wait().await?;
///     let theirs = t.await?;
///     assert_eq!(mine + theirs, 1);
///     Ok::<_, tulip::sync::Error>(())
/// })?;
/// # Ok::<(), tulip::sync::Error>(())
/// ```
#[derive(Clone)]
pub struct Barrier {
    inner: Arc<Mutex<BarrierState>>,
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.inner);
        f.debug_struct("Barrier")
            .field("parties", &st.parties)
            .field("n_waiting", &st.count)
            .field("broken", &st.broken)
            .finish()
    }
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    /// If `parties` is 0 (asyncio raises ValueError).
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "a barrier needs at least one party");
        Barrier {
            inner: Arc::new(Mutex::new(BarrierState {
                parties,
                count: 0,
                broken: false,
                waiters: WaitQueue::default(),
            })),
        }
    }

    /// How many tasks must arrive.
    pub fn parties(&self) -> usize {
        lock(&self.inner).parties
    }

    /// How many are waiting now.
    pub fn n_waiting(&self) -> usize {
        lock(&self.inner).count
    }

    /// True after [`abort`](Self::abort), until [`reset`](Self::reset).
    pub fn broken(&self) -> bool {
        lock(&self.inner).broken
    }

    /// Breaks the barrier: current and future waiters get `BrokenBarrier`.
    pub fn abort(&self) {
        let mut st = lock(&self.inner);
        st.broken = true;
        st.count = 0;
        st.waiters.notify_all(Pass::Broken);
    }

    /// Returns the barrier to its empty state; current waiters get `BrokenBarrier`.
    pub fn reset(&self) {
        let mut st = lock(&self.inner);
        st.waiters.notify_all(Pass::Broken);
        st.count = 0;
        st.broken = false;
    }

    /// Waits until `parties` tasks are waiting.
    ///
    /// Output: this task's arrival index.
    ///
    /// # Errors
    /// `BrokenBarrier` if the barrier is or gets broken; `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: a waiter cancelled before the barrier passes no longer counts as
    /// arrived.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
            index: 0,
        }
    }
}

/// The future of [`Barrier::wait`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    key: Option<usize>,
    index: usize,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(c) = take_cancel() {
            this.abandon();
            return Poll::Ready(Err(c.into()));
        }
        let mut st = lock(&this.barrier.inner);
        let Some(k) = this.key else {
            if st.broken {
                return Poll::Ready(Err(Error::BrokenBarrier));
            }
            let index = st.count;
            st.count += 1;
            if st.count == st.parties {
                st.count = 0;
                st.waiters.notify_all(Pass::Passed);
                return Poll::Ready(Ok(index));
            }
            this.index = index;
            this.key = Some(st.waiters.push(cx.waker()));
            return crate::pending(tulip_core::introspect::Waiting::Barrier {
                addr: crate::addr(&this.barrier.inner),
            });
        };
        match st.waiters.take(k, cx.waker()) {
            None => crate::pending(tulip_core::introspect::Waiting::Barrier {
                addr: crate::addr(&this.barrier.inner),
            }),
            Some(pass) => {
                this.key = None;
                Poll::Ready(match pass {
                    Pass::Passed => Ok(this.index),
                    Pass::Broken => Err(Error::BrokenBarrier),
                })
            }
        }
    }
}

impl BarrierWait<'_> {
    fn abandon(&mut self) {
        if let Some(k) = self.key.take() {
            let mut st = lock(&self.barrier.inner);
            if st.waiters.remove(k).is_none() {
                // Still waiting: it no longer counts as arrived.
                st.count -= 1;
            }
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        self.abandon();
    }
}
