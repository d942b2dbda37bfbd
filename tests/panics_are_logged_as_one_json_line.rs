//! A panic becomes one `error` line with message, location, thread and the trace id of the
//! span it happened in, written out before the process would die.

mod support;

use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

#[test]
fn a_panic_inside_a_span_is_logged_with_its_trace_id_and_flushed() {
    let sink = Capture::default();
    let _guard = Stethoscope::builder()
        .without_admin() // tests run in parallel: keep off the default admin port
        .with_log_output(LogOutput::Writer(Box::new(sink.clone())))
        .install()
        .unwrap();
    let handle = std::thread::Builder::new()
        .name("indexer-worker".into())
        .spawn(|| {
            let span = stethoscope::info_span!("process_block", height = 7);
            let _e = span.enter();
            stethoscope::info!("about to fail");
            panic!("invariant violated: height {}", 7);
        })
        .unwrap();
    assert!(handle.join().is_err());

    // No guard drop yet: the hook itself must have flushed.
    let out = sink.text();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let before = lines
        .iter()
        .find(|l| l["message"] == "about to fail")
        .unwrap();
    let panic_lines: Vec<_> = lines.iter().filter(|l| l["target"] == "panic").collect();
    assert_eq!(panic_lines.len(), 1, "{out}");
    let p = panic_lines[0];
    assert_eq!(p["level"], "error");
    assert_eq!(p["message"], "invariant violated: height 7");
    assert_eq!(p["thread"], "indexer-worker");
    let location = p["location"].as_str().unwrap();
    assert!(
        location.starts_with("tests/panics_are_logged_as_one_json_line.rs:"),
        "{location}"
    );
    assert_eq!(p["trace_id"], before["trace_id"]);
    assert_eq!(p["height"], 7);
}
