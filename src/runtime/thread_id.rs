//! The calling thread's id as the CPU sampler records it, so the watchdog can keep only the
//! stuck thread's samples.

#![allow(unsafe_code)] // one FFI call, see SAFETY below

/// `pthread_self()` as a number: what pprof-rs stores as each sample's `thread_id`. `0` where
/// there is no CPU sampler to match (not Linux).
pub(crate) fn current() -> u64 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `pthread_self` has no preconditions and cannot fail; it only reads the
        // calling thread's own handle.
        let id = unsafe { libc::pthread_self() };
        id as u64
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}
