//! [`SignalListener`]: a thread with its own small runtime that runs a handler for each
//! delivery of one Unix signal — what `kill -USR1` (CPU profile) and `kill -USR2` (heap
//! snapshot) are built on. Its own thread, so writing a profile never borrows the
//! application's runtime, and works in programs without one.

use std::future::Future;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::oneshot;

use crate::error::Error;

/// Listens while alive; dropping it stops the thread (at once unless a handler is running).
#[derive(Debug)]
pub(crate) struct SignalListener {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SignalListener {
    /// Starts a thread named `stethoscope-<name in lowercase>` that calls `on_signal` for each
    /// `kind` signal (`name`: `"SIGUSR1"`, for messages), one at a time. Returns once the handler is in place, so a signal sent
    /// afterwards never takes the default action (which ends the process).
    pub(crate) fn start<F, Fut>(
        kind: SignalKind,
        name: &'static str,
        mut on_signal: F,
    ) -> Result<SignalListener, Error>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| Error::io(format!("building the {name} listener's runtime"), e))?;
        let (ready_tx, ready) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("stethoscope-{}", name.to_lowercase()))
            .spawn(move || {
                runtime.block_on(async move {
                    let mut signals = match signal(kind) {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let listen = async {
                        while signals.recv().await.is_some() {
                            on_signal().await;
                        }
                    };
                    // Whichever ends first: a stop request, or the signal stream.
                    tokio::select! {
                        _ = stopped => {}
                        () = listen => {}
                    }
                });
            })
            .map_err(|e| Error::io(format!("spawning the {name} listener thread"), e))?;
        match ready.recv() {
            Ok(Ok(())) => Ok(SignalListener {
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(Error::io(format!("handling {name}"), e)),
            Err(_) => Err(Error::io(
                format!("handling {name}"),
                std::io::Error::other("the listener thread ended"),
            )),
        }
    }
}

impl Drop for SignalListener {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
