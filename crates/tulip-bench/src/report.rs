//! The table, the JSON file and the SVG chart of tulip's ratios to tokio.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

/// One table row: one figure of one workload.
pub struct Row {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub higher_better: bool,
}

impl Row {
    pub fn workload(&self) -> &'static str {
        self.key.split('.').next().unwrap_or(self.key)
    }
}

const fn row(key: &'static str, label: &'static str, unit: &'static str, hb: bool) -> Row {
    Row {
        key,
        label,
        unit,
        higher_better: hb,
    }
}

pub const ROWS: &[Row] = &[
    row("spawn_join.ns_per_task", "spawn_join", "ns/task", false),
    row("ping_pong.ns_per_rt", "ping_pong", "ns/round trip", false),
    row(
        "main_ping_pong.ns_per_rt",
        "main_ping_pong",
        "ns/round trip",
        false,
    ),
    row("yield_many.ns_per_yield", "yield_many", "ns/yield", false),
    row("timers.total_ms", "timers total", "ms", false),
    row("timers.late_p50_us", "timers late p50", "µs", false),
    row("timers.late_p99_us", "timers late p99", "µs", false),
    row(
        "sparse_timers.late_p50_us",
        "sparse timers p50",
        "µs",
        false,
    ),
    row(
        "sparse_timers.late_p99_us",
        "sparse timers p99",
        "µs",
        false,
    ),
    row(
        "tcp_echo.small_rt_per_s",
        "tcp_echo 64 B",
        "round trip/s",
        true,
    ),
    row("tcp_echo.large_mb_per_s", "tcp_echo 16 KiB", "MB/s", true),
    row(
        "idle_memory.bytes_per_task",
        "idle_memory",
        "bytes/task",
        false,
    ),
    row(
        "idle_promise.bytes_per_task",
        "idle + promise",
        "bytes/task",
        false,
    ),
    row(
        "hyper_hello.server_cpu_us_per_req",
        "hyper server CPU",
        "µs/request",
        false,
    ),
    row(
        "hyper_hello.server_sys_us_per_req",
        "  of it, kernel",
        "µs/request",
        false,
    ),
    row("hyper_hello.req_per_s", "hyper hello", "request/s", true),
    row(
        "web_hello.server_cpu_us_per_req",
        "web server CPU",
        "µs/request",
        false,
    ),
    row("web_hello.req_per_s", "web hello", "request/s", true),
];

/// tulip column, tokio column, heading. Printed as a cost ratio: tulip ÷ tokio
/// for costs (ns, ms, µs, bytes), tokio ÷ tulip for throughputs, so below 1.00
/// always means tulip is ahead.
pub const RATIOS: &[(&str, &str, &str)] = &[
    ("tulip-local", "tokio-ct", "local÷ct"),
    ("tulip-threaded", "tokio-mt", "thr÷mt"),
];

/// Everything one harness run measured.
#[derive(Default)]
pub struct Results {
    /// (contender, metric key) → value.
    pub values: BTreeMap<(String, String), f64>,
    /// (contender, workload) → why there is no figure.
    pub notes: BTreeMap<(String, String), String>,
    pub workloads: Vec<String>,
    pub contenders: Vec<String>,
    pub meta: BTreeMap<String, String>,
    /// contender → (syscalls per round trip, breakdown per round trip).
    pub syscalls: BTreeMap<String, (f64, BTreeMap<String, f64>)>,
}

impl Results {
    pub fn get(&self, contender: &str, key: &str) -> Option<f64> {
        self.values
            .get(&(contender.to_string(), key.to_string()))
            .copied()
    }

    /// See [`RATIOS`].
    pub fn ratio(&self, row: &Row, tulip: &str, peer: &str) -> Option<f64> {
        let (t, p) = (self.get(tulip, row.key)?, self.get(peer, row.key)?);
        let r = if row.higher_better { p / t } else { t / p };
        r.is_finite().then_some(r)
    }

    /// tulip-local's throughput as a share of the epoll floor's (network rows only).
    pub fn floor_share(&self, row: &Row) -> Option<f64> {
        let (t, f) = (
            self.get("tulip-local", row.key)?,
            self.get("floor", row.key)?,
        );
        (row.higher_better && f > 0.0).then(|| t / f)
    }

    fn rows(&self) -> impl Iterator<Item = &'static Row> + '_ {
        ROWS.iter()
            .filter(|r| self.workloads.iter().any(|w| w == r.workload()))
    }
}

