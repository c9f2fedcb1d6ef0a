//! The order in which a generator body and its caller run, checked against
//! what CPython 3.11 prints for the same program:
//!
//! ```python
//! log = []
//! def gen():
//!     log.append("body start")
//!     x = yield "a"
//!     log.append(f"body got {x}")
//!     y = yield "b"
//!     log.append(f"body got {y}")
//!     return "ret"
//! g = gen()
//! log.append("created")
//! log.append(f"caller got {g.send(None)}")
//! log.append(f"caller got {g.send(1)}")
//! try:
//!     g.send(2)
//! except StopIteration as e:
//!     log.append(f"caller stop {e.value}")
//! ```

use std::cell::RefCell;
use std::rc::Rc;

use tulip_coro::{Error, Generator, GeneratorState};

type Log = Rc<RefCell<Vec<String>>>;

fn gen(log: Log) -> Generator<&'static str, i32, &'static str> {
    Generator::new(move |co| async move {
        log.borrow_mut().push("body start".into());
        let x = co.yield_("a").await?;
        log.borrow_mut().push(format!("body got {x}"));
        let y = co.yield_("b").await?;
        log.borrow_mut().push(format!("body got {y}"));
        Ok("ret")
    })
}

fn push(log: &Log, s: String) {
    log.borrow_mut().push(s);
}

#[test]
fn send_and_yield_alternate_like_cpython() -> Result<(), Error> {
    let log = Log::default();
    let mut g = gen(Rc::clone(&log));
    push(&log, "created".into());
    let GeneratorState::Yielded(a) = g.start()? else {
        panic!("expected a yield")
    };
    push(&log, format!("caller got {a}"));
    let GeneratorState::Yielded(b) = g.send(1)? else {
        panic!("expected a yield")
    };
    push(&log, format!("caller got {b}"));
    let GeneratorState::Complete(r) = g.send(2)? else {
        panic!("expected completion")
    };
    push(&log, format!("caller stop {r}"));

    // CPython's output, verbatim.
    assert_eq!(
        *log.borrow(),
        [
            "created",
            "body start",
            "caller got a",
            "body got 1",
            "caller got b",
            "body got 2",
            "caller stop ret"
        ]
    );
    Ok(())
}

#[test]
fn nothing_runs_before_start() {
    let log = Log::default();
    let g = gen(Rc::clone(&log));
    assert!(!g.is_started());
    assert!(log.borrow().is_empty());
}

#[test]
fn next_and_iteration_for_unit_input() {
    let mut g: Generator<u32, (), &str> = Generator::new(|co| async move {
        for i in 0..3 {
            co.yield_(i * i).await?;
        }
        Ok("end")
    });
    assert_eq!(g.next(), Ok(GeneratorState::Yielded(0)));
    // The Iterator impl carries on from where `next` left off.
    assert_eq!(g.by_ref().collect::<Vec<_>>(), [1, 4]);
    assert!(g.is_finished());
    assert_eq!(g.take_error(), None);
    assert_eq!(g.next(), Err(Error::Exhausted));
}

#[test]
fn iteration_returns_complete_value_through_next() {
    let mut g: Generator<u8, (), u8> = Generator::new(|co| async move {
        co.yield_(1).await?;
        Ok(99)
    });
    assert_eq!(g.next(), Ok(GeneratorState::Yielded(1)));
    assert_eq!(g.next(), Ok(GeneratorState::Complete(99)));
}

#[test]
fn ready_foreign_futures_are_fine() {
    // Awaiting something that is immediately ready is not an error.
    let mut g: Generator<i32> = Generator::new(|co| async move {
        let v = std::future::ready(5).await;
        co.yield_(v).await?;
        Ok(())
    });
    assert_eq!(g.next(), Ok(GeneratorState::Yielded(5)));
    assert_eq!(g.next(), Ok(GeneratorState::Complete(())));
}

#[test]
fn co_handles_work_from_helper_functions() {
    async fn twice(co: &tulip_coro::Co<char>, c: char) -> Result<(), Error> {
        co.yield_(c).await?;
        co.yield_(c).await
    }
    let g: Generator<char> = Generator::new(|co| async move {
        twice(&co, 'x').await?;
        let co2 = co.clone();
        twice(&co2, 'y').await
    });
    assert_eq!(g.collect::<String>(), "xxyy");
}
