//! Heap profiles from jemalloc's sampling profiler, via `jemalloc_pprof` (feature
//! `jemalloc`): dump, symbolize in process, and read the symbolized pprof back into stacks.

use std::collections::HashMap;
use std::io::Read as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::profile::{HeapProfile, HeapStack};
use crate::error::Error;

/// Whether jemalloc was started with `prof:true` and its profiler is sampling now.
pub(super) fn is_active() -> bool {
    match jemalloc_pprof::PROF_CTL.as_ref() {
        Some(ctl) => ctl.try_lock().map(|c| c.activated()).unwrap_or(true),
        None => false,
    }
}

pub(super) fn capture() -> Result<HeapProfile, Error> {
    // One dump at a time from stethoscope; jemalloc_pprof's own lock is async, so it is only
    // ever tried here, never awaited or blocked on (which would panic inside a runtime).
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(ctl) = jemalloc_pprof::PROF_CTL.as_ref() else {
        return Err(Error::HeapProfilingUnavailable {
            reason: "jemalloc's profiler is off in this process (opt.prof is false, or jemalloc \
                     is not the global allocator)",
        });
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut ctl = loop {
        match ctl.try_lock() {
            Ok(ctl) => break ctl,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => {
                return Err(Error::HeapProfiling {
                    message: "jemalloc_pprof's profiler handle stayed locked for 5 s".into(),
                })
            }
        }
    };
    if !ctl.activated() {
        return Err(Error::HeapProfilingUnavailable {
            reason: "jemalloc's profiler is compiled in but not active (prof_active is false)",
        });
    }
    let profile = ctl.dump_profile().map_err(|e| Error::HeapProfiling {
        message: format!("{e:#}"),
    })?;
    drop(ctl);
    let pprof_gz = profile.to_pprof(("inuse_space", "bytes"), ("space", "bytes"), None);
    let stacks = stacks_of(&pprof_gz)?;
    Ok(HeapProfile::new(stacks, pprof_gz))
}

/// The frame under which everything a capture allocates sits.
const CAPTURE_FRAME: &str = "stethoscope::heap::jemalloc::capture";

/// Reads the symbolized stacks back out of the pprof jemalloc_pprof wrote, so names come
/// from one symbolization pass.
fn stacks_of(pprof_gz: &[u8]) -> Result<Vec<HeapStack>, Error> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(pprof_gz)
        .read_to_end(&mut raw)
        .map_err(|e| Error::io("decompressing jemalloc's heap profile", e))?;
    let profile: proto::Profile =
        prost::Message::decode(raw.as_slice()).map_err(|e| Error::HeapProfiling {
            message: format!("decoding jemalloc's heap profile: {e}"),
        })?;
    let string = |i: i64| {
        profile
            .string_table
            .get(i as usize)
            .map_or("?", String::as_str)
    };
    let functions: HashMap<u64, &str> = profile
        .function
        .iter()
        .map(|f| (f.id, string(f.name)))
        .collect();
    let locations: HashMap<u64, &proto::Location> =
        profile.location.iter().map(|l| (l.id, l)).collect();
    let mut stacks = Vec::with_capacity(profile.sample.len());
    'samples: for sample in &profile.sample {
        let mut frames = Vec::with_capacity(sample.location_id.len());
        // Locations are leaf first, and a location's inlined lines innermost first.
        for id in sample.location_id.iter().rev() {
            let Some(location) = locations.get(id) else {
                continue;
            };
            if location.line.is_empty() {
                frames.push(format!("{:#x}", location.address));
            }
            for line in location.line.iter().rev() {
                let name = functions.get(&line.function_id).copied().unwrap_or("?");
                if name == CAPTURE_FRAME {
                    // Memory a previous capture kept (the symbolizer's cache of debug info
                    // loaded on first use) is the profiler's, not the application's.
                    continue 'samples;
                }
                frames.push(name.to_owned());
            }
        }
        let bytes = sample.value.first().copied().unwrap_or(0).max(0) as u64;
        stacks.push(HeapStack { frames, bytes });
    }
    Ok(stacks)
}

/// The parts of `perftools.profiles.Profile` read back; field numbers from google/pprof
/// `proto/profile.proto`.
mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Profile {
        #[prost(message, repeated, tag = "2")]
        pub(super) sample: Vec<Sample>,
        #[prost(message, repeated, tag = "4")]
        pub(super) location: Vec<Location>,
        #[prost(message, repeated, tag = "5")]
        pub(super) function: Vec<Function>,
        #[prost(string, repeated, tag = "6")]
        pub(super) string_table: Vec<String>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Sample {
        #[prost(uint64, repeated, tag = "1")]
        pub(super) location_id: Vec<u64>,
        #[prost(int64, repeated, tag = "2")]
        pub(super) value: Vec<i64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Location {
        #[prost(uint64, tag = "1")]
        pub(super) id: u64,
        #[prost(uint64, tag = "3")]
        pub(super) address: u64,
        #[prost(message, repeated, tag = "4")]
        pub(super) line: Vec<Line>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Line {
        #[prost(uint64, tag = "1")]
        pub(super) function_id: u64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Function {
        #[prost(uint64, tag = "1")]
        pub(super) id: u64,
        #[prost(int64, tag = "2")]
        pub(super) name: i64,
    }
}
