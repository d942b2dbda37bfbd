//! [`CpuProfile::pprof_gz`]: the profile as a gzip'd `perftools.profiles.Profile` protobuf,
//! the format of Go's `net/http/pprof`.
//!
//! The messages are declared here with the prost already in the dependency tree (via OTLP),
//! rather than through pprof-rs's codec features, which pin an older prost or a second
//! protobuf stack. Only the fields a CPU profile needs are declared; field numbers follow
//! <https://github.com/google/pprof/blob/main/proto/profile.proto>.

use std::collections::HashMap;
use std::io::Write as _;
use std::time::UNIX_EPOCH;

use flate2::write::GzEncoder;
use flate2::Compression;
use prost::Message;

use super::CpuProfile;
use crate::error::Error;

#[derive(Clone, PartialEq, Message)]
struct Profile {
    #[prost(message, repeated, tag = "1")]
    sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    sample: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    location: Vec<Location>,
    #[prost(message, repeated, tag = "5")]
    function: Vec<Function>,
    #[prost(string, repeated, tag = "6")]
    string_table: Vec<String>,
    #[prost(int64, tag = "9")]
    time_nanos: i64,
    #[prost(int64, tag = "10")]
    duration_nanos: i64,
    #[prost(message, optional, tag = "11")]
    period_type: Option<ValueType>,
    #[prost(int64, tag = "12")]
    period: i64,
}

#[derive(Clone, PartialEq, Message)]
struct ValueType {
    #[prost(int64, tag = "1")]
    r#type: i64,
    #[prost(int64, tag = "2")]
    unit: i64,
}

#[derive(Clone, PartialEq, Message)]
struct Sample {
    /// Leaf first.
    #[prost(uint64, repeated, tag = "1")]
    location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    value: Vec<i64>,
    #[prost(message, repeated, tag = "3")]
    label: Vec<Label>,
}

#[derive(Clone, PartialEq, Message)]
struct Label {
    #[prost(int64, tag = "1")]
    key: i64,
    #[prost(int64, tag = "2")]
    str: i64,
}

#[derive(Clone, PartialEq, Message)]
struct Location {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(message, repeated, tag = "4")]
    line: Vec<Line>,
}

#[derive(Clone, PartialEq, Message)]
struct Line {
    #[prost(uint64, tag = "1")]
    function_id: u64,
}

#[derive(Clone, PartialEq, Message)]
struct Function {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(int64, tag = "2")]
    name: i64,
    #[prost(int64, tag = "3")]
    system_name: i64,
}

/// The string table; index 0 is the empty string, as the format requires.
#[derive(Default)]
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn id(&mut self, s: &str) -> i64 {
        if self.table.is_empty() {
            self.table.push(String::new());
            self.index.insert(String::new(), 0);
        }
        if let Some(&id) = self.index.get(s) {
            return id;
        }
        let id = self.table.len() as i64;
        self.table.push(s.to_owned());
        self.index.insert(s.to_owned(), id);
        id
    }
}

impl CpuProfile {
    /// The profile as gzip'd pprof protobuf with sample types `samples/count` and
    /// `cpu/nanoseconds` and a `thread` label per sample, as `go tool pprof`, Pyroscope,
    /// Grafana and speedscope read it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use stethoscope::profile::CpuProfile;
    ///
    /// let profile = CpuProfile::from_folded("main;json_parse 7\n", Duration::from_secs(1), 99)?;
    /// let bytes = profile.pprof_gz()?;
    /// assert_eq!(bytes[..2], [0x1f, 0x8b]); // gzip
    /// # Ok::<(), stethoscope::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] if compression fails (not expected: it writes to memory).
    pub fn pprof_gz(&self) -> Result<Vec<u8>, Error> {
        let encoded = self.pprof_message().encode_to_vec();
        let mut gz = GzEncoder::new(
            Vec::with_capacity(encoded.len() / 4),
            Compression::default(),
        );
        gz.write_all(&encoded)
            .and_then(|()| gz.finish())
            .map_err(|e| Error::io("compressing a pprof profile", e))
    }

    fn pprof_message(&self) -> Profile {
        let mut strings = Strings::default();
        let samples_type = ValueType {
            r#type: strings.id("samples"),
            unit: strings.id("count"),
        };
        let cpu_type = ValueType {
            r#type: strings.id("cpu"),
            unit: strings.id("nanoseconds"),
        };
        let thread_key = strings.id("thread");
        let period = 1_000_000_000 / i64::from(self.frequency.max(1));

        // One function and one location per distinct name; ids start at 1 (0 means "none").
        let mut location_of: HashMap<&str, u64> = HashMap::new();
        let mut function = Vec::new();
        let mut location = Vec::new();
        let mut sample = Vec::with_capacity(self.stacks.len());
        for stack in &self.stacks {
            let location_id = stack
                .frames
                .iter()
                .rev()
                .map(|name| {
                    *location_of.entry(name).or_insert_with(|| {
                        let id = location.len() as u64 + 1;
                        let name_id = strings.id(name);
                        function.push(Function {
                            id,
                            name: name_id,
                            system_name: name_id,
                        });
                        location.push(Location {
                            id,
                            line: vec![Line { function_id: id }],
                        });
                        id
                    })
                })
                .collect();
            let count = stack.samples as i64;
            sample.push(Sample {
                location_id,
                value: vec![count, count * period],
                label: vec![Label {
                    key: thread_key,
                    str: strings.id(&stack.thread),
                }],
            });
        }
        Profile {
            sample_type: vec![samples_type, cpu_type.clone()],
            sample,
            location,
            function,
            string_table: strings.table,
            time_nanos: self
                .start
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i64),
            duration_nanos: self.duration.as_nanos() as i64,
            period_type: Some(cpu_type),
            period,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn stacks_become_leaf_first_locations_with_shared_functions() {
        let profile =
            CpuProfile::from_folded("main;parse 3\nmain;hash 1\n", Duration::from_secs(2), 100)
                .unwrap();
        let p = profile.pprof_message();
        assert_eq!(p.string_table[0], "");
        assert_eq!(p.period, 10_000_000);
        assert_eq!(p.function.len(), 3, "main is shared");
        let name = |loc: u64| {
            let f = &p.function[loc as usize - 1];
            p.string_table[f.name as usize].as_str()
        };
        // Stacks are sorted: "main;hash" before "main;parse".
        assert_eq!(name(p.sample[0].location_id[0]), "hash");
        assert_eq!(name(p.sample[1].location_id[0]), "parse");
        assert_eq!(name(p.sample[1].location_id[1]), "main");
        assert_eq!(p.sample[1].value, [3, 30_000_000]);
    }
}
