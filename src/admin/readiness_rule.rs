//! [`ReadinessRule`]: `/readyz` also answers 503 while the runtime stays saturated or log lines
//! are being dropped, so that a load balancer sheds load from an instance that cannot keep up.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::init::Builder;
use crate::logging::NonBlocking;
use crate::runtime::saturation::SaturationWatch;

/// When `/readyz` should report the instance as not ready on its own, in addition to
/// [`Readiness::set_ready`](super::Readiness::set_ready).
///
/// ```
/// use std::time::Duration;
/// use stethoscope::admin::ReadinessRule;
///
/// let rule = ReadinessRule::default()
///     .unready_while_busy(0.95, Duration::from_secs(30))?  // saturated for 30 s
///     .unready_while_logs_drop(Duration::from_secs(10))?;  // dropped a line in the last 10 s
/// let builder = stethoscope::Stethoscope::builder().with_readiness_rule(rule);
/// # drop(builder);
/// # Ok::<(), stethoscope::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ReadinessRule {
    busy: Option<(f64, Duration)>,
    log_drops: Option<Duration>,
    /// Created by [`Builder::with_readiness_rule`] and fed by the runtime monitor.
    watch: Option<Arc<SaturationWatch>>,
}

impl ReadinessRule {
    /// Not ready while the runtime's busy ratio (see [`runtime`](crate::runtime)), averaged
    /// over the last `for_at_least`, is above `ratio`: it has stayed saturated that long.
    /// (Averaged because tokio accounts busy time in lumps: a saturated runtime's samples can
    /// read 1.0, 0.0, 1.0.) Needs the runtime monitor, i.e. `install` called inside a tokio
    /// runtime; without it this part of the rule never fires.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `ratio` is between 0 and 1 and `for_at_least` is not zero.
    pub fn unready_while_busy(mut self, ratio: f64, for_at_least: Duration) -> Result<Self, Error> {
        if !(0.0..=1.0).contains(&ratio) || for_at_least.is_zero() {
            return Err(Error::invalid_config(
                "ReadinessRule::unready_while_busy",
                format!("{ratio}, {for_at_least:?}"),
                "expected a busy ratio between 0 and 1 and a duration above zero, such as (0.95, 30s)",
            ));
        }
        self.busy = Some((ratio, for_at_least));
        Ok(self)
    }

    /// Not ready while the log writer dropped a line (its queue was full) within the last
    /// `within`; dropping is checked each time `/readyz` is asked.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero duration.
    pub fn unready_while_logs_drop(mut self, within: Duration) -> Result<Self, Error> {
        if within.is_zero() {
            return Err(Error::invalid_config(
                "ReadinessRule::unready_while_logs_drop",
                "0s",
                "expected a duration above zero, such as 10s",
            ));
        }
        self.log_drops = Some(within);
        Ok(self)
    }
}

/// Readiness rule (the admin server's `/readyz`).
impl Builder {
    /// Makes `/readyz` answer 503, saying why, while `rule` says the instance cannot keep up.
    pub fn with_readiness_rule(mut self, mut rule: ReadinessRule) -> Self {
        rule.watch = rule
            .busy
            .map(|(_, window)| Arc::new(SaturationWatch::new(window)));
        self.runtime.watch = rule.watch.clone();
        self.admin.readiness_rule = Some(rule);
        self
    }
}

/// The rule at work: evaluated on each `/readyz`.
#[derive(Debug)]
pub(crate) struct ReadinessCheck {
    rule: ReadinessRule,
    writer: NonBlocking,
    /// The drop count last seen and when it last grew.
    drops: Mutex<(u64, Option<Instant>)>,
}

impl ReadinessCheck {
    pub(crate) fn new(rule: ReadinessRule, writer: NonBlocking) -> Self {
        let seen = writer.dropped_lines();
        ReadinessCheck {
            rule,
            writer,
            drops: Mutex::new((seen, None)),
        }
    }

    /// Why the instance is not ready, or `None` when the rule is satisfied.
    pub(crate) fn why_not_ready(&self) -> Option<String> {
        if let (Some((ratio, needed)), Some(watch)) = (self.rule.busy, &self.rule.watch) {
            if let Some(average) = watch.average().filter(|a| *a > ratio) {
                return Some(format!(
                    "the runtime has been busier than {ratio} for {:.1}s (average busy ratio {average:.2})",
                    needed.as_secs_f64()
                ));
            }
        }
        if let Some(within) = self.rule.log_drops {
            let now_dropped = self.writer.dropped_lines();
            let mut drops = self.drops.lock().unwrap_or_else(|p| p.into_inner());
            if now_dropped > drops.0 {
                *drops = (now_dropped, Some(Instant::now()));
            }
            if let Some(at) = drops.1 {
                if at.elapsed() < within {
                    return Some(format!(
                        "log lines are being dropped ({now_dropped} so far): the log destination cannot keep up"
                    ));
                }
            }
        }
        None
    }
}
