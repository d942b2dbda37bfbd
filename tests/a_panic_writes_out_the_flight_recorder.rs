//! On a panic, the flight recorder's lines (context the `info` output never showed) are written
//! to the configured file, framed by two lines saying what they are; a second panic writes only
//! what was recorded since.

use std::path::PathBuf;

use stethoscope::logging::{RecorderDump, RecorderSettings};
use stethoscope::{LogOutput, Stethoscope};

fn read_lines(path: &PathBuf) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn the_debug_context_of_a_panic_lands_in_the_dump_file() {
    let path = std::env::temp_dir().join(format!("stethoscope-dump-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut recorder = RecorderSettings::default();
    recorder.dump = RecorderDump::File(path.clone());
    let _guard = Stethoscope::builder()
        .without_admin()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_flight_recorder(Some(recorder))
        .unwrap()
        .install()
        .unwrap();

    stethoscope::debug!(height = 7, "parsed block header");
    let crashed = std::thread::spawn(|| panic!("invariant violated")).join();
    assert!(crashed.is_err());

    let lines = read_lines(&path);
    assert_eq!(lines[0]["target"], "stethoscope::flight_recorder");
    assert_eq!(lines[0]["events"], lines.len() as u64 - 2);
    let body = &lines[1..lines.len() - 1];
    let context = body
        .iter()
        .position(|l| l["message"] == "parsed block header")
        .expect("the debug line is in the dump");
    assert_eq!(body[context]["level"], "debug");
    let panic_line = body.iter().position(|l| l["target"] == "panic").unwrap();
    assert!(context < panic_line, "oldest first");
    assert_eq!(body[panic_line]["message"], "invariant violated");
    assert_eq!(lines.last().unwrap()["message"], "flight recorder: end");

    stethoscope::debug!("between the panics");
    let _ = std::thread::spawn(|| panic!("second")).join();
    let lines = read_lines(&path);
    let second: Vec<_> = lines
        .iter()
        .skip_while(|l| l["message"] != "flight recorder: end")
        .skip(1)
        .collect();
    assert!(
        second.iter().all(|l| l["message"] != "parsed block header"),
        "{second:?}"
    );
    assert!(second.iter().any(|l| l["message"] == "between the panics"));
    let _ = std::fs::remove_file(&path);
}
