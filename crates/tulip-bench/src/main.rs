//! tulip-bench: the same workloads on tulip and its peers, side by side.
//!
//! ```text
//! tulip-bench [all | WORKLOAD... | syscalls] [--quick] [--json PATH] [--svg PATH]
//!             [--only CONTENDER,CONTENDER...] [--repeat N]
//! ```
//! Workloads: spawn_join ping_pong main_ping_pong yield_many timers sparse_timers tcp_echo idle_memory
//! idle_promise hyper_hello web_hello (tulip-web on tulip; bare hyper on tokio).
//! Contenders: tulip-local tulip-threaded tokio-ct tokio-mt smol smol-mt floor asyncio uvloop.

/// Progress and usage lines for the person running the harness (stderr, so stdout
/// stays the results). The library crates never print; this binary does.
macro_rules! progress {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod contenders;
mod report;
mod runtime;
mod syscalls;
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;

use report::Results;
use workloads::Params;

/// The workspace root, for the default output paths.
fn workspace_root() -> PathBuf {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    root.canonicalize().unwrap_or(root)
}

struct Cli {
    workloads: Vec<String>,
    syscalls: bool,
    quick: bool,
    json: PathBuf,
    svg: PathBuf,
    only: Option<Vec<String>>,
    /// Rounds per workload; contenders alternate within a round; figures are medians.
    repeat: usize,
}

const USAGE: &str = "usage: tulip-bench [all | WORKLOAD... | syscalls] [--quick] [--json PATH] [--svg PATH] [--only C1,C2] [--repeat N]
workloads:   spawn_join ping_pong main_ping_pong yield_many timers sparse_timers tcp_echo idle_memory idle_promise hyper_hello web_hello
contenders:  tulip-local tulip-threaded tokio-ct tokio-mt smol smol-mt floor asyncio uvloop";

fn parse_cli(args: &[String]) -> Result<Cli, String> {
    let root = workspace_root();
    let mut cli = Cli {
        workloads: Vec::new(),
        syscalls: false,
        quick: false,
        json: root.join("target/bench-results.json"),
        // Under target/, like the JSON: a partial run (`--only`, one workload) must not
        // overwrite the committed chart; pass `--svg docs/benchmarks-ratios.svg` for that.
        svg: root.join("target/bench-ratios.svg"),
        only: None,
        repeat: 1,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or(format!("{flag} needs a value"));
        match a.as_str() {
            "--quick" => cli.quick = true,
            "--json" => cli.json = value("--json")?.into(),
            "--svg" => cli.svg = value("--svg")?.into(),
            "--only" => {
                let list = value("--only")?;
                cli.only = Some(list.split(',').map(str::to_string).collect());
            }
            "--repeat" => {
                let n = value("--repeat")?;
                cli.repeat = match n.parse() {
                    Ok(n) if n >= 1 => n,
                    _ => return Err(format!("--repeat needs a count >= 1, not {n:?}")),
                };
            }
            "-h" | "--help" => return Err(String::new()),
            "all" => cli.workloads = workloads::ALL.iter().map(|s| s.to_string()).collect(),
            "syscalls" => cli.syscalls = true,
            w if workloads::ALL.contains(&w) => cli.workloads.push(w.to_string()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if let Some(only) = &cli.only {
        if let Some(bad) = only.iter().find(|c| !contenders::ALL.contains(&c.as_str())) {
            return Err(format!("unknown contender {bad:?}"));
        }
    }
    if cli.workloads.is_empty() && !cli.syscalls {
        cli.workloads = workloads::ALL.iter().map(|s| s.to_string()).collect();
    }
    Ok(cli)
}

/// The hidden child side: `__run CONTENDER WORKLOAD [--quick] [--rounds N]`.
fn child(args: &[String]) -> ExitCode {
    let quick = args.iter().any(|a| a == "--quick");
    let mut p = Params::new(quick);
    if let Some(i) = args.iter().position(|a| a == "--rounds") {
        match args.get(i + 1).and_then(|n| n.parse().ok()) {
            Some(n) => p.tcp_fixed_round_trips = n,
            None => return ExitCode::from(2),
        }
    }
    let (Some(c), Some(w)) = (args.first(), args.get(1)) else {
        progress!("usage: tulip-bench __run CONTENDER WORKLOAD [--quick] [--rounds N]");
        return ExitCode::from(2);
    };
    contenders::print_result(&contenders::run_here(c, w, &p));
    ExitCode::SUCCESS
}

fn meta(cli: &Cli, args: &[String]) -> std::collections::BTreeMap<String, String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut m = std::collections::BTreeMap::new();
    m.insert("command".into(), format!("tulip-bench {}", args.join(" ")));
    m.insert("date".into(), date);
    m.insert("nproc".into(), nproc.to_string());
    m.insert("cpu".into(), cpu);
    m.insert("load_before".into(), loadavg());
    m.insert("quick".into(), cli.quick.to_string());
    m.insert("repeat".into(), cli.repeat.to_string());
    m
}

/// The median of `v` (the mean of the middle two for an even count).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(contenders::CHILD_CMD) {
        return child(&args[1..]);
    }
    let cli = match parse_cli(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                progress!("error: {e}");
            }
            progress!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let p = Params::new(cli.quick);
    let mut res = Results {
        meta: meta(&cli, &args),
        workloads: cli.workloads.clone(),
        contenders: contenders::ALL
            .iter()
            .map(|s| s.to_string())
            .filter(|c| match &cli.only {
                Some(only) => only.contains(c),
                None => true,
            })
            .collect(),
        ..Results::default()
    };
    progress!(
        "tulip-bench: {} cpus, load {}{}",
        res.meta["nproc"],
        res.meta["load_before"],
        if cli.quick { ", --quick" } else { "" }
    );
    for w in &cli.workloads {
        // (contender, metric) -> one value per round, rounds alternating contenders.
        let mut rounds: std::collections::BTreeMap<(String, String), Vec<f64>> = Default::default();
        for round in 0..cli.repeat {
            for c in &res.contenders.clone() {
                if res.notes.contains_key(&(c.clone(), w.clone())) {
                    continue;
                }
                let tag = if cli.repeat > 1 {
                    format!(" #{}", round + 1)
                } else {
                    String::new()
                };
                eprint!("  {w:<12} {c:<15}{tag} ");
                match contenders::measure(c, w, &p, cli.quick) {
                    Ok(m) => {
                        let shown: Vec<_> = m.iter().map(|(k, v)| format!("{k}={v:.1}")).collect();
                        progress!("{}", shown.join(" "));
                        for (k, v) in m {
                            rounds.entry((c.clone(), k)).or_default().push(v);
                        }
                    }
                    Err(why) => {
                        progress!("n/a: {why}");
                        res.notes.insert((c.clone(), w.clone()), why);
                    }
                }
            }
        }
        for (key, vals) in rounds {
            res.values.insert(key, median(vals));
        }
    }
    if cli.syscalls {
        syscalls::run(&mut res, &p, cli.quick);
    }
    res.meta.insert("load_after".into(), loadavg());

    println!(
        "\n{} | nproc {} | {} | load {} -> {}\n",
        res.meta["date"],
        res.meta["nproc"],
        res.meta["cpu"],
        res.meta["load_before"],
        res.meta["load_after"]
    );
    if !cli.workloads.is_empty() {
        print!("{}", report::table(&res));
    }
    if !res.syscalls.is_empty() {
        println!("\nsyscalls per 64-byte echo round trip (strace -f -c):");
        print!("{}", report::syscall_table(&res));
    }

    let json = report::json(&res, p.to_json());
    if let Some(dir) = cli.json.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&cli.json, format!("{json:#}\n")) {
        Ok(()) => println!("\nwrote {}", cli.json.display()),
        Err(e) => progress!("cannot write {}: {e}", cli.json.display()),
    }
    if !cli.workloads.is_empty() {
        match report::svg(&res, &cli.svg) {
            Ok(0) => println!(
                "wrote {} (no tulip ratio yet: empty chart)",
                cli.svg.display()
            ),
            Ok(_) => println!("wrote {}", cli.svg.display()),
            Err(e) => progress!("cannot write {}: {e}", cli.svg.display()),
        }
    }
    ExitCode::SUCCESS
}
