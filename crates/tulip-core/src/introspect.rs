//! Looking into a loop's tasks: what each is, where it was spawned, what it waits on,
//! and the tree of who awaits whom (asyncio 3.14's `python -m asyncio pstree`).
//!
//! Await points say what they wait on with [`note_wait`] when they return `Pending`;
//! the note goes into the current task's header as one atomic word (a kind and a
//! payload), cleared when the task's next poll begins. Reading it needs no lock and
//! no cooperation from the loop, so a dump can be taken from any thread while the
//! loop runs.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::event_loop::EventLoop;
use crate::header::{TaskRef, PENDING};

/// What a pending task is waiting on, as the await point it stopped at said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Waiting {
    /// A sleep (or timeout) until this instant.
    Sleep {
        /// The deadline.
        until: Instant,
    },
    /// A lock, by address.
    Lock {
        /// The lock's address (stable while the lock lives).
        addr: usize,
    },
    /// A semaphore, by address.
    Semaphore {
        /// The semaphore's address.
        addr: usize,
    },
    /// A condition variable, by address.
    Condition {
        /// The condition's address.
        addr: usize,
    },
    /// An event, by address.
    Event {
        /// The event's address.
        addr: usize,
    },
    /// A barrier, by address.
    Barrier {
        /// The barrier's address.
        addr: usize,
    },
    /// A queue's `get` or `put`, by address.
    Queue {
        /// The queue's address.
        addr: usize,
    },
    /// A promise (asyncio's Future), by address.
    Promise {
        /// The promise's address.
        addr: usize,
    },
    /// Another task, by id.
    Task {
        /// The awaited task's id.
        id: u64,
    },
    /// A file descriptor becoming readable (a socket read or accept).
    Readable {
        /// The descriptor.
        fd: i32,
    },
    /// A file descriptor becoming writable (a socket write or connect).
    Writable {
        /// The descriptor.
        fd: i32,
    },
    /// A function running on the blocking pool (`to_thread`, `run_in_executor`).
    Thread,
}

const KIND_SHIFT: u32 = 59;
const PAYLOAD: u64 = (1 << KIND_SHIFT) - 1;

/// The process clock the notes use: nanoseconds since the first use.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Now on the process clock, in nanoseconds (never 0, which means "unknown").
pub(crate) fn clock_nanos() -> u64 {
    nanos_of(Instant::now()).max(1)
}

fn nanos_of(t: Instant) -> u64 {
    u64::try_from(t.saturating_duration_since(epoch()).as_nanos())
        .unwrap_or(PAYLOAD)
        .min(PAYLOAD)
}

impl Waiting {
    fn encode(self) -> u64 {
        let (kind, payload): (u64, u64) = match self {
            Waiting::Sleep { until } => (1, nanos_of(until)),
            Waiting::Lock { addr } => (2, addr as u64),
            Waiting::Semaphore { addr } => (3, addr as u64),
            Waiting::Condition { addr } => (4, addr as u64),
            Waiting::Event { addr } => (5, addr as u64),
            Waiting::Barrier { addr } => (6, addr as u64),
            Waiting::Queue { addr } => (7, addr as u64),
            Waiting::Promise { addr } => (8, addr as u64),
            Waiting::Task { id } => (9, id),
            Waiting::Readable { fd } => (10, u64::from(fd as u32)),
            Waiting::Writable { fd } => (11, u64::from(fd as u32)),
            Waiting::Thread => (12, 0),
        };
        (kind << KIND_SHIFT) | (payload & PAYLOAD)
    }

    fn decode(word: u64) -> Option<Waiting> {
        let payload = word & PAYLOAD;
        let addr = payload as usize;
        Some(match word >> KIND_SHIFT {
            1 => Waiting::Sleep {
                until: epoch() + Duration::from_nanos(payload),
            },
            2 => Waiting::Lock { addr },
            3 => Waiting::Semaphore { addr },
            4 => Waiting::Condition { addr },
            5 => Waiting::Event { addr },
            6 => Waiting::Barrier { addr },
            7 => Waiting::Queue { addr },
            8 => Waiting::Promise { addr },
            9 => Waiting::Task { id: payload },
            10 => Waiting::Readable {
                fd: payload as u32 as i32,
            },
            11 => Waiting::Writable {
                fd: payload as u32 as i32,
            },
            12 => Waiting::Thread,
            _ => return None,
        })
    }
}

/// Says what the current task waits on; await points call it when they return
/// `Pending`. Outside a task it does nothing. The note lasts until the task is next
/// polled; the last note of a poll wins.
#[inline]
pub fn note_wait(w: Waiting) {
    LAST_WAIT.with(|c| c.set(w.encode()));
}

