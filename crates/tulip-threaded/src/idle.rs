//! Parking idle workers without losing a wake-up.
//!
//! A worker with nothing to do goes to sleep in three steps, and whoever makes work
//! available wakes at most one sleeper:
//!
//! ```text
//! worker                                  pusher
//! 1. prepare(me): list.push(me),          a. make the work visible (queue push)
//!    sleeping += 1            (lock)      b. fence(SeqCst)
//! 2. fence(SeqCst), look at every queue   c. if sleeping > 0: lock list, pop one
//!    again; found work -> cancel(me)         worker, unpark it
//! 3. park(me): wait for the flag
//! ```
//!
//! Why no wake-up is lost: 1-2 and a-c are the two halves of a Dekker pair. With the
//! two fences, either the worker's second look (2) sees the work (a), or the pusher's
//! read of `sleeping` (c) sees the worker's announcement (1) — then the pusher takes
//! the lock after the worker released it, so it finds the worker in `list` and unparks
//! it. A [`Parker`] keeps its flag until `park` consumes it, so an unpark that comes
//! before the park is not lost either.
//!
//! **Spinning.** Before it parks, one worker at a time may spin: look for work again
//! for a few microseconds ([`Idle::start_spin`]), so that work which comes soon (the
//! next task a busy thread spawns, the reply to a message) is taken without a park and
//! an unpark, two syscalls. While a worker spins, pushers wake nobody: the spinner will
//! find the work. The same Dekker pair keeps that safe:
//!
//! ```text
//! spinner                                 pusher
//! i.  end_spin(): spinning = false,       a-c as above; then, under the lock,
//!     under the list's lock                  before it pops a sleeper:
//! ii. look at every queue again:          d. if spinning: done (wake nobody)
//!     - found work (now or while it
//!       spun): if more is queued,
//!       pass_on() (wakes a sleeper);
//!     - none: steps 1-3 above
//! ```
//!
//! A pusher that saw `spinning` raised held the lock before the spinner took it in
//! (i), so the spinner's look in (ii) comes after the push and sees the work; the
//! spinner answers for every push it made skip its wake-up, so when it takes one
//! piece of work and more is queued, it wakes a sleeper for the rest (loom finds a
//! worker left asleep beside queued work without that). A pusher that saw the flag
//! lowered wakes a sleeper, as before. Both halves use the lock:
//! with the flag alone, stored and read around `SeqCst` fences, loom reports a
//! deadlock (loom models `SeqCst` accesses as `AcqRel`, so that may be a false alarm;
//! the lock costs nothing more, since a pusher takes it anyway to pop a sleeper).
//! [`Idle::pass_on`] takes the lock for a reason of its own: a worker about to
//! sleep lists itself under it and looks at the queues after, so either the spinner
//! finds it listed or its look sees the work.
//!
//! Waking one named worker ([`Idle::unpark_worker`], for work pinned to it) and waking
//! everyone ([`Idle::unpark_all`], at the end of a run or at shutdown) take the lock
//! before looking at `list`; the worker's step 2 comes after it took the same lock in
//! step 1, so either it is listed (and unparked) or its second look sees the work or
//! the shutdown flag.
//!
//! Fields: `list` and `sleeping` change together, under `list`'s lock; `sleeping` is
//! read without the lock by pushers (the fast path when nobody sleeps). A parker's
//! flag is only touched under its own mutex.
//!
//! The protocol is checked with loom; see the `loom_tests` module below:
//! `LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg loom" cargo test -p tulip-threaded --lib
//! --release` (a bound of 3 preemptions already finds the lost wake-up that
//! [`Idle::cancel`] guards against, and runs in about a second).

use crate::sync::{fence, lock, AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering};

/// A flag with a condition variable: `unpark` sets it, `park` waits for it and clears
/// it. An `unpark` before the `park` makes that `park` return at once.
#[derive(Default)]
pub(crate) struct Parker {
    notified: Mutex<bool>,
    cv: Condvar,
}

