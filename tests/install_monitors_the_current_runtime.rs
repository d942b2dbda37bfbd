//! `install()` inside a tokio runtime monitors that runtime and publishes `tokio_*` metrics.

mod support;

use std::time::{Duration, Instant};

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn install_inside_a_runtime_publishes_runtime_metrics() {
    let runtime = support::two_worker_runtime();
    let guard = runtime.block_on(async {
        Stethoscope::builder()
            .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
            .without_admin()
            .with_runtime_sample_interval(Duration::from_millis(100))
            .unwrap()
            .with_scheduling_probe_interval(Some(Duration::from_millis(10)))
            .unwrap()
            .install()
            .unwrap()
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        // The sample first, then the text: rendered the other way round, the text could
        // predate the sample it is checked against.
        let sampled = guard.runtime_sample().is_some_and(|s| !s.elapsed.is_zero());
        let text = guard.render_metrics().unwrap();
        let sampled = sampled && text.contains("tokio_scheduling_delay_seconds_count");
        if sampled || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for name in [
        "tokio_runtime_busy_ratio ",
        "tokio_runtime_worker_busy_ratio{worker=\"0\"} ",
        "tokio_runtime_worker_busy_ratio{worker=\"1\"} ",
        "tokio_runtime_workers 2",
        "tokio_runtime_alive_tasks ",
        "tokio_runtime_global_queue_depth ",
        "tokio_runtime_parks_total ",
        "tokio_scheduling_delay_seconds_bucket{le=",
        "# HELP tokio_runtime_busy_ratio ",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    // Built with `RUSTFLAGS="--cfg tokio_unstable"` (a step of `.ci/run`), tokio exposes more.
    #[cfg(tokio_unstable)]
    for name in [
        "tokio_runtime_polls_total ",
        "tokio_runtime_steals_total ",
        "tokio_runtime_blocking_threads ",
        "tokio_runtime_local_queue_depth ",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(guard.runtime_sample().is_some());
    promtool_accepts(&text);
    drop(guard);
    drop(runtime);
}

/// `promtool check metrics` accepts the exposition. Checked where promtool is installed
/// (`.ci/run` installs it before the tests); elsewhere the skip is said out loud.
fn promtool_accepts(text: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!(
            "promtool not found: the exposition was not checked with `promtool check metrics`"
        );
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
