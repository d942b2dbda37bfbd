//! Without operation stats, `GET /debug/operations` answers 404.

mod http;

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn the_endpoint_answers_404_when_stats_are_off() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(http::any_port())
        .install()
        .unwrap();
    let response = http::get(guard.admin_addr().unwrap(), "/debug/operations");
    assert_eq!(response.status, 404);
}
