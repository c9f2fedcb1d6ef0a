//! Greenlets: symmetric coroutines that hand control to each other explicitly
//! with `switch`, as in Python's `greenlet` library.
//!
//! Each greenlet's body is an `async` block; `other.switch(value).await`
//! suspends the running body at that point and resumes `other` where it left
//! off. Plain (non-async) code is the *main* greenlet: it starts the dance
//! with [`Greenlet::switch_from_main`], which runs a trampoline that resumes
//! one body at a time until control comes back to main. One thread, no stack
//! switching, no event loop.
//!
//! ```
//! use tulip::coro::{Error, Greenlet};
//!
//! // from greenlet import greenlet
//! // def test1(x, y):
//! //     z = gr2.switch(x + y)
//! //     return z + "!"
//! // def test2(u):
//! //     gr1.switch(u.upper())
//! // gr1 = greenlet(test1); gr2 = greenlet(test2)
//! // print(gr1.switch("hello", " world"))   # HELLO WORLD!
//! let gr1: Greenlet<String> = Greenlet::empty();
//! let gr2 = Greenlet::new({
//!     let gr1 = gr1.clone();
//!     move |u: String| async move { gr1.switch(u.to_uppercase()).await }
//! });
//! gr1.set_run({
//!     let gr2 = gr2.clone();
//!     move |xy: String| async move {
//!         let z = gr2.switch(xy).await?;
//!         Ok(z + "!")
//!     }
//! })?;
//! assert_eq!(gr1.switch_from_main("hello world".into())?, "HELLO WORLD!");
//! assert!(gr1.is_dead());
//! assert!(!gr2.is_dead()); // still suspended in its switch, like in Python
//! # Ok::<(), Error>(())
//! ```
//!
//! # Differences from the greenlet library
//!
//! * One value type `T` per family of greenlets that switch to each other
//!   (Python passes arbitrary objects; use an enum for several kinds).
//! * Switching to a dead greenlet is [`Error::DeadGreenlet`] (the library
//!   silently goes to its parent instead).
//! * Plain code uses [`switch_from_main`](Greenlet::switch_from_main);
//!   bodies use [`switch`](Greenlet::switch)`(..).await`.
//! * A body returns `Result<T, Error>`; an `Err` (or a panic) is delivered to
//!   its parent, as an exception is raised in the parent's `switch`.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::drive::{catch, poll_once, Body};
use crate::Error;

thread_local! {
    /// The greenlet being polled right now, as a `Box<Greenlet<T>>`.
    static CURRENT: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    /// The switch the running body just asked for, as a `Box<(Greenlet<T>, T)>`.
    static NEXT: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    /// Whether a trampoline (`switch_from_main`) is running on this thread.
    static IN_TRAMPOLINE: Cell<bool> = const { Cell::new(false) };
}

type Run<T> = Box<dyn FnOnce(T) -> Body<T>>;

enum State<T> {
    /// No body yet (see [`Greenlet::empty`]).
    Empty,
    /// Has a body that has not been switched to yet.
    Unstarted(Run<T>),
    /// Suspended in a `switch` (or, for main, never used).
    Suspended(Body<T>),
    /// Being polled by the trampoline.
    Running,
    /// The body returned, failed or panicked.
    Dead,
}

struct Inner<T> {
    is_main: bool,
    /// `None` only for main.
    parent: Option<Greenlet<T>>,
    state: RefCell<State<T>>,
    /// What the pending `switch` of this greenlet returns when polled again.
    inbox: RefCell<Option<Result<T, Error>>>,
}

