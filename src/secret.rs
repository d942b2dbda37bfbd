//! Configuration values that are credentials as often as not — the admin token, OTLP header
//! values, a collector URL's user info and query — and the one way they are shown anywhere:
//! `{:?}` of a [`Builder`](crate::Builder), error messages, log lines and `/debug/stethoscope`
//! all print [`REDACTED`] in their place.
//!
//! The wrappers have no `Display` and no `Deref`: the raw value leaves only through an explicit
//! `expose()`, at the one place that sends it over the wire.

use std::fmt;

pub(crate) use crate::logging::redact::REDACTED;

/// Prints [`REDACTED`] for `{}` and `{:?}`: what every hand-written `Debug` shows for a secret
/// it holds in a plain type (`.field("token", &token.as_ref().map(|_| Redacted))`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Redacted;

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A secret string, e.g. an OTLP header value: `Debug` prints [`REDACTED`].
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the request that carries it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Redacted, f)
    }
}

/// A URL that may carry credentials (`http://user:password@host/path?api_key=…`): `Display`
/// and `Debug` show it with user info, query and fragment masked (see [`mask_url`]).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SecretUrl(String);

impl SecretUrl {
    pub(crate) fn new(url: impl Into<String>) -> Self {
        SecretUrl(url.into())
    }

    /// The URL itself, for the exporter that connects to it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_url(&self.0))
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&mask_url(&self.0), f)
    }
}

/// Masks what a URL may carry as a secret: user info (`user:password@`), query and fragment.
/// Works on any text, valid URL or not, because it also renders rejected values in errors.
pub(crate) fn mask_url(url: &str) -> String {
    let url = url.trim();
    let (prefix, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    // The query and fragment go whole: `?api_key=…` is a common way to pass a token.
    let (rest, tail) = match rest.find(['?', '#']) {
        Some(i) => (&rest[..i], &rest[i..i + 1]),
        None => (rest, ""),
    };
    // User info ends at the last `@` before the query. Taking the last one anywhere (not just
    // in the authority) masks a little path in the rare URL with `@` in its path, but never
    // leaks a password that contains `/` in a malformed URL.
    let rest = match rest.rfind('@') {
        Some(i) => format!("{REDACTED}{}", &rest[i..]),
        None => rest.to_owned(),
    };
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!("{tail}{REDACTED}")
    };
    format!("{prefix}{rest}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_credentials_queries_and_fragments() {
        assert_eq!(
            mask_url("http://user:pw@collector:4318/v1/traces?key=abc"),
            "http://[REDACTED]@collector:4318/v1/traces?[REDACTED]"
        );
        assert_eq!(mask_url("http://collector:4318"), "http://collector:4318");
        assert_eq!(mask_url(" http://[::1]:4318/ "), "http://[::1]:4318/");
        assert_eq!(mask_url("http://h/p#tok"), "http://h/p#[REDACTED]");
        // Malformed: no scheme, or a password with a `/` in it.
        assert_eq!(mask_url("u:pw@h:1"), "[REDACTED]@h:1");
        assert_eq!(mask_url("http://u:p/w@h"), "http://[REDACTED]@h");
    }

    #[test]
    fn secrets_print_only_the_marker() {
        let s = Secret::new("s3cr3t");
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{:?}", Some(&s)), "Some([REDACTED])");
        assert_eq!(format!("{:?}", Some(Redacted)), "Some([REDACTED])");
        assert_eq!(s.expose(), "s3cr3t");
        let u = SecretUrl::new("http://a:s3cr3t@h:1");
        assert_eq!(u.to_string(), "http://[REDACTED]@h:1");
        assert_eq!(format!("{u:?}"), "\"http://[REDACTED]@h:1\"");
        assert_eq!(u.expose(), "http://a:s3cr3t@h:1");
    }
}
