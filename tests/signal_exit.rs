//! Programs under SIGINT / SIGTERM, as child processes: `tulip::run` with a clean-up
//! (examples/run_cleanup.rs) and a `run_forever` server with signal handlers
//! (examples/signal_server.rs), on every executor compiled in.
//!
//! The test binary runs itself as the child (with `TULIP_SIGNAL_EXIT_CHILD` naming
//! the program), so the program always matches this build and runs on the main
//! thread, where `tulip::run` takes over SIGINT as `asyncio.run` does. Hence its own
//! `main` (`harness = false`): it takes an optional substring filter, like libtest.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[path = "../examples/run_cleanup.rs"]
mod run_cleanup;
#[path = "../examples/signal_server.rs"]
mod signal_server;
#[path = "../examples/web_server.rs"]
mod web_server;

const CHILD: &str = "TULIP_SIGNAL_EXIT_CHILD";
const EXECUTOR: &str = "TULIP_SIGNAL_EXIT_EXECUTOR";
/// A child that has not finished by then is killed and the case fails.
const CHILD_LIMIT: Duration = Duration::from_secs(60);

type Factory = fn() -> tulip::Result<tulip::EventLoop>;
/// A named case, run once per executor.
type Case = (&'static str, fn(&str));

fn factory(name: &str) -> Factory {
    match name {
        #[cfg(feature = "threaded")]
        "threaded" => tulip::executors::threaded::new_event_loop,
        #[cfg(feature = "local")]
        "local" => tulip::executors::local::new_event_loop,
        other => panic!("executor {other} not compiled in"),
    }
}

fn executors() -> Vec<&'static str> {
    let mut v = Vec::new();
    if cfg!(feature = "local") {
        v.push("local");
    }
    if cfg!(feature = "threaded") {
        v.push("threaded");
    }
    v
}

/// The child side: run the named program and exit.
fn child(program: &str) -> ! {
    let new_loop = factory(&std::env::var(EXECUTOR).expect("executor named"));
    tulip::core::set_default_loop_factory(new_loop);
    let out = match program {
        "run_cleanup" => run_cleanup::program(false),
        "run_cleanup_slow" => run_cleanup::program(true),
        "signal_server" => signal_server::serve(new_loop, "127.0.0.1:0"),
        "run_returns" => run_returns(),
        "web_run_server" => web_run_server(),
        "web_server" => web_server::serve(Some("127.0.0.1:0".into()), false),
        other => panic!("no program {other}"),
    };
    match out {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}

/// `run` takes SIGINT over while `main` runs, and gives it back when it returns.
fn run_returns() -> Result<(), Box<dyn std::error::Error>> {
    use tulip::signal::{is_default, SIGINT};
    println!("before: default {}", is_default(SIGINT));
    let during = tulip::run(async { Ok::<_, tulip::Error>(is_default(SIGINT)) })?;
    println!("during: default {during}");
    println!("after: default {}", is_default(SIGINT));
    Ok(())
}

/// tulip-web's `run_server` (the second half of `run_app`) inside `tulip::run`:
/// serves until SIGINT, then returns normally.
fn web_run_server() -> Result<(), Box<dyn std::error::Error>> {
    tulip::run(async {
        let mut app = tulip::web::Application::new();
        app.router
            .add_get("/", |_r: tulip::web::Request| async { "up" });
        let srv = app.serve("127.0.0.1:0").await?;
        println!("listening on {}", srv.local_addr());
        tulip::web::run_server(&srv).await?;
        println!("run_server returned");
        Ok::<_, tulip::web::Error>(())
    })?;
    Ok(())
}

/// A running child with its stdout read line by line.
struct Program {
    child: Child,
    out: BufReader<ChildStdout>,
    done: mpsc::Sender<()>,
}

impl Program {
    fn start(program: &str, executor: &str) -> Program {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD, program)
            .env(EXECUTOR, executor)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        // The watchdog: a child still there after the limit is killed, so a hang
        // fails the case instead of blocking the suite.
        let (done, timeout) = mpsc::channel::<()>();
        let pid = child.id();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = timeout.recv_timeout(CHILD_LIMIT) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        });
        Program { child, out, done }
    }

    /// The next line of output (without the newline); panics at end of file.
    fn line(&mut self) -> String {
        let mut l = String::new();
        let n = self.out.read_line(&mut l).unwrap();
        assert!(n > 0, "the program ended its output early");
        l.trim_end().to_string()
    }

    /// Reads lines until one starts with `prefix`; returns the rest of it.
    fn until(&mut self, prefix: &str) -> String {
        loop {
            let l = self.line();
            if let Some(rest) = l.strip_prefix(prefix) {
                return rest.to_string();
            }
        }
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Waits for the exit; the remaining output, line by line.
    fn finish(mut self) -> (ExitStatus, Vec<String>) {
        let mut rest = String::new();
        self.out.read_to_string(&mut rest).unwrap();
        let status = self.child.wait().unwrap();
        let _ = self.done.send(());
        (status, rest.lines().map(str::to_string).collect())
    }
}

fn released(addr: SocketAddr) -> bool {
    matches!(TcpStream::connect(addr), Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused)
}

