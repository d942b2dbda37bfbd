//! CPU cost of the runtime monitor: an idle 2-worker runtime watched for `WATCH_SECONDS` (default 20)
//! without, then with, `runtime::monitor` at its defaults (1 s interval, 200 ms probe), and the
//! difference in the process's CPU time as a share of one core.
//!
//! ```text
//! cargo bench --bench runtime_sampler          # WATCH_SECONDS=60 for a steadier number
//! PROBE_MS=0 cargo bench --bench runtime_sampler  # probe off (or another probe interval)
//! ```
//!
//! CPU time is summed over the process's threads from `/proc/self/task/*/schedstat`
//! (nanoseconds), so this bench runs on Linux only.

use std::time::Duration;

/// CPU nanoseconds used so far by the live threads of this process.
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// CPU used while an idle runtime (one task ticking every 100 ms) runs for `wall`.
fn measure(wall: Duration, monitored: bool, probe: Option<Duration>) -> Duration {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.spawn(async {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    std::thread::sleep(Duration::from_millis(200)); // threads started and settled
    let before = cpu_ns();
    let mut options = stethoscope::runtime::MonitorOptions::default();
    options.probe_interval = probe;
    let monitor =
        monitored.then(|| stethoscope::runtime::monitor_with(runtime.handle(), options).unwrap());
    std::thread::sleep(wall);
    let after = cpu_ns();
    drop(monitor);
    Duration::from_nanos(after.saturating_sub(before))
}

fn main() {
    let env = |var: &str, default: u64| {
        std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let seconds = env("WATCH_SECONDS", 20);
    let default_probe = stethoscope::runtime::DEFAULT_PROBE_INTERVAL.as_millis() as u64;
    let probe = match env("PROBE_MS", default_probe) {
        0 => None,
        ms => Some(Duration::from_millis(ms)),
    };
    let wall = Duration::from_secs(seconds);
    let base = measure(wall, false, probe);
    let with = measure(wall, true, probe);
    println!("probe interval: {probe:?}");
    let extra = with.saturating_sub(base);
    println!(
        "idle runtime alone:        {:>9.3} ms CPU over {seconds} s",
        base.as_secs_f64() * 1e3
    );
    println!(
        "idle runtime + monitor:    {:>9.3} ms CPU over {seconds} s",
        with.as_secs_f64() * 1e3
    );
    println!(
        "monitor cost:              {:>9.3} ms CPU = {:.4} % of one core",
        extra.as_secs_f64() * 1e3,
        extra.as_secs_f64() / wall.as_secs_f64() * 100.0
    );
}
