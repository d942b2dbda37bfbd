//! [`SignalCapture`]: `kill -USR1 <pid>` writes a CPU profile to disk, for hosts where the admin
//! port is not reachable (the Node.js `kill -SIGUSR2` heap-snapshot workflow, for CPU).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::oneshot;

use super::cpu::{self, DEFAULT_FREQUENCY};
use super::{CpuProfile, FlameGraphOptions};
use crate::error::Error;

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
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| Error::io("building the SIGUSR1 listener's runtime", e))?;
        let (ready_tx, ready) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("stethoscope-sigusr1".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let mut usr1 = match signal(SignalKind::user_defined1()) {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    tokio::spawn(async move {
                        while usr1.recv().await.is_some() {
                            on_signal(&dir, duration).await;
                        }
                    });
                    let _ = stopped.await;
                });
            })
            .map_err(|e| Error::io("spawning the SIGUSR1 listener thread", e))?;
        match ready.recv() {
            Ok(Ok(())) => Ok(SignalCapture {
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(Error::io("handling SIGUSR1", e)),
            Err(_) => Err(Error::io(
                "handling SIGUSR1",
                std::io::Error::other("the listener thread ended"),
            )),
        }
    }
}

impl Drop for SignalCapture {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Returns at once unless a capture is being written: the runtime drops the listener.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
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
