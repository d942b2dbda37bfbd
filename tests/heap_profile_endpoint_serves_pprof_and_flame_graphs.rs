//! With jemalloc's profiler on, `/debug/pprof/heap` serves the live heap by call stack over
//! real HTTP: gzip'd pprof (`inuse_space/bytes`) that names the allocating function, an SVG
//! flame graph and folded stacks.
#![cfg(all(feature = "jemalloc", unix))]
// The one unsafe item: exporting jemalloc's configuration symbol.
#![allow(unsafe_code)]

mod profile;

use stethoscope::heap::Jemalloc;
use stethoscope::{LogOutput, Stethoscope};

#[global_allocator]
static ALLOCATOR: Jemalloc = Jemalloc;

/// Read by jemalloc before its first allocation: profile from the start, a sample every
/// KiB on average.
#[allow(non_upper_case_globals)]
// SAFETY: a NUL-terminated static string that jemalloc only reads.
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"prof:true,prof_active:true,lg_prof_sample:10\0";

#[inline(never)]
fn retain_blocks_for_the_endpoint() -> Vec<Vec<u8>> {
    (0..64).map(|i| vec![i as u8; 64 * 1024]).collect()
}

#[test]
fn the_heap_endpoint_serves_pprof_svg_and_folded() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();
    let kept = retain_blocks_for_the_endpoint();

    let pprof = profile::get_bytes(addr, "/debug/pprof/heap", None);
    assert_eq!(pprof.status, 200, "{}", pprof.text());
    assert!(pprof
        .head
        .contains("content-type: application/octet-stream"));
    let decoded = profile::proto::decode(&pprof.body);
    let name = |i: i64| decoded.string_table[i as usize].as_str();
    let sample_type = &decoded.sample_type[0];
    assert_eq!(
        (name(sample_type.r#type), name(sample_type.unit)),
        ("inuse_space", "bytes")
    );
    let bytes: i64 = decoded.sample.iter().map(|s| s.value[0]).sum();
    assert!(bytes >= 4 << 20, "{bytes} live bytes for 4 MiB kept");
    assert!(
        decoded
            .string_table
            .iter()
            .any(|s| s.contains("retain_blocks_for_the_endpoint")),
        "the allocating function is named"
    );

    let svg = profile::get_bytes(addr, "/debug/pprof/heap?format=svg", None);
    assert_eq!(svg.status, 200, "{}", svg.text());
    assert!(svg.head.contains("content-type: image/svg+xml"));
    assert!(svg.text().contains("retain_blocks_for_the_endpoint"));

    let folded = profile::get_bytes(addr, "/debug/pprof/heap?format=folded", None);
    assert_eq!(folded.status, 200, "{}", folded.text());
    let line = folded
        .text()
        .lines()
        .filter(|l| l.contains("retain_blocks_for_the_endpoint"))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum::<u64>();
    assert!(line >= 2 << 20, "{line} bytes under the function");
    drop(kept);
}
