//! A CPU profile of a known workload: the hot function shows in the folded stacks, tops the
//! `top` table with about its share, is in the flame graph SVG (well-formed XML) and in the
//! gzip'd pprof.
#![cfg(unix)]

mod profile;

use std::time::Duration;

use stethoscope::profile::cpu::{CpuProfiler, DEFAULT_FREQUENCY};
use stethoscope::profile::FlameGraphOptions;

#[test]
fn the_hot_function_is_found_in_every_rendering() {
    let profiler = CpuProfiler::start(DEFAULT_FREQUENCY).unwrap();
    // Only CPU time is sampled, so a loaded machine gives fewer samples, not other shares.
    std::hint::black_box(profile::workload(Duration::from_millis(1500)));
    let cpu = profiler.stop().unwrap();

    let samples = cpu.sample_count();
    assert!(samples >= 5, "only {samples} samples:\n{}", cpu.folded());
    let folded = cpu.folded();
    assert!(folded.contains("hot_json_parse"), "{folded}");
    assert!(!folded.contains("perf_signal_handler"), "{folded}");

    let top = cpu.top(5);
    let hot = &top[0];
    assert!(
        hot.function.ends_with("hot_json_parse"),
        "{top:#?}\n{folded}"
    );
    if samples >= 30 {
        // ~70 % by construction; ±15 points leaves room for sampling noise.
        assert!(
            (55.0..=85.0).contains(&hot.self_percent),
            "{top:#?}\n{folded}"
        );
    }
    assert!(hot.total_percent >= hot.self_percent);

    let svg = String::from_utf8(cpu.flamegraph(&FlameGraphOptions::default()).unwrap()).unwrap();
    assert_well_formed_xml(&svg);
    assert!(svg.contains("hot_json_parse"));
    assert!(svg.contains(&format!("{samples} samples in")), "subtitle");
    assert!(svg.contains("at 99 Hz"), "subtitle");
    // The hot function is the widest of the workload's frames in the picture itself.
    let (hot_width, cold_width) = (
        svg_share(&svg, "hot_json_parse"),
        svg_share(&svg, "cold_hash"),
    );
    assert!(
        hot_width > cold_width,
        "hot {hot_width}% vs cold {cold_width}%"
    );
    if samples >= 30 {
        assert!(hot_width >= 50.0, "hot {hot_width}%");
    }

    let options = FlameGraphOptions::default().icicle(true).thread_roots(true);
    let icicle = String::from_utf8(cpu.flamegraph(&options).unwrap()).unwrap();
    assert_well_formed_xml(&icicle);
    assert_ne!(icicle, svg);
    let thread = std::thread::current().name().unwrap_or_default().to_owned();
    if !thread.is_empty() {
        // pprof-rs keeps the first 15 bytes of a thread name (the kernel's limit).
        let shown: String = thread.chars().take(15).collect();
        assert!(icicle.contains(&shown), "thread {shown:?} as a root frame");
    }

    let decoded = profile::proto::decode(&cpu.pprof_gz().unwrap());
    let strings = &decoded.string_table;
    let types: Vec<(&str, &str)> = decoded
        .sample_type
        .iter()
        .map(|t| (&*strings[t.r#type as usize], &*strings[t.unit as usize]))
        .collect();
    assert_eq!(types, [("samples", "count"), ("cpu", "nanoseconds")]);
    let decoded_samples: i64 = decoded.sample.iter().map(|s| s.value[0]).sum();
    assert_eq!(decoded_samples as u64, samples);
    assert!(strings.iter().any(|s| s.ends_with("hot_json_parse")));
    assert_eq!(decoded.period, 1_000_000_000 / 99);
}

/// Summed width, in % of all samples, of the flame graph frames whose name ends in `function`,
/// read from inferno's `<title>name (N samples, P%)</title>` tooltips.
fn svg_share(svg: &str, function: &str) -> f64 {
    svg.split("<title>")
        .skip(1)
        .filter_map(|t| t.split("</title>").next())
        .filter_map(|title| {
            let (name, rest) = title.rsplit_once(" (")?;
            if !name.ends_with(function) {
                return None;
            }
            let percent = rest
                .rsplit_once(", ")?
                .1
                .trim_end_matches(')')
                .trim_end_matches('%');
            percent.parse::<f64>().ok()
        })
        .sum()
}

fn assert_well_formed_xml(svg: &str) {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut depth = 0i64;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "balanced tags");
}
