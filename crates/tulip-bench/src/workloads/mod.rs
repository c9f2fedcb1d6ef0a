//! The workloads. Each is written once, generic over [`Runtime`]/[`NetRuntime`],
//! and times only its measured part.

use std::time::Duration;

use crate::runtime::{HyperRuntime, NetRuntime, Runtime};

pub mod hyper_hello;
pub mod idle_memory;
pub mod ping_pong;
pub mod spawn_join;
pub mod tcp_echo;
pub mod timers;
pub mod yield_many;

/// Every workload, in table order.
pub const ALL: &[&str] = &[
    "spawn_join",
    "ping_pong",
    "main_ping_pong",
    "yield_many",
    "timers",
    "sparse_timers",
    "tcp_echo",
    "idle_memory",
    "idle_promise",
    "hyper_hello",
    "web_hello",
];

/// Named figures one workload produced, e.g. `("spawn_join.ns_per_task", 61.2)`.
pub type Metrics = Vec<(String, f64)>;

/// Counts for one run. `--quick` shrinks them for a smoke run.
#[derive(Clone, Debug)]
pub struct Params {
    pub spawn_tasks: u64,
    pub ping_pong_round_trips: u64,
    pub yield_tasks: u64,
    pub yields_per_task: u64,
    pub timer_tasks: u64,
    pub timer_max_ms: u64,
    /// sparse_timers: sleepers, and the gap between consecutive deadlines.
    pub sparse_timers: u64,
    pub sparse_gap_us: u64,
    pub tcp_connections: usize,
    pub tcp_small_bytes: usize,
    pub tcp_large_bytes: usize,
    pub tcp_duration: Duration,
    /// Round trips per connection for the fixed-count run under strace.
    pub tcp_fixed_round_trips: u64,
    pub idle_tasks: u64,
    /// hyper_hello: keep-alive client connections (one thread each).
    pub hyper_connections: usize,
    /// hyper_hello: measured requests, over all connections.
    pub hyper_requests: u64,
    /// hyper_hello: requests per connection before the measured phase.
    pub hyper_warmup: u64,
}

impl Params {
    pub fn new(quick: bool) -> Self {
        let scale = if quick { 10 } else { 1 };
        Params {
            spawn_tasks: 200_000 / scale,
            ping_pong_round_trips: 1_000_000 / scale,
            yield_tasks: 1_000,
            yields_per_task: 1_000 / scale,
            timer_tasks: 100_000 / scale,
            timer_max_ms: 50,
            sparse_timers: 1_000 / scale,
            sparse_gap_us: 500,
            tcp_connections: 64,
            tcp_small_bytes: 64,
            tcp_large_bytes: 16 * 1024,
            tcp_duration: Duration::from_secs(if quick { 1 } else { 3 }),
            tcp_fixed_round_trips: 500,
            idle_tasks: 100_000 / scale,
            hyper_connections: 8,
            hyper_requests: 200_000 / scale,
            hyper_warmup: 200,
        }
    }

    /// The same counts as JSON, handed to the Python peer so it runs the identical workload.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "spawn_tasks": self.spawn_tasks,
            "ping_pong_round_trips": self.ping_pong_round_trips,
            "yield_tasks": self.yield_tasks,
            "yields_per_task": self.yields_per_task,
            "timer_tasks": self.timer_tasks,
            "timer_max_ms": self.timer_max_ms,
            "sparse_timers": self.sparse_timers,
            "sparse_gap_us": self.sparse_gap_us,
            "tcp_connections": self.tcp_connections,
            "tcp_small_bytes": self.tcp_small_bytes,
            "tcp_large_bytes": self.tcp_large_bytes,
            "tcp_duration_s": self.tcp_duration.as_secs_f64(),
            "idle_tasks": self.idle_tasks,
            "seed": SEED,
        })
    }
}

/// Runs one of the runtime-independent workloads; `None` for `tcp_echo`.
pub fn run_core<R: Runtime>(rt: &R, workload: &str, p: &Params) -> Option<Metrics> {
    Some(match workload {
        "spawn_join" => spawn_join::run(rt, p),
        "ping_pong" => ping_pong::run(rt, p),
        "main_ping_pong" => ping_pong::run_main(rt, p),
        "yield_many" => yield_many::run(rt, p),
        "timers" => timers::run(rt, p),
        "sparse_timers" => timers::run_sparse(rt, p),
        "idle_memory" => idle_memory::run(rt, p),
        "idle_promise" => idle_memory::run_promise(rt, p),
        _ => return None,
    })
}

/// Runs any workload, including the network ones.
pub fn run_any<R: NetRuntime>(rt: &R, workload: &str, p: &Params) -> Result<Metrics, String> {
    match workload {
        "tcp_echo" => tcp_echo::run(rt, p),
        "tcp_echo_fixed" => tcp_echo::run_fixed(rt, p),
        other => run_core(rt, other, p).ok_or_else(|| format!("unknown workload {other}")),
    }
}

/// Runs any workload, `hyper_hello` included.
pub fn run_hyper<R: HyperRuntime>(rt: &R, workload: &str, p: &Params) -> Result<Metrics, String> {
    match workload {
        "hyper_hello" => hyper_hello::run(rt, p),
        other => run_any(rt, other, p),
    }
}

/// Seed of the timer durations (shared with the Python peer).
pub const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// xorshift64: a tiny deterministic generator, identical in the Python peer.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Resident set size of this process in bytes (`VmRSS` in `/proc/self/status`).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Per-op nanoseconds.
pub fn ns_per(elapsed: Duration, ops: u64) -> f64 {
    elapsed.as_nanos() as f64 / ops.max(1) as f64
}