impl Parker {
    /// Blocks until unparked, then consumes the notification.
    pub(crate) fn park(&self) {
        let mut notified = lock(&self.notified);
        while !*notified {
            notified = self.cv.wait(notified).unwrap_or_else(|e| e.into_inner());
        }
        *notified = false;
    }

    /// Wakes the parked thread (or the next `park`).
    pub(crate) fn unpark(&self) {
        *lock(&self.notified) = true;
        self.cv.notify_one();
    }
}

/// One generation of the parked word: see [`Idle::parked_word`].
const GENERATION: u64 = 1 << 32;

/// The parked word on a cache line of its own: with a virtual clock it is written at
/// every park, and `sleeping`, next to it, is read at every push.
#[repr(align(128))]
struct Padded(AtomicU64);

/// Which workers sleep, and their parkers.
pub(crate) struct Idle {
    /// Workers inside [`park`](Idle::park) in the low 32 bits; the high bits count
    /// wake-ups (a generation), so two equal reads mean nobody woke in between. Read
    /// by a virtual clock's idle check; kept (two atomic adds per park) only when
    /// `count_parked`.
    parked: Padded,
    count_parked: bool,
    /// A worker spins (see the module docs); `may_spin` false: none ever does.
    spinning: AtomicBool,
    may_spin: bool,
    sleeping: AtomicUsize,
    list: Mutex<Vec<usize>>,
    parkers: Box<[Parker]>,
}

impl Idle {
    /// Room for `workers` sleepers, numbered from 0; `count_parked` keeps
    /// [`parked_word`](Self::parked_word) up to date (a virtual clock needs it);
    /// `may_spin` lets a worker spin before it parks.
    pub(crate) fn new(workers: usize, count_parked: bool, may_spin: bool) -> Idle {
        Idle {
            parked: Padded(AtomicU64::new(0)),
            count_parked,
            spinning: AtomicBool::new(false),
            may_spin,
            sleeping: AtomicUsize::new(0),
            list: Mutex::new(Vec::with_capacity(workers)),
            parkers: (0..workers).map(|_| Parker::default()).collect(),
        }
    }

    /// Step 1: worker `me` announces that it is about to sleep. The caller must then
    /// look at every queue (and the stop flags) once more before [`park`](Self::park),
    /// and call [`cancel`](Self::cancel) instead if it found something.
    pub(crate) fn prepare(&self, me: usize) {
        let mut list = lock(&self.list);
        list.push(me);
        self.sleeping.fetch_add(1, Ordering::SeqCst);
        drop(list);
        fence(Ordering::SeqCst);
    }

    /// Worker `me` found work after [`prepare`](Self::prepare) and stays awake.
    ///
    /// If a pusher already picked it, that wake-up was meant for work this worker may
    /// not take (it took something else): it is passed on to another sleeper, or the
    /// sleepers would wait with work queued (loom found this one). The parker keeps the
    /// notification it was sent; its next `park` returns at once, which is harmless.
    pub(crate) fn cancel(&self, me: usize) {
        let picked = {
            let mut list = lock(&self.list);
            match list.iter().position(|&w| w == me) {
                Some(pos) => {
                    list.swap_remove(pos);
                    self.sleeping.fetch_sub(1, Ordering::SeqCst);
                    false
                }
                None => true,
            }
        };
        if picked {
            self.unpark_one();
        }
    }

    /// Step 3: sleeps until unparked. `all_parked` runs first if this worker is the
    /// last one to go to sleep (the virtual clock's driver waits for that).
    pub(crate) fn park(&self, me: usize, all_parked: impl FnOnce()) {
        if !self.count_parked {
            self.parkers[me].park();
            return;
        }
        let before = self.parked.0.fetch_add(1, Ordering::SeqCst);
        if Self::parked_count(before) + 1 == self.parkers.len() {
            all_parked();
        }
        self.parkers[me].park();
        // One worker fewer, one generation more.
        self.parked.0.fetch_add(GENERATION - 1, Ordering::SeqCst);
    }

