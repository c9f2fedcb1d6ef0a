//! Process-wide POSIX signal delivery for tulip's event loops.
//!
//! A signal is process-wide state; a loop is not. This crate keeps the process-wide
//! part in one place:
//!
//! - a fixed table of [`MAX_SUBSCRIBERS`] slots; a [`Subscriber`] owns one slot, a
//!   non-blocking self-pipe and the set of signals it wants;
//! - one C signal handler for every signal anyone subscribed to. It does only
//!   async-signal-safe things: it marks the signal pending in each interested slot and
//!   writes one byte to that slot's pipe. Whoever reads the pipe (a loop, through its
//!   reactor) then calls [`Subscriber::take_pending`] and runs its callbacks as
//!   ordinary code, never inside the signal handler;
//! - the disposition: installed (`sigaction`, `SA_RESTART`) when the first subscriber
//!   of a signal arrives, and put back to what it was before when the last one leaves
//!   (for a signal nobody had touched, the default action).
//!
//! A subscriber that leaves waits until no signal handler is running before it closes
//! its pipe, so the handler never writes to a descriptor that was closed (or reused).
//!
//! ```
//! let sub = tulip::signal::Subscriber::new()?;
//! sub.add(tulip::signal::SIGUSR1)?;
//! tulip::signal::raise(tulip::signal::SIGUSR1)?;
//! assert_eq!(sub.take_pending(), vec![tulip::signal::SIGUSR1]);
//! assert!(sub.remove(tulip::signal::SIGUSR1));
//! assert!(tulip::signal::is_default(tulip::signal::SIGUSR1));
//! # Ok::<(), tulip::signal::SignalError>(())
//! ```
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

pub use libc::{
    SIGALRM, SIGCHLD, SIGHUP, SIGINT, SIGKILL, SIGPIPE, SIGQUIT, SIGSTOP, SIGTERM, SIGUSR1,
    SIGUSR2, SIGWINCH,
};

/// How many subscribers (loops with signal handlers, plus tulip's child watcher) the
/// process can have at once.
pub const MAX_SUBSCRIBERS: usize = 64;

/// The highest signal number accepted (signals are 1..=`MAX_SIGNAL`; a pending set is
/// one bit per signal in a `u64`).
pub const MAX_SIGNAL: i32 = 64;

/// Why a signal cannot be subscribed to.
#[derive(Debug)]
#[non_exhaustive]
pub enum SignalError {
    /// Not a signal number of this system (asyncio's `ValueError`).
    Invalid(i32),
    /// A signal that cannot be caught (SIGKILL, SIGSTOP; asyncio's `RuntimeError`), or
    /// one raised by a faulting instruction (SIGSEGV, SIGBUS, SIGILL, SIGFPE), which a
    /// handler that merely records it would return into, faulting again forever.
    Uncatchable(i32),
    /// All [`MAX_SUBSCRIBERS`] slots are taken.
    TooManySubscribers,
    /// The OS refused (creating the pipe, `sigaction`).
    Io(io::Error),
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignalError::Invalid(s) => write!(f, "invalid signal number {s}"),
            SignalError::Uncatchable(s) => write!(f, "signal {s} cannot be caught"),
            SignalError::TooManySubscribers => write!(
                f,
                "too many signal subscribers in this process (limit {MAX_SUBSCRIBERS})"
            ),
            SignalError::Io(e) => write!(f, "signal set-up failed: {e}"),
        }
    }
}

impl std::error::Error for SignalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SignalError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for SignalError {
    fn from(e: io::Error) -> Self {
        SignalError::Io(e)
    }
}

/// Checks that `sig` is a signal a handler may be added for.
///
/// # Errors
/// [`SignalError::Invalid`] outside `1..=MAX_SIGNAL` (or above the system's real-time
/// range); [`SignalError::Uncatchable`] for SIGKILL, SIGSTOP and the fault signals.
pub fn check(sig: i32) -> Result<(), SignalError> {
    if !(1..=MAX_SIGNAL).contains(&sig) || sig > libc::SIGRTMAX() {
        return Err(SignalError::Invalid(sig));
    }
    if [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
    ]
    .contains(&sig)
    {
        return Err(SignalError::Uncatchable(sig));
    }
    Ok(())
}

fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// One subscriber's entry in the table the signal handler reads.
struct Slot {
    taken: AtomicBool,
    /// The write end of the subscriber's pipe, -1 when free.
    fd: AtomicI32,
    /// Signals wanted (bit `sig - 1`).
    mask: AtomicU64,
    /// Signals delivered and not yet taken.
    pending: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    taken: AtomicBool::new(false),
    fd: AtomicI32::new(-1),
    mask: AtomicU64::new(0),
    pending: AtomicU64::new(0),
};

static SLOTS: [Slot; MAX_SUBSCRIBERS] = [FREE; MAX_SUBSCRIBERS];

/// Signal handlers running right now, on any thread.
static IN_HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Per signal: how many subscribers want it, and the disposition found before the
/// first of them installed ours.
struct Installed {
    count: [usize; MAX_SIGNAL as usize + 1],
    previous: [Option<libc::sigaction>; MAX_SIGNAL as usize + 1],
}

static INSTALLED: Mutex<Installed> = Mutex::new(Installed {
    count: [0; MAX_SIGNAL as usize + 1],
    previous: [None; MAX_SIGNAL as usize + 1],
});

fn installed() -> std::sync::MutexGuard<'static, Installed> {
    INSTALLED.lock().unwrap_or_else(|e| e.into_inner())
}

extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: `__errno_location` returns this thread's errno; saving and restoring it
    // keeps the interrupted code's errno intact across our `write`.
    let errno = unsafe { *libc::__errno_location() };
    IN_HANDLER.fetch_add(1, SeqCst);
    if (1..=MAX_SIGNAL).contains(&sig) {
        let b = bit(sig);
        for slot in &SLOTS {
            if slot.mask.load(SeqCst) & b == 0 {
                continue;
            }
            let fd = slot.fd.load(SeqCst);
            if fd >= 0 {
                slot.pending.fetch_or(b, SeqCst);
                let byte = 1u8;
                // SAFETY: `fd` is the write end of a live pipe: a subscriber clears
                // `fd` and then waits for `IN_HANDLER` to reach zero before closing it,
                // and we counted ourselves in before loading it. `write` is
                // async-signal-safe; a full pipe (EAGAIN) loses nothing, the pending
                // bit is already set and a byte is already waiting.
                unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
            }
        }
    }
    IN_HANDLER.fetch_sub(1, SeqCst);
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

