//! Without jemalloc's profiler (feature off, or on but not started with `prof:true`, as in
//! this binary), `/debug/pprof/heap` answers `501` with the steps to enable it; bad query
//! parameters are `400` with what is accepted.

mod http;

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn the_heap_profile_endpoint_explains_501_and_rejects_bad_parameters() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(http::any_port())
        .install()
        .unwrap();
    let addr = guard.admin_addr().expect("the admin server runs");

    for path in ["/debug/pprof/heap", "/debug/pprof/heap?format=svg"] {
        let response = http::get(addr, path);
        assert_eq!(response.status, 501, "{path}: {}", response.body);
        for step in [
            "--features jemalloc",
            "#[global_allocator]",
            "_RJEM_MALLOC_CONF=prof:true",
            "malloc_conf",
        ] {
            assert!(response.body.contains(step), "{path}: {}", response.body);
        }
    }
    for (path, message) in [
        (
            "/debug/pprof/heap?format=png",
            "expected pprof, svg or folded",
        ),
        (
            "/debug/pprof/heap?seconds=5",
            "unknown query parameter \"seconds\"",
        ),
    ] {
        let response = http::get(addr, path);
        assert_eq!(response.status, 400, "{path}: {}", response.body);
        assert!(response.body.contains(message), "{path}: {}", response.body);
    }
}
