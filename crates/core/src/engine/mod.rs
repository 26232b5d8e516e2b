//! The discovery engine: runs the registered providers for an address, ranks their answers
//! and records a trace of every step.
//!
//! This first engine runs providers one after another in rank order, under one deadline, and
//! stops as soon as it holds an answer nothing can beat (a catalogue hit). Running them
//! concurrently is the engine's next step; the [`Provider`] interface already allows it.

mod config;
mod context;
mod network;

use std::sync::Arc;
use std::time::Instant;

pub use config::{
    CatalogueChoice, DEFAULT_DEADLINE, DEFAULT_ISPDB_URL, DEFAULT_M365_AUTODISCOVER_URL,
    DiscoveryConfig, DiscoveryConfigBuilder, UrlPorts,
};
pub use context::{DiscoveryContext, StepTimer};
pub use network::{Network, SetupError};

use crate::error::SourceError;
use crate::model::{Detection, EmailAddress, Failure, FailureKind, Outcome, Report, Trust};
use crate::provider::{Provider, registry};
use crate::sources::autodiscover::{
    AutodiscoverCredentials, AutodiscoverError, AutodiscoverOutcome, CredentialRules,
    run_autodiscover,
};

/// Finds who hosts a mailbox. Build one and share it (it is `Send + Sync`): it holds the
/// providers and the configuration.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use nativeauth_core::{Discovery, DiscoveryConfig, EmailAddress};
///
/// let discovery = Discovery::new(DiscoveryConfig::builder().offline(true).build())?;
/// let report = discovery.discover(&EmailAddress::parse("alice@example.com")?).await;
/// // Only providers linked into the binary answer: with none, nothing is found.
/// println!("detected: {}", report.is_detected());
/// # Ok(()) }
/// ```
pub struct Discovery {
    config: Arc<DiscoveryConfig>,
    network: Option<Arc<Network>>,
    providers: Vec<Box<dyn Provider>>,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.providers.iter().map(|p| p.id()).collect();
        f.debug_struct("Discovery").field("config", &self.config).field("providers", &ids).finish()
    }
}

impl Discovery {
    /// A discovery with every registered provider (see [`registry`]). Sets up DNS and HTTP
    /// unless the configuration is offline.
    ///
    /// # Errors
    /// [`SetupError`] when the system DNS configuration is unusable or TLS cannot be set up.
    pub fn new(config: DiscoveryConfig) -> Result<Self, SetupError> {
        let providers = registry().into_iter().map(|plugin| (plugin.make)()).collect();
        Self::with_providers(config, providers)
    }

    /// A discovery with exactly these providers, consulted in the given order.
    ///
    /// # Errors
    /// As for [`Discovery::new`].
    pub fn with_providers(
        config: DiscoveryConfig,
        providers: Vec<Box<dyn Provider>>,
    ) -> Result<Self, SetupError> {
        let network = if config.offline { None } else { Some(Arc::new(Network::new(&config)?)) };
        Ok(Self { config: Arc::new(config), network, providers })
    }

    /// The configuration.
    pub fn config(&self) -> &DiscoveryConfig {
        &self.config
    }