fn current_action(sig: i32) -> io::Result<libc::sigaction> {
    // SAFETY: an all-zero `sigaction` is a valid value to be overwritten.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only queries; `old` is a valid out-pointer.
    if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

fn install(sig: i32) -> io::Result<libc::sigaction> {
    // SAFETY: an all-zero `sigaction` is a valid value to fill in.
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    new.sa_flags = libc::SA_RESTART;
    if sig == libc::SIGCHLD {
        new.sa_flags |= libc::SA_NOCLDSTOP;
    }
    // SAFETY: `sa_mask` is a valid sigset_t to initialise.
    unsafe { libc::sigemptyset(&mut new.sa_mask) };
    // SAFETY: an all-zero `sigaction` is a valid out-value.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `on_signal` only touches atomics and calls async-signal-safe `write`;
    // both pointers are valid.
    if unsafe { libc::sigaction(sig, &new, &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

fn restore(sig: i32, previous: &libc::sigaction) {
    // SAFETY: `previous` is the action `sigaction` reported for `sig` before we
    // installed ours; putting it back is what the process had.
    unsafe { libc::sigaction(sig, previous, std::ptr::null_mut()) };
}

/// True if `sig`'s disposition is the default action (`SIG_DFL`) and no subscriber of
/// this crate wants it. What `run()` checks before taking over SIGINT, as
/// `asyncio.run` checks for `default_int_handler`.
pub fn is_default(sig: i32) -> bool {
    if check(sig).is_err() {
        return false;
    }
    let ours = installed().count[sig as usize] > 0;
    !ours && current_action(sig).is_ok_and(|a| a.sa_sigaction == libc::SIG_DFL)
}

/// True on the process's main thread (the one whose thread id is the process id).
/// asyncio installs its SIGINT handling only there; so does `tulip::run`.
pub fn is_main_thread() -> bool {
    // SAFETY: `gettid` and `getpid` have no preconditions.
    unsafe { libc::gettid() == libc::getpid() }
}

/// Sends `sig` to this process (`kill(getpid(), sig)`).
///
/// # Errors
/// `Invalid` for a number out of range; the OS error otherwise.
pub fn raise(sig: i32) -> Result<(), SignalError> {
    if !(0..=MAX_SIGNAL).contains(&sig) {
        return Err(SignalError::Invalid(sig));
    }
    // SAFETY: `kill` has no memory-safety preconditions.
    if unsafe { libc::kill(libc::getpid(), sig) } != 0 {
        return Err(io::Error::last_os_error().into());
    }
    Ok(())
}

/// A slot in the process's signal table with its self-pipe: the read end (its
/// [`AsFd`]) becomes readable when one of its signals arrives.
///
/// Dropping it unsubscribes every signal it holds (restoring dispositions nobody else
/// wants) and closes the pipe.
pub struct Subscriber {
    slot: usize,
    read: OwnedFd,
    write: OwnedFd,
}

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("slot", &self.slot)
            .field("signals", &self.signals())
            .finish()
    }
}

fn nonblocking_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as RawFd; 2];
    // SAFETY: `fds` is a valid array of two ints for `pipe2` to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `pipe2` succeeded, so both are fresh descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

impl Subscriber {
    /// Takes a free slot and makes its pipe.
    ///
    /// # Errors
    /// `TooManySubscribers` if all slots are taken; `Io` if the pipe cannot be made.
    pub fn new() -> Result<Subscriber, SignalError> {
        let (read, write) = nonblocking_pipe()?;
        let slot = SLOTS
            .iter()
            .position(|s| {
                s.taken
                    .compare_exchange(false, true, SeqCst, SeqCst)
                    .is_ok()
            })
            .ok_or(SignalError::TooManySubscribers)?;
        let s = &SLOTS[slot];
        s.pending.store(0, SeqCst);
        s.mask.store(0, SeqCst);
        s.fd.store(write.as_raw_fd(), SeqCst);
        Ok(Subscriber { slot, read, write })
    }

    fn entry(&self) -> &'static Slot {
        &SLOTS[self.slot]
    }

    /// Subscribes to `sig` (no effect if already subscribed). The first subscriber of
    /// a signal in the process installs the handler.
    ///
    /// # Errors
    /// As [`check`]; `Io` if `sigaction` fails.
    pub fn add(&self, sig: i32) -> Result<(), SignalError> {
        check(sig)?;
        let mut inst = installed();
        if self.entry().mask.load(SeqCst) & bit(sig) != 0 {
            return Ok(());
        }
        if inst.count[sig as usize] == 0 {
            let previous = install(sig)?;
            inst.previous[sig as usize] = Some(previous);
        }
        inst.count[sig as usize] += 1;
        self.entry().mask.fetch_or(bit(sig), SeqCst);
        Ok(())
    }

    /// Unsubscribes from `sig`; true if it was subscribed. The last subscriber of a
    /// signal puts back the disposition found before the first.
    pub fn remove(&self, sig: i32) -> bool {
        if check(sig).is_err() {
            return false;
        }
        let mut inst = installed();
        let before = self.entry().mask.fetch_and(!bit(sig), SeqCst);
        if before & bit(sig) == 0 {
            return false;
        }
        inst.count[sig as usize] -= 1;
        if inst.count[sig as usize] == 0 {
            if let Some(prev) = inst.previous[sig as usize].take() {
                restore(sig, &prev);
            }
        }
        true
    }

    /// The signals subscribed to, in increasing order.
    pub fn signals(&self) -> Vec<i32> {
        signals_in(self.entry().mask.load(SeqCst))
    }

    /// Empties the pipe and returns the signals delivered since the last call, in
    /// increasing order (several deliveries of one signal count once, as the OS
    /// itself merges them).
    pub fn take_pending(&self) -> Vec<i32> {
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: `buf` is valid for `buf.len()` bytes; the read end is ours.
            let n =
                unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                let interrupted =
                    n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted;
                if !interrupted {
                    break;
                }
            }
        }
        signals_in(self.entry().pending.swap(0, SeqCst))
    }
}

