//! The per-thread loop registry (seed 004): the main thread gets a loop implicitly,
//! other threads must set one.
use tulip::Error;

/// Cargo's test threads are not the main thread, so a thread *named* "main" stands in
/// for it (that is how tulip recognises the main thread).
fn on_main<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .name("main".into())
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn main_thread_gets_a_loop_on_first_get_event_loop_and_keeps_it() {
    on_main(|| {
        let a = tulip::get_event_loop().unwrap();
        let b = tulip::get_event_loop().unwrap();
        assert_eq!(a, b);
        assert!(!a.is_running());
    });
}

#[test]
fn other_threads_get_no_current_loop_until_one_is_set() {
    std::thread::spawn(|| {
        match tulip::get_event_loop() {
            Err(Error::NoCurrentLoop(_)) => {}
            other => panic!("expected NoCurrentLoop, got {other:?}"),
        }
        let lp = tulip::new_event_loop().unwrap();
        tulip::set_event_loop(Some(lp.clone()));
        assert_eq!(tulip::get_event_loop().unwrap(), lp);
        assert_eq!(
            lp.run_until_complete(async { Ok::<_, Error>(3) }).unwrap(),
            3
        );
    })
    .join()
    .unwrap();
}

#[test]
fn loops_of_different_threads_are_different() {
    let a = on_main(|| tulip::get_event_loop().unwrap());
    let b = std::thread::spawn(|| {
        tulip::set_event_loop(Some(tulip::new_event_loop().unwrap()));
        tulip::get_event_loop().unwrap()
    })
    .join()
    .unwrap();
    assert_ne!(a, b);
}

#[test]
fn set_event_loop_none_on_main_means_no_implicit_loop() {
    on_main(|| {
        tulip::set_event_loop(None);
        assert!(matches!(
            tulip::get_event_loop(),
            Err(Error::NoCurrentLoop(_))
        ));
    });
}

#[test]
fn get_event_loop_inside_a_running_loop_is_the_running_loop() {
    std::thread::spawn(|| {
        let lp = tulip::new_event_loop().unwrap();
        let got = lp
            .run_until_complete(async { tulip::get_event_loop() })
            .unwrap();
        assert_eq!(got, lp);
    })
    .join()
    .unwrap();
}

#[test]
fn a_closed_loop_stays_the_threads_loop_and_refuses_work() {
    on_main(|| {
        let lp = tulip::get_event_loop().unwrap();
        lp.close().unwrap();
        let again = tulip::get_event_loop().unwrap();
        assert_eq!(lp, again);
        assert!(matches!(
            again.run_until_complete(async { Ok::<_, Error>(()) }),
            Err(Error::LoopClosed)
        ));
    });
}
