//! What a new user runs first: the tour's order (hello world first, then the seeds'
//! order), seed 003 §5.1's three greenlets, and the tour's worker-threads section.
#![cfg(feature = "net")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

#[path = "../examples/tour.rs"]
mod tour;

use tour::greenlet_switch3;

#[test]
fn the_tour_opens_with_hello_world_and_follows_the_seeds() {
    let names: Vec<&str> = tour::SECTIONS.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(
        names,
        [
            // seeds 000-002
            "hello",
            "hello_tasks",
            "wget",
            "producer_consumer",
            "web_server",
            // seed 003
            "greenlet_switch",
            "yield_from",
            "greenlet_switch3",
            "gevent_joinall",
            "wait_tasks",
            "run_wait",
            // seed 004
            "gather_many",
            "loop_lifecycle",
            "done_callback",
            "per_thread_loops",
            // beyond the seeds
            "queue_pipeline",
            "threaded_workers",
            "subprocess",
            "signal_server",
        ]
    );
}

/// The seed's four lines in its order (python3 + greenlet 3.5 print the same:
/// tests/asyncio_ref/greenlet_switch3.py); g1 finished, g2 and g3 left suspended.
#[test]
fn greenlet_switch3_goes_round_g1_g2_g3_g1() {
    let lines = Rc::new(RefCell::new(Vec::new()));
    let sink = lines.clone();
    let [g1, g2, g3] = greenlet_switch3::run(Duration::ZERO, move |l| {
        sink.borrow_mut().push(l.to_string())
    })
    .unwrap();
    assert_eq!(
        *lines.borrow(),
        [
            " Synergetic process 1",
            " Synergetic process 2",
            " Synergetic process 3",
            " Synergetic process 1 Resume operation ",
        ]
    );
    assert!(g1.is_dead());
    assert!(!g2.is_dead() && !g3.is_dead());
}

/// The tour's threads section on the threaded executor: every task step ran on one
/// of the loop's worker threads, none on the thread running the loop.
#[cfg(feature = "threaded")]
#[test]
fn the_threads_section_runs_task_steps_on_worker_threads() {
    let tally = tour::threaded_workers::steps_per_thread().unwrap();
    assert_eq!(tally.values().sum::<usize>(), 8 * 50, "{tally:?}");
    for thread in tally.keys() {
        assert!(thread.starts_with("tulip-worker-"), "{tally:?}");
    }
}
