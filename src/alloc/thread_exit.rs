//! Publishes a thread's last batch of counts when it exits (Linux).
//!
//! A `thread_local!` with a destructor cannot be used from inside the global allocator (its
//! registration allocates), so the hook is a `pthread` key instead: glibc and musl store key
//! values without calling the Rust allocator, and run key destructors after Rust's own
//! thread-local destructors (which may still free memory). The destructor reads the
//! const-initialized, destructor-less thread-local, which lives as long as the thread.

#![allow(unsafe_code)] // FFI to pthread keys; each call has its SAFETY comment

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::counters::{with_pending, Pending};

/// The key plus one; 0 while not created yet, `usize::MAX` if creation failed.
static KEY: AtomicUsize = AtomicUsize::new(0);

/// Makes this thread publish its counts when it exits. Called once per thread, on its first
/// publication, from inside the allocator: it must not allocate through Rust.
pub(super) fn arm() {
    let Some(key) = key() else { return };
    // SAFETY: `key` was returned by `pthread_key_create`; the value is a non-null marker that
    // is never dereferenced, only passed back to `on_exit`.
    unsafe {
        libc::pthread_setspecific(key, std::ptr::NonNull::<u8>::dangling().as_ptr().cast());
    }
}

fn key() -> Option<libc::pthread_key_t> {
    match KEY.load(Ordering::Acquire) {
        0 => {}
        usize::MAX => return None,
        stored => return Some((stored - 1) as libc::pthread_key_t),
    }
    let mut key: libc::pthread_key_t = 0;
    // SAFETY: `key` is a valid out-pointer and `on_exit` has the destructor signature.
    if unsafe { libc::pthread_key_create(&mut key, Some(on_exit)) } != 0 {
        let _ = KEY.compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Acquire);
        return None;
    }
    match KEY.compare_exchange(0, key as usize + 1, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => Some(key),
        Err(winner) => {
            // Another thread created one first: use theirs.
            // SAFETY: our key was created above and no thread has a value under it.
            unsafe { libc::pthread_key_delete(key) };
            (winner != usize::MAX).then(|| (winner - 1) as libc::pthread_key_t)
        }
    }
}

/// The key's destructor, run by the exiting thread itself.
unsafe extern "C" fn on_exit(_marker: *mut c_void) {
    with_pending(Pending::exiting);
}
