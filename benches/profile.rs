//! Cost of turning a captured CPU profile into what users download: flame graph SVG, folded
//! text, gzip'd pprof, `top(20)` and a differential flame graph, for a profile of 2,000
//! distinct stacks 30 frames deep (a busy service's 30-second capture at 99 Hz).
//!
//! ```text
//! cargo bench --bench profile
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use stethoscope::profile::{self, CpuProfile, FlameGraphOptions};

/// `stacks` distinct stacks sharing a common trunk, like an async service's.
fn synthetic(stacks: usize, depth: usize, seed: usize) -> CpuProfile {
    let mut folded = String::new();
    for s in 0..stacks {
        folded.push_str("tokio::runtime::worker::run;app::serve::{{closure}}");
        for d in 0..depth {
            let _ = write!(
                folded,
                ";app::module_{}::function_{}",
                d % 7,
                (s * 31 + d * seed) % 97
            );
        }
        let _ = writeln!(folded, " {}", 1 + (s * seed) % 13);
    }
    CpuProfile::from_folded(&folded, Duration::from_secs(30), 99).expect("valid folded text")
}

fn render(c: &mut Criterion) {
    let before = synthetic(2_000, 30, 3);
    let after = synthetic(2_000, 30, 5);
    let mut group = c.benchmark_group("profile_render");
    group.sample_size(20);
    group.bench_function("flamegraph_svg", |b| {
        b.iter(|| before.flamegraph(&FlameGraphOptions::default()).unwrap())
    });
    group.bench_function("folded", |b| b.iter(|| before.folded()));
    group.bench_function("pprof_gz", |b| b.iter(|| before.pprof_gz().unwrap()));
    group.bench_function("top_20", |b| b.iter(|| before.top(20)));
    group.bench_function("diff_svg", |b| {
        b.iter(|| profile::diff(&before, &after).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = render
}
criterion_main!(benches);
