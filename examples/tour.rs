//! The tour: the seed tutorials' programs, one after another, each under a heading.
//!
//! `cargo run --example tour` runs them all; `cargo run --example tour -- NAME…` runs
//! only the named sections. Each section is also an example of its own
//! (`cargo run --example hello`).
#![allow(dead_code)]

#[path = "done_callback.rs"]
mod done_callback;
#[path = "gather_many.rs"]
mod gather_many;
#[path = "gevent_joinall.rs"]
mod gevent_joinall;
#[path = "greenlet_switch.rs"]
mod greenlet_switch;
#[path = "greenlet_switch3.rs"]
pub mod greenlet_switch3; // also run by tests/examples.rs
#[path = "hello.rs"]
mod hello;
#[path = "hello_tasks.rs"]
mod hello_tasks;
#[path = "loop_lifecycle.rs"]
mod loop_lifecycle;
#[path = "per_thread_loops.rs"]
mod per_thread_loops;
#[path = "producer_consumer.rs"]
mod producer_consumer;
#[path = "queue_pipeline.rs"]
mod queue_pipeline;
#[path = "run_wait.rs"]
mod run_wait;
#[path = "signal_server.rs"]
mod signal_server;
#[path = "subprocess.rs"]
mod subprocess;
#[path = "threaded_workers.rs"]
pub mod threaded_workers; // also run by tests/examples.rs
#[path = "wait_tasks.rs"]
mod wait_tasks;
#[path = "web_server.rs"]
mod web_server;
#[path = "wget.rs"]
mod wget;
#[path = "yield_from.rs"]
mod yield_from;

pub type Program = fn() -> Result<(), Box<dyn std::error::Error>>;

/// The sections, in the seeds' order: seeds 000–002 (hello world, two tasks, wget,
/// generators, the web server), seed 003 (greenlets, yield from, gevent, wait), seed 004
/// (gather, the loop's life, done-callbacks, the policy), then what the seeds only
/// mention (queues, worker threads, subprocesses, signals).
pub const SECTIONS: &[(&str, &str, Program)] = &[
    (
        "hello",
        "Hello world with an event loop (seeds 000-002)",
        hello::main,
    ),
    (
        "hello_tasks",
        "Two coroutines, one thread (seeds 000-002)",
        hello_tasks::main,
    ),
    (
        "wget",
        "Fetching headers concurrently with open_connection, write/drain, readline (seeds 000-002)",
        wget_embedded,
    ),
    (
        "producer_consumer",
        "Generators as coroutines: send() between producer and consumer (seed 002)",
        producer_consumer::main,
    ),
    (
        "web_server",
        "The aiohttp-style web server with routes (seed 002)",
        web_server::self_test,
    ),
    (
        "greenlet_switch",
        "greenlet: explicit switch() between coroutines (seed 003 §3)",
        greenlet_switch::main,
    ),
    (
        "yield_from",
        "yield from: delegating to a sub-generator (seed 003 §4)",
        yield_from::main,
    ),
    (
        "greenlet_switch3",
        "Three greenlets: g1 -> g2 -> g3 -> g1 (seed 003 §5.1)",
        greenlet_switch3::main,
    ),
    (
        "gevent_joinall",
        "gevent: spawn/joinall, blocking calls through to_thread (seed 003 §5.2)",
        gevent_joinall::main,
    ),
    (
        "wait_tasks",
        "ensure_future + wait: 1 3 2 4 in about 1 s (seed 003 §6-7)",
        wait_tasks::main,
    ),
    (
        "run_wait",
        "asyncio.run(asyncio.wait(coroutines)) (seed 003 §7.5)",
        run_wait::main,
    ),
    (
        "gather_many",
        "gather over 2,000 coroutines (seed 004)",
        gather_many::main,
    ),
    (
        "loop_lifecycle",
        "A loop runs until it is closed (seed 004)",
        loop_lifecycle::main,
    ),
    (
        "done_callback",
        "add_done_callback (seed 004)",
        done_callback::main,
    ),
    (
        "per_thread_loops",
        "One loop per thread: the policy (seed 004)",
        per_thread_loops::main,
    ),
    (
        "queue_pipeline",
        "Producers and consumers over a bounded Queue with join",
        queue_pipeline::main,
    ),
    (
        "threaded_workers",
        "Tasks on worker threads (the threaded executor); blocking calls made harmless with to_thread",
        threaded_workers::main,
    ),
    (
        "subprocess",
        "Child processes: stream a command's output line by line, communicate with input",
        subprocess::main,
    ),
    (
        "signal_server",
        "A run_forever server that closes and exits cleanly on SIGINT/SIGTERM (add_signal_handler)",
        signal_server::self_test,
    ),
];

/// `wget` with no arguments: three paths from an embedded local server.
fn wget_embedded() -> Result<(), Box<dyn std::error::Error>> {
    wget::fetch_all(&[]).map(|_| ())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let only: Vec<String> = std::env::args().skip(1).collect();
    if let Some(unknown) = only
        .iter()
        .find(|o| !SECTIONS.iter().any(|(n, _, _)| n == o))
    {
        let names: Vec<&str> = SECTIONS.iter().map(|(n, _, _)| *n).collect();
        return Err(format!("no section {unknown:?}; sections: {}", names.join(", ")).into());
    }
    for (name, title, program) in SECTIONS {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        println!("\n=== {title} — cargo run --example {name} ===");
        // Each program starts as a fresh script would: with a fresh main-thread loop.
        tulip::set_event_loop(Some(tulip::new_event_loop()?));
        program().map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}