thread_local! {
    /// The wait noted by the await points of the poll running on this thread; the
    /// task's poll clears it before and moves it into the header after (one plain
    /// thread-local store per note, no look-up of the current task).
    static LAST_WAIT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Before a task's poll: forget the previous poll's note.
#[inline(always)]
pub(crate) fn begin_poll() {
    LAST_WAIT.with(|c| c.set(0));
}

/// After a task's poll: what it noted (0: nothing).
#[inline(always)]
pub(crate) fn end_poll() -> u64 {
    LAST_WAIT.with(|c| c.get())
}

/// Turns a descriptor into words for the dump (a socket's addresses); installed by the
/// crate that owns sockets (tulip-net), since describing one needs the OS.
pub type FdDescriber = fn(i32) -> Option<String>;

static DESCRIBER: OnceLock<FdDescriber> = OnceLock::new();

/// Installs the describer of [`Waiting::Readable`] / [`Waiting::Writable`] descriptors
/// (the first call wins).
pub fn set_fd_describer(f: FdDescriber) {
    let _ = DESCRIBER.set(f);
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Waiting to be polled, or parked on something.
    Pending,
    /// Being polled right now.
    Running,
    /// Asked to cancel and not finished yet (asyncio's `cancelling() > 0`).
    Cancelling,
    /// Finished: returned, raised or cancelled.
    Done,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Cancelling => "cancelling",
            TaskState::Done => "done",
        })
    }
}

/// A snapshot of one task, for dumps and tools (see [`EventLoop::tasks`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskInfo {
    /// The task's id.
    pub id: u64,
    /// Its name (`Task-<id>` unless set).
    pub name: String,
    /// Its state.
    pub state: TaskState,
    /// Where it was spawned (`create_task`, `run_until_complete`... call site).
    pub spawn_site: &'static Location<'static>,
    /// How long ago it was spawned: known when its loop was in debug mode then.
    pub age: Option<Duration>,
    /// How many times it has been polled.
    pub polls: u64,
    /// What it waits on, where the await point it stopped at said (pending tasks).
    pub waiting_on: Option<Waiting>,
    /// True for the main task of `run_until_complete` (not in `all_tasks()`).
    pub is_main: bool,
}

impl TaskRef {
    /// Where the task was spawned.
    pub fn spawn_site(&self) -> &'static Location<'static> {
        self.header.site
    }

    /// A snapshot of the task: state, spawn site, age, polls, what it waits on.
    pub fn info(&self) -> TaskInfo {
        let h = &self.header;
        let steps = h.steps.load(Ordering::Relaxed);
        let state = match h.state.load(Ordering::Acquire) {
            PENDING if steps % 2 == 1 => TaskState::Running,
            PENDING if h.cancelling() > 0 => TaskState::Cancelling,
            PENDING => TaskState::Pending,
            _ => TaskState::Done,
        };
        let born = h.lock().extra.as_ref().map_or(0, |e| e.born);
        let age = (born != 0).then(|| Duration::from_nanos(clock_nanos().saturating_sub(born)));
        let waiting_on = match state {
            TaskState::Pending | TaskState::Cancelling => {
                Waiting::decode(h.wait.load(Ordering::Relaxed))
            }
            _ => None,
        };
        TaskInfo {
            id: h.id,
            name: self.name(),
            state,
            spawn_site: h.site,
            age,
            polls: u64::from(steps.div_ceil(2)),
            waiting_on,
            is_main: false,
        }
    }
}

impl EventLoop {
    /// A snapshot of every live task of this loop, the main task of a
    /// `run_until_complete` first; callable from any thread while the loop runs.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        let common = self.backend().common();
        let main = common.main_id();
        common
            .dump_tasks()
            .iter()
            .map(|t| {
                let mut info = t.info();
                info.is_main = Some(info.id) == main;
                info
            })
            .collect()
    }

    /// The live tasks as a tree of who awaits whom, one task per line with its state,
    /// spawn site, polls, age and what it waits on (asyncio 3.14's `pstree`).
    /// Callable from any thread while the loop runs.
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::executors::local::new_event_loop()?;
    /// let dump = lp.run_until_complete(async {
    ///     let child = tulip::create_task(async {
    ///         tulip::sleep(std::time::Duration::from_secs(60)).await
    ///     })?;
    ///     child.set_name("sleeper");
    ///     tulip::sleep(std::time::Duration::ZERO).await?; // let it start
    ///     let dump = tulip::get_running_loop()?.dump_tasks();
    ///     child.cancel();
    ///     Ok::<_, tulip::Error>(dump)
    /// })?;
    /// assert!(dump.contains("sleeper"), "{dump}");
    /// assert!(dump.contains("sleep until"), "{dump}");
    /// # Ok::<(), tulip::Error>(())
    /// ```
    pub fn dump_tasks(&self) -> String {
        let tasks = self.tasks();
        render_tree(self, &tasks)
    }
}