fn signals_in(mask: u64) -> Vec<i32> {
    (1..=MAX_SIGNAL).filter(|&s| mask & bit(s) != 0).collect()
}

impl AsFd for Subscriber {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        for sig in self.signals() {
            self.remove(sig);
        }
        let s = self.entry();
        s.fd.store(-1, SeqCst);
        // A handler that loaded the old descriptor has counted itself in; wait for it
        // to leave before the descriptor is closed (handlers are a few writes long).
        while IN_HANDLER.load(SeqCst) != 0 {
            std::thread::yield_now();
        }
        let _ = &self.write;
        s.pending.store(0, SeqCst);
        s.taken.store(false, SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slot table and dispositions are process-wide: one test at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    /// Waits (at most 10 s) until `sub`'s pipe is readable: in a process with several
    /// threads, kill(2) may return before another thread has run the handler.
    fn wait_readable(sub: &Subscriber) {
        let mut p = libc::pollfd {
            fd: sub.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `p` is one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut p, 1, 10_000) };
        assert_eq!(n, 1, "the signal never arrived");
    }

    #[test]
    fn slots_run_out_and_come_back() {
        let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<Subscriber> = (0..MAX_SUBSCRIBERS)
            .map(|_| Subscriber::new().unwrap())
            .collect();
        assert!(matches!(
            Subscriber::new(),
            Err(SignalError::TooManySubscribers)
        ));
        all.pop();
        let again = Subscriber::new().unwrap();
        again.add(SIGUSR2).unwrap();
        raise(SIGUSR2).unwrap();
        wait_readable(&again);
        assert_eq!(again.take_pending(), vec![SIGUSR2]);
        for s in &all {
            assert!(
                s.take_pending().is_empty(),
                "only subscribers of the signal hear it"
            );
        }
    }

    #[test]
    fn the_previous_disposition_is_put_back() {
        let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: SIG_IGN is a valid disposition for SIGUSR2; no other code in this
        // test binary handles SIGUSR2 while SERIAL is held.
        unsafe { libc::signal(SIGUSR2, libc::SIG_IGN) };
        let sub = Subscriber::new().unwrap();
        sub.add(SIGUSR2).unwrap();
        assert!(!is_default(SIGUSR2));
        assert!(sub.remove(SIGUSR2));
        assert_eq!(current_action(SIGUSR2).unwrap().sa_sigaction, libc::SIG_IGN);
        // SAFETY: as above; back to the default.
        unsafe { libc::signal(SIGUSR2, libc::SIG_DFL) };
        assert!(is_default(SIGUSR2));
    }

    #[test]
    fn numbers_are_checked() {
        assert!(matches!(check(0), Err(SignalError::Invalid(0))));
        assert!(matches!(
            check(MAX_SIGNAL + 1),
            Err(SignalError::Invalid(_))
        ));
        assert!(matches!(check(SIGKILL), Err(SignalError::Uncatchable(_))));
        assert!(matches!(
            check(libc::SIGSEGV),
            Err(SignalError::Uncatchable(_))
        ));
        assert!(check(SIGTERM).is_ok());
    }
}
