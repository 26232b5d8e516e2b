//! What providers see during one discovery: the configuration and the trace.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::config::{CatalogueChoice, DiscoveryConfig};
use crate::model::{Outcome, Step};

/// The state of one discovery run, shared by every provider of that run.
///
/// Providers read the configuration from it and record what they try with
/// [`DiscoveryContext::timer`]. Network lookups (DNS, HTTP) will be memoised here too, so that
/// several providers asking the same question cause one request.
#[derive(Debug)]
pub struct DiscoveryContext {
    config: Arc<DiscoveryConfig>,
    started: Instant,
    trace: Mutex<Vec<Step>>,
}

impl DiscoveryContext {
    /// A context for a run that started at `started`.
    pub fn new(config: Arc<DiscoveryConfig>, started: Instant) -> Self {
        Self { config, started, trace: Mutex::new(Vec::new()) }
    }

    /// The run's configuration.
    pub fn config(&self) -> &DiscoveryConfig {
        &self.config
    }

    /// Whether providers must stay off the network.
    pub fn is_offline(&self) -> bool {
        self.config.offline
    }

    /// Which catalogue to answer from.
    pub fn catalogue_choice(&self) -> &CatalogueChoice {
        &self.config.catalogue
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Starts timing a step; [`StepTimer::finish`] records it in the trace.
    pub fn timer(&self, source: &str, target: &str) -> StepTimer<'_> {
        StepTimer {
            ctx: self,
            source: source.to_owned(),
            target: target.to_owned(),
            start: self.elapsed(),
        }
    }

    /// Records a finished step.
    pub fn record(&self, step: Step) {
        tracing::debug!(
            source = %step.source,
            target = %step.target,
            outcome = ?step.outcome,
            detail = %step.detail,
            "discovery step"
        );
        self.trace.lock().unwrap_or_else(PoisonError::into_inner).push(step);
    }

    /// The trace, ordered by start time.
    pub fn into_trace(self) -> Vec<Step> {
        let mut trace = self.trace.into_inner().unwrap_or_else(PoisonError::into_inner);
        trace.sort_by_key(|step| step.start);
        trace
    }
}

/// A step being timed. Dropping it without [`finish`](StepTimer::finish) records nothing.
#[derive(Debug)]
pub struct StepTimer<'a> {
    ctx: &'a DiscoveryContext,
    source: String,
    target: String,
    start: Duration,
}

impl StepTimer<'_> {
    /// Records the step with its outcome and a short reason.
    pub fn finish(self, outcome: Outcome, detail: &str) {
        let duration = self.ctx.elapsed().saturating_sub(self.start);
        self.ctx.record(Step {
            source: self.source,
            target: self.target,
            start: self.start,
            duration,
            outcome,
            detail: detail.to_owned(),
        });
    }
}
