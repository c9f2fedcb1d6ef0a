//! The executor is chosen in code (`tulip::set_executor`), else by `TULIP_EXECUTOR`,
//! else local — never by which Cargo features happen to be on.
//!
//! The choice is process-wide, so this file is one test binary whose tests either do
//! not change it or run in child processes (each child is this binary, filtered to
//! one test, with the environment it needs).

use std::process::Command;

use tulip::{Error, Executor};

/// Set in a child process: which scenario to run there.
const CHILD: &str = "TULIP_TEST_EXECUTOR_CHILD";

/// Runs the test `name` of this binary in a child with `env` added; returns its stdout,
/// failing if the child failed.
fn in_child(name: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .env_remove("TULIP_EXECUTOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "child {name} ran no test:\n{stdout}"
    );
    stdout
}

/// True in the child started for `name` (the tests below do nothing in the parent).
fn is_child(name: &str) -> bool {
    std::env::var(CHILD).as_deref() == Ok(name)
}

/// The thread a task of `lp`'s runs on.
fn task_thread(lp: &tulip::EventLoop) -> String {
    lp.run_until_complete(async {
        tulip::create_task(async {
            Ok::<_, Error>(std::thread::current().name().unwrap_or("").to_string())
        })?
        .await
    })
    .unwrap()
}

#[test]
fn names_parse_and_print_both_ways() {
    for e in Executor::ALL {
        assert_eq!(e.name().parse::<Executor>(), Ok(e));
        assert_eq!(e.to_string(), e.name());
    }
    let bad = "tokio".parse::<Executor>().unwrap_err();
    assert_eq!(bad.0, "tokio");
    assert!(bad.to_string().contains("\"local\" or \"threaded\""));
    assert_eq!(Executor::Local.is_available(), cfg!(feature = "local"));
    assert_eq!(
        Executor::Threaded.is_available(),
        cfg!(feature = "threaded")
    );
}

#[test]
fn every_loop_names_its_executor_in_debug_and_executor() {
    for e in Executor::ALL.into_iter().filter(|e| e.is_available()) {
        let lp = e.new_event_loop().unwrap();
        assert_eq!(lp.executor(), e.name());
        let shown = format!("{lp:?}");
        assert!(
            shown.contains(&format!("executor: \"{}\"", e.name())),
            "{shown}"
        );
        lp.close().unwrap();
    }
}

#[test]
fn an_executor_not_compiled_in_is_an_error_not_a_fallback() {
    for e in Executor::ALL.into_iter().filter(|e| !e.is_available()) {
        match e.new_event_loop() {
            Err(Error::InvalidArgument(msg)) => assert!(msg.contains(e.name()), "{msg}"),
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
        let before = tulip::executor();
        assert!(matches!(
            tulip::set_executor(e),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(
            tulip::executor(),
            before,
            "a refused choice changes nothing"
        );
    }
}

#[test]
fn with_no_choice_and_no_environment_the_default_is_local() {
    if is_child("with_no_choice_and_no_environment_the_default_is_local") {
        assert_eq!(tulip::executor(), Executor::Local);
        match tulip::new_event_loop() {
            Ok(lp) => assert_eq!(lp.executor(), "local"),
            // Without the local executor there is no silent switch to another one.
            Err(Error::InvalidArgument(msg)) => {
                assert!(!Executor::Local.is_available());
                assert!(msg.contains("local"), "{msg}");
            }
            Err(other) => panic!("{other:?}"),
        }
        return;
    }
    in_child(
        "with_no_choice_and_no_environment_the_default_is_local",
        &[],
    );
}

#[test]
fn the_environment_picks_the_executor_when_code_does_not() {
    let name = "the_environment_picks_the_executor_when_code_does_not";
    if is_child(name) {
        let want: Executor = std::env::var("TULIP_EXECUTOR").unwrap().parse().unwrap();
        assert_eq!(tulip::executor(), want);
        let v = tulip::run(async { Ok::<_, Error>(tulip::get_running_loop()?.executor()) });
        if want.is_available() {
            assert_eq!(v.unwrap(), want.name());
        } else {
            assert!(matches!(v, Err(Error::InvalidArgument(_))), "{v:?}");
        }
        return;
    }
    for e in Executor::ALL {
        in_child(name, &[("TULIP_EXECUTOR", e.name())]);
    }
}

#[test]
fn an_unknown_environment_value_fails_loudly_when_a_loop_is_built() {
    let name = "an_unknown_environment_value_fails_loudly_when_a_loop_is_built";
    if is_child(name) {
        match tulip::new_event_loop() {
            Err(Error::InvalidArgument(msg)) => assert!(msg.contains("TULIP_EXECUTOR"), "{msg}"),
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
        // A choice in code still wins.
        let e = Executor::ALL
            .into_iter()
            .find(|e| e.is_available())
            .unwrap();
        tulip::set_executor(e).unwrap();
        assert_eq!(tulip::new_event_loop().unwrap().executor(), e.name());
        return;
    }
    in_child(name, &[("TULIP_EXECUTOR", "tokio")]);
}

#[test]
fn a_choice_in_code_wins_over_the_environment() {
    let name = "a_choice_in_code_wins_over_the_environment";
    if is_child(name) {
        for e in Executor::ALL.into_iter().filter(|e| e.is_available()) {
            tulip::set_executor(e).unwrap();
            assert_eq!(tulip::executor(), e);
            let lp = tulip::new_event_loop().unwrap();
            assert_eq!(lp.executor(), e.name());
            let thread = task_thread(&lp);
            if e == Executor::Threaded {
                assert!(thread.starts_with("tulip-worker-"), "{thread}");
            } else {
                assert_eq!(thread, std::thread::current().name().unwrap());
            }
            lp.close().unwrap();
            // `Executor::run` builds its own loop, whatever the process-wide choice.
            for other in Executor::ALL.into_iter().filter(|e| e.is_available()) {
                let ran_on = other
                    .run(async { Ok::<_, Error>(tulip::get_running_loop()?.executor()) })
                    .unwrap();
                assert_eq!(ran_on, other.name());
            }
        }
        return;
    }
    for e in Executor::ALL {
        in_child(name, &[("TULIP_EXECUTOR", e.name())]);
    }
}
