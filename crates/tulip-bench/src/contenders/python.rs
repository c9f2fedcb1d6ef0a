//! Python asyncio and uvloop: the peer script runs as a subprocess and prints JSON.

use std::process::Command;

use crate::workloads::{Metrics, Params};

/// The peer script, embedded so the binary runs from any directory.
const PEER: &str = include_str!("../../peers/asyncio_peer.py");

/// Runs `workload` on Python's `asyncio` or `uvloop` event loop.
/// `Err` carries the reason there is no figure (python3 or the module missing, a failure).
pub fn run(loop_kind: &str, workload: &str, p: &Params) -> Result<Metrics, String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(PEER)
        .arg(loop_kind)
        .arg(workload)
        .arg(p.to_json().to_string())
        .output()
        .map_err(|e| format!("python3 not runnable: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("no output");
        return Err(format!("python3 failed: {last}"));
    }
    crate::contenders::parse_metrics(&String::from_utf8_lossy(&out.stdout))
}
