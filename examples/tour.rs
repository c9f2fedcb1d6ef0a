//! The tour: the seed tutorials' programs, one after another, each under a heading.
//!
//! `cargo run --example tour` runs them all; `cargo run --example tour -- NAME…` runs
//! only the named sections. Each section is also an example of its own
//! (`cargo run --example hello`).
#![allow(dead_code)]

#[path = "done_callback.rs"]
mod done_callback;
#[path = "gevent_joinall.rs"]
mod gevent_joinall;
#[path = "greenlet_switch.rs"]
mod greenlet_switch;
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
#[path = "yield_from.rs"]
mod yield_from;

type Program = fn() -> Result<(), Box<dyn std::error::Error>>;

const SECTIONS: &[(&str, &str, Program)] = &[
    (
        "producer_consumer",
        "Generators as coroutines: send() between producer and consumer (seed 002)",
        producer_consumer::main,
    ),
    (
        "yield_from",
        "yield from: delegating to a sub-generator (seed 003 §4)",
        yield_from::main,
    ),
    (
        "greenlet_switch",
        "greenlet: explicit switch() between coroutines (seed 003 §3)",
        greenlet_switch::main,
    ),
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
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let only: Vec<String> = std::env::args().skip(1).collect();
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
