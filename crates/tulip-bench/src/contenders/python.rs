//! Python asyncio and uvloop: the peer script runs as a subprocess and prints JSON.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use crate::workloads::hyper_hello::{self, ServerCpu};
use crate::workloads::{Metrics, Params};

/// The peer script, embedded so the binary runs from any directory.
const PEER: &str = include_str!("../../peers/asyncio_peer.py");

/// Runs `workload` on Python's `asyncio` or `uvloop` event loop.
/// `Err` carries the reason there is no figure (python3 or the module missing, a failure).
pub fn run(loop_kind: &str, workload: &str, p: &Params) -> Result<Metrics, String> {
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(PEER)
        .arg(loop_kind)
        .arg(workload)
        .arg(p.to_json().to_string());
    // The same time limit, crash report and JSON parsing as a Rust child's.
    crate::contenders::run_child(cmd).map_err(|e| format!("python3: {e}"))
}

/// `web_hello` on aiohttp, on `asyncio` or `uvloop`: the peer serves `GET /` and
/// prints its address; the harness's clients load it; closing the peer's stdin
/// stops it. The server's CPU time is the peer process's, from `/proc`.
pub fn run_web(loop_kind: &str, p: &Params) -> Result<Metrics, String> {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(PEER)
        .arg(loop_kind)
        .arg("web_serve")
        .arg(p.to_json().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3 not runnable: {e}"))?;
    let stdin = child.stdin.take();
    let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut first = String::new();
    let _ = out.read_line(&mut first);
    let addr = match serde_json::from_str::<serde_json::Value>(&first) {
        Ok(v) if v.get("na").is_some() => Err(v["na"].as_str().unwrap_or("n/a").to_string()),
        Ok(v) => v["addr"]
            .as_str()
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .ok_or_else(|| format!("no address from the peer: {}", first.trim())),
        Err(_) => {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            Err(format!(
                "python3 failed: {}",
                err.lines().last().unwrap_or("no output")
            ))
        }
    };
    let addr = match addr {
        Ok(a) => a,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    let r = hyper_hello::measure_with(
        "web_hello",
        p,
        ServerCpu::Process(child.id()),
        move |bound, _conns, done| {
            bound
                .send(addr)
                .map_err(|_| "client driver is gone".to_string())?;
            let _ = done.recv();
            // End of input: the peer closes its server and exits.
            drop(stdin);
            Ok(())
        },
    );
    let _ = child.wait();
    r
}
