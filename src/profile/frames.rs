//! Which frames of a stack are library code (the standard library, tokio, tracing, ...) and
//! which are the application's: reports name the innermost application frame, where a reader
//! can act.

/// Crates whose frames are library code, skipped when looking for the application function
/// responsible: the standard library, the runtime and the crates most services sit on. A crate
/// missing here only means its function is named instead of its caller.
const LIBRARY_CRATES: &[&str] = &[
    "std::",
    "core::",
    "alloc::",
    "tokio::",
    "futures",
    "tracing",
    "stethoscope::",
    "pprof::",
    "hashbrown::",
    "serde",
    "hyper::",
    "axum::",
    "tower::",
    "bytes::",
    "rusqlite::",
    "__",
    "_start",
];

/// Whole frame names of the C runtime, the thread entry points and libc calls.
const RUNTIME_ENTRY_POINTS: &[&str] = &[
    "main",
    "clone",
    "clone3",
    "start_thread",
    "clock_gettime",
    "syscall",
];

/// Types whose trait impls can only live in the standard library.
const PRIMITIVES: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64", "bool", "char", "str",
];

/// Whether `frame` (a demangled function name) is library code rather than the application's.
pub(crate) fn is_library(frame: &str) -> bool {
    // `<&mut serde_json::ser::Serializer<W> as ...>::f` belongs to its self type's crate.
    let path = frame
        .trim_start_matches('<')
        .trim_start_matches(['&', '*'])
        .trim_start_matches("mut ")
        .trim_start_matches("const ");
    LIBRARY_CRATES.iter().any(|p| path.starts_with(p))
        || RUNTIME_ENTRY_POINTS.contains(&frame)
        // Every Rust function has a path; a bare name is C (libc, SQLite's `walChecksumBytes`).
        || !frame.contains("::")
        || primitive_impl(frame)
}

/// `<u64 as core::iter::range::Step>::forward_unchecked`, `<u64>::wrapping_mul`, `<[T] as ..>`,
/// `<&str as ..>`.
fn primitive_impl(frame: &str) -> bool {
    let Some(inner) = frame.strip_prefix('<') else {
        return false;
    };
    let Some((self_type, _)) = inner.split_once(" as ").or_else(|| inner.split_once(">::")) else {
        return false;
    };
    let self_type = self_type
        .trim_start_matches(['&', '*'])
        .trim_start_matches("mut ");
    self_type.starts_with('[') || self_type.starts_with('(') || PRIMITIVES.contains(&self_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_frames_include_impls_on_primitives() {
        assert!(is_library(
            "<u64 as core::iter::range::Step>::forward_unchecked"
        ));
        assert!(is_library("<u64>::wrapping_mul"));
        assert!(is_library("<&mut [u8] as std::io::Write>::write"));
        assert!(is_library("tokio::runtime::task::harness::poll_future"));
        assert!(!is_library("<app::Block as core::fmt::Debug>::fmt"));
        assert!(!is_library("<app::Block>::verify"));
        assert!(!is_library("app::crunch_numbers"));
        assert!(is_library(
            "<&mut serde_json::ser::Serializer<W,F> as serde_core::ser::Serializer>::serialize_str"
        ));
        assert!(is_library("serde_json::value::de::<impl serde_core::de::Deserialize for serde_json::value::Value>::deserialize"));
        assert!(is_library("walChecksumBytes"), "C code");
        assert!(!is_library(
            "<indexer::decode::Wire as serde_core::de::Deserialize>::deserialize"
        ));
    }
}
