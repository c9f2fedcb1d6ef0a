//! The contenders, and how one (contender, workload) pair is measured: Rust
//! contenders in a fresh child process of this binary (so memory figures and
//! leftover threads never leak between runs), Python ones through the peer script.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::workloads::{self, Metrics, Params};

pub mod floor;
pub mod python;
pub mod smol_rt;
pub mod tokio_rt;
pub mod tulip_rt;

/// Columns of the table, in order.
pub const ALL: &[&str] = &[
    "tulip-local",
    "tulip-threaded",
    "tokio-ct",
    "tokio-mt",
    "smol",
    "smol-mt",
    "floor",
    "asyncio",
    "uvloop",
];

/// The hidden subcommand a child process is started with.
pub const CHILD_CMD: &str = "__run";

/// A child that takes longer than this is killed and reported as n/a.
const CHILD_TIMEOUT: Duration = Duration::from_secs(180);

/// Measures one pair. `Err` holds the reason there is no figure.
pub fn measure(
    contender: &str,
    workload: &str,
    p: &Params,
    quick: bool,
) -> Result<Metrics, String> {
    match contender {
        "asyncio" | "uvloop" if workload == "hyper_hello" => {
            Err("hyper is a Rust library: no Python peer".into())
        }
        "asyncio" | "uvloop" if workload == "web_hello" => python::run_web(contender, p),
        "asyncio" | "uvloop" => python::run(contender, workload, p),
        _ => {
            let mut cmd = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
            cmd.args([CHILD_CMD, contender, workload]);
            if quick {
                cmd.arg("--quick");
            }
            run_child(cmd)
        }
    }
}

/// Runs the child, waits at most [`CHILD_TIMEOUT`], parses the JSON it prints.
pub fn run_child(mut cmd: Command) -> Result<Metrics, String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start child: {e}"))?;
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {}s", CHILD_TIMEOUT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    if !status.success() {
        let why = err
            .lines()
            .find(|l| l.contains("panicked"))
            .or_else(|| err.lines().last())
            .unwrap_or("no output");
        return Err(format!("crashed ({status}): {why}"));
    }
    parse_metrics(&out)
}

/// Parses `{"key": number, ...}` or `{"na": "reason"}`.
pub fn parse_metrics(text: &str) -> Result<Metrics, String> {
    let line = text.lines().rev().find(|l| l.trim_start().starts_with('{'));
    let v: serde_json::Value = line
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("no JSON in output: {}", text.trim()))?;
    let obj = v.as_object().ok_or("output is not a JSON object")?;
    if let Some(na) = obj.get("na") {
        return Err(na.as_str().unwrap_or("n/a").to_string());
    }
    Ok(obj
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
        .collect())
}

/// Prints one JSON line for the parent: the figures, or `{"na": reason}`.
pub fn print_result(r: &Result<Metrics, String>) {
    let v = match r {
        Ok(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), serde_json::json!(v)))
                .collect(),
        ),
        Err(e) => serde_json::json!({ "na": e }),
    };
    println!("{v}");
}

/// Runs one pair in this process (the child side of [`measure`]).
pub fn run_here(contender: &str, workload: &str, p: &Params) -> Result<Metrics, String> {
    use tokio_rt::Tokio;
    match contender {
        // tokio has no web framework of its own: its `web_hello` is bare hyper, the
        // server tulip-web is measured against.
        "tokio-ct" | "tokio-mt" if workload == "web_hello" => {
            let m = run_here(contender, "hyper_hello", p)?;
            Ok(m.into_iter()
                .map(|(k, v)| (k.replacen("hyper_hello.", "web_hello.", 1), v))
                .collect())
        }
        "tokio-ct" => workloads::run_hyper(&Tokio::current_thread(), workload, p),
        "tokio-mt" => workloads::run_hyper(&Tokio::multi_thread(), workload, p),
        "smol" | "smol-mt" | "floor" if workload.ends_with("_hello") => {
            Err(format!("{workload} runs on tulip and tokio only"))
        }
        "smol" => workloads::run_any(&smol_rt::Smol, workload, p),
        "smol-mt" => workloads::run_any(&smol_rt::SmolMt::new(), workload, p),
        "floor" => match workload {
            "tcp_echo" => floor::run(p),
            "tcp_echo_fixed" => floor::run_fixed(p),
            _ => Err("floor: network workloads only".into()),
        },
        "tulip-local" => tulip_rt::run_local(workload, p),
        "tulip-threaded" => tulip_rt::run_threaded(workload, p),
        other => Err(format!("unknown contender {other}")),
    }
}
