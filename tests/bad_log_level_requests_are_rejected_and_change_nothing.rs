//! Every bad `PUT /debug/log-level` is a 400 saying what is wrong, and the filter stays as it was.

mod http;

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn bad_directives_ttls_and_parameters_are_400s_and_leave_the_filter_alone() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_log_filter("info,app=debug")
        .unwrap()
        .with_admin_addr(http::any_port())
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();
    let put = |path: &str, body: &str| http::request_with_body(addr, "PUT", path, &[], body);

    let bad = put("/debug/log-level", "info,app=loud");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("\"info,app=loud\""), "{}", bad.body);
    assert!(
        bad.body.contains("expected comma-separated directives"),
        "{}",
        bad.body
    );

    for ttl in ["60", "1.5s", "-1s", "0s", "2d", "25h", "5%20m"] {
        let bad = put(&format!("/debug/log-level?ttl={ttl}"), "debug");
        assert_eq!(bad.status, 400, "ttl={ttl}: {}", bad.body);
    }
    assert!(put("/debug/log-level?ttl=60", "debug")
        .body
        .contains("such as 500ms, 60s or 5m"));
    assert_eq!(put("/debug/log-level?level=debug", "debug").status, 400);
    assert_eq!(put("/debug/log-level?ttl=1s&ttl=2s", "debug").status, 400);
    assert_eq!(put("/debug/log-level", "  ").status, 400);
    assert_eq!(
        http::request(addr, "POST", "/debug/log-level", &[]).status,
        405
    );

    let level = guard.log_level().unwrap();
    assert_eq!(level.current(), "info,app=debug");
    assert_eq!(level.reverts_in(), None);
    let get = http::get(addr, "/debug/log-level");
    assert!(
        get.body.contains("\"filter\":\"info,app=debug\""),
        "{}",
        get.body
    );
}
