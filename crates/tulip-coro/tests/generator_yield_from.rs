//! `yield from`: sends pass through to the sub-generator, its yields come
//! out, and its return value goes back to the delegating body. Expected
//! sequences are what CPython 3.11 prints for the programs in the comments.

use std::cell::RefCell;
use std::rc::Rc;

use tulip_coro::{Error, Generator, GeneratorState};

type Log = Rc<RefCell<Vec<String>>>;

// def sub():
//     x = yield "s1"; log.append(f"sub got {x}")
//     y = yield "s2"; log.append(f"sub got {y}")
//     return "sub-ret"
fn sub(log: Log) -> Generator<String, i32, String> {
    Generator::new(move |co| async move {
        let x = co.yield_("s1".into()).await?;
        log.borrow_mut().push(format!("sub got {x}"));
        let y = co.yield_("s2".into()).await?;
        log.borrow_mut().push(format!("sub got {y}"));
        Ok("sub-ret".into())
    })
}

// def outer():
//     log.append("outer start")
//     r = yield from sub(); log.append(f"outer got {r}")
//     z = yield "o1";       log.append(f"outer got {z}")
//     return "outer-ret"
fn outer(log: Log) -> Generator<String, i32, String> {
    Generator::new(move |co| async move {
        log.borrow_mut().push("outer start".into());
        let r = co.yield_from(sub(Rc::clone(&log))).await?;
        log.borrow_mut().push(format!("outer got {r}"));
        let z = co.yield_("o1".into()).await?;
        log.borrow_mut().push(format!("outer got {z}"));
        Ok("outer-ret".into())
    })
}

fn describe(log: &Log, state: GeneratorState<String, String>) {
    let line = match state {
        GeneratorState::Yielded(y) => format!("caller got {y}"),
        GeneratorState::Complete(r) => format!("caller stop {r}"),
    };
    log.borrow_mut().push(line);
}

#[test]
fn sends_reach_the_sub_generator_and_its_return_value_comes_back() -> Result<(), Error> {
    let log = Log::default();
    let mut g = outer(Rc::clone(&log));
    describe(&log, g.start()?);
    describe(&log, g.send(10)?);
    describe(&log, g.send(20)?);
    describe(&log, g.send(30)?);
    assert_eq!(
        *log.borrow(),
        [
            "outer start",
            "caller got s1",
            "sub got 10",
            "caller got s2",
            "sub got 20",
            "outer got sub-ret",
            "caller got o1",
            "outer got 30",
            "caller stop outer-ret"
        ]
    );
    Ok(())
}

#[test]
fn nested_delegation_flattens_items() {
    // def leaf(a): yield a; yield a + 1
    // def mid(): yield 0; yield from leaf(1); yield from leaf(3)
    // def top(): yield from mid(); yield 5
    fn leaf(a: u8) -> Generator<u8> {
        Generator::new(move |co| async move {
            co.yield_(a).await?;
            co.yield_(a + 1).await
        })
    }
    fn mid() -> Generator<u8> {
        Generator::new(|co| async move {
            co.yield_(0).await?;
            co.yield_from(leaf(1)).await?;
            co.yield_from(leaf(3)).await
        })
    }
    let top: Generator<u8> = Generator::new(|co| async move {
        co.yield_from(mid()).await?;
        co.yield_(5).await
    });
    assert_eq!(top.collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
}

#[test]
fn closing_the_delegator_closes_the_sub_generator_first() -> Result<(), Error> {
    // def sub2():
    //     try: yield 1; yield 2
    //     finally: log.append("sub cleanup")
    // def outer2():
    //     try: yield from sub2()
    //     finally: log.append("outer cleanup")
    // g = outer2(); next(g); g.close()
    let log = Log::default();
    let sub_log = Rc::clone(&log);
    let sub2: Generator<i32> = Generator::new(move |co| async move {
        let r = async {
            co.yield_(1).await?;
            co.yield_(2).await
        }
        .await;
        sub_log.borrow_mut().push("sub cleanup".into());
        r
    });
    let outer_log = Rc::clone(&log);
    let mut outer2: Generator<i32> = Generator::new(move |co| async move {
        let r = co.yield_from(sub2).await;
        outer_log.borrow_mut().push("outer cleanup".into());
        r
    });
    let first = outer2.next()?;
    log.borrow_mut().push(format!("caller got {first:?}"));
    assert_eq!(outer2.close(), Ok(None));
    log.borrow_mut().push("closed".into());
    assert_eq!(
        *log.borrow(),
        [
            "caller got Yielded(1)",
            "sub cleanup",
            "outer cleanup",
            "closed"
        ]
    );
    Ok(())
}

#[test]
fn a_failing_sub_generator_fails_the_delegator() {
    let mut g: Generator<u8> = Generator::new(|co| async move {
        let sub: Generator<u8> = Generator::new(|co| async move {
            co.yield_(1).await?;
            panic!("sub broke");
        });
        co.yield_from(sub).await
    });
    assert_eq!(g.next(), Ok(GeneratorState::Yielded(1)));
    assert_eq!(g.next(), Err(Error::Panicked("sub broke".into())));
    assert!(g.is_finished());
}

#[test]
fn delegating_to_a_started_generator_is_an_error() {
    let mut sub: Generator<u8> = Generator::new(|co| async move { co.yield_(1).await });
    assert_eq!(sub.next(), Ok(GeneratorState::Yielded(1)));
    let mut g: Generator<u8> = Generator::new(move |co| async move { co.yield_from(sub).await });
    assert_eq!(g.next(), Err(Error::AlreadyStarted));
}

#[test]
fn a_sub_generator_ignoring_the_exit_fails_the_delegators_close() {
    // def sub():
    //     while True:
    //         try: yield 1
    //         except GeneratorExit: log.append("sub ignored")
    // def outer():
    //     try: yield from sub()
    //     finally: log.append("outer finally")
    // g = outer(); next(g); g.close()  ->  RuntimeError: generator ignored GeneratorExit
    // (CPython logs "sub ignored" once more when it later collects the
    // still-suspended sub; tulip marks a generator finished once close fails.)
    let log = Log::default();
    let sub_log = Rc::clone(&log);
    let sub: Generator<i32> = Generator::new(move |co| async move {
        loop {
            if co.yield_(1).await.is_err() {
                sub_log.borrow_mut().push("sub ignored".into());
            }
        }
    });
    let outer_log = Rc::clone(&log);
    let mut outer: Generator<i32> = Generator::new(move |co| async move {
        let r = co.yield_from(sub).await;
        outer_log.borrow_mut().push("outer finally".into());
        r
    });
    assert_eq!(outer.next(), Ok(GeneratorState::Yielded(1)));
    assert_eq!(outer.close(), Err(Error::IgnoredExit));
    assert_eq!(*log.borrow(), ["sub ignored", "outer finally"]);
    assert!(outer.is_finished());
}
