//! CPU profiles from inside a running service: flame graphs, pprof files, top tables and
//! differential flame graphs (the Node.js `--cpu-prof` and clinic flame, for Rust).
//!
//! Capture with [`cpu::capture`] (a fixed duration, off the application's worker threads) or
//! around one piece of work with [`cpu::CpuProfiler`]; both give a [`CpuProfile`], which
//! renders as
//!
//! * a flame graph SVG ([`CpuProfile::flamegraph`], inferno's, with search and zoom), also
//!   upside down ([`FlameGraphOptions::icicle`]);
//! * folded stacks text ([`CpuProfile::folded`]), the input of every flame graph tool;
//! * a gzip'd pprof protobuf ([`CpuProfile::pprof_gz`]) for `go tool pprof`, Pyroscope,
//!   Grafana and speedscope;
//! * a table of the functions with the most samples ([`CpuProfile::top`]).
//!
//! [`diff`] draws what changed between two profiles.
//!
//! Where the admin port cannot be reached, [`SignalCapture`] (Unix) writes a flame graph and a
//! pprof file into a directory on each `kill -USR1 <pid>`.
//!
//! The admin server serves the same as `GET /debug/pprof/profile?seconds=N` and
//! `GET /debug/pprof/flamegraph?seconds=N` (see [`admin`](crate::admin)).
//!
//! Sampling uses `SIGPROF` through [`pprof`](https://docs.rs/pprof) and so works on Unix only;
//! elsewhere starting a capture returns [`Error::ProfilingUnsupported`](crate::Error). It costs
//! nothing while no capture runs: the timer and the signal handler exist only during one.
//!
//! # Examples
//!
//! ```no_run
//! # async fn run() -> Result<(), stethoscope::Error> {
//! use std::time::Duration;
//! use stethoscope::profile::{cpu, FlameGraphOptions};
//!
//! let profile = cpu::capture(Duration::from_secs(10), cpu::DEFAULT_FREQUENCY).await?;
//! std::fs::write("cpu.svg", profile.flamegraph(&FlameGraphOptions::default())?).ok();
//! std::fs::write("cpu.pb.gz", profile.pprof_gz()?).ok();
//! for row in profile.top(5) {
//!     println!("{:5.1} % self {:5.1} % total  {}", row.self_percent, row.total_percent, row.function);
//! }
//! # Ok(()) }
//! ```

pub mod cpu;
mod cpu_profile;
mod flamegraph;
pub(crate) mod frames;
#[cfg(unix)]
mod on_signal;
mod pprof_proto;
#[cfg(unix)]
mod sampler;
mod top;

pub use cpu_profile::CpuProfile;
pub use flamegraph::{diff, FlameGraphOptions};
// Memory pillar: heap flame graphs render the same way.
pub(crate) use flamegraph::render as render_flamegraph;
#[cfg(unix)]
pub use on_signal::SignalCapture;
pub use top::TopEntry;
