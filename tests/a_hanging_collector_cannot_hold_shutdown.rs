//! A collector that accepts connections and never answers cannot hold the process past the
//! shutdown deadline: shutdown gives up and says so.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use stethoscope::{Error, LogOutput, Stethoscope};
use support::collector::{Behaviour, Collector};

#[test]
fn shutdown_gives_up_at_its_deadline_with_an_export_timeout() {
    let collector = Collector::start(Behaviour::Hang);
    let guard = Stethoscope::builder()
        .without_admin()
        .with_otlp_endpoint(&collector.url())
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .install()
        .unwrap();
    for i in 0..100u64 {
        let span = stethoscope::info_span!("work", i);
        let _e = span.enter();
    }
    // The export is under way and will never be answered.
    assert!(
        collector.wait_for_request(Duration::from_secs(30)),
        "no export request reached the collector"
    );

    let deadline = Duration::from_secs(1);
    // Shutdown runs aside only so that a regression fails this test instead of hanging it;
    // the bound is far above the deadline and is not what the test measures.
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || done.send(guard.shutdown(deadline)));
    let result = result
        .recv_timeout(Duration::from_secs(60))
        .expect("shutdown is still waiting for the hung collector");
    assert!(
        matches!(
            result,
            Err(Error::ExportTimeout { deadline: d, unexported_spans }) if d == deadline && unexported_spans > 0
        ),
        "{result:?}"
    );
}