/// A greenlet: a body that runs when switched to and switches away explicitly.
///
/// `Greenlet` is a cheap handle (`Rc`); clones refer to the same greenlet.
/// `T` is the type of every value passed through [`switch`](Self::switch),
/// given to a body on its first start, and returned by a body to its parent.
///
/// Greenlets are single-threaded (`!Send`). Bodies that capture each other's
/// handles form `Rc` cycles that are broken when the bodies finish; greenlets
/// left suspended forever keep their captures alive.
///
/// # Examples
///
/// ```
/// use tulip::coro::Greenlet;
///
/// // A finished greenlet returns its value to its parent (here: main).
/// let add_one = Greenlet::new(|x: i32| async move { Ok(x + 1) });
/// assert_eq!(add_one.switch_from_main(41), Ok(42));
/// assert!(add_one.is_dead());
/// ```
pub struct Greenlet<T = ()> {
    inner: Rc<Inner<T>>,
}

impl<T: 'static> Greenlet<T> {
    /// Makes a greenlet that will run `run(value)` when first switched to with
    /// `value`. Its parent (where control and its return value go when the
    /// body finishes) is the greenlet running now, or main in plain code.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::Greenlet;
    ///
    /// let parent = Greenlet::new(|x: u32| async move {
    ///     // Created inside `parent`, so `parent` is its parent.
    ///     let child = Greenlet::new(|y: u32| async move { Ok(y * 10) });
    ///     let from_child = child.switch(x).await?; // child finished: its return value
    ///     Ok(from_child + 1)
    /// });
    /// assert_eq!(parent.switch_from_main(4), Ok(41));
    /// ```
    pub fn new<F, Fut>(run: F) -> Self
    where
        F: FnOnce(T) -> Fut + 'static,
        Fut: Future<Output = Result<T, Error>> + 'static,
    {
        let g = Self::empty();
        *g.inner.state.borrow_mut() = State::Unstarted(boxed(run));
        g
    }

    /// Makes a greenlet without a body yet; give it one with
    /// [`set_run`](Self::set_run) (Python: `g = greenlet(); g.run = f`). This
    /// is how two greenlets that switch to each other get each other's handle.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::{Error, Greenlet};
    ///
    /// let g: Greenlet<u8> = Greenlet::empty();
    /// assert_eq!(g.switch_from_main(1), Err(Error::NoRun));
    /// g.set_run(|x| async move { Ok(x * 2) })?;
    /// assert_eq!(g.switch_from_main(4), Ok(8));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn empty() -> Self {
        Greenlet {
            inner: Rc::new(Inner {
                is_main: false,
                parent: Some(Self::current()),
                state: RefCell::new(State::Empty),
                inbox: RefCell::new(None),
            }),
        }
    }

    /// Gives a not-yet-started greenlet its body (replacing any earlier one).
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyRunning`] if the greenlet already started (or is main).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::{Error, Greenlet};
    ///
    /// let g = Greenlet::new(|()| async move { Ok(()) });
    /// g.set_run(|()| async move { Ok(()) })?; // not started yet: fine
    /// g.switch_from_main(())?;
    /// assert_eq!(g.set_run(|()| async move { Ok(()) }), Err(Error::AlreadyRunning));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn set_run<F, Fut>(&self, run: F) -> Result<(), Error>
    where
        F: FnOnce(T) -> Fut + 'static,
        Fut: Future<Output = Result<T, Error>> + 'static,
    {
        if self.is_main() {
            return Err(Error::AlreadyRunning);
        }
        let mut state = self.inner.state.borrow_mut();
        match *state {
            State::Empty | State::Unstarted(_) => {
                let old = mem::replace(&mut *state, State::Unstarted(boxed(run)));
                drop(state);
                drop(old);
                Ok(())
            }
            _ => Err(Error::AlreadyRunning),
        }
    }

    /// The main greenlet: plain, non-async code. Switching to it from a body
    /// returns control to the [`switch_from_main`](Self::switch_from_main)
    /// call that started the trampoline, with the switched value.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::Greenlet;
    ///
    /// // A greenlet used like a generator: it hands values to main one by one.
    /// let numbers = Greenlet::new(|first: u32| async move {
    ///     for i in first..first + 2 {
    ///         Greenlet::main().switch(i).await?;
    ///     }
    ///     Ok(0)
    /// });
    /// assert_eq!(numbers.switch_from_main(1), Ok(1));
    /// assert_eq!(numbers.switch_from_main(0), Ok(2));
    /// assert_eq!(numbers.switch_from_main(0), Ok(0)); // finished: its return value
    /// ```
    pub fn main() -> Self {
        Greenlet {
            inner: Rc::new(Inner {
                is_main: true,
                parent: None,
                state: RefCell::new(State::Empty),
                inbox: RefCell::new(None),
            }),
        }
    }

    /// The greenlet running now (Python: `greenlet.getcurrent()`): the one
    /// whose body is being polled, or main in plain code.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::Greenlet;
    ///
    /// assert!(Greenlet::<()>::current().is_main());
    /// let g = Greenlet::new(|()| async move {
    ///     assert!(!Greenlet::<()>::current().is_main());
    ///     Ok(())
    /// });
    /// g.switch_from_main(())?;
    /// # Ok::<(), tulip::coro::Error>(())
    /// ```
    pub fn current() -> Self {
        CURRENT
            .with(|c| {
                c.borrow()
                    .as_ref()
                    .and_then(|g| g.downcast_ref::<Self>().cloned())
            })
            .unwrap_or_else(Self::main)
    }

    /// Suspends the running greenlet here and resumes `self` with `value`
    /// (Python: `value = self.switch(value)`): if `self` has not started,
    /// `value` is its body's argument; if it is suspended in a switch, that
    /// switch returns `value`. Resolves when some greenlet switches back to
    /// this one, to the value it passed — or, when a greenlet whose parent is
    /// this one finishes, to its return value.
    ///
    /// Switching to the running greenlet itself resolves at once to `value`.
    ///
    /// # Errors
    ///
    /// [`Error::DeadGreenlet`] if `self` finished; [`Error::NoRun`] if it has
    /// no body; [`Error::NotInGreenlet`] if not awaited inside a running
    /// greenlet with the same `T`. Also, when resumed: the error (or panic) of
    /// a child greenlet that failed, delivered to its parent.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::{Error, Greenlet};
    ///
    /// // A worker that pauses halfway, handing progress to main.
    /// let worker = Greenlet::new(|n: u32| async move {
    ///     let more = Greenlet::main().switch(n + 1).await?; // pause, report to main
    ///     Ok(n + 1 + more)
    /// });
    /// assert_eq!(worker.switch_from_main(1), Ok(2)); // it switched to main with 1 + 1
    /// assert_eq!(worker.switch_from_main(40), Ok(42)); // its switch returned 40; it returned 42
    /// assert_eq!(worker.switch_from_main(0), Err(Error::DeadGreenlet));
    /// ```
    pub fn switch(&self, value: T) -> Switch<T> {
        Switch {
            target: Some((self.clone(), value)),
            waiting: None,
        }
    }

    /// Switches from plain code (the main greenlet) to `self` with `value`,
    /// and runs greenlets until one switches back to main or a greenlet whose
    /// parent is main finishes; returns that value.
    ///
    /// Switching to main itself returns `value` at once.
    ///
    /// # Errors
    ///
    /// [`Error::DeadGreenlet`] if `self` finished; [`Error::NoRun`] if it has
    /// no body; [`Error::NotMain`] if called inside a running greenlet; and the
    /// error of a top-level greenlet that failed ([`Error::Panicked`],
    /// [`Error::ForeignAwait`], or an error its body returned).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::{Error, Greenlet};
    ///
    /// let g = Greenlet::new(|s: String| async move { Ok(s + " world") });
    /// assert_eq!(g.switch_from_main("hello".to_string())?, "hello world");
    /// assert_eq!(g.switch_from_main("again".to_string()), Err(Error::DeadGreenlet));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn switch_from_main(&self, value: T) -> Result<T, Error> {
        if IN_TRAMPOLINE.with(Cell::get) {
            return Err(Error::NotMain);
        }
        if self.is_main() {
            return Ok(value);
        }
        self.check_target()?;
        IN_TRAMPOLINE.with(|t| t.set(true));
        let _reset = ResetTrampoline;

        let mut target = self.clone();
        let mut incoming: Result<T, Error> = Ok(value);
        loop {
            if target.is_main() {
                return incoming;
            }
            let state = mem::replace(&mut *target.inner.state.borrow_mut(), State::Running);
            let mut body = match (state, incoming) {
                (State::Unstarted(run), Ok(value)) => match catch(move || run(value)) {
                    Ok(body) => body,
                    Err(e) => {
                        target.set_state(State::Dead);
                        incoming = Err(e);
                        target = target.live_parent();
                        continue;
                    }
                },
                (State::Suspended(body), result) => {
                    *target.inner.inbox.borrow_mut() = Some(result);
                    body
                }
                // An error thrown into a greenlet that never ran kills it and
                // goes on to its parent.
                (State::Unstarted(_), Err(e)) => {
                    target.set_state(State::Dead);
                    incoming = Err(e);
                    target = target.live_parent();
                    continue;
                }
                // Not reachable through `switch` (it checks its target) nor
                // through parents (only live ones are chosen); pass on upward.
                (other, result) => {
                    target.set_state(other);
                    incoming = result;
                    target = target.live_parent();
                    continue;
                }
            };

            NEXT.with(|n| n.borrow_mut().take());
            let previous = CURRENT.with(|c| c.borrow_mut().replace(Box::new(target.clone())));
            let polled = poll_once(&mut body);
            CURRENT.with(|c| *c.borrow_mut() = previous);
            let next = NEXT
                .with(|n| n.borrow_mut().take())
                .and_then(|b| b.downcast::<(Self, T)>().ok());

            match polled {
                Ok(Poll::Pending) => match next {
                    Some(switch) => {
                        let (to, value) = *switch;
                        target.set_state(State::Suspended(body));
                        target = to;
                        incoming = Ok(value);
                    }
                    None => {
                        target.set_state(State::Dead);
                        drop(body);
                        incoming = Err(Error::ForeignAwait);
                        target = target.live_parent();
                    }
                },
                Ok(Poll::Ready(result)) => {
                    target.set_state(State::Dead);
                    drop(body);
                    incoming = result;
                    target = target.live_parent();
                }
                Err(panicked) => {
                    target.set_state(State::Dead);
                    drop(body);
                    incoming = Err(panicked);
                    target = target.live_parent();
                }
            }
        }
    }

    /// `true` for the main greenlet (plain code).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::Greenlet;
    ///
    /// assert!(Greenlet::<()>::main().is_main());
    /// assert!(!Greenlet::new(|()| async move { Ok(()) }).is_main());
    /// ```
    pub fn is_main(&self) -> bool {
        self.inner.is_main
    }

    /// `true` once the body returned, failed or panicked (Python: `g.dead`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::Greenlet;
    ///
    /// let g = Greenlet::new(|()| async move { Ok(()) });
    /// assert!(!g.is_dead());
    /// g.switch_from_main(())?;
    /// assert!(g.is_dead());
    /// # Ok::<(), tulip::coro::Error>(())
    /// ```
    pub fn is_dead(&self) -> bool {
        matches!(*self.inner.state.borrow(), State::Dead)
    }

    /// `true` while the body has started and not finished (Python: `bool(g)`).
    /// Always `true` for main.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::Greenlet;
    ///
    /// let g = Greenlet::new(|()| async move { Greenlet::main().switch(()).await });
    /// assert!(!g.is_active());
    /// g.switch_from_main(())?; // g switched back to main and is suspended
    /// assert!(g.is_active());
    /// # Ok::<(), tulip::coro::Error>(())
    /// ```
    pub fn is_active(&self) -> bool {
        self.is_main()
            || matches!(
                *self.inner.state.borrow(),
                State::Suspended(_) | State::Running
            )
    }

    /// The greenlet that gets control and the return value when this one
    /// finishes; `None` only for main.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::coro::Greenlet;
    ///
    /// let g = Greenlet::new(|()| async move { Ok(()) });
    /// assert!(g.parent().is_some_and(|p| p.is_main()));
    /// assert!(Greenlet::<()>::main().parent().is_none());
    /// ```
    pub fn parent(&self) -> Option<Self> {
        self.inner.parent.clone()
    }

    fn check_target(&self) -> Result<(), Error> {
        match *self.inner.state.borrow() {
            State::Dead => Err(Error::DeadGreenlet),
            State::Empty if !self.is_main() => Err(Error::NoRun),
            _ => Ok(()),
        }
    }

    /// Replaces the state, dropping the old one after the borrow ends (its
    /// drop may run user code that looks at this greenlet).
    fn set_state(&self, state: State<T>) {
        let dead = matches!(state, State::Dead);
        let old = mem::replace(&mut *self.inner.state.borrow_mut(), state);
        let stale = if dead {
            self.inner.inbox.borrow_mut().take()
        } else {
            None
        };
        drop(old);
        drop(stale);
    }

    /// The nearest ancestor that is not dead (main at the latest).
    fn live_parent(&self) -> Self {
        let mut p = self.parent().unwrap_or_else(Self::main);
        while p.is_dead() {
            p = p.parent().unwrap_or_else(Self::main);
        }
        p
    }
}