    /// The parked count and the wake-up generation, in one word.
    pub(crate) fn parked_word(&self) -> u64 {
        self.parked.0.load(Ordering::SeqCst)
    }

    /// How many workers a [`parked_word`](Self::parked_word) says are parked.
    pub(crate) fn parked_count(word: u64) -> usize {
        (word & (GENERATION - 1)) as usize
    }

    /// Whether a thread of this loop may spin before it sleeps at all (the driver
    /// asks; a worker asks [`start_spin`](Self::start_spin)).
    pub(crate) fn may_spin(&self) -> bool {
        self.may_spin
    }

    /// How many workers are awake (not parked or about to park). A hint, read
    /// without the lock, for the driver deciding whether to spin: work for it comes
    /// soon only from a worker that runs, and a spin must not take the CPU of one.
    pub(crate) fn awake(&self) -> usize {
        self.parkers
            .len()
            .saturating_sub(self.sleeping.load(Ordering::Relaxed))
    }

    /// A worker with nothing to run asks to spin: true if it is now the spinner (no
    /// other worker spins, and spinning is allowed). It must call
    /// [`end_spin`](Self::end_spin) when done, then look at every queue again.
    pub(crate) fn start_spin(&self) -> bool {
        if !self.may_spin || self.spinning.load(Ordering::Relaxed) {
            return false;
        }
        let _list = lock(&self.list);
        !self.spinning.swap(true, Ordering::Relaxed)
    }

    /// The spinner stops spinning (step i of the module docs), under the list's lock.
    pub(crate) fn end_spin(&self) {
        let _list = lock(&self.list);
        self.spinning.store(false, Ordering::Relaxed);
    }

