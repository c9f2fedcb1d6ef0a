//! `syscalls`: system calls per 64-byte echo round trip, counted by `strace -f -c`.
//!
//! Each contender's `tcp_echo_fixed` runs twice in a child under strace, once
//! with R round trips per connection and once with 1; the difference divided by
//! the difference in round trips cancels start-up and set-up calls. `--only`
//! narrows the contenders here too.

use std::collections::BTreeMap;
use std::process::Command;

use crate::contenders::{run_child, CHILD_CMD};
use crate::report::Results;
use crate::workloads::Params;

const CONTENDERS: &[&str] = &["tulip-local", "tokio-ct", "tokio-mt", "floor"];

pub fn run(res: &mut Results, p: &Params, quick: bool) {
    if Command::new("strace").arg("-V").output().is_err() {
        let why = "strace not installed (apt-get install -y strace)".to_string();
        progress!("syscalls: {why}");
        res.notes.insert(("strace".into(), "syscalls".into()), why);
        return;
    }
    for c in CONTENDERS
        .iter()
        .filter(|c| res.contenders.iter().any(|x| x == *c))
    {
        eprint!("  syscalls     {c:<15} ");
        match per_round_trip(c, p, quick) {
            Ok((total, parts)) => {
                progress!("{total:.2}/rt");
                res.syscalls.insert(c.to_string(), (total, parts));
            }
            Err(why) => {
                progress!("n/a: {why}");
                res.notes.insert((c.to_string(), "syscalls".into()), why);
            }
        }
    }
}

type Counts = BTreeMap<String, u64>;

fn per_round_trip(
    c: &str,
    p: &Params,
    quick: bool,
) -> Result<(f64, BTreeMap<String, f64>), String> {
    let (rt_hi, calls_hi) = traced(c, p.tcp_fixed_round_trips, quick)?;
    let (rt_lo, calls_lo) = traced(c, 1, quick)?;
    let d_rt = rt_hi - rt_lo;
    if d_rt <= 0.0 {
        return Err("no round trips counted".into());
    }
    let mut parts = BTreeMap::new();
    for (name, hi) in &calls_hi {
        let lo = calls_lo.get(name).copied().unwrap_or(0);
        let v = (*hi as f64 - lo as f64) / d_rt;
        if v > 0.0 {
            parts.insert(name.clone(), v);
        }
    }
    let total = parts.values().sum();
    Ok((total, parts))
}

/// Runs the child under strace; returns (round trips, calls per syscall).
fn traced(c: &str, rounds: u64, quick: bool) -> Result<(f64, Counts), String> {
    let out = std::env::temp_dir().join(format!("tulip-bench-strace-{}-{c}", std::process::id()));
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new("strace");
    cmd.arg("-f").arg("-c").arg("-o").arg(&out).arg(exe);
    cmd.args([
        CHILD_CMD,
        c,
        "tcp_echo_fixed",
        "--rounds",
        &rounds.to_string(),
    ]);
    if quick {
        cmd.arg("--quick");
    }
    let m = run_child(cmd)?;
    let rt = m
        .iter()
        .find(|(k, _)| k == "tcp_echo_fixed.round_trips")
        .map(|(_, v)| *v)
        .ok_or("child reported no round trips")?;
    let text = std::fs::read_to_string(&out).map_err(|e| format!("strace output: {e}"))?;
    let _ = std::fs::remove_file(&out);
    Ok((rt, parse_strace(&text)))
}

/// Parses `strace -c`: lines `% time  seconds  usecs/call  calls  [errors]  syscall`.
fn parse_strace(text: &str) -> Counts {
    let mut counts = Counts::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let Some(name) = f.last() else { continue };
        if f.len() < 5 || *name == "total" || f[0].parse::<f64>().is_err() {
            continue;
        }
        if let Ok(n) = f[3].parse::<u64>() {
            *counts.entry(name.to_string()).or_default() += n;
        }
    }
    counts
}
