//! [`AdminServer`]: binds synchronously (so a busy port is an install error), then serves on its
//! own OS thread and single-threaded runtime until stopped.

use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use super::routes::{router, AdminState};
use crate::error::Error;

/// How long stopping waits for the server thread before leaving it behind (at most; a
/// shutdown with less time left gives it less).
pub(crate) const STOP_DEADLINE: Duration = Duration::from_secs(2);

/// A bound but not yet serving admin listener.
#[derive(Debug)]
pub(crate) struct Bound {
    listener: TcpListener,
    addr: SocketAddr,
}

/// The running admin server; dropping it stops the server thread.
#[derive(Debug)]
pub(crate) struct AdminServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: mpsc::Receiver<()>,
    thread: Option<JoinHandle<()>>,
}

impl AdminServer {
    /// Binds `addr` now, before anything global is installed.
    pub(crate) fn bind(addr: SocketAddr) -> Result<Bound, Error> {
        let admin_bind = |source| Error::AdminBind { addr, source };
        let listener = TcpListener::bind(addr).map_err(admin_bind)?;
        listener.set_nonblocking(true).map_err(admin_bind)?;
        let addr = listener.local_addr().map_err(admin_bind)?;
        Ok(Bound { listener, addr })
    }

    /// Serves `state` on `bound` from a new thread.
    pub(crate) fn start(bound: Bound, state: AdminState) -> Result<AdminServer, Error> {
        let Bound { listener, addr } = bound;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::io("building the admin server's runtime", e))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (done_tx, done) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("stethoscope-admin".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::warn!(target: "stethoscope", error = %e, %addr, "the admin server could not start");
                            return;
                        }
                    };
                    tokio::spawn(async move {
                        if let Err(e) = axum::serve(listener, router(state)).await {
                            tracing::warn!(target: "stethoscope", error = %e, %addr, "the admin server stopped");
                        }
                    });
                    let _ = stopped.await;
                });
                // Dropping the runtime cancels the accept loop and any open connection.
                drop(runtime);
                let _ = done_tx.send(());
            })
            .map_err(|e| Error::io("spawning the admin server thread", e))?;
        Ok(AdminServer {
            addr,
            stop: Some(stop),
            done,
            thread: Some(thread),
        })
    }

    /// The address actually bound (the chosen port when configured with port 0).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving; waits at most [`STOP_DEADLINE`] for the thread, then leaves it behind.
    pub(crate) fn stop(&mut self) {
        self.stop_within(STOP_DEADLINE);
    }

    /// Stops serving; waits at most `timeout` for the thread (which may be finishing a
    /// request, e.g. a CPU profile), then leaves it behind.
    pub(crate) fn stop_within(&mut self, timeout: Duration) {
        let Some(stop) = self.stop.take() else {
            return;
        };
        let _ = stop.send(());
        match self.done.recv_timeout(timeout) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                if let Some(thread) = self.thread.take() {
                    let _ = thread.join();
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                tracing::warn!(target: "stethoscope", addr = %self.addr, "the admin server did not stop within {timeout:?}; leaving it behind");
            }
        }
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.stop();
    }
}