    /// Work was made visible: wakes one sleeping worker, if any, unless a worker
    /// spins (it will find the work).
    pub(crate) fn unpark_one(&self) {
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) == 0 {
            return;
        }
        self.wake_listed(true);
    }

    /// The spinner found work and saw more queued: wakes one sleeping worker, if any
    /// (see the module docs for why under the lock).
    pub(crate) fn pass_on(&self) {
        self.wake_listed(false);
    }

    /// Under the list's lock, takes one listed worker (none if `unless_spinning` and a
    /// worker spins) and unparks it.
    fn wake_listed(&self, unless_spinning: bool) {
        let picked = {
            let mut list = lock(&self.list);
            if unless_spinning && self.spinning.load(Ordering::Relaxed) {
                return;
            }
            let picked = list.pop();
            if picked.is_some() {
                self.sleeping.fetch_sub(1, Ordering::SeqCst);
            }
            picked
        };
        if let Some(w) = picked {
            self.parkers[w].unpark();
        }
    }

    /// Work pinned to worker `w` was made visible: wakes `w` if it sleeps.
    pub(crate) fn unpark_worker(&self, w: usize) {
        let was_listed = {
            let mut list = lock(&self.list);
            match list.iter().position(|&x| x == w) {
                Some(pos) => {
                    list.swap_remove(pos);
                    self.sleeping.fetch_sub(1, Ordering::SeqCst);
                    true
                }
                None => false,
            }
        };
        if was_listed {
            self.parkers[w].unpark();
        }
    }

    /// A flag every worker checks was raised (end of a run, shutdown): wakes them all.
    pub(crate) fn unpark_all(&self) {
        let woken = {
            let mut list = lock(&self.list);
            self.sleeping.store(0, Ordering::SeqCst);
            std::mem::take(&mut *list)
        };
        for w in woken {
            self.parkers[w].unpark();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Each model runs every interleaving loom can find; a lost wake-up shows up as a
    //! deadlock ("all threads blocked"), which fails the model.
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// A stand-in for the run queues: a count of items, taken one at a time.
    struct Work {
        items: AtomicUsize,
        stop: AtomicBool,
    }

    impl Work {
        fn empty() -> Arc<Work> {
            Arc::new(Work {
                items: AtomicUsize::new(0),
                stop: AtomicBool::new(false),
            })
        }

        fn take(&self) -> bool {
            let mut n = self.items.load(Ordering::SeqCst);
            while n > 0 {
                match self
                    .items
                    .compare_exchange(n, n - 1, Ordering::SeqCst, Ordering::SeqCst)
                {
                    Ok(_) => return true,
                    Err(now) => n = now,
                }
            }
            false
        }
    }

    /// The worker loop of `worker.rs`, reduced to the protocol: run until `want` items
    /// were taken or `stop` is seen.
    fn worker(idle: &Idle, work: &Work, me: usize, want: usize) -> usize {
        let mut got = 0;
        while got < want && !work.stop.load(Ordering::SeqCst) {
            if work.take() {
                got += 1;
                continue;
            }
            // The spin, reduced to one more look, and the look after it.
            if idle.start_spin() {
                let mut found = work.take();
                idle.end_spin();
                found = found || work.take();
                if found {
                    got += 1;
                    if work.items.load(Ordering::SeqCst) > 0 {
                        idle.pass_on();
                    }
                    continue;
                }
            }
            idle.prepare(me);
            if work.stop.load(Ordering::SeqCst) || work.take() {
                idle.cancel(me);
                if !work.stop.load(Ordering::SeqCst) {
                    got += 1;
                }
                continue;
            }
            idle.park(me, || {});
        }
        got
    }

    #[test]
    fn one_push_wakes_the_sleeper() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1, false, false));
            let work = Work::empty();
            let (i2, w2) = (idle.clone(), work.clone());
            let t = thread::spawn(move || worker(&i2, &w2, 0, 1));
            work.items.fetch_add(1, Ordering::SeqCst);
            idle.unpark_one();
            assert_eq!(t.join().unwrap(), 1);
        });
    }

    /// Two workers, two pushes, each waking one: both items are taken.
    fn two_pushes_both_taken(may_spin: bool) {
        loom::model(move || {
            let idle = Arc::new(Idle::new(2, false, may_spin));
            let work = Work::empty();
            let spawn = |me| {
                let (i, w) = (idle.clone(), work.clone());
                thread::spawn(move || worker(&i, &w, me, 1))
            };
            let (a, b) = (spawn(0), spawn(1));
            for _ in 0..2 {
                work.items.fetch_add(1, Ordering::SeqCst);
                idle.unpark_one();
            }
            assert_eq!(a.join().unwrap() + b.join().unwrap(), 2);
        });
    }

    #[test]
    fn two_workers_two_pushes_each_item_taken() {
        two_pushes_both_taken(false);
    }

    #[test]
    fn pinned_work_wakes_its_worker() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(2, false, false));
            let work = Work::empty();
            let (i2, w2) = (idle.clone(), work.clone());
            let t = thread::spawn(move || worker(&i2, &w2, 1, 1));
            work.items.fetch_add(1, Ordering::SeqCst);
            idle.unpark_worker(1);
            assert_eq!(t.join().unwrap(), 1);
        });
    }

    #[test]
    fn stop_wakes_every_sleeper() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(2, false, false));
            let work = Work::empty();
            let spawn = |me| {
                let (i, w) = (idle.clone(), work.clone());
                thread::spawn(move || worker(&i, &w, me, 1))
            };
            let (a, b) = (spawn(0), spawn(1));
            work.stop.store(true, Ordering::SeqCst);
            idle.unpark_all();
            assert_eq!(a.join().unwrap() + b.join().unwrap(), 0);
        });
    }

    /// While a worker spins, pushers wake nobody; the spinner passes the wake-up on
    /// when it found work and more is queued, so both items are taken.
    #[test]
    fn pushes_while_a_worker_spins_are_all_taken() {
        two_pushes_both_taken(true);
    }
}