fn fmt_value(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn col_width(contender: &str) -> usize {
    contender.len().max(8)
}

/// The table: workloads as rows, contenders as columns, then the ratios.
pub fn table(res: &Results) -> String {
    let mut out = String::new();
    let mut line = format!("{:<15} {:<13}", "workload", "unit");
    for c in &res.contenders {
        line += &format!(" {c:>w$}", w = col_width(c));
    }
    for (_, _, head) in RATIOS {
        line += &format!(" {head:>9}");
    }
    line += &format!(" {:>11}", "local%floor");
    out += &line;
    out.push('\n');
    out += &"-".repeat(line.chars().count());
    out.push('\n');
    for row in res.rows() {
        let mut line = format!("{:<15} {:<13}", row.label, row.unit);
        for c in &res.contenders {
            let cell = res.get(c, row.key).map_or("n/a".into(), fmt_value);
            line += &format!(" {cell:>w$}", w = col_width(c));
        }
        for (t, p, _) in RATIOS {
            let cell = res
                .ratio(row, t, p)
                .map_or("n/a".into(), |r| format!("{r:.2}"));
            line += &format!(" {cell:>9}");
        }
        let share = res
            .floor_share(row)
            .map_or("".into(), |s| format!("{:.0}%", s * 100.0));
        line += &format!(" {share:>11}");
        out += line.trim_end();
        out.push('\n');
    }
    out += "\nratios: tulip ÷ tokio for costs, tokio ÷ tulip for throughputs: below 1.00 = tulip ahead.\n";
    if !res.notes.is_empty() {
        out += "n/a:\n";
        // Group the workloads that share a contender and a reason.
        let mut grouped: Vec<(&str, &str, Vec<&str>)> = Vec::new();
        for ((c, w), why) in &res.notes {
            match grouped.iter_mut().find(|g| g.0 == c && g.1 == why) {
                Some(g) => g.2.push(w),
                None => grouped.push((c, why, vec![w])),
            }
        }
        for (c, why, ws) in grouped {
            out += &format!("  {c}: {why} [{}]\n", ws.join(", "));
        }
    }
    out
}

/// The syscalls-per-round-trip table.
pub fn syscall_table(res: &Results) -> String {
    let mut out = format!(
        "{:<16} {:>12}  breakdown per round trip\n",
        "contender", "syscalls/rt"
    );
    for (c, (total, parts)) in &res.syscalls {
        let mut parts: Vec<_> = parts.iter().filter(|(_, v)| **v >= 0.005).collect();
        parts.sort_by(|a, b| b.1.total_cmp(a.1));
        let parts: Vec<_> = parts.iter().map(|(k, v)| format!("{k} {v:.2}")).collect();
        out += &format!("{c:<16} {total:>12.2}  {}\n", parts.join(", "));
    }
    out
}

pub fn json(res: &Results, params: serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    let rows: Vec<_> = res
        .rows()
        .map(|row| {
            let values: serde_json::Map<_, _> = res
                .contenders
                .iter()
                .map(|c| (c.clone(), json!(res.get(c, row.key))))
                .collect();
            let ratios: serde_json::Map<_, _> = RATIOS
                .iter()
                .map(|(t, p, head)| (head.to_string(), json!(res.ratio(row, t, p))))
                .collect();
            json!({
                "key": row.key, "label": row.label, "unit": row.unit,
                "higher_is_better": row.higher_better,
                "values": values, "ratios": ratios,
                "local_share_of_floor": res.floor_share(row),
            })
        })
        .collect();
    let notes: Vec<_> = res
        .notes
        .iter()
        .map(|((c, w), why)| json!({"contender": c, "workload": w, "reason": why}))
        .collect();
    let syscalls: serde_json::Map<_, _> = res
        .syscalls
        .iter()
        .map(|(c, (t, parts))| (c.clone(), json!({"per_round_trip": t, "breakdown": parts})))
        .collect();
    json!({
        "meta": res.meta, "params": params, "rows": rows, "notes": notes,
        "ratio_definition": "tulip/tokio for costs, tokio/tulip for throughputs; < 1 = tulip ahead",
        "syscalls_per_round_trip": syscalls,
    })
}

/// Horizontal bars, one per available ratio, with a line at 1.0.
pub fn svg(res: &Results, path: &Path) -> Result<usize, Box<dyn Error>> {
    let colors = [RGBColor(46, 125, 50), RGBColor(21, 101, 192)];
    let mut bars: Vec<(String, f64, usize)> = Vec::new();
    for row in res.rows() {
        for (i, (t, p, head)) in RATIOS.iter().enumerate() {
            if let Some(r) = res.ratio(row, t, p) {
                bars.push((format!("{} ({head})", row.label), r, i));
            }
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Table order from the top: plotters counts segments from the bottom.
    bars.reverse();
    let n = bars.len();
    let root = SVGBackend::new(path, (900, 140 + 30 * n.max(1) as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let max = bars.iter().map(|b| b.1).fold(1.0, f64::max) * 1.15;
    let title = "tulip vs tokio, cost ratio (below 1 = tulip ahead)";
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(230)
        .build_cartesian_2d(0f64..max, (0..n.max(1) - 1).into_segmented())?;
    let label = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) => bars.get(*i).map(|b| b.0.clone()).unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .y_labels(n.max(1))
        .y_label_formatter(&label)
        .x_desc("tulip-local ÷ tokio current_thread (green), tulip-threaded ÷ tokio multi_thread (blue)")
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, r, s))| {
        let mut bar = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(i)),
                (*r, SegmentValue::Exact(i + 1)),
            ],
            colors[*s].filled(),
        );
        bar.set_margin(4, 4, 0, 0);
        bar
    }))?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, r, _))| {
        Text::new(
            format!(" {r:.2}"),
            (*r, SegmentValue::CenterOf(i)),
            ("sans-serif", 13),
        )
    }))?;
    chart.draw_series(LineSeries::new(
        [(1.0, SegmentValue::Exact(0)), (1.0, SegmentValue::Exact(n))],
        BLACK.stroke_width(2),
    ))?;
    root.present()?;
    Ok(n)
}