fn render_tree(lp: &EventLoop, tasks: &[TaskInfo]) -> String {
    let by_id: HashMap<u64, &TaskInfo> = tasks.iter().map(|t| (t.id, t)).collect();
    // Children of each task: the tasks it awaits.
    let mut awaited_by: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut is_child = std::collections::HashSet::new();
    for t in tasks {
        if let Some(Waiting::Task { id }) = t.waiting_on {
            if by_id.contains_key(&id) && id != t.id {
                awaited_by.entry(t.id).or_default().push(id);
                is_child.insert(id);
            }
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "loop {} ({}): {} task{}",
        lp.id(),
        lp.executor(),
        tasks.len(),
        if tasks.len() == 1 { "" } else { "s" }
    );
    let now = Instant::now();
    let roots: Vec<&TaskInfo> = tasks.iter().filter(|t| !is_child.contains(&t.id)).collect();
    // A cycle of awaits has no root; show its members anyway.
    let mut shown = std::collections::HashSet::new();
    let n = roots.len();
    for (i, t) in roots.into_iter().enumerate() {
        render(
            &mut out,
            t,
            "",
            i + 1 == n,
            &by_id,
            &awaited_by,
            now,
            &mut shown,
        );
    }
    for t in tasks {
        if !shown.contains(&t.id) {
            render(&mut out, t, "", true, &by_id, &awaited_by, now, &mut shown);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn render(
    out: &mut String,
    t: &TaskInfo,
    prefix: &str,
    last: bool,
    by_id: &HashMap<u64, &TaskInfo>,
    awaited_by: &BTreeMap<u64, Vec<u64>>,
    now: Instant,
    shown: &mut std::collections::HashSet<u64>,
) {
    if !shown.insert(t.id) {
        return;
    }
    let _ = write!(out, "{prefix}{}", if last { "└── " } else { "├── " });
    let _ = write!(
        out,
        "task {} \"{}\"{} {}",
        t.id,
        t.name,
        if t.is_main { " (main)" } else { "" },
        t.state
    );
    if let Some(w) = t.waiting_on {
        let _ = write!(out, " on {}", describe(w, by_id, now));
    }
    let _ = write!(
        out,
        ", spawned at {}, polled {} time{}",
        t.spawn_site,
        t.polls,
        if t.polls == 1 { "" } else { "s" }
    );
    if let Some(age) = t.age {
        let _ = write!(out, ", age {:.3}s", age.as_secs_f64());
    }
    out.push('\n');
    let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
    if let Some(children) = awaited_by.get(&t.id) {
        let n = children.len();
        for (i, id) in children.iter().enumerate() {
            if let Some(c) = by_id.get(id) {
                render(
                    out,
                    c,
                    &child_prefix,
                    i + 1 == n,
                    by_id,
                    awaited_by,
                    now,
                    shown,
                );
            }
        }
    }
}

/// One wait, in words.
fn describe(w: Waiting, by_id: &HashMap<u64, &TaskInfo>, now: Instant) -> String {
    let fd_words = |fd: i32| {
        DESCRIBER
            .get()
            .and_then(|d| d(fd))
            .map(|s| format!("fd {fd} ({s})"))
            .unwrap_or_else(|| format!("fd {fd}"))
    };
    match w {
        Waiting::Sleep { until } => match until.checked_duration_since(now) {
            Some(left) => format!("sleep until +{:.3}s", left.as_secs_f64()),
            None => format!(
                "sleep until -{:.3}s (due)",
                now.duration_since(until).as_secs_f64()
            ),
        },
        Waiting::Lock { addr } => format!("lock {addr:#x}"),
        Waiting::Semaphore { addr } => format!("semaphore {addr:#x}"),
        Waiting::Condition { addr } => format!("condition {addr:#x}"),
        Waiting::Event { addr } => format!("event {addr:#x}"),
        Waiting::Barrier { addr } => format!("barrier {addr:#x}"),
        Waiting::Queue { addr } => format!("queue {addr:#x}"),
        Waiting::Promise { addr } => format!("promise {addr:#x}"),
        Waiting::Task { id } => match by_id.get(&id) {
            Some(t) => format!("task {id} \"{}\"", t.name),
            None => format!("task {id}"),
        },
        Waiting::Readable { fd } => format!("read on {}", fd_words(fd)),
        Waiting::Writable { fd } => format!("write on {}", fd_words(fd)),
        Waiting::Thread => "a blocking-pool thread".into(),
    }
}

impl fmt::Display for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(*self, &HashMap::new(), Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wait_survives_its_encoding() {
        let until = epoch() + Duration::from_millis(1500);
        for w in [
            Waiting::Sleep { until },
            Waiting::Lock {
                addr: 0x7f00_dead_beef,
            },
            Waiting::Semaphore { addr: 8 },
            Waiting::Condition { addr: 16 },
            Waiting::Event { addr: 24 },
            Waiting::Barrier { addr: 32 },
            Waiting::Queue { addr: 40 },
            Waiting::Promise { addr: 48 },
            Waiting::Task { id: 12345 },
            Waiting::Readable { fd: 7 },
            Waiting::Writable { fd: i32::MAX },
            Waiting::Thread,
        ] {
            assert_eq!(Waiting::decode(w.encode()), Some(w));
        }
        assert_eq!(Waiting::decode(0), None);
    }
}
