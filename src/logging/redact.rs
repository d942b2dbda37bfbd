//! Field-name redaction (pino's `redact`): decide, per field name, whether its value may be
//! written at all.
//!
//! Matching is ASCII case-insensitive and treats `-` and `_` alike (`api-key`, `API_KEY` and
//! `api_key` are one name; `apikey` is another):
//!
//! | pattern         | matches                                                        |
//! |-----------------|----------------------------------------------------------------|
//! | `password`      | `password`, `PASSWORD`, `user.password` (last dotted segment)  |
//! | `user.password` | exactly `user.password`                                         |
//! | `*_token`       | `access_token`, `db.refresh_token` (`*` = any run of characters) |

/// Field names redacted by default: the usual carriers of credentials.
pub const DEFAULT_REDACTED_FIELDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "set_cookie",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "client_secret",
    "private_key",
    "credentials",
];

/// The text written in place of a redacted value.
pub const REDACTED: &str = "[REDACTED]";

/// A compiled set of redaction patterns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Redactor {
    /// Patterns without `.` or `*`: compared with a field name's last dotted segment.
    segment: Vec<Box<str>>,
    /// Patterns with `.` but no `*`: compared with the whole field name.
    full: Vec<Box<str>>,
    /// Patterns with `*`: globbed against the whole field name.
    globs: Vec<Box<str>>,
    /// Bit `min(len, 63)` set for every length in `segment` and `full`: most field names are
    /// rejected by one AND, which keeps redaction off the per-event cost.
    len_mask: u64,
}

impl Redactor {
    /// Compiles `patterns`; an empty pattern is reported as `Err(index)`.
    pub(crate) fn new<I, S>(patterns: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut r = Redactor::default();
        for p in patterns {
            r.add(p.as_ref())?;
        }
        Ok(r)
    }

    /// Adds one pattern; an empty or whitespace-only pattern is an error naming it.
    pub(crate) fn add(&mut self, pattern: &str) -> Result<(), String> {
        let p = pattern.trim();
        if p.is_empty() || p.chars().all(|c| c == '*') {
            return Err(format!(
                "{pattern:?} would match nothing or everything; use field names such as \"password\", \"user.password\" or \"*_token\""
            ));
        }
        let p: Box<str> = p.to_owned().into_boxed_str();
        if p.contains('*') {
            self.globs.push(p);
        } else {
            self.len_mask |= bit(p.len());
            if p.contains('.') {
                self.full.push(p);
            } else {
                self.segment.push(p);
            }
        }
        Ok(())
    }

    /// Whether a field called `name` must be redacted.
    #[inline]
    pub(crate) fn matches(&self, name: &str) -> bool {
        // Field names are short: a byte loop beats `rsplit`'s searcher here.
        let last = match name.bytes().rposition(|b| b == b'.') {
            Some(dot) => &name[dot + 1..],
            None => name,
        };
        let quick = self.len_mask & (bit(last.len()) | bit(name.len())) != 0;
        if quick
            && (self.segment.iter().any(|p| same_name(p, last))
                || self.full.iter().any(|p| same_name(p, name)))
        {
            return true;
        }
        self.globs
            .iter()
            .any(|g| glob(g.as_bytes(), name.as_bytes()))
    }
}

fn bit(len: usize) -> u64 {
    1u64 << len.min(63)
}

fn fold(b: u8) -> u8 {
    match b {
        b'-' => b'_',
        _ => b.to_ascii_lowercase(),
    }
}

fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| fold(x) == fold(y))
}

/// `*`-only glob, iterative with single backtrack point: linear for the patterns we accept.
pub(crate) fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if p < pattern.len() && fold(pattern[p]) == fold(name[n]) {
            p += 1;
            n += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(patterns: &[&str]) -> Redactor {
        Redactor::new(patterns).unwrap()
    }

    #[test]
    fn plain_names_match_the_last_segment_case_insensitively() {
        let red = r(&["password", "api_key"]);
        assert!(red.matches("password"));
        assert!(red.matches("PassWord"));
        assert!(red.matches("user.password"));
        assert!(red.matches("api-key"));
        assert!(!red.matches("password_hint"));
        assert!(!red.matches("user"));
        assert!(!red.matches("password.length"));
    }

    #[test]
    fn dotted_patterns_match_the_whole_name() {
        let red = r(&["user.ssn"]);
        assert!(red.matches("user.ssn"));
        assert!(!red.matches("ssn"));
        assert!(!red.matches("admin.user.ssn"));
    }

    #[test]
    fn globs_match_any_run() {
        let red = r(&["*_token", "x-*-secret"]);
        assert!(red.matches("access_token"));
        assert!(red.matches("db.refresh_token"));
        assert!(red.matches("X-Api-Secret"));
        assert!(!red.matches("token_count"));
    }

    #[test]
    fn empty_and_match_everything_patterns_are_rejected() {
        assert!(Redactor::new([""]).is_err());
        assert!(Redactor::new(["  "]).is_err());
        assert!(Redactor::new(["**"]).is_err());
    }

    #[test]
    fn defaults_cover_common_credentials() {
        let red = Redactor::new(DEFAULT_REDACTED_FIELDS).unwrap();
        for name in [
            "password",
            "Authorization",
            "req.cookie",
            "client_secret",
            "token",
        ] {
            assert!(red.matches(name), "{name}");
        }
        for name in ["user_id", "amount", "message", "tokens_used"] {
            assert!(!red.matches(name), "{name}");
        }
    }
}
