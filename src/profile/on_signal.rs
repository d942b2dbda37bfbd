//! [`SignalCapture`]: `kill -USR1 <pid>` writes a CPU profile to disk, for hosts where the admin
//! port is not reachable (the Node.js `kill -SIGUSR2` heap-snapshot workflow, for CPU).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::signal::unix::SignalKind;

use super::cpu::{self, DEFAULT_FREQUENCY};
use super::{CpuProfile, FlameGraphOptions};
use crate::error::Error;
use crate::signal_listener::SignalListener;

/// While alive, each `SIGUSR1` the process receives profiles it for a set duration and writes
/// `cpu-<unix milliseconds>.svg` and `.pb.gz` into a directory, logging both paths (target
/// `stethoscope`). Dropping it stops listening. Opt-in and Unix only.
///
/// ```no_run
/// use std::time::Duration;
/// use stethoscope::profile::SignalCapture;
///
/// let _on_usr1 = SignalCapture::install("/var/tmp/profiles", Duration::from_secs(30))?;
/// // later, from a shell: kill -USR1 <pid>
/// # Ok::<(), stethoscope::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping it stops listening for SIGUSR1"]
pub struct SignalCapture {
    // Dropping it stops the thread; a capture being written finishes first.
    _listener: SignalListener,
}

impl SignalCapture {
    /// Starts listening for `SIGUSR1`; returns once the handler is in place, so a signal sent
    /// afterwards is never the default action (which would end the process).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a duration outside what [`cpu::capture`] accepts;
    /// [`Error::Io`] if the directory cannot be created or the signal cannot be handled.
    pub fn install(dir: impl Into<PathBuf>, duration: Duration) -> Result<SignalCapture, Error> {
        let dir = dir.into();
        if duration.is_zero() || duration > cpu::MAX_DURATION {
            return Err(Error::invalid_config(
                "SignalCapture::install",
                format_args!("{duration:?}"),
                format!("expected more than 0 and at most {:?}", cpu::MAX_DURATION),
            ));
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating profile directory {dir:?}"), e))?;
        let listener = SignalListener::start(SignalKind::user_defined1(), "SIGUSR1", move || {
            let dir = dir.clone();
            async move { on_signal(&dir, duration).await }
        })?;
        Ok(SignalCapture {
            _listener: listener,
        })
    }
}

async fn on_signal(dir: &Path, duration: Duration) {
    tracing::info!(target: "stethoscope", ?duration, "SIGUSR1: capturing a CPU profile");
    match cpu::capture(duration, DEFAULT_FREQUENCY).await {
        Ok(profile) => match write(dir, &profile) {
            Ok((svg, pprof)) => tracing::info!(
                target: "stethoscope",
                svg = %svg.display(),
                pprof = %pprof.display(),
                samples = profile.sample_count(),
                "CPU profile written"
            ),
            Err(e) => tracing::warn!(target: "stethoscope", error = %e, "CPU profile not written"),
        },
        Err(e) => tracing::warn!(target: "stethoscope", error = %e, "CPU profile not captured"),
    }
}

fn write(dir: &Path, profile: &CpuProfile) -> Result<(PathBuf, PathBuf), Error> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let svg_path = dir.join(format!("cpu-{stamp}.svg"));
    let pprof_path = dir.join(format!("cpu-{stamp}.pb.gz"));
    let svg = profile.flamegraph(&FlameGraphOptions::default())?;
    std::fs::write(&svg_path, svg).map_err(|e| Error::io(format!("writing {svg_path:?}"), e))?;
    std::fs::write(&pprof_path, profile.pprof_gz()?)
        .map_err(|e| Error::io(format!("writing {pprof_path:?}"), e))?;
    Ok((svg_path, pprof_path))
}
