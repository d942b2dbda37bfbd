//! [`SignalSnapshot`]: `kill -USR2 <pid>` writes a heap snapshot to disk, the Node.js
//! `--heapsnapshot-signal=SIGUSR2` workflow.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::signal::unix::SignalKind;

use super::{compare, diff, snapshot, HeapProfile, HeapSnapshot};
use crate::error::Error;
use crate::signal_listener::SignalListener;

/// While alive, each `SIGUSR2` the process receives writes `heap-<unix ms>.txt` into a
/// directory: the live-object counts table, the allocator's totals, and the comparison with
/// the previous `SIGUSR2` snapshot (the type at the top is the one that grew most). When a
/// [`HeapProfile`] can be captured it also writes `heap-<ms>.pb.gz` (pprof), `heap-<ms>.svg`
/// (flame graph of live bytes) and, from the second signal on, `heap-<ms>-diff.svg`. Each
/// file name is logged (target `stethoscope`). Dropping it stops listening. Opt-in, Unix only.
///
/// ```no_run
/// let _on_usr2 = stethoscope::heap::SignalSnapshot::install("/var/tmp/heap")?;
/// // later, from a shell: kill -USR2 <pid>; (wait) kill -USR2 <pid>
/// # Ok::<(), stethoscope::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping it stops listening for SIGUSR2"]
pub struct SignalSnapshot {
    // Dropping it stops the thread.
    _listener: SignalListener,
}

impl SignalSnapshot {
    /// Starts listening for `SIGUSR2`; returns once the handler is in place, so a signal sent
    /// afterwards never takes the default action (ending the process).
    ///
    /// # Errors
    /// [`Error::Io`] if the directory cannot be created or the signal cannot be handled.
    pub fn install(dir: impl Into<PathBuf>) -> Result<SignalSnapshot, Error> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating heap snapshot directory {dir:?}"), e))?;
        let mut previous = Previous::default();
        let listener = SignalListener::start(SignalKind::user_defined2(), "SIGUSR2", move || {
            // Dumping and symbolizing block; this thread exists for it.
            on_signal(&dir, &mut previous);
            std::future::ready(())
        })?;
        Ok(SignalSnapshot {
            _listener: listener,
        })
    }
}

/// What the previous signal captured, to compare against.
#[derive(Default)]
struct Previous {
    snapshot: Option<HeapSnapshot>,
    profile: Option<HeapProfile>,
}

fn on_signal(dir: &Path, previous: &mut Previous) {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let current = snapshot();
    let mut text = format!("# heap snapshot, unix ms {stamp}\n\n{current}");
    if let Some(before) = &previous.snapshot {
        text.push_str("\n# compared with the previous SIGUSR2 snapshot\n\n");
        text.push_str(&compare(before, &current).to_string());
    }
    let profile = HeapProfile::capture();
    match &profile {
        Ok(_) => {}
        Err(e) => {
            text.push_str("\n# no heap profile: ");
            text.push_str(&e.to_string());
            text.push('\n');
        }
    }
    let txt_path = dir.join(format!("heap-{stamp}.txt"));
    match write(&txt_path, text.as_bytes()) {
        Ok(()) => tracing::info!(
            target: "stethoscope",
            file = %txt_path.display(),
            types = current.types.len(),
            "SIGUSR2: heap snapshot written"
        ),
        Err(e) => tracing::warn!(target: "stethoscope", error = %e, "heap snapshot not written"),
    }
    previous.snapshot = Some(current);
    if let Ok(profile) = profile {
        write_profile(dir, stamp, &profile, previous.profile.as_ref());
        previous.profile = Some(profile);
    }
}

fn write_profile(dir: &Path, stamp: u128, profile: &HeapProfile, before: Option<&HeapProfile>) {
    let mut files = vec![(
        dir.join(format!("heap-{stamp}.pb.gz")),
        Ok(profile.pprof_gz().to_vec()),
    )];
    files.push((dir.join(format!("heap-{stamp}.svg")), profile.flamegraph()));
    if let Some(before) = before {
        files.push((
            dir.join(format!("heap-{stamp}-diff.svg")),
            diff(before, profile),
        ));
    }
    for (path, bytes) in files {
        match bytes.and_then(|b| write(&path, &b)) {
            Ok(()) => tracing::info!(
                target: "stethoscope",
                file = %path.display(),
                "SIGUSR2: heap profile written"
            ),
            Err(e) => tracing::warn!(target: "stethoscope", error = %e, "heap profile not written"),
        }
    }
}

/// Writes under a temporary name and renames, so whoever watches the directory never reads
/// a half-written file.
fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| Error::io(format!("writing {path:?}"), e))
}
