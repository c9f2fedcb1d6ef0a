//! asyncio's subprocesses on every executor, with real children (`cat`, `/bin/sh`,
//! `python3`). What CPython does is in tests/asyncio_ref/subprocess_basics.py.
//!
//! Every scenario holds `SERIAL`: they count this process's descriptors and zombie
//! children, which other scenarios running at the same time would change. The last
//! test runs the whole file again in a child with `TULIP_CHILD_WATCHER=sigchld`, so
//! the SIGCHLD watcher (used where pidfds are missing) is exercised too.
#![cfg(feature = "net")]
mod common;

use std::io::ErrorKind;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::Factory;
use tulip::net::process::{
    create_subprocess_exec, create_subprocess_shell, Process, Stdio, SubprocessOptions,
};
use tulip::net::Error;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn run<T>(new_loop: Factory, fut: impl std::future::Future<Output = Result<T, Error>>) -> T {
    let lp = new_loop().unwrap();
    let out = lp.run_until_complete(fut).unwrap();
    lp.close().unwrap();
    out
}

fn pipes() -> SubprocessOptions {
    SubprocessOptions::new()
        .stdin(Stdio::Pipe)
        .stdout(Stdio::Pipe)
}

/// Bytes that differ from child to child and along the stream.
fn pattern(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8 ^ seed as u8)
        .collect()
}

/// This process's descriptors: number and what each refers to (a pipe's inode, say),
/// so a descriptor that reuses a closed one's number still counts as new.
fn fd_table() -> std::collections::BTreeSet<(String, String)> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            Some((
                e.file_name().to_string_lossy().into_owned(),
                target.display().to_string(),
            ))
        })
        .filter(|(_, t)| !t.starts_with("/proc/")) // the listing's own descriptor
        .collect()
}

/// This process's children that are zombies.
fn zombies() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
            let rest = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
            let mut f = rest.split_whitespace();
            f.next() == Some("Z") && f.next() == Some(me.as_str())
        })
        .count()
}

/// Waits (bounded) until `cond` holds.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(10), "never: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s[s.rfind(')').unwrap() + 1..].trim_start().starts_with('Z'))
}

fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

per_executor!(
    as_asyncio_does,
    hundred_cats_echo_a_mebibyte_each,
    communicate_64_mib,
    dropped_running_child_is_reaped,
    cancelled_wait_leaves_the_child,
    two_loops_in_two_threads_spawn_at_once,
    nothing_leaks,
);

