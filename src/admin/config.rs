//! The admin-server settings of [`Builder`], their setters and their environment variables.

use std::net::{SocketAddr, ToSocketAddrs};

use crate::error::Error;
use crate::init::Builder;
use crate::secret::Redacted;

/// Where the admin server listens unless configured otherwise: loopback only, on the port
/// registered for Prometheus exporters of this kind.
pub const DEFAULT_ADMIN_ADDR: &str = "127.0.0.1:9464";

/// What [`Builder`] knows about the admin server.
pub(crate) struct AdminSettings {
    /// `None` when switched off.
    pub(crate) addr: Option<SocketAddr>,
    pub(crate) token: Option<String>,
    // Live control: the `/readyz` rule.
    pub(crate) readiness_rule: Option<super::ReadinessRule>,
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings {
            addr: DEFAULT_ADMIN_ADDR.parse().ok(),
            token: None,
            readiness_rule: None,
        }
    }
}

// By hand, so that `{:?}` of a `Builder` never prints the token.
impl std::fmt::Debug for AdminSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSettings")
            .field("addr", &self.addr)
            .field("token", &self.token.as_ref().map(|_| Redacted))
            .finish()
    }
}

impl AdminSettings {
    /// Applies `STETHOSCOPE_ADMIN_ADDR` and `STETHOSCOPE_ADMIN_TOKEN` (empty values already
    /// filtered out by the caller).
    pub(crate) fn apply_env(&mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<(), Error> {
        if let Some(v) = get("STETHOSCOPE_ADMIN_ADDR") {
            self.addr = parse_addr(&v).ok_or_else(|| {
                Error::invalid_env(
                    "STETHOSCOPE_ADMIN_ADDR",
                    &v,
                    "expected host:port such as \"127.0.0.1:9464\" or \"0.0.0.0:9464\", or \"off\"",
                )
            })?;
        }
        if let Some(v) = get("STETHOSCOPE_ADMIN_TOKEN") {
            self.token = Some(v.trim().to_owned());
        }
        Ok(())
    }
}

/// `off` → `Some(None)`; `host:port` → `Some(Some(addr))`; anything else → `None`.
fn parse_addr(value: &str) -> Option<Option<SocketAddr>> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") {
        return Some(None);
    }
    if let Ok(addr) = value.parse() {
        return Some(Some(addr));
    }
    // A host name such as `localhost:9464`: resolve it once, now.
    Some(Some(value.to_socket_addrs().ok()?.next()?))
}

/// Admin server settings (`/metrics`, `/healthz`, `/readyz`).
impl Builder {
    /// Serves the admin endpoints on `addr` (default [`DEFAULT_ADMIN_ADDR`]); port 0 picks a
    /// free port, reported by [`Guard::admin_addr`](crate::Guard::admin_addr).
    ///
    /// ```
    /// use std::net::SocketAddr;
    ///
    /// let builder = stethoscope::Stethoscope::builder()
    ///     .with_admin_addr(SocketAddr::from(([127, 0, 0, 1], 0)));
    /// # drop(builder);
    /// ```
    pub fn with_admin_addr(mut self, addr: SocketAddr) -> Self {
        self.admin.addr = Some(addr);
        self
    }

    /// Does not start the admin server (like `STETHOSCOPE_ADMIN_ADDR=off`).
    pub fn without_admin(mut self) -> Self {
        self.admin.addr = None;
        self
    }

    /// Requires `Authorization: Bearer <token>` on every admin path but `/healthz`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty token.
    pub fn with_admin_token(mut self, token: impl Into<String>) -> Result<Self, Error> {
        let token = token.into();
        if token.trim().is_empty() {
            return Err(Error::invalid_config(
                "with_admin_token",
                "\"\"",
                "expected a non-empty token; to serve without one, don't call with_admin_token",
            ));
        }
        self.admin.token = Some(token);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_off_are_accepted() {
        assert_eq!(parse_addr("off"), Some(None));
        assert_eq!(parse_addr(" OFF "), Some(None));
        assert_eq!(
            parse_addr("0.0.0.0:9464"),
            Some(Some(SocketAddr::from(([0, 0, 0, 0], 9464))))
        );
        assert!(parse_addr("localhost:9464")
            .unwrap()
            .unwrap()
            .ip()
            .is_loopback());
        assert_eq!(parse_addr("9464"), None);
        assert_eq!(parse_addr("localhost:http-ish"), None);
    }

    #[test]
    fn an_invalid_address_names_the_variable() {
        let mut settings = AdminSettings::default();
        let err = settings
            .apply_env(&|v| (v == "STETHOSCOPE_ADMIN_ADDR").then(|| "nowhere".to_string()))
            .unwrap_err();
        assert!(err.is_invalid_env());
        assert!(
            err.to_string()
                .starts_with("invalid STETHOSCOPE_ADMIN_ADDR=\"nowhere\": expected host:port"),
            "{err}"
        );
    }

    #[test]
    fn the_environment_sets_the_token_and_can_turn_the_server_off() {
        let mut settings = AdminSettings::default();
        assert_eq!(settings.addr, DEFAULT_ADMIN_ADDR.parse().ok());
        settings
            .apply_env(&|v| match v {
                "STETHOSCOPE_ADMIN_ADDR" => Some("off".into()),
                "STETHOSCOPE_ADMIN_TOKEN" => Some(" s3cret ".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(settings.addr, None);
        assert_eq!(settings.token.as_deref(), Some("s3cret"));
    }

    #[test]
    fn an_empty_builder_token_is_rejected() {
        let err = Builder::default().with_admin_token(" ").unwrap_err();
        assert!(err.to_string().contains("with_admin_token"), "{err}");
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let builder = Builder::default().with_admin_token("s3cret").unwrap();
        let shown = format!("{builder:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }

    #[test]
    fn the_builder_reports_an_invalid_admin_address_from_the_environment() {
        let err = Builder::default()
            .from_env_with(|v| (v == "STETHOSCOPE_ADMIN_ADDR").then(|| "9464".to_string()))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidEnv {
                var: "STETHOSCOPE_ADMIN_ADDR",
                ..
            }
        ));
    }
}