fn boxed<T, F, Fut>(run: F) -> Run<T>
where
    F: FnOnce(T) -> Fut + 'static,
    Fut: Future<Output = Result<T, Error>> + 'static,
{
    Box::new(move |value| Box::pin(run(value)) as Body<T>)
}

struct ResetTrampoline;

impl Drop for ResetTrampoline {
    fn drop(&mut self) {
        IN_TRAMPOLINE.with(|t| t.set(false));
    }
}

impl<T> Clone for Greenlet<T> {
    fn clone(&self) -> Self {
        Greenlet {
            inner: Rc::clone(&self.inner),
        }
    }
}

/// Two handles are equal when they name the same greenlet; all handles to
/// main are equal.
impl<T> PartialEq for Greenlet<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.inner.is_main && other.inner.is_main) || Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<T> Eq for Greenlet<T> {}

impl<T> fmt::Debug for Greenlet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner.is_main {
            return f.write_str("Greenlet(main)");
        }
        let state = match self.inner.state.try_borrow().as_deref() {
            Ok(State::Empty) => "empty",
            Ok(State::Unstarted(_)) => "unstarted",
            Ok(State::Suspended(_)) => "suspended",
            Ok(State::Running) | Err(_) => "running",
            Ok(State::Dead) => "dead",
        };
        f.debug_struct("Greenlet").field("state", &state).finish()
    }
}

