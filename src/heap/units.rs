//! Number formatting for the tables: `183,492` and `+8.4 MiB`, as the seed's heap-snapshot
//! comparison view prints them.

/// `1234567` → `1,234,567`; negative numbers keep their sign.
pub(super) fn thousands(n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A delta with an explicit sign: `+183,450`, `-3`, `0`.
pub(super) fn signed(n: i128) -> String {
    if n > 0 {
        format!("+{}", thousands(n))
    } else {
        thousands(n)
    }
}

/// `1536` → `1.5 KiB`; below 1 KiB in bytes.
pub(super) fn bytes(n: i128) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let sign = if n < 0 { "-" } else { "" };
    let abs = n.unsigned_abs();
    if abs < 1024 {
        return format!("{sign}{abs} B");
    }
    let mut value = abs as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{sign}{value:.1} {}", UNITS[unit])
}

/// [`bytes`] with an explicit `+` for growth.
pub(super) fn signed_bytes(n: i128) -> String {
    if n > 0 {
        format!("+{}", bytes(n))
    } else {
        bytes(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_the_seed_table() {
        assert_eq!(thousands(183_492), "183,492");
        assert_eq!(thousands(42), "42");
        assert_eq!(thousands(-1_000), "-1,000");
        assert_eq!(signed(183_450), "+183,450");
        assert_eq!(signed(0), "0");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(signed_bytes(8 << 20), "+8.0 MiB");
        assert_eq!(signed_bytes(-2048), "-2.0 KiB");
    }
}
