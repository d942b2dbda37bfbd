//! The table printed at the end of a run. `scripts/bench-indexer.sh` reads its `throughput`
//! and `RSS` rows, so keep their shape.

use std::fmt::Write as _;
use std::time::Duration;

use super::cli::StoreKind;
use super::pipeline::Report;

/// Renders the summary table.
pub(crate) fn render(report: &Report) -> String {
    let c = &report.config;
    let mut out = String::new();
    let mode = format!(
        "store {}, verify {:?}, telemetry {}{}{}",
        match c.store {
            StoreKind::Sqlite => "sqlite",
            StoreKind::None => "none",
        },
        c.verify,
        if c.telemetry { "on" } else { "off" },
        if report.flame.is_some() {
            ", profiling 99 Hz"
        } else {
            ""
        },
        c.inject
            .map_or(String::new(), |i| format!(", inject {i:?}")),
    )
    .to_lowercase();
    let _ = writeln!(out, "\nindexer summary ({mode})");
    let row = |out: &mut String, name: &str, value: String| {
        let _ = writeln!(out, "  {name:<18} {value}");
    };
    row(
        &mut out,
        "throughput",
        format!("{} tx/s", group(report.throughput() as u64)),
    );
    row(
        &mut out,
        "elapsed",
        format!("{:.2} s", report.elapsed.as_secs_f64()),
    );
    if let Some(cpu) = report.cpu {
        // CPU per transaction: the number that survives a noisy, shared machine.
        let per_tx = cpu.as_secs_f64() * 1e6 / report.indexed.max(1) as f64;
        row(
            &mut out,
            "cpu",
            format!("{:.2} s, {per_tx:.2} µs per tx", cpu.as_secs_f64()),
        );
    }
    row(&mut out, "blocks", group(report.blocks));
    row(&mut out, "indexed", group(report.indexed));
    row(&mut out, "invalid", group(report.invalid));
    match report.rows_in_db {
        Some(rows) => row(
            &mut out,
            "stored",
            format!(
                "{} rows inserted, {} in {}",
                group(report.inserted),
                group(rows),
                c.db.display()
            ),
        ),
        None => row(&mut out, "stored", "- (--store none)".to_owned()),
    }
    row(
        &mut out,
        "consumed",
        format!(
            "{} messages, volume {}",
            group(report.consumed),
            report.aggregate.volume
        ),
    );
    let [p50, p90, p99, max] = report.latency.map(ms);
    row(
        &mut out,
        "latency",
        format!("p50 {p50}  p90 {p90}  p99 {p99}  max {max}"),
    );
    if !report.sampler.busy.is_empty() {
        let mean = report.sampler.busy.iter().sum::<f64>() / report.sampler.busy.len() as f64;
        let max = report.sampler.busy.iter().copied().fold(0.0, f64::max);
        row(
            &mut out,
            "runtime busy",
            format!(
                "mean {mean:.2}  max {max:.2}  scheduling delay max {}",
                ms(report.sampler.max_scheduling_delay)
            ),
        );
    }
    if c.store == StoreKind::Sqlite {
        row(
            &mut out,
            "db pool",
            format!(
                "utilization {:.2}  {} commits of {} rows on average",
                report.pool_utilization,
                group(report.commits),
                group(report.inserted / report.commits.max(1))
            ),
        );
    }
    if let (Some(first), Some(last)) = (report.sampler.rss.first(), report.sampler.rss.last()) {
        let warm = warm_rss(report).unwrap_or(first.1);
        row(
            &mut out,
            "RSS",
            format!(
                "start {} MiB  warm {} MiB  end {} MiB",
                first.1 >> 20,
                warm >> 20,
                report.sampler.rss_at_load_end.unwrap_or(last.1) >> 20
            ),
        );
    }
    row(&mut out, "bus listeners", report.bus_listeners.to_string());
    match &report.flame {
        Some(flame) => {
            row(
                &mut out,
                "flame graph",
                format!("{} ({} samples)", flame.svg.display(), flame.samples),
            );
            row(&mut out, "pprof", flame.pprof.display().to_string());
            let top: Vec<String> = flame
                .top
                .iter()
                .take(3)
                .map(|(pct, f)| format!("{pct:.1}% {}", short(f)))
                .collect();
            row(&mut out, "hottest", top.join(", "));
        }
        None => row(&mut out, "flame graph", "- (--no-profile)".to_owned()),
    }
    if let Some(path) = &report.doctor_report {
        row(&mut out, "doctor report", path.display().to_string());
    }
    if let Some(path) = &c.log_file {
        row(&mut out, "logs", path.display().to_string());
    }
    out
}

/// RSS after the first fifth of the run (warm-up: caches filled, pools sized).
pub(crate) fn warm_rss(report: &Report) -> Option<u64> {
    let warm_after = report.elapsed.as_secs_f64() / 5.0;
    report
        .sampler
        .rss
        .iter()
        .find(|(t, _)| *t >= warm_after)
        .map(|r| r.1)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The last two path segments of a function name: enough to recognise it.
fn short(function: &str) -> String {
    let parts: Vec<&str> = function.split("::").collect();
    parts[parts.len().saturating_sub(2)..].join("::")
}
