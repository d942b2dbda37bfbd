//! RFC 3339 UTC timestamps with microseconds, formatted without allocating.

use std::time::{SystemTime, UNIX_EPOCH};

/// Length of `2026-11-25T18:08:14.123456Z`.
pub(crate) const LEN: usize = 27;

/// Formats `now` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
///
/// A clock before 1970 (a badly set machine) prints as the epoch rather than failing: a log
/// line with a wrong time is more useful than no log line.
pub(crate) fn format(now: SystemTime) -> [u8; LEN] {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let micros = since.subsec_micros();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let sod = secs % 86_400;
    let mut out = *b"0000-00-00T00:00:00.000000Z";
    put(&mut out[0..4], year.clamp(0, 9999) as u32);
    put(&mut out[5..7], month);
    put(&mut out[8..10], day);
    put(&mut out[11..13], (sod / 3600) as u32);
    put(&mut out[14..16], (sod / 60 % 60) as u32);
    put(&mut out[17..19], (sod % 60) as u32);
    put(&mut out[20..26], micros);
    out
}

/// The time-of-day part, `HH:MM:SS.ffffff`, used by the pretty format.
pub(crate) fn time_of_day(full: &[u8; LEN]) -> &str {
    // The array holds only ASCII digits and separators.
    std::str::from_utf8(&full[11..26]).unwrap_or("??:??:??.??????")
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
        String::from_utf8(format(t).to_vec()).unwrap()
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
    fn time_of_day_slices_the_clock_part() {
        let full = format(UNIX_EPOCH + Duration::from_secs(3_723));
        assert_eq!(time_of_day(&full), "01:02:03.000000");
    }
}
