//! Through `init()`: 100,000 lines from four threads are all written when the guard drops,
//! each thread's lines in order.

use std::collections::HashMap;
use std::fs;

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn one_hundred_thousand_lines_survive_guard_drop_in_order_per_thread() {
    let dir = std::env::temp_dir().join(format!("stethoscope-guard-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.json");
    let _ = fs::remove_file(&path);

    let guard = Stethoscope::builder()
        .without_admin() // tests run in parallel: keep off the default admin port
        .with_log_output(LogOutput::File(path.clone()))
        // Room for the whole burst even if the writer thread is not scheduled at all meanwhile.
        .with_log_buffer_bytes(64 * 1024 * 1024)
        .with_panic_hook(false)
        // The spans outlive the slow-operation threshold; this test counts only its own lines.
        .with_slow_threshold(None)
        .unwrap()
        .install()
        .unwrap();
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 25_000;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                let span = tracing::info_span!("worker", t);
                let _e = span.enter();
                for seq in 0..PER_THREAD {
                    tracing::info!(seq, "line");
                }
            });
        }
    });
    assert_eq!(guard.dropped_log_lines(), 0);
    drop(guard);

    let text = fs::read_to_string(&path).unwrap();
    let mut next: HashMap<u64, u64> = HashMap::new();
    let mut count = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let (t, seq) = (v["t"].as_u64().unwrap(), v["seq"].as_u64().unwrap());
        let expected = next.entry(t).or_insert(0);
        assert_eq!(seq, *expected, "thread {t} out of order");
        *expected += 1;
        count += 1;
    }
    assert_eq!(count, THREADS * PER_THREAD);
    fs::remove_dir_all(&dir).unwrap();
}