    /// The ids of the providers, in the order they are consulted.
    pub fn provider_ids(&self) -> Vec<&'static str> {
        self.providers.iter().map(|p| p.id()).collect()
    }

    /// Discovers the provider and settings for `email`. Never fails: what went wrong is in
    /// the report's trace and `failure`.
    pub async fn discover(&self, email: &EmailAddress) -> Report {
        let started = Instant::now();
        let ctx =
            DiscoveryContext::with_network(self.config.clone(), self.network.clone(), started);
        let mut detections: Vec<Detection> = Vec::new();
        let mut errors: Vec<SourceError> = Vec::new();
        let mut deadline_passed = false;

        for provider in &self.providers {
            let best_so_far = detections.iter().map(Detection::rank_key).min();
            if let Some(best) = best_so_far {
                let could_be = (provider.best_possible_source().rank(), Trust::Verified);
                if could_be >= best {
                    ctx.timer(provider.id(), email.domain()).finish(
                        Outcome::Cancelled,
                        &format!("cannot beat the {} answer in hand", source_name(&detections)),
                    );
                    continue;
                }
            }
            let remaining = self.config.deadline.saturating_sub(started.elapsed());
            let timer = ctx.timer(provider.id(), email.domain());
            match tokio::time::timeout(remaining, provider.detect(email, &ctx)).await {
                Ok(Ok(Some(detection))) => detections.push(detection),
                Ok(Ok(None)) => {}
                Ok(Err(error)) => {
                    tracing::debug!(provider = provider.id(), %error, "provider failed");
                    timer.finish(Outcome::Error, &error.to_string());
                    errors.push(error);
                }
                Err(_) => {
                    timer.finish(Outcome::Timeout, "the discovery deadline passed");
                    deadline_passed = true;
                    break;
                }
            }
        }

        // Stable sort: equal ranks keep the order their providers were consulted in. Two
        // providers may find the same answer the same way (the catalogue and the Google plugin
        // both know Google's MX hosts): keep the first.
        detections.sort_by_key(Detection::rank_key);
        let mut seen = std::collections::HashSet::new();
        detections.retain(|d| seen.insert((d.provider.id.clone(), d.source)));
        let mut detections = detections.into_iter();
        let best = detections.next();
        let failure = match &best {
            Some(_) => None,
            None => Some(failure(deadline_passed, &errors)),
        };
        Report {
            email: email.clone(),
            best,
            alternatives: detections.collect(),
            trace: ctx.into_trace(),
            elapsed: started.elapsed(),
            failure,
        }
    }
}

/// The result of an authenticated autodiscover, with the trace of every hop.
#[derive(Debug)]
pub struct AutodiscoverRun {
    /// What the chain found, or why it failed.
    pub result: Result<AutodiscoverOutcome, AutodiscoverError>,
    /// Every hop.
    pub trace: Vec<crate::model::Step>,
}

impl Discovery {
    /// Exchange autodiscover *with* the user's credentials (the login flow, after the user
    /// typed a password): HTTP Basic, sent only over https to the user's registrable domain,
    /// Microsoft's autodiscover hosts and `rules.allowed_hosts`. A chain that leads elsewhere
    /// stops before sending anything there and answers
    /// [`AutodiscoverOutcome::NeedsConfirmation`] with the target.
    pub async fn autodiscover_with_credentials(
        &self,
        email: &EmailAddress,
        credentials: &AutodiscoverCredentials,
        rules: &CredentialRules,
    ) -> AutodiscoverRun {
        let ctx = DiscoveryContext::with_network(
            self.config.clone(),
            self.network.clone(),
            Instant::now(),
        );
        let result = if ctx.is_offline() {
            Ok(AutodiscoverOutcome::NotFound)
        } else {
            tokio::time::timeout(
                self.config.deadline,
                run_autodiscover(&ctx, email, Some(credentials), rules),
            )
            .await
            .unwrap_or(Ok(AutodiscoverOutcome::NotFound))
        };
        AutodiscoverRun { result, trace: ctx.into_trace() }
    }
}

/// The source of the best detection so far, for the trace.
fn source_name(detections: &[Detection]) -> &'static str {
    detections.iter().min_by_key(|d| d.rank_key()).map_or("", |d| d.source.as_str())
}

fn failure(deadline_passed: bool, errors: &[SourceError]) -> Failure {
    if deadline_passed {
        Failure {
            kind: FailureKind::Timeout,
            message: "the deadline passed before any source answered".into(),
        }
    } else if errors.is_empty() {
        Failure {
            kind: FailureKind::NotFound,
            message: "nothing found: no source knows this domain".into(),
        }
    } else {
        let reasons: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let kind = if errors.iter().all(SourceError::is_timeout) {
            FailureKind::Timeout
        } else {
            FailureKind::Network
        };
        Failure { kind, message: format!("sources failed: {}", reasons.join("; ")) }
    }
}

#[cfg(test)]
mod tests;
