//! Misuse and failures are error values, never hangs or panics.

use std::cell::Cell;
use std::rc::Rc;

use tulip_coro::{Error, Generator, GeneratorState};

#[test]
fn send_after_completion_is_exhausted() {
    let mut g: Generator<u8, u8, u8> = Generator::new(|co| async move {
        let x = co.yield_(0).await?;
        Ok(x)
    });
    assert_eq!(g.start(), Ok(GeneratorState::Yielded(0)));
    assert_eq!(g.send(7), Ok(GeneratorState::Complete(7)));
    assert_eq!(g.send(8), Err(Error::Exhausted));
    assert_eq!(g.start(), Err(Error::Exhausted));
}

#[test]
fn send_before_start_is_not_started_and_keeps_the_generator() {
    let mut g: Generator<u8, u8> = Generator::new(|co| async move {
        co.yield_(1).await?;
        Ok(())
    });
    assert_eq!(g.send(5), Err(Error::NotStarted));
    assert!(!g.is_started());
    assert_eq!(g.start(), Ok(GeneratorState::Yielded(1)));
    assert_eq!(g.start(), Err(Error::AlreadyStarted));
    // Still usable after the misuse.
    assert_eq!(g.send(5), Ok(GeneratorState::Complete(())));
}

#[test]
fn awaiting_a_foreign_pending_future_is_an_error_not_a_hang() {
    let reached_after = Rc::new(Cell::new(false));
    let flag = Rc::clone(&reached_after);
    let mut g: Generator<u8> = Generator::new(move |co| async move {
        co.yield_(1).await?;
        std::future::pending::<()>().await;
        flag.set(true);
        Ok(())
    });
    assert_eq!(g.next(), Ok(GeneratorState::Yielded(1)));
    assert_eq!(g.next(), Err(Error::ForeignAwait));
    assert!(g.is_finished());
    assert!(!reached_after.get());
    assert_eq!(g.next(), Err(Error::Exhausted));
}

#[test]
fn awaiting_a_foreign_pending_future_before_the_first_yield() {
    let mut g: Generator<u8> = Generator::new(|_co| async move {
        std::future::pending::<()>().await;
        Ok(())
    });
    assert_eq!(g.next(), Err(Error::ForeignAwait));
}

#[test]
fn a_panicking_body_is_an_error() {
    let mut g: Generator<u8> = Generator::new(|co| async move {
        co.yield_(1).await?;
        let n = 3;
        panic!("bad value {n}");
    });
    assert_eq!(g.next(), Ok(GeneratorState::Yielded(1)));
    assert_eq!(g.next(), Err(Error::Panicked("bad value 3".into())));
    assert_eq!(g.next(), Err(Error::Exhausted));
}

#[test]
fn a_panic_in_the_body_constructor_is_an_error() {
    let mut g: Generator<u8> = Generator::new(|_co| -> std::future::Ready<Result<(), Error>> {
        panic!("closure panicked")
    });
    assert_eq!(g.next(), Err(Error::Panicked("closure panicked".into())));
    assert!(g.is_finished());
}

#[test]
fn iteration_stops_on_error_and_keeps_it() {
    let mut g: Generator<u8> = Generator::new(|co| async move {
        co.yield_(1).await?;
        co.yield_(2).await?;
        std::future::pending::<()>().await;
        Ok(())
    });
    let items: Vec<u8> = (&mut g).collect();
    assert_eq!(items, [1, 2]);
    assert_eq!(g.take_error(), Some(Error::ForeignAwait));
    assert_eq!(g.take_error(), None);
    assert_eq!(Iterator::next(&mut g), None);
}

#[test]
fn a_body_error_ends_the_generator_with_that_error() {
    let mut g: Generator<u8> = Generator::new(|co| async move {
        co.yield_(1).await?;
        Err(Error::NoRun)
    });
    g.next().unwrap();
    assert_eq!(g.next(), Err(Error::NoRun));
    assert!(g.is_finished());
}

#[test]
fn a_yield_handle_used_outside_its_generator_never_resolves() {
    // A Co smuggled into another generator: its yield goes to the wrong
    // generator, so the one being driven sees a foreign pending await.
    let stash: Rc<std::cell::RefCell<Option<tulip_coro::Co<u8>>>> = Rc::default();
    let s = Rc::clone(&stash);
    let mut first: Generator<u8> = Generator::new(move |co| async move {
        *s.borrow_mut() = Some(co.clone());
        co.yield_(1).await
    });
    first.next().unwrap();
    let foreign = stash.borrow_mut().take().unwrap();
    let mut second: Generator<u8> =
        Generator::new(move |_co| async move { foreign.yield_(2).await });
    assert_eq!(second.next(), Err(Error::ForeignAwait));
}
