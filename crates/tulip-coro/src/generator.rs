//! Python-style generators: `yield`, `send`, `close` and `yield from`,
//! written as async bodies and driven without an event loop.
//!
//! A generator body is an `async` block that receives a [`Co`] handle and
//! yields through it:
//!
//! ```
//! use tulip::coro::{Generator, GeneratorState};
//!
//! // def averager():
//! //     total, count, avg = 0, 0, None
//! //     while True:
//! //         x = yield avg
//! //         total += x; count += 1; avg = total / count
//! let mut avg: Generator<Option<f64>, f64> = Generator::new(|co| async move {
//!     let (mut total, mut count, mut avg) = (0.0, 0.0, None);
//!     loop {
//!         let x = co.yield_(avg).await?;
//!         total += x;
//!         count += 1.0;
//!         avg = Some(total / count);
//!     }
//! });
//! assert_eq!(avg.start(), Ok(GeneratorState::Yielded(None))); // Python: avg.send(None)
//! assert_eq!(avg.send(10.0), Ok(GeneratorState::Yielded(Some(10.0))));
//! assert_eq!(avg.send(20.0), Ok(GeneratorState::Yielded(Some(15.0))));
//! assert_eq!(avg.close(), Ok(None));
//! ```
//!
//! # How the first resume works
//!
//! Python starts a generator with `next(g)` or `g.send(None)` and rejects any
//! other first value, because no `yield` is waiting to receive it. Rust has no
//! `None` for every type, so tulip splits the two: [`Generator::start`] runs the
//! body up to its first yield and takes no value; [`Generator::send`] delivers a
//! value to the pending yield, and returns [`Error::NotStarted`] on a generator
//! that was not started. For generators whose send type is `()`,
//! [`Generator::next`] and the [`Iterator`] impl do the right one automatically.
//!
//! # Driving
//!
//! Every resume polls the body once with a waker that does nothing: no thread,
//! no event loop, never blocking. A body that awaits anything other than its
//! own yields (and that thing is not immediately ready) fails with
//! [`Error::ForeignAwait`]; a panicking body fails with [`Error::Panicked`].
//! Either way the generator is finished afterwards.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::drive::{catch, poll_once, Body};
use crate::Error;

/// What a resumed generator did: yielded an item, or returned.
///
/// # Examples
///
/// ```
/// use tulip::coro::{Generator, GeneratorState};
///
/// let mut g: Generator<&str, (), u32> = Generator::new(|co| async move {
///     co.yield_("working").await?;
///     Ok(42)
/// });
/// assert_eq!(g.next(), Ok(GeneratorState::Yielded("working")));
/// assert_eq!(g.next(), Ok(GeneratorState::Complete(42)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeneratorState<Y, R> {
    /// The body is suspended at a yield that produced this item.
    Yielded(Y),
    /// The body returned this value (Python: `StopIteration.value`).
    Complete(R),
}

impl<Y, R> GeneratorState<Y, R> {
    /// The yielded item, or `None` if the generator completed.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::GeneratorState;
    ///
    /// assert_eq!(GeneratorState::<u8, ()>::Yielded(3).yielded(), Some(3));
    /// assert_eq!(GeneratorState::<u8, ()>::Complete(()).yielded(), None);
    /// ```
    pub fn yielded(self) -> Option<Y> {
        match self {
            GeneratorState::Yielded(y) => Some(y),
            GeneratorState::Complete(_) => None,
        }
    }

    /// The returned value, or `None` if the generator yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::GeneratorState;
    ///
    /// assert_eq!(GeneratorState::<u8, &str>::Complete("done").complete(), Some("done"));
    /// assert_eq!(GeneratorState::<u8, &str>::Yielded(1).complete(), None);
    /// ```
    pub fn complete(self) -> Option<R> {
        match self {
            GeneratorState::Yielded(_) => None,
            GeneratorState::Complete(r) => Some(r),
        }
    }
}

/// What the driver hands to the yield the body is suspended at.
enum Input<S> {
    Empty,
    Value(S),
    Exit,
}

/// State shared between a [`Generator`] and the [`Co`] handle of its body.
struct Slot<Y, S> {
    /// The item the body just yielded, taken by the driver.
    out: Option<Y>,
    /// What the pending yield will return when it is polled again.
    input: Input<S>,
}

type Start<Y, S, R> = Box<dyn FnOnce(Co<Y, S>) -> Body<R>>;

