//! Greenlet switching, mirroring the programs in the greenlet library's
//! documentation (the Python `greenlet` package is not installed here, so
//! the expected output comes from its documented semantics).

use std::cell::RefCell;
use std::rc::Rc;

use tulip_coro::{Error, Generator, Greenlet};

type Log = Rc<RefCell<Vec<String>>>;

fn push(log: &Log, s: impl Into<String>) {
    log.borrow_mut().push(s.into());
}

/// ```python
/// def test1():
///     print(12); gr2.switch(); print(34)
/// def test2():
///     print(56); gr1.switch(); print(78)
/// gr1 = greenlet(test1); gr2 = greenlet(test2)
/// gr1.switch()
/// ```
/// prints 12, 56, 34 — "78 is never printed": gr1 finishes and returns to
/// its parent, main, while gr2 stays suspended.
#[test]
fn switch_order_follows_the_greenlet_docs() -> Result<(), Error> {
    let log = Log::default();
    let gr1: Greenlet = Greenlet::empty();
    let gr2: Greenlet = Greenlet::empty();
    gr1.set_run({
        let (gr2, log) = (gr2.clone(), Rc::clone(&log));
        move |()| async move {
            push(&log, "12");
            gr2.switch(()).await?;
            push(&log, "34");
            Ok(())
        }
    })?;
    gr2.set_run({
        let (gr1, log) = (gr1.clone(), Rc::clone(&log));
        move |()| async move {
            push(&log, "56");
            gr1.switch(()).await?;
            push(&log, "78");
            Ok(())
        }
    })?;
    gr1.switch_from_main(())?;
    assert_eq!(*log.borrow(), ["12", "56", "34"]);
    assert!(gr1.is_dead());
    assert!(!gr2.is_dead());
    assert!(gr2.is_active());

    // Main can resume gr2 later: it prints 78 and returns to its parent, main.
    gr2.switch_from_main(())?;
    assert_eq!(*log.borrow(), ["12", "56", "34", "78"]);
    assert!(gr2.is_dead());
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
enum V {
    Pair(String, String),
    Str(String),
    Int(i64),
    None,
}

/// ```python
/// def test1(x, y):
///     z = gr2.switch(x + y)
///     print(z)
/// def test2(u):
///     print(u)
///     gr1.switch(42)
/// gr1 = greenlet(test1); gr2 = greenlet(test2)
/// gr1.switch("hello", " world")
/// ```
/// prints "hello world" then 42.
#[test]
fn values_pass_through_switch_as_in_the_greenlet_docs() -> Result<(), Error> {
    let log = Log::default();
    let gr1: Greenlet<V> = Greenlet::empty();
    let gr2: Greenlet<V> = Greenlet::empty();
    gr1.set_run({
        let (gr2, log) = (gr2.clone(), Rc::clone(&log));
        move |args| async move {
            let V::Pair(x, y) = args else {
                panic!("expected two arguments, got {args:?}")
            };
            let z = gr2.switch(V::Str(x + &y)).await?;
            push(&log, format!("{z:?}"));
            Ok(V::None)
        }
    })?;
    gr2.set_run({
        let (gr1, log) = (gr1.clone(), Rc::clone(&log));
        move |u| async move {
            push(&log, format!("{u:?}"));
            gr1.switch(V::Int(42)).await?;
            Ok(V::None)
        }
    })?;
    let back = gr1.switch_from_main(V::Pair("hello".into(), " world".into()))?;
    assert_eq!(*log.borrow(), [r#"Str("hello world")"#, "Int(42)"]);
    // gr1 returned None to its parent, main.
    assert_eq!(back, V::None);
    Ok(())
}

#[test]
fn a_finished_greenlet_returns_its_value_to_its_parent() -> Result<(), Error> {
    let log = Log::default();
    let parent = Greenlet::new({
        let log = Rc::clone(&log);
        move |x: i64| async move {
            let child = Greenlet::new(|y: i64| async move { Ok(y * 10) });
            assert!(child.parent().is_some_and(|p| p == Greenlet::current()));
            push(&log, "parent switches to child");
            let from_child = child.switch(x).await?;
            push(&log, format!("parent got {from_child}"));
            assert!(child.is_dead());
            Ok(from_child + 1)
        }
    });
    assert_eq!(parent.switch_from_main(4)?, 41);
    assert_eq!(*log.borrow(), ["parent switches to child", "parent got 40"]);
    Ok(())
}

#[test]
fn a_finished_greenlet_with_a_dead_parent_returns_to_the_grandparent() -> Result<(), Error> {
    // The parent creates a child and finishes without running it; when main
    // runs the child later, its return value goes to the nearest live
    // ancestor: main.
    let stash: Rc<RefCell<Option<Greenlet<i64>>>> = Rc::default();
    let parent = Greenlet::new({
        let stash = Rc::clone(&stash);
        move |x: i64| async move {
            *stash.borrow_mut() = Some(Greenlet::new(|y: i64| async move { Ok(y + 100) }));
            Ok(x)
        }
    });
    assert_eq!(parent.switch_from_main(1)?, 1);
    let child = stash.borrow_mut().take().unwrap();
    assert!(child.parent().is_some_and(|p| p == parent));
    assert_eq!(child.switch_from_main(5)?, 105);
    Ok(())
}

#[test]
fn switching_to_main_pauses_and_main_can_resume() -> Result<(), Error> {
    // Greenlets as generators: hand values to main one at a time.
    let g = Greenlet::new(|start: u32| async move {
        let mut n = start;
        for _ in 0..3 {
            let step = Greenlet::main().switch(n).await?;
            n += step;
        }
        Ok(n * 1000)
    });
    assert_eq!(g.switch_from_main(1)?, 1);
    assert_eq!(g.switch_from_main(10)?, 11);
    assert_eq!(g.switch_from_main(100)?, 111);
    assert_eq!(g.switch_from_main(1000)?, 1_111_000);
    assert!(g.is_dead());
    Ok(())
}

#[test]
fn switching_to_a_dead_greenlet_is_an_error() -> Result<(), Error> {
    let done = Greenlet::new(|()| async move { Ok(()) });
    done.switch_from_main(())?;
    assert!(done.is_dead());
    assert_eq!(done.switch_from_main(()), Err(Error::DeadGreenlet));

    // From inside a greenlet the error comes back from `switch` and the body
    // carries on.
    let other = Greenlet::new(move |()| async move {
        let r = done.switch(()).await;
        assert_eq!(r, Err(Error::DeadGreenlet));
        Ok(())
    });
    other.switch_from_main(())?;
    assert!(other.is_dead());
    Ok(())
}

#[test]
fn a_failing_child_raises_in_its_parent_switch() -> Result<(), Error> {
    // Python: an exception in a child greenlet is raised in its parent.
    let parent = Greenlet::new(|_: String| async move {
        let panics = Greenlet::new(|_: String| async move { panic!("child broke") });
        let first = panics.switch(String::new()).await;
        assert!(panics.is_dead());
        let hangs = Greenlet::new(|_: String| async move {
            std::future::pending::<()>().await;
            Ok(String::new())
        });
        let second = hangs.switch(String::new()).await;
        let returns_err = Greenlet::new(|_: String| async move { Err(Error::NoRun) });
        let third = returns_err.switch(String::new()).await;
        Ok(format!("{first:?} / {second:?} / {third:?}"))
    });
    let caught: String = parent.switch_from_main(String::new())?;
    assert_eq!(
        caught,
        r#"Err(Panicked("child broke")) / Err(ForeignAwait) / Err(NoRun)"#
    );

    // Not caught: it goes on up to main.
    let top = Greenlet::new(|()| async move {
        let child: Greenlet<()> = Greenlet::new(|()| async move { panic!("child broke") });
        child.switch(()).await
    });
    assert_eq!(
        top.switch_from_main(()),
        Err(Error::Panicked("child broke".into()))
    );
    assert!(top.is_dead());
    Ok(())
}

#[test]
fn a_failing_top_level_greenlet_fails_switch_from_main() {
    let g = Greenlet::new(|()| async move {
        std::future::pending::<()>().await;
        Ok(())
    });
    assert_eq!(g.switch_from_main(()), Err(Error::ForeignAwait));
    assert!(g.is_dead());
    assert_eq!(g.switch_from_main(()), Err(Error::DeadGreenlet));
}

#[test]
fn switching_to_yourself_returns_the_value_at_once() -> Result<(), Error> {
    let g = Greenlet::new(|x: u8| async move {
        let me = Greenlet::current();
        let y = me.switch(x + 1).await?;
        Ok(y * 2)
    });
    assert_eq!(g.switch_from_main(1)?, 4);
    assert_eq!(Greenlet::<u8>::main().switch_from_main(9)?, 9);
    Ok(())
}

#[test]
fn misuse_is_reported() -> Result<(), Error> {
    // A greenlet without a body.
    let empty: Greenlet<u8> = Greenlet::empty();
    assert_eq!(empty.switch_from_main(1), Err(Error::NoRun));

    // switch_from_main inside a greenlet.
    let target = Greenlet::new(|()| async move { Ok(()) });
    let nested = Greenlet::new({
        let target = target.clone();
        move |()| async move {
            assert_eq!(target.switch_from_main(()), Err(Error::NotMain));
            Ok(())
        }
    });
    nested.switch_from_main(())?;
    assert!(!target.is_dead());

    // switch(..).await outside any greenlet: here inside a generator body.
    let g = Greenlet::new(|()| async move { Ok(()) });
    let mut gen: Generator<u8> = Generator::new(move |_co| async move { g.switch(()).await });
    assert_eq!(gen.next(), Err(Error::NotInGreenlet));

    // set_run after start.
    let started = Greenlet::new(|()| async move { Greenlet::main().switch(()).await });
    started.switch_from_main(())?;
    assert_eq!(
        started.set_run(|()| async move { Ok(()) }),
        Err(Error::AlreadyRunning)
    );
    Ok(())
}
