//! `--inject hot-parse`: JSON is decoded slowly, right on the runtime's workers. The runtime
//! monitor sees the workers blocked (long scheduling delays, high busy ratio) and the CPU
//! profile taken during the run has the slow decoder on most stacks.

mod indexer;
mod support;

use std::time::Duration;

#[test]
fn slow_parsing_on_the_workers_shows_in_scheduling_delay_and_the_flame_graph() {
    let mut config = indexer::bounded("indexer-hot-parse", 1_000_000, 200);
    config.blocks = None;
    config.duration = Duration::from_secs(3);
    config.inject = Some(indexer::cli::Inject::HotParse);
    config.profile = true;
    let runtime = support::two_worker_runtime();
    let report = runtime.block_on(indexer::pipeline::run(config)).unwrap();

    let delay = report.sampler.max_scheduling_delay;
    assert!(
        delay >= Duration::from_millis(20),
        "workers were blocked, yet the longest scheduling delay was {delay:?}"
    );
    let busy = report.sampler.busy.iter().copied().fold(0.0, f64::max);
    assert!(
        busy >= 0.5,
        "the workers were busy parsing, yet the busy ratio peaked at {busy}"
    );

    let flame = report.flame.as_ref().expect("a CPU profile was captured");
    let svg = std::fs::read_to_string(&flame.svg).unwrap();
    let width = widest(&svg, "decode_block_slowly");
    assert!(
        width >= 20.0,
        "decode_block_slowly spans only {width} % of the flame graph"
    );
    drop(report);
}

/// The largest share (percent of samples) of any frame whose title starts with `function`'s
/// path, read from the SVG's `<title>` elements ("name (N samples, P%)").
fn widest(svg: &str, function: &str) -> f64 {
    svg.split("<title>")
        .skip(1)
        .filter_map(|t| t.split("</title>").next())
        .filter(|t| t.contains(function))
        .filter_map(|t| {
            t.rsplit(", ")
                .next()?
                .strip_suffix("%)")?
                .parse::<f64>()
                .ok()
        })
        .fold(0.0, f64::max)
}