enum State<Y, S, R> {
    /// Created, body not called yet (Python: `GEN_CREATED`).
    Created(Start<Y, S, R>),
    /// Suspended at a yield (Python: `GEN_SUSPENDED`).
    Suspended(Body<R>),
    /// Returned, failed, panicked or closed (Python: `GEN_CLOSED`).
    Finished,
}

/// A generator: an async body that yields items of type `Y`, receives values
/// of type `S` from [`send`](Generator::send), and returns `R`.
///
/// Single-threaded (`!Send`), like everything that shares state through `Rc`.
/// Dropping a suspended generator closes it first, as CPython does when it
/// collects one, so the body's clean-up code runs (errors from that are ignored).
///
/// # Examples
///
/// ```
/// use tulip::coro::Generator;
///
/// // def countdown(n):
/// //     while n > 0:
/// //         yield n
/// //         n -= 1
/// fn countdown(mut n: u32) -> Generator<u32> {
///     Generator::new(move |co| async move {
///         while n > 0 {
///             co.yield_(n).await?;
///             n -= 1;
///         }
///         Ok(())
///     })
/// }
/// assert_eq!(countdown(3).collect::<Vec<_>>(), [3, 2, 1]);
/// ```
#[must_use = "a generator does nothing unless resumed"]
pub struct Generator<Y, S = (), R = ()> {
    slot: Rc<RefCell<Slot<Y, S>>>,
    state: State<Y, S, R>,
    /// An error that ended iteration through the [`Iterator`] impl.
    iter_error: Option<Error>,
}

