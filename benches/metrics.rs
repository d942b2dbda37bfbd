//! Metrics hot-path benchmarks (filled in later).
fn main() {}
