//! The CPU flame graph captured during the run with stethoscope's profiler (99 Hz), written
//! next to the database with the top functions for the summary.

use std::path::{Path, PathBuf};

use stethoscope::profile::cpu::{CpuProfiler, DEFAULT_FREQUENCY};
use stethoscope::profile::{CpuProfile, FlameGraphOptions};

/// A capture in progress.
#[derive(Debug)]
pub(crate) struct Capture(CpuProfiler);

/// A finished capture.
#[derive(Debug)]
pub(crate) struct Flame {
    pub(crate) svg: PathBuf,
    pub(crate) pprof: PathBuf,
    /// The functions with the most samples: (self %, name).
    pub(crate) top: Vec<(f64, String)>,
    pub(crate) samples: u64,
}

impl Flame {
    /// Starts sampling; a failure (another capture running, an unsupported OS) is logged and
    /// the run goes on without a profile.
    pub(crate) fn start() -> Option<Capture> {
        match CpuProfiler::start(DEFAULT_FREQUENCY) {
            Ok(p) => Some(Capture(p)),
            Err(e) => {
                stethoscope::warn!(error = %e, "running without a CPU profile");
                None
            }
        }
    }
}

impl Capture {
    /// Stops sampling and writes `cpu.svg` and `cpu.pb.gz` into `dir`.
    pub(crate) fn finish(self, dir: &Path, tx_per_second: f64) -> Option<Flame> {
        match self.0.stop() {
            Ok(profile) => Flame::write(&profile, dir, tx_per_second),
            Err(e) => {
                stethoscope::warn!(error = %e, "the CPU profile could not be taken");
                None
            }
        }
    }
}

impl Flame {
    /// Writes `profile` as `cpu.svg` and `cpu.pb.gz` into `dir`.
    pub(crate) fn write(profile: &CpuProfile, dir: &Path, tx_per_second: f64) -> Option<Flame> {
        let written = (|| -> Result<Flame, String> {
            let title = format!("indexer: {tx_per_second:.0} tx/s");
            let svg = dir.join("cpu.svg");
            let pprof = dir.join("cpu.pb.gz");
            let rendered = profile
                .flamegraph(&FlameGraphOptions::default().title(title))
                .map_err(|e| e.to_string())?;
            std::fs::write(&svg, rendered).map_err(|e| format!("{}: {e}", svg.display()))?;
            let gz = profile.pprof_gz().map_err(|e| e.to_string())?;
            std::fs::write(&pprof, gz).map_err(|e| format!("{}: {e}", pprof.display()))?;
            let top = profile
                .top(5)
                .into_iter()
                .map(|row| (row.self_percent, row.function))
                .collect();
            Ok(Flame {
                svg,
                pprof,
                top,
                samples: profile.sample_count(),
            })
        })();
        match written {
            Ok(flame) => Some(flame),
            Err(e) => {
                stethoscope::warn!(error = %e, "the CPU profile could not be written");
                None
            }
        }
    }
}
