//! Traces: W3C Trace Context propagation today; OpenTelemetry export is being added.
//!
//! The public surface is [`propagation`], re-exported at the crate root as
//! `stethoscope::propagation`.

mod carrier;
pub mod propagation;
pub(crate) mod w3c;
