//! Measures what sampling at 99 Hz costs a CPU-bound loop: throughput with no capture running
//! vs. with `CpuProfiler` running, in alternating rounds so that drift in machine load hits both
//! alike; also how long `stop()` (symbolizing the stacks) and rendering take.
//!
//! Throughput is counted per second of this thread's *CPU* time (the signal handler runs on the
//! interrupted thread, so its cost is included), which makes the result independent of how busy
//! the rest of the machine is; per second of wall time is printed too.
//!
//! ```text
//! cargo run --release --example profile_overhead [rounds] [round_ms]
//! ```

#![cfg_attr(not(unix), allow(dead_code))] // the measurement needs Unix; main says so elsewhere

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One unit of CPU work (~0.1 ms in release).
#[inline(never)]
fn unit(seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..50_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// This thread's CPU time, in seconds.
#[cfg(unix)]
#[allow(unsafe_code)] // one libc call; std has no per-thread CPU clock
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// Units completed per second of thread CPU time and per second of wall time, over `window`.
#[cfg(unix)]
fn throughput(window: Duration) -> (f64, f64) {
    let start = Instant::now();
    let cpu_start = thread_cpu_seconds();
    let mut units = 0u64;
    let mut acc = 0u64;
    while start.elapsed() < window {
        acc ^= unit(black_box(units));
        units += 1;
    }
    black_box(acc);
    let units = units as f64;
    (
        units / (thread_cpu_seconds() - cpu_start),
        units / start.elapsed().as_secs_f64(),
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[cfg(unix)]
fn main() -> Result<(), stethoscope::Error> {
    use stethoscope::profile::cpu::{CpuProfiler, DEFAULT_FREQUENCY};
    use stethoscope::profile::FlameGraphOptions;

    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let round = Duration::from_millis(args.next().and_then(|a| a.parse().ok()).unwrap_or(1000));

    throughput(round); // warm-up
    let (mut off, mut on, mut stops, mut samples) = (vec![], vec![], vec![], 0);
    let (mut off_wall, mut on_wall) = (vec![], vec![]);
    let mut last = None;
    for _ in 0..rounds {
        let (cpu, wall) = throughput(round);
        off.push(cpu);
        off_wall.push(wall);
        let profiler = CpuProfiler::start(DEFAULT_FREQUENCY)?;
        let (cpu, wall) = throughput(round);
        on.push(cpu);
        on_wall.push(wall);
        let stopping = Instant::now();
        let profile = profiler.stop()?;
        stops.push(stopping.elapsed().as_secs_f64() * 1e3);
        samples += profile.sample_count();
        last = Some(profile);
    }
    let (off, on) = (median(off), median(on));
    let (off_wall, on_wall) = (median(off_wall), median(on_wall));
    println!("rounds: {rounds} x {round:?} off and on, {samples} samples in all");
    println!("per CPU second: off {off:.0} units/s, on (99 Hz) {on:.0} units/s");
    println!("overhead (CPU time): {:.2} %", (off - on) / off * 100.0);
    println!(
        "overhead (wall time, load-sensitive): {:.2} %",
        (off_wall - on_wall) / off_wall * 100.0
    );
    println!("stop() (symbolize): median {:.1} ms", median(stops));
    if let Some(profile) = last {
        let t = Instant::now();
        let svg = profile.flamegraph(&FlameGraphOptions::default())?;
        let pprof = profile.pprof_gz()?;
        println!(
            "render svg + pprof: {:.2} ms ({} + {} bytes)",
            t.elapsed().as_secs_f64() * 1e3,
            svg.len(),
            pprof.len()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn main() {
    eprintln!("CPU profiling needs Unix");
}