/// The script tests/asyncio_ref/subprocess_basics.py, line for line.
fn as_asyncio_does(new_loop: Factory) {
    let _g = serial();
    run(new_loop, async {
        // Killed mid-stream: -9, and the reader reaches EOF.
        let mut p = create_subprocess_exec("cat", [""; 0], pipes()).await?;
        // Which watcher reports exits: SIGCHLD is handled only in the fallback mode.
        let sigchld_mode = std::env::var_os("TULIP_CHILD_WATCHER").is_some();
        assert_eq!(
            tulip::signal::is_default(tulip::signal::SIGCHLD),
            !sigchld_mode
        );
        let (w, mut r) = (p.stdin.take().unwrap(), p.stdout.take().unwrap());
        w.write(&[b'x'; 1000]);
        w.drain().await?;
        assert_eq!(r.readexactly(1000).await?, [b'x'; 1000]);
        p.kill()?;
        assert_eq!(r.read_to_end().await?, b"");
        assert_eq!(p.wait().await?, -9);
        assert_eq!(p.returncode(), Some(-9));

        // stderr merged into stdout.
        let opts = SubprocessOptions::new()
            .stdout(Stdio::Pipe)
            .stderr(Stdio::Stdout);
        let mut p = create_subprocess_shell("echo out; echo err >&2", opts).await?;
        let (out, err) = p.communicate(None).await?;
        let mut words: Vec<_> = out
            .unwrap()
            .split(|b| *b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        words.retain(|w| !w.is_empty());
        words.sort();
        assert_eq!(words, [b"err".to_vec(), b"out".to_vec()]);
        assert_eq!(err, None);

        // cwd and env (the whole environment).
        let opts = SubprocessOptions::new()
            .stdout(Stdio::Pipe)
            .cwd("/tmp")
            .env([("FOO", "bar")]);
        let script = r#"pwd; echo "$FOO"; echo "${HOME:-unset}""#;
        let mut p = create_subprocess_exec("/bin/sh", ["-c", script], opts).await?;
        let (out, _) = p.communicate(None).await?;
        assert_eq!(out.unwrap(), b"/tmp\nbar\nunset\n");

        // communicate feeds stdin while reading both pipes.
        let opts = pipes().stderr(Stdio::Pipe);
        let code = "import sys; d=sys.stdin.buffer.read(); sys.stdout.buffer.write(d[::-1]); \
                    sys.stderr.buffer.write(b'%d' % len(d))";
        let mut p = create_subprocess_exec("python3", ["-c", code], opts).await?;
        let (out, err) = p.communicate(Some(&b"abc".repeat(5))).await?;
        assert_eq!(out.unwrap(), b"cba".repeat(5));
        assert_eq!(err.unwrap(), b"15");
        assert_eq!(p.returncode(), Some(0));

        // An exit code, twice.
        let opts = SubprocessOptions::new().stdout(Stdio::DevNull);
        let p = create_subprocess_exec("sh", ["-c", "exit 3"], opts).await?;
        assert_eq!((p.wait().await?, p.wait().await?), (3, 3));

        // terminate, then kill after the exit: ProcessLookupError (ESRCH).
        let p = create_subprocess_exec("sleep", ["10"], SubprocessOptions::new()).await?;
        p.terminate()?;
        assert_eq!(p.wait().await?, -15);
        let e = p.kill().unwrap_err();
        assert!(
            matches!(&e, Error::Io(io) if io.raw_os_error() == Some(libc_esrch())),
            "{e}"
        );

        // A missing program.
        let e = create_subprocess_exec("/nonexistent/program", [""; 0], SubprocessOptions::new())
            .await
            .unwrap_err();
        assert_eq!(e.io_kind(), Some(ErrorKind::NotFound));

        // The readers keep the limit: a longer line is readline's ValueError.
        let opts = SubprocessOptions::new().stdout(Stdio::Pipe).limit(16);
        let mut p = create_subprocess_shell("printf '%0100d\\nok\\n' 0", opts).await?;
        let out = p.stdout.as_mut().unwrap();
        assert!(matches!(
            out.readline().await,
            Err(Error::LineTooLong { .. })
        ));
        assert_eq!(out.readline().await?, b"ok\n");
        assert_eq!(p.wait().await?, 0);

        // A child that exits without reading all of its input: not an error.
        let mut p = create_subprocess_exec("head", ["-c", "10"], pipes()).await?;
        let (out, _) = p.communicate(Some(&vec![b'y'; 4 << 20])).await?;
        assert_eq!(out.unwrap(), [b'y'; 10]);
        assert_eq!(p.returncode(), Some(0));
        Ok(())
    });
}

fn libc_esrch() -> i32 {
    3
}

/// 100 `cat` children at once, 1 MiB through each, every byte checked.
fn hundred_cats_echo_a_mebibyte_each(new_loop: Factory) {
    const CHILDREN: usize = 100;
    const SIZE: usize = 1 << 20;
    let _g = serial();
    let done = run(new_loop, async {
        let mut tasks = Vec::new();
        for i in 0..CHILDREN {
            tasks.push(tulip::create_task(async move {
                let mut p = create_subprocess_exec("cat", [""; 0], pipes()).await?;
                let data = pattern(i, SIZE);
                let (out, _) = p.communicate(Some(&data)).await?;
                assert!(out.unwrap() == data, "child {i} echoed other bytes");
                assert_eq!(p.returncode(), Some(0));
                Ok::<_, Error>(i)
            })?);
        }
        let mut done = Vec::new();
        for t in tasks {
            done.push(t.await?);
        }
        Ok(done)
    });
    assert_eq!(done, (0..CHILDREN).collect::<Vec<_>>());
}

/// communicate never deadlocks: 64 MiB in and 64 MiB out of one `cat`.
fn communicate_64_mib(new_loop: Factory) {
    const SIZE: usize = 64 << 20;
    let _g = serial();
    run(new_loop, async {
        let data = pattern(7, SIZE);
        let mut p = create_subprocess_exec("cat", [""; 0], pipes()).await?;
        let (out, err) = p.communicate(Some(&data)).await?;
        let out = out.unwrap();
        assert_eq!(out.len(), SIZE);
        assert!(out == data, "bytes differ");
        assert_eq!(err, None);
        assert_eq!(p.returncode(), Some(0));
        Ok(())
    });
}

/// Dropping a `Process` whose child runs returns at once; the child is reaped once
/// it exits (its /proc entry goes away), even after the loop is closed.
fn dropped_running_child_is_reaped(new_loop: Factory) {
    let _g = serial();
    let pid = run(new_loop, async {
        let p = create_subprocess_exec("sleep", ["30"], pipes()).await?;
        let pid = p.pid();
        drop(p);
        Ok(pid)
    });
    assert!(alive(pid), "the child still runs after the drop");
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    eventually("the dropped child is reaped", || !exists(pid));
}

/// Cancelling a task inside `wait()` leaves the child running (as asyncio).
fn cancelled_wait_leaves_the_child(new_loop: Factory) {
    let _g = serial();
    run(new_loop, async {
        let p = Arc::new(create_subprocess_exec("sleep", ["30"], SubprocessOptions::new()).await?);
        let q = p.clone();
        let waiter = tulip::create_task(async move { q.wait().await })?;
        tulip::sleep(Duration::from_millis(5)).await?;
        waiter.cancel();
        let e = waiter.await.unwrap_err();
        assert!(e.is_cancelled(), "{e}");
        assert_eq!(p.returncode(), None, "the child still runs");
        assert!(alive(p.pid()));
        p.kill()?;
        assert_eq!(p.wait().await?, -9);
        Ok(())
    });
}

/// Two loops, each on its own thread, spawning children at the same moment.
fn two_loops_in_two_threads_spawn_at_once(new_loop: Factory) {
    const EACH: usize = 20;
    let _g = serial();
    let start = Arc::new(std::sync::Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                run(new_loop, async move {
                    let mut tasks = Vec::new();
                    for i in 0..EACH {
                        tasks.push(tulip::create_task(async move {
                            let word = format!("t{t}-{i}");
                            let opts = SubprocessOptions::new().stdout(Stdio::Pipe);
                            let mut p = create_subprocess_exec("echo", [&word], opts).await?;
                            let (out, _) = p.communicate(None).await?;
                            assert_eq!(out.unwrap(), format!("{word}\n").into_bytes());
                            Ok::<_, Error>(p.returncode())
                        })?);
                    }
                    for t in tasks {
                        assert_eq!(t.await?, Some(0));
                    }
                    Ok(())
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// After children of every kind (waited, killed, dropped while running, cancelled
/// waits), no zombie is left and the descriptor count is back where it started.
fn nothing_leaks(new_loop: Factory) {
    let _g = serial();
    // The first dropped child starts tulip's process-wide watcher (one pipe, kept):
    // start it before counting.
    run(new_loop, async {
        let p = create_subprocess_exec("true", [""; 0], SubprocessOptions::new()).await?;
        drop(p);
        Ok(())
    });
    eventually("no zombie before", || zombies() == 0);
    let fds = fd_table();
    let mut pids = Vec::new();
    run(new_loop, async {
        for i in 0..10 {
            let mut p = create_subprocess_exec("cat", [""; 0], pipes().stderr(Stdio::Pipe)).await?;
            pids.push(p.pid());
            match i % 4 {
                0 => {
                    let (out, _) = p.communicate(Some(b"abc")).await?;
                    assert_eq!(out.unwrap(), b"abc");
                }
                1 => {
                    p.kill()?;
                    assert_eq!(p.wait().await?, -9);
                }
                2 => drop(p), // still running: its stdin closes, cat exits
                _ => {
                    let q: Arc<Process> = Arc::new(p);
                    let r = q.clone();
                    let w = tulip::create_task(async move { r.wait().await })?;
                    tulip::sleep(Duration::from_millis(1)).await?;
                    w.cancel();
                    assert!(w.await.unwrap_err().is_cancelled());
                    q.kill()?;
                }
            }
        }
        Ok(())
    });
    eventually("every child reaped", || pids.iter().all(|p| !exists(*p)));
    assert_eq!(zombies(), 0);
    // Every descriptor open now was open at the start (one of a previous scenario's
    // threaded loop may close meanwhile, so "back to the start" is "nothing new").
    let settled = Instant::now();
    while !fd_table().is_subset(&fds) && settled.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let now = fd_table();
    assert!(
        now.is_subset(&fds),
        "new descriptors: {:?}",
        now.difference(&fds).collect::<Vec<_>>()
    );
}

/// The whole file again, with the SIGCHLD watcher instead of pidfds.
#[test]
fn with_the_sigchld_watcher() {
    if std::env::var_os("TULIP_CHILD_WATCHER").is_some() {
        return; // already the child run
    }
    // Its output pipes are descriptors of this process: not while others count them.
    let _g = serial();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env("TULIP_CHILD_WATCHER", "sigchld")
        .args(["--skip", "with_the_sigchld_watcher"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("test result: ok"), "{text}");
}