/// First Ctrl-C: the main task is cancelled, its clean-up runs, `run` returns
/// KeyboardInterrupt, and the program exits 0 with its port closed.
fn run_first_ctrl_c_cleans_up(executor: &str) {
    let mut p = Program::start("run_cleanup", executor);
    let addr: SocketAddr = p.until("listening on ").parse().unwrap();
    assert!(!released(addr), "the server listens");
    p.signal("INT");
    let (status, rest) = p.finish();
    assert!(status.success(), "{status:?}; output {rest:?}");
    assert_eq!(
        rest,
        [
            "clean-up: closing the server",
            "clean-up done",
            "KeyboardInterrupt"
        ]
    );
    assert!(released(addr));
}

/// A second Ctrl-C during the clean-up is not swallowed: it kills the program.
fn run_second_ctrl_c_is_not_swallowed(executor: &str) {
    let mut p = Program::start("run_cleanup_slow", executor);
    p.until("listening on ");
    p.signal("INT");
    assert_eq!(p.line(), "clean-up: closing the server");
    assert_eq!(p.line(), "clean-up: slow");
    p.signal("INT");
    let (status, rest) = p.finish();
    assert_eq!(status.signal(), Some(tulip::signal::SIGINT), "{status:?}");
    assert!(rest.is_empty(), "nothing after the second Ctrl-C: {rest:?}");
}

fn run_gives_sigint_back(executor: &str) {
    let p = Program::start("run_returns", executor);
    let (status, out) = p.finish();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        out,
        [
            "before: default true",
            "during: default false",
            "after: default true"
        ]
    );
}

/// Sends `sig` to `p`, which serves on `addr`: it must exit 0 with `last` as its
/// last line, and the port must be free again.
fn stops_cleanly(p: Program, sig: &str, last: &str, addr: SocketAddr) {
    p.signal(sig);
    let (status, rest) = p.finish();
    assert!(status.success(), "{status:?}; output {rest:?}");
    assert_eq!(rest.last().map(String::as_str), Some(last), "{rest:?}");
    assert!(released(addr));
}

/// One HTTP/1.1 GET of `path` that closes the connection: the whole reply.
fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(CHILD_LIMIT)).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    c.read_to_string(&mut reply).unwrap();
    reply
}

fn server_stops_on(executor: &str, sig: &str) {
    let mut p = Program::start("signal_server", executor);
    let addr: SocketAddr = p.until("listening on ").parse().unwrap();
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(CHILD_LIMIT)).unwrap();
    c.write_all(b"ping\n").unwrap();
    let mut echo = [0u8; 5];
    c.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"ping\n");
    stops_cleanly(p, sig, "server closed", addr);
}

/// Seed 002's aiohttp-style server (`examples/web_server.rs`) on SIGINT: it
/// answers, then stops, closes its port and exits 0.
fn web_server_stops_on_sigint(executor: &str) {
    let mut p = Program::start("web_server", executor);
    let at = p.until("Server started at http://");
    let addr: SocketAddr = at.trim_end_matches("...").parse().unwrap();
    let reply = http_get(addr, "/hello/sig");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.ends_with("<h1>hello, sig!</h1>"), "{reply}");
    stops_cleanly(p, "INT", "server closed", addr);
}

/// `run_app`'s serving loop closes the server on SIGINT and returns `Ok`; the
/// program exits 0 and the port is released.
fn run_server_closes_on_sigint(executor: &str) {
    let mut p = Program::start("web_run_server", executor);
    let addr: SocketAddr = p.until("listening on ").parse().unwrap();
    let reply = http_get(addr, "/");
    assert!(reply.ends_with("up"), "{reply}");
    stops_cleanly(p, "INT", "run_server returned", addr);
}

fn server_stops_on_sigint(executor: &str) {
    server_stops_on(executor, "INT")
}

fn server_stops_on_sigterm(executor: &str) {
    server_stops_on(executor, "TERM")
}

fn main() {
    if let Ok(program) = std::env::var(CHILD) {
        child(&program);
    }
    let cases: [Case; 7] = [
        ("run_gives_sigint_back", run_gives_sigint_back),
        ("run_first_ctrl_c_cleans_up", run_first_ctrl_c_cleans_up),
        (
            "run_second_ctrl_c_is_not_swallowed",
            run_second_ctrl_c_is_not_swallowed,
        ),
        ("server_stops_on_sigint", server_stops_on_sigint),
        ("server_stops_on_sigterm", server_stops_on_sigterm),
        ("web_server_stops_on_sigint", web_server_stops_on_sigint),
        ("run_server_closes_on_sigint", run_server_closes_on_sigint),
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, Vec::new());
    for executor in executors() {
        for (name, case) in cases {
            let full = format!("{executor}::{name}");
            if !filter.is_empty() && !filter.iter().any(|f| full.contains(f.as_str())) {
                continue;
            }
            match std::panic::catch_unwind(|| case(executor)) {
                Ok(()) => {
                    println!("test {full} ... ok");
                    passed += 1;
                }
                Err(_) => {
                    println!("test {full} ... FAILED");
                    failed.push(full);
                }
            }
        }
    }
    println!("\ntest result: {passed} passed; {} failed", failed.len());
    if !failed.is_empty() {
        println!("failures: {failed:?}");
        std::process::exit(1);
    }
}
