//! tulip's poller on Linux: epoll through rustix, one system call per wait.
//!
//! Why not the `polling` crate here: under strace, each of its waits is five system
//! calls. It arms a timerfd (even for no timeout), re-arms the timerfd and its
//! notification eventfd in the epoll set (two `epoll_ctl`), waits, and reads the
//! eventfd. The threaded executor's driver waits about once per echo round trip, so
//! those four extra calls were most of its syscalls (docs/benchmarks.md, "epoll").
//! Here:
//!
//! - sockets are registered once, edge-triggered, for reads, writes and
//!   `EPOLLRDHUP`, as with `polling`'s `PollMode::Edge`;
//! - a notification is one `write` to an eventfd registered edge-triggered. Every
//!   write is a new edge, so the eventfd is never read, except to reset its counter
//!   if that counter is ever full;
//! - a timeout in whole milliseconds (or none, or zero) goes to `epoll_wait` itself.
//!   Any other timeout arms a timerfd first, so timers keep their sub-millisecond
//!   precision. That costs two calls, not five. A timerfd still armed when I/O ends
//!   the wait only wakes a later wait early, and the loop then waits again.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags, Timespec};
use rustix::io::Errno;
use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
};

/// The key of the notification eventfd's events.
const NOTIFY_KEY: u64 = u64::MAX;
/// The key of the timeout timerfd's events.
const TIMER_KEY: u64 = u64::MAX - 1;

/// Events one wait can return (a stack buffer; more stay for the next wait).
const CAPACITY: usize = 256;

/// One epoll set with its notification eventfd and its timeout timerfd.
#[derive(Debug)]
pub(crate) struct Epoll {
    epfd: OwnedFd,
    notifier: OwnedFd,
    timer: OwnedFd,
}

/// A source's readiness, from one event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ready {
    pub(crate) key: usize,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// The peer shut down its side (or the connection is gone).
    pub(crate) read_closed: bool,
}

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        let epfd = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let notifier = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        let timer = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK,
        )?;
        let edge = EventFlags::IN | EventFlags::ET;
        epoll::add(&epfd, &notifier, EventData::new_u64(NOTIFY_KEY), edge)?;
        epoll::add(&epfd, &timer, EventData::new_u64(TIMER_KEY), edge)?;
        Ok(Epoll {
            epfd,
            notifier,
            timer,
        })
    }

    /// Registers `fd` under `key`, edge-triggered, for both directions.
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        let flags = EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::ET;
        epoll::add(&self.epfd, fd, EventData::new_u64(key as u64), flags)?;
        Ok(())
    }

    /// Removes `fd` from the set.
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        epoll::delete(&self.epfd, fd)?;
        Ok(())
    }

    /// Ends the current or the next wait.
    pub(crate) fn notify(&self) -> io::Result<()> {
        loop {
            match rustix::io::write(&self.notifier, &1u64.to_ne_bytes()) {
                Ok(_) => return Ok(()),
                Err(Errno::INTR) => {}
                // The counter is full (after 2^64 - 2 notifications nobody read):
                // empty it, then write again.
                Err(Errno::AGAIN) => {
                    let mut buf = [0u8; 8];
                    let _ = rustix::io::read(&self.notifier, &mut buf);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Waits for events, a notification, or `timeout` (`None`: no limit), then
    /// hands each source's readiness to `ready`.
    ///
    /// Returns whether it took a notification or the timer's expiry: a caller that
    /// is not the loop's own waiter (a worker looking without blocking) must pass
    /// it on with [`notify`](Self::notify), or the waiter would miss it.
    pub(crate) fn wait(
        &self,
        timeout: Option<Duration>,
        mut ready: impl FnMut(Ready),
    ) -> io::Result<bool> {
        let ts = match timeout {
            None => None,
            Some(d) if d.subsec_nanos() % 1_000_000 == 0 && d.as_millis() <= i32::MAX as u128 => {
                Some(Timespec {
                    tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                    tv_nsec: i64::from(d.subsec_nanos()),
                })
            }
            Some(d) => {
                self.arm(d)?;
                None
            }
        };
        let mut buf = [const { MaybeUninit::<epoll::Event>::uninit() }; CAPACITY];
        let events = match epoll::wait(&self.epfd, &mut buf[..], ts.as_ref()) {
            Ok((events, _)) => events,
            Err(Errno::INTR) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let mut woken = false;
        let read = EventFlags::IN | EventFlags::PRI | EventFlags::HUP | EventFlags::ERR;
        let write = EventFlags::OUT | EventFlags::HUP | EventFlags::ERR;
        for ev in events.iter() {
            // Copied out: the kernel's struct is packed.
            let (flags, data) = (ev.flags, ev.data);
            let key = data.u64();
            if key == NOTIFY_KEY || key == TIMER_KEY {
                woken = true;
                continue;
            }
            let Ok(key) = usize::try_from(key) else {
                continue;
            };
            ready(Ready {
                key,
                // A peer that shut down its side makes the socket readable (the next
                // read sees the end of the stream).
                readable: flags.intersects(read | EventFlags::RDHUP),
                writable: flags.intersects(write),
                read_closed: flags
                    .intersects(EventFlags::RDHUP | EventFlags::HUP | EventFlags::ERR),
            });
        }
        Ok(woken)
    }

    /// Arms the timerfd to fire once after `d`.
    fn arm(&self, d: Duration) -> io::Result<()> {
        let value = Timespec {
            tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(d.subsec_nanos()),
        };
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        timerfd_settime(self.timer.as_fd(), TimerfdTimerFlags::empty(), &spec)?;
        Ok(())
    }
}
