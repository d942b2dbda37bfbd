//! A collector that answers `200 OK` with bytes that are not an OTLP response: the spans are
//! delivered all the same and shutdown completes.

mod support;

use std::time::Duration;

use stethoscope::{LogOutput, Stethoscope};
use support::collector::{Behaviour, Collector};

#[test]
fn garbage_answers_are_survived() {
    let collector = Collector::start(Behaviour::Garbage);
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
    let result = guard.shutdown(Duration::from_secs(5));
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(collector.spans().len(), 100, "the spans were delivered");
}
