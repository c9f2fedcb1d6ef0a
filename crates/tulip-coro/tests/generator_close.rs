//! `close()`: the pending yield gets `GeneratorExit`, the body cleans up;
//! yielding again is "generator ignored GeneratorExit".

use std::cell::RefCell;
use std::rc::Rc;

use tulip_coro::{Error, Generator, GeneratorState};

type Log = Rc<RefCell<Vec<&'static str>>>;

/// ```python
/// def g():
///     try:
///         yield 1
///         log.append("after yield")   # never reached when closed
///     except GeneratorExit:
///         log.append("exit"); raise
///     finally:
///         log.append("cleanup")
/// ```
fn with_cleanup(log: Log) -> Generator<i32> {
    Generator::new(move |co| async move {
        let r = async {
            co.yield_(1).await?;
            log.borrow_mut().push("after yield");
            Ok(())
        }
        .await;
        if r == Err(Error::GeneratorExit) {
            log.borrow_mut().push("exit");
        }
        log.borrow_mut().push("cleanup");
        r
    })
}

#[test]
fn close_runs_the_clean_up_code() {
    let log = Log::default();
    let mut g = with_cleanup(Rc::clone(&log));
    assert_eq!(g.next(), Ok(GeneratorState::Yielded(1)));
    assert!(log.borrow().is_empty());
    assert_eq!(g.close(), Ok(None));
    assert_eq!(*log.borrow(), ["exit", "cleanup"]);
    assert!(g.is_finished());
    assert_eq!(g.next(), Err(Error::Exhausted));
    // Closing again is a no-op, as in Python.
    assert_eq!(g.close(), Ok(None));
    assert_eq!(log.borrow().len(), 2);
}

#[test]
fn close_before_start_runs_nothing() {
    // Python: closing a just-created generator does not run its body.
    let log = Log::default();
    let mut g = with_cleanup(Rc::clone(&log));
    assert_eq!(g.close(), Ok(None));
    assert!(log.borrow().is_empty());
    assert_eq!(g.next(), Err(Error::Exhausted));
}

#[test]
fn yielding_after_close_is_an_error() {
    // def ign():
    //     while True:
    //         try: yield 1
    //         except GeneratorExit: log.append("ignored")
    // g.close()  ->  RuntimeError: generator ignored GeneratorExit
    let log = Log::default();
    let body_log = Rc::clone(&log);
    let mut g: Generator<i32> = Generator::new(move |co| async move {
        loop {
            if co.yield_(1).await.is_err() {
                body_log.borrow_mut().push("ignored");
            }
        }
    });
    assert_eq!(g.next(), Ok(GeneratorState::Yielded(1)));
    let err = g.close().unwrap_err();
    assert_eq!(err, Error::IgnoredExit);
    assert_eq!(err.to_string(), "generator ignored GeneratorExit");
    assert_eq!(*log.borrow(), ["ignored"]);
    assert_eq!(g.next(), Err(Error::Exhausted));
}

#[test]
fn close_returns_the_value_a_body_returns_instead_of_exiting() {
    // Python 3.13: close() returns the generator's return value.
    let mut g: Generator<i32, (), &str> = Generator::new(|co| async move {
        match co.yield_(1).await {
            Err(Error::GeneratorExit) => Ok("closed politely"),
            other => other.map(|()| "resumed"),
        }
    });
    g.next().unwrap();
    assert_eq!(g.close(), Ok(Some("closed politely")));
}

#[test]
fn other_errors_during_close_propagate() {
    let mut g: Generator<i32> = Generator::new(|co| async move {
        co.yield_(1).await?;
        Ok(())
    });
    g.next().unwrap();
    assert_eq!(g.close(), Ok(None));

    let mut g: Generator<i32> = Generator::new(|co| async move {
        let _ = co.yield_(1).await;
        panic!("cleanup failed");
    });
    g.next().unwrap();
    assert_eq!(g.close(), Err(Error::Panicked("cleanup failed".into())));
    assert!(g.is_finished());
}

#[test]
fn dropping_a_suspended_generator_closes_it() {
    let log = Log::default();
    let mut g = with_cleanup(Rc::clone(&log));
    g.next().unwrap();
    drop(g);
    assert_eq!(*log.borrow(), ["exit", "cleanup"]);
}

#[test]
fn dropping_an_unstarted_or_finished_generator_runs_nothing() {
    let log = Log::default();
    drop(with_cleanup(Rc::clone(&log)));
    assert!(log.borrow().is_empty());

    let mut g = with_cleanup(Rc::clone(&log));
    g.next().unwrap();
    assert_eq!(g.next(), Ok(GeneratorState::Complete(())));
    assert_eq!(*log.borrow(), ["after yield", "cleanup"]);
    drop(g);
    assert_eq!(log.borrow().len(), 2);
}