impl<Y: 'static, S: 'static, R: 'static> Generator<Y, S, R> {
    /// Makes a generator from a body. Nothing runs until [`start`](Self::start)
    /// (or [`next`](Self::next)): not even the closure itself.
    ///
    /// The body gets a [`Co`] to yield through and returns `Result<R, Error>`,
    /// so `?` on [`Co::yield_`] lets it finish when the generator is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::{Generator, GeneratorState};
    ///
    /// let mut echo: Generator<String, String> = Generator::new(|co| async move {
    ///     let mut reply = String::from("ready");
    ///     loop {
    ///         let got: String = co.yield_(reply).await?;
    ///         reply = got.to_uppercase();
    ///     }
    /// });
    /// assert_eq!(echo.start(), Ok(GeneratorState::Yielded("ready".into())));
    /// assert_eq!(echo.send("hi".into()), Ok(GeneratorState::Yielded("HI".into())));
    /// ```
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Co<Y, S>) -> Fut + 'static,
        Fut: Future<Output = Result<R, Error>> + 'static,
    {
        Generator {
            slot: Rc::new(RefCell::new(Slot {
                out: None,
                input: Input::Empty,
            })),
            state: State::Created(Box::new(move |co| Box::pin(body(co)) as Body<R>)),
            iter_error: None,
        }
    }

    /// Runs the body up to its first yield (Python: `next(g)` / `g.send(None)`
    /// on a new generator).
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyStarted`] if it was started before, [`Error::Exhausted`]
    /// if it already finished (or was closed), and whatever the body fails with
    /// ([`Error::ForeignAwait`], [`Error::Panicked`], or an error it returns).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::{Error, Generator, GeneratorState};
    ///
    /// let mut g: Generator<i32, i32> = Generator::new(|co| async move {
    ///     let x = co.yield_(0).await?;
    ///     co.yield_(x + 1).await?;
    ///     Ok(())
    /// });
    /// assert_eq!(g.start(), Ok(GeneratorState::Yielded(0)));
    /// assert_eq!(g.start(), Err(Error::AlreadyStarted));
    /// ```
    pub fn start(&mut self) -> Result<GeneratorState<Y, R>, Error> {
        match mem::replace(&mut self.state, State::Finished) {
            State::Created(start) => {
                let co = Co {
                    slot: Rc::clone(&self.slot),
                };
                let mut body = catch(move || start(co))?;
                self.poll_body(&mut body, false)
                    .map(|state| self.keep_if_yielded(body, state))
            }
            State::Suspended(body) => {
                self.state = State::Suspended(body);
                Err(Error::AlreadyStarted)
            }
            State::Finished => Err(Error::Exhausted),
        }
    }

    /// Resumes the body: the pending [`Co::yield_`] returns `Ok(value)`, and the
    /// body runs to its next yield or to its end (Python: `g.send(value)`).
    ///
    /// # Errors
    ///
    /// [`Error::NotStarted`] before [`start`](Self::start) (the value is dropped
    /// and the generator stays unstarted), [`Error::Exhausted`] after the
    /// generator finished, and whatever the body fails with.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::{Error, Generator, GeneratorState};
    ///
    /// let mut double: Generator<i32, i32> = Generator::new(|co| async move {
    ///     let mut out = 0;
    ///     loop {
    ///         out = 2 * co.yield_(out).await?;
    ///     }
    /// });
    /// assert_eq!(double.send(1), Err(Error::NotStarted));
    /// double.start()?;
    /// assert_eq!(double.send(21), Ok(GeneratorState::Yielded(42)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn send(&mut self, value: S) -> Result<GeneratorState<Y, R>, Error> {
        self.resume(Input::Value(value))
    }

    /// Asks the generator to finish (Python: `g.close()`): its pending
    /// [`Co::yield_`] returns `Err(Error::GeneratorExit)`, the body cleans up
    /// and returns. A generator that never started or already finished is just
    /// marked finished.
    ///
    /// Returns the body's return value if it returned `Ok(r)` instead of
    /// propagating the exit (as Python 3.13's `close()` does), else `None`.
    ///
    /// # Errors
    ///
    /// [`Error::IgnoredExit`] if the body yielded again instead of finishing;
    /// any other error the body returns or a panic during clean-up. The
    /// generator is finished afterwards in every case.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// use tulip::coro::{Error, Generator};
    ///
    /// let cleaned = Rc::new(Cell::new(false));
    /// let flag = Rc::clone(&cleaned);
    /// let mut g: Generator<u8> = Generator::new(move |co| async move {
    ///     let r = co.yield_(1).await; // try:
    ///     flag.set(true);             // finally:
    ///     r
    /// });
    /// g.next()?;
    /// assert_eq!(g.close(), Ok(None));
    /// assert!(cleaned.get());
    /// assert_eq!(g.next(), Err(Error::Exhausted));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn close(&mut self) -> Result<Option<R>, Error> {
        match mem::replace(&mut self.state, State::Finished) {
            State::Created(_) | State::Finished => Ok(None),
            State::Suspended(mut body) => {
                self.slot.borrow_mut().input = Input::Exit;
                match self.poll_body(&mut body, true) {
                    Ok(GeneratorState::Complete(r)) => Ok(Some(r)),
                    Ok(GeneratorState::Yielded(_)) => unreachable!("poll_body reports IgnoredExit"),
                    Err(Error::GeneratorExit) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// `true` once the body has run (started, possibly finished since).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::Generator;
    ///
    /// let mut g: Generator<u8> = Generator::new(|co| async move { co.yield_(1).await });
    /// assert!(!g.is_started());
    /// g.next()?;
    /// assert!(g.is_started());
    /// # Ok::<(), tulip::coro::Error>(())
    /// ```
    pub fn is_started(&self) -> bool {
        !matches!(self.state, State::Created(_))
    }

    /// `true` once the generator returned, failed, panicked or was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::Generator;
    ///
    /// let mut g: Generator<u8> = Generator::new(|_co| async move { Ok(()) });
    /// assert!(!g.is_finished());
    /// g.next()?;
    /// assert!(g.is_finished());
    /// # Ok::<(), tulip::coro::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished)
    }

    /// Takes the error that ended a `for` loop (the [`Iterator`] impl cannot
    /// return it). Iterate with `for x in &mut gen` or `gen.by_ref()` to keep
    /// the generator around and check this afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::{Error, Generator};
    ///
    /// let mut g: Generator<u8> = Generator::new(|co| async move {
    ///     co.yield_(1).await?;
    ///     panic!("boom");
    /// });
    /// let items: Vec<u8> = g.by_ref().collect();
    /// assert_eq!(items, [1]);
    /// assert_eq!(g.take_error(), Some(Error::Panicked("boom".into())));
    /// ```
    pub fn take_error(&mut self) -> Option<Error> {
        self.iter_error.take()
    }

    fn resume(&mut self, input: Input<S>) -> Result<GeneratorState<Y, R>, Error> {
        match mem::replace(&mut self.state, State::Finished) {
            State::Suspended(mut body) => {
                self.slot.borrow_mut().input = input;
                self.poll_body(&mut body, false)
                    .map(|state| self.keep_if_yielded(body, state))
            }
            created @ State::Created(_) => {
                self.state = created;
                Err(Error::NotStarted)
            }
            State::Finished => Err(Error::Exhausted),
        }
    }

    /// Polls `body` once. On a yield the caller keeps the body (see
    /// [`keep_if_yielded`](Self::keep_if_yielded)); otherwise it is dropped and
    /// the generator stays finished.
    fn poll_body(
        &mut self,
        body: &mut Body<R>,
        closing: bool,
    ) -> Result<GeneratorState<Y, R>, Error> {
        let polled = poll_once(body);
        let out = {
            let mut slot = self.slot.borrow_mut();
            slot.input = Input::Empty;
            slot.out.take()
        };
        match polled? {
            Poll::Ready(Ok(r)) => Ok(GeneratorState::Complete(r)),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => match out {
                Some(_) if closing => Err(Error::IgnoredExit),
                Some(y) => Ok(GeneratorState::Yielded(y)),
                None => Err(Error::ForeignAwait),
            },
        }
    }

    fn keep_if_yielded(
        &mut self,
        body: Body<R>,
        state: GeneratorState<Y, R>,
    ) -> GeneratorState<Y, R> {
        if matches!(state, GeneratorState::Yielded(_)) {
            self.state = State::Suspended(body);
        }
        state
    }
}

impl<Y: 'static, R: 'static> Generator<Y, (), R> {
    /// Python's `next(g)` for generators that take no input: starts the
    /// generator the first time, then resumes its pending yield with `()`.
    ///
    /// Unlike [`Iterator::next`] (used by `for` loops) it reports the return
    /// value and errors.
    ///
    /// # Errors
    ///
    /// [`Error::Exhausted`] after the generator finished, and whatever the body
    /// fails with.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::{Error, Generator, GeneratorState};
    ///
    /// let mut g: Generator<char, (), usize> = Generator::new(|co| async move {
    ///     co.yield_('a').await?;
    ///     Ok(1)
    /// });
    /// assert_eq!(g.next(), Ok(GeneratorState::Yielded('a')));
    /// assert_eq!(g.next(), Ok(GeneratorState::Complete(1)));
    /// assert_eq!(g.next(), Err(Error::Exhausted));
    /// ```
    #[allow(clippy::should_implement_trait)] // it does implement Iterator too
    pub fn next(&mut self) -> Result<GeneratorState<Y, R>, Error> {
        if self.is_started() {
            self.send(())
        } else {
            self.start()
        }
    }
}

/// Iterates over the yielded items of a generator that takes no input, like
/// a Python `for` loop. Iteration stops when the body returns (the return
/// value is dropped) or fails (the error is kept for
/// [`Generator::take_error`]).
impl<Y: 'static, R: 'static> Iterator for Generator<Y, (), R> {
    type Item = Y;

    fn next(&mut self) -> Option<Y> {
        if self.is_finished() {
            return None;
        }
        match Generator::next(self) {
            Ok(GeneratorState::Yielded(y)) => Some(y),
            Ok(GeneratorState::Complete(_)) => None,
            Err(e) => {
                self.iter_error = Some(e);
                None
            }
        }
    }
}

impl<Y, S, R> Drop for Generator<Y, S, R> {
    fn drop(&mut self) {
        // Like CPython collecting a suspended generator: close it so its
        // clean-up runs. Not while unwinding, so a second panic can't abort.
        if std::thread::panicking() {
            return;
        }
        if let State::Suspended(mut body) = mem::replace(&mut self.state, State::Finished) {
            self.slot.borrow_mut().input = Input::Exit;
            let _ = poll_once(&mut body);
            let mut slot = self.slot.borrow_mut();
            slot.out = None;
            slot.input = Input::Empty;
        }
    }
}

impl<Y, S, R> fmt::Debug for Generator<Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Created(_) => "created",
            State::Suspended(_) => "suspended",
            State::Finished => "finished",
        };
        f.debug_struct("Generator").field("state", &state).finish()
    }
}

