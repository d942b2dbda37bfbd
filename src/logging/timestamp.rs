//! RFC 3339 UTC timestamps with microseconds, formatted without allocating.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// `YYYY-MM-DDTHH:MM:SS.` for one second, cached per thread: consecutive lines of a busy
/// thread share it and only format the six microsecond digits.
type Prefix = [u8; 20];

thread_local! {
    static CACHED: Cell<(u64, Prefix)> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// The current time split for formatting: the cached date-time prefix and the microseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Now {
    prefix: Prefix,
    micros: u32,
    // For the rate limiter, which needs the time as a number.
    secs: u64,
}

impl Now {
    /// Reads the clock. A clock before 1970 (a badly set machine) prints as the epoch rather
    /// than failing: a line with a wrong time beats no line.
    #[inline]
    pub(crate) fn read() -> Self {
        Now::at(SystemTime::now())
    }

    pub(crate) fn at(t: SystemTime) -> Self {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let prefix = CACHED
            .try_with(|c| {
                let (cached_secs, prefix) = c.get();
                if cached_secs == secs {
                    prefix
                } else {
                    let prefix = format_prefix(secs);
                    c.set((secs, prefix));
                    prefix
                }
            })
            .unwrap_or_else(|_| format_prefix(secs));
        Now {
            prefix,
            micros: since.subsec_micros(),
            secs,
        }
    }

    /// Microseconds since the Unix epoch.
    #[inline]
    pub(crate) fn unix_micros(&self) -> u64 {
        self.secs * 1_000_000 + u64::from(self.micros)
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    #[inline]
    pub(crate) fn write_rfc3339(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix);
        self.write_micros(out);
        out.push(b'Z');
    }

    /// Appends `HH:MM:SS.ffffff` (the pretty format's clock).
    pub(crate) fn write_time_of_day(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix[11..]);
        self.write_micros(out);
    }

    #[inline]
    fn write_micros(&self, out: &mut Vec<u8>) {
        let mut digits = [0u8; 6];
        put(&mut digits, self.micros);
        out.extend_from_slice(&digits);
    }
}

fn format_prefix(secs: u64) -> Prefix {
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let sod = secs % 86_400;
    let mut out = *b"0000-00-00T00:00:00.";
    put(&mut out[0..4], year.clamp(0, 9999) as u32);
    put(&mut out[5..7], month);
    put(&mut out[8..10], day);
    put(&mut out[11..13], (sod / 3600) as u32);
    put(&mut out[14..16], (sod / 60 % 60) as u32);
    put(&mut out[17..19], (sod % 60) as u32);
    out
}

/// Writes `value` as zero-padded decimal digits filling `dst`.
fn put(dst: &mut [u8], mut value: u32) {
    for d in dst.iter_mut().rev() {
        *d = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian calendar.
///
/// Howard Hinnant's `civil_from_days`: exact for every date, no tables, no loops.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, micros: u32) -> String {
        let t = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros as u64);
        let mut out = Vec::new();
        Now::at(t).write_rfc3339(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        // 2000-02-29 (leap day of a century leap year) 12:34:56.789012
        assert_eq!(at(951_827_696, 789_012), "2000-02-29T12:34:56.789012Z");
        // 2026-11-25T18:08:14Z
        assert_eq!(at(1_795_630_094, 1), "2026-11-25T18:08:14.000001Z");
        assert_eq!(at(4_102_444_799, 999_999), "2099-12-31T23:59:59.999999Z");
    }

    #[test]
    fn the_per_second_cache_follows_the_clock() {
        assert_eq!(at(10, 5), "1970-01-01T00:00:10.000005Z");
        assert_eq!(at(10, 6), "1970-01-01T00:00:10.000006Z");
        assert_eq!(at(11, 0), "1970-01-01T00:00:11.000000Z");
        assert_eq!(at(10, 7), "1970-01-01T00:00:10.000007Z");
    }

    #[test]
    fn every_day_of_a_four_century_cycle_is_increasing_and_valid() {
        let mut last = String::new();
        for day in 0..146_097u64 {
            let s = at(day * 86_400, 0);
            assert!(s > last, "{s} after {last}");
            let month: u32 = s[5..7].parse().unwrap();
            let dom: u32 = s[8..10].parse().unwrap();
            assert!((1..=12).contains(&month) && (1..=31).contains(&dom), "{s}");
            last = s;
        }
    }

    #[test]
    fn time_of_day_is_the_clock_part() {
        let mut out = Vec::new();
        Now::at(UNIX_EPOCH + Duration::from_secs(3_723)).write_time_of_day(&mut out);
        assert_eq!(out, b"01:02:03.000000");
    }
}