/// The future returned by [`Greenlet::switch`].
#[must_use = "a switch does nothing unless awaited"]
pub struct Switch<T> {
    target: Option<(Greenlet<T>, T)>,
    /// The greenlet that suspended in this switch.
    waiting: Option<Greenlet<T>>,
}

// Nothing is pinned in place.
impl<T> Unpin for Switch<T> {}

impl<T: 'static> Future for Switch<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(me) = &self.waiting {
            return match me.inner.inbox.borrow_mut().take() {
                Some(result) => Poll::Ready(result),
                None => Poll::Pending,
            };
        }
        let (target, value) = self.target.take().expect("Switch polled after completion");
        let Some(me) = CURRENT.with(|c| {
            c.borrow()
                .as_ref()
                .and_then(|g| g.downcast_ref::<Greenlet<T>>().cloned())
        }) else {
            return Poll::Ready(Err(Error::NotInGreenlet));
        };
        if target == me {
            return Poll::Ready(Ok(value));
        }
        if let Err(e) = target.check_target() {
            return Poll::Ready(Err(e));
        }
        NEXT.with(|n| *n.borrow_mut() = Some(Box::new((target, value))));
        self.waiting = Some(me);
        Poll::Pending
    }
}

impl<T> fmt::Debug for Switch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Switch")
            .field("waiting", &self.waiting.is_some())
            .finish_non_exhaustive()
    }
}