/// The handle a generator body yields through ("co" for coroutine).
///
/// Cloning it is cheap; every clone talks to the same generator. Its futures
/// only make progress when that generator is resumed, so awaiting them from
/// anywhere else (another generator, an executor) never completes.
///
/// # Examples
///
/// ```
/// use tulip::coro::{Co, Generator};
///
/// async fn emit_twice(co: &Co<&'static str>, s: &'static str) -> Result<(), tulip::coro::Error> {
///     co.yield_(s).await?;
///     co.yield_(s).await
/// }
/// let g: Generator<&str> = Generator::new(|co| async move {
///     emit_twice(&co, "a").await?;
///     emit_twice(&co, "b").await
/// });
/// assert_eq!(g.collect::<String>(), "aabb");
/// ```
pub struct Co<Y, S = ()> {
    slot: Rc<RefCell<Slot<Y, S>>>,
}

impl<Y, S> Clone for Co<Y, S> {
    fn clone(&self) -> Self {
        Co {
            slot: Rc::clone(&self.slot),
        }
    }
}

impl<Y, S> fmt::Debug for Co<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Co").finish_non_exhaustive()
    }
}

impl<Y: 'static, S: 'static> Co<Y, S> {
    /// Yields `item` to whoever resumed the generator and suspends the body
    /// (Python: `x = yield item`). Resolves to the value given to the next
    /// [`Generator::send`] (`()` for [`Generator::next`] and iteration).
    ///
    /// # Errors
    ///
    /// [`Error::GeneratorExit`] when the generator is being closed: return it
    /// (usually with `?`) after cleaning up. Yielding again instead makes
    /// [`Generator::close`] fail with [`Error::IgnoredExit`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::{Generator, GeneratorState};
    ///
    /// let mut g: Generator<u8, u8> = Generator::new(|co| async move {
    ///     let got = co.yield_(1).await?;
    ///     assert_eq!(got, 7);
    ///     Ok(())
    /// });
    /// g.start()?;
    /// assert_eq!(g.send(7), Ok(GeneratorState::Complete(())));
    /// # Ok::<(), tulip::coro::Error>(())
    /// ```
    pub fn yield_(&self, item: Y) -> Yield<Y, S> {
        Yield {
            slot: Rc::clone(&self.slot),
            item: Some(item),
            waiting: false,
        }
    }

