//! What observing costs: the CPU time of an idle process (a 2-worker runtime with nothing to
//! do) over a window without the doctor, then over the same window with `Doctor::observe` at
//! its default 10 Hz, without and with the CPU profile. CPU time is the sum of every thread's
//! `/proc/self/task/*/schedstat` (nanoseconds), so the numbers are not tied to how busy the
//! rest of the machine is. Linux only.
//!
//! ```sh
//! cargo run --release --example doctor_overhead [seconds]
//! ```

use std::time::{Duration, Instant};

use stethoscope::doctor::Doctor;

/// CPU time of every thread of this process, in seconds.
fn process_cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut ns = 0u64;
    for task in tasks.flatten() {
        let path = task.path().join("schedstat");
        if let Ok(text) = std::fs::read_to_string(path) {
            ns += text
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    ns as f64 / 1e9
}

fn main() -> Result<(), stethoscope::Error> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let window = Duration::from_secs(seconds);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let measure = |label: &str, run: &dyn Fn()| {
        let (cpu, wall) = (process_cpu_seconds(), Instant::now());
        run();
        let (cpu, wall) = (process_cpu_seconds() - cpu, wall.elapsed().as_secs_f64());
        println!(
            "{label:<34} {:>9.1} ms CPU in {wall:>5.1} s = {:>6.3} % of one core",
            cpu * 1e3,
            cpu / wall * 100.0
        );
    };
    measure("idle, no doctor", &|| std::thread::sleep(window));
    measure("doctor at 10 Hz, no profile", &|| {
        let doctor = Doctor::new().with_cpu_profile(false);
        runtime.block_on(doctor.observe(window)).expect("a report");
    });
    measure("doctor at 10 Hz with CPU profile", &|| {
        runtime
            .block_on(Doctor::new().observe(window))
            .expect("a report");
    });
    Ok(())
}