    /// Delegates to a sub-generator (Python: `result = yield from sub`): its
    /// yields go out to this generator's caller, the caller's sends go in to
    /// it, and its return value is what this resolves to. Closing this
    /// generator while it delegates closes `sub` first.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyStarted`] if `sub` was started already; any error `sub`
    /// fails with (propagate it with `?`, as Python propagates exceptions); and
    /// [`Error::GeneratorExit`] when this generator is being closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::Generator;
    ///
    /// fn inner() -> Generator<u8, (), &'static str> {
    ///     Generator::new(|co| async move {
    ///         co.yield_(2).await?;
    ///         Ok("inner done")
    ///     })
    /// }
    /// let outer: Generator<u8> = Generator::new(|co| async move {
    ///     co.yield_(1).await?;
    ///     let result = co.yield_from(inner()).await?;
    ///     assert_eq!(result, "inner done");
    ///     co.yield_(3).await
    /// });
    /// assert_eq!(outer.collect::<Vec<_>>(), [1, 2, 3]);
    /// ```
    pub async fn yield_from<R2: 'static>(&self, mut sub: Generator<Y, S, R2>) -> Result<R2, Error> {
        let mut state = sub.start()?;
        loop {
            match state {
                GeneratorState::Complete(r) => return Ok(r),
                GeneratorState::Yielded(y) => match self.yield_(y).await {
                    Ok(value) => state = sub.send(value)?,
                    Err(exit) => {
                        sub.close()?;
                        return Err(exit);
                    }
                },
            }
        }
    }
}

/// The future returned by [`Co::yield_`].
#[must_use = "a yield does nothing unless awaited"]
pub struct Yield<Y, S> {
    slot: Rc<RefCell<Slot<Y, S>>>,
    item: Option<Y>,
    waiting: bool,
}

// The item is moved out, never pinned in place.
impl<Y, S> Unpin for Yield<Y, S> {}

impl<Y, S> Future for Yield<Y, S> {
    type Output = Result<S, Error>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut slot = this.slot.borrow_mut();
        if !this.waiting {
            // Another yield's item is still waiting to be taken (only possible
            // when yields are polled concurrently): go out on a later resume.
            if slot.out.is_none() {
                slot.out = this.item.take();
                this.waiting = true;
            }
            return Poll::Pending;
        }
        match mem::replace(&mut slot.input, Input::Empty) {
            Input::Value(v) => Poll::Ready(Ok(v)),
            Input::Exit => Poll::Ready(Err(Error::GeneratorExit)),
            Input::Empty => Poll::Pending,
        }
    }
}

impl<Y, S> fmt::Debug for Yield<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yield")
            .field("waiting", &self.waiting)
            .finish_non_exhaustive()
    }
}
