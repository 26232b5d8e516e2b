//! The discovery engine: runs the registered providers for an address — all at once, with
//! priority — ranks their answers, and records a trace of every step.
//!
//! 1. **Offline phase.** Every provider's [`Provider::detect_offline`] runs first (catalogue and
//!    built-in domain lists). A catalogue hit answers at once, with no network at all.
//! 2. **Network phase.** Every provider that could still beat the answer in hand starts at
//!    once, under one deadline. Shared lookups are memoised in the [`DiscoveryContext`], so
//!    concurrent askers of the same MX, SRV or URL await one request. As soon as nothing still
//!    running can beat the best answer (its [`Provider::best_possible_source`] ranks lower),
//!    the rest is cancelled (Thunderbird's "parallel with priority").
//! 3. **Ranking.** By source (catalogue > MX pattern > autoconfig > ISPDB > autodiscover > SRV >
//!    guess), then verified before unverified; runners-up are kept as alternatives.
//!
//! Results are cached per domain (see [`DiscoveryConfigBuilder::cache_ttl`](crate::DiscoveryConfigBuilder::cache_ttl)), so a
//! busy login server asks the network about each domain once.

mod cache;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use self::cache::{Cache, CachedRun};
use crate::model::{
    Detection, EmailAddress, Failure, FailureKind, Outcome, Report, Source, Step, Trust,
};
use crate::net::config::DiscoveryConfig;
use crate::net::context::DiscoveryContext;
use crate::net::error::SourceError;
use crate::net::network::{Network, SetupError};
use crate::provider::{Provider, registry};

/// Finds who hosts a mailbox. Build one per application and share it (it is `Send + Sync`;
/// wrap it in an `Arc` for tasks): it holds the providers, the resolver, the HTTP client and
/// the per-domain cache, so sharing it is what lets concurrent logins for one domain cause one
/// set of lookups.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use nativeauth_core::{Discovery, DiscoveryConfig, EmailAddress};
///
/// let discovery = Arc::new(Discovery::new(DiscoveryConfig::default())?);
/// let shared = discovery.clone(); // e.g. moved into each request handler
/// let report = shared.discover(&EmailAddress::parse("alice@example.com")?).await;
/// println!("detected: {}", report.is_detected());
/// # Ok(()) }
/// ```
pub struct Discovery {
    config: Arc<DiscoveryConfig>,
    network: Option<Arc<Network>>,
    providers: Vec<Box<dyn Provider>>,
    cache: Cache,
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
        Self::with_providers(config, registry())
    }

    /// A discovery with exactly these providers (ties in ranking go to the earlier one).
    ///
    /// # Errors
    /// As for [`Discovery::new`].
    pub fn with_providers(
        config: DiscoveryConfig,
        providers: Vec<Box<dyn Provider>>,
    ) -> Result<Self, SetupError> {
        let network = if config.offline { None } else { Some(Arc::new(Network::new(&config)?)) };
        let cache = Cache::new(config.cache_ttl, config.negative_cache_ttl);
        Ok(Self { config: Arc::new(config), network, providers, cache })
    }

    /// The configuration.
    pub fn config(&self) -> &DiscoveryConfig {
        &self.config
    }

    /// The ids of the providers, in order.
    pub fn provider_ids(&self) -> Vec<&'static str> {
        self.providers.iter().map(|p| p.id()).collect()
    }

    /// Discovers the provider and settings for `email`. Never fails: what went wrong is in
    /// the report's trace and `failure`. A domain answered within the cache's lifetime is
    /// answered from the cache (its trace then says so).
    pub async fn discover(&self, email: &EmailAddress) -> Report {
        let started = Instant::now();
        // The cache keeps results, not traces (they hold the first asker's address in URLs,
        // and would cost memory): the caller whose run it was gets the trace through here.
        let own_trace = std::sync::Mutex::new(None);
        let run = self
            .cache
            .get_or_run(email.domain(), email.as_str(), || async {
                let (run, trace) = self.run(email).await;
                *own_trace.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(trace);
                run
            })
            .await;
        let own_trace = own_trace.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        let trace = if let Some(trace) = own_trace {
            trace
        } else {
            vec![Step {
                source: "cache".into(),
                target: email.domain().into(),
                start: Duration::ZERO,
                duration: started.elapsed(),
                outcome: if run.detections.is_empty() { Outcome::Nothing } else { Outcome::Found },
                detail: format!(
                    "answered from the cache (looked up {} s ago)",
                    run.at.elapsed().as_secs()
                ),
            }]
        };
        let mut detections = run.detections.iter().cloned();
        Report {
            email: email.clone(),
            best: detections.next(),
            alternatives: detections.collect(),
            trace,
            elapsed: started.elapsed(),
            failure: run.failure.clone(),
        }
    }

    /// One uncached run: its result, and its trace.
    async fn run(&self, email: &EmailAddress) -> (CachedRun, Vec<Step>) {
        let started = Instant::now();
        let deadline = tokio::time::Instant::from_std(started) + self.config.deadline;
        let ctx = self.context_at(started);
        let mut detections: Vec<Detection> = Vec::new();
        let mut errors: Vec<SourceError> = Vec::new();
        let mut timed_out: Vec<&'static str> = Vec::new();

        for provider in &self.providers {
            detections.extend(provider.detect_offline(email, &ctx));
        }

        let unbeatable =
            detections.iter().any(|d| d.rank_key() == (Source::Catalogue.rank(), Trust::Verified));
        if ctx.is_offline() {
            // Nothing to start: offline, only the answers above count.
        } else if unbeatable {
            for provider in &self.providers {
                ctx.timer(provider.id(), email.domain())
                    .finish(Outcome::Skipped, "not needed: the catalogue answered");
            }
        } else {
            let mut running = FuturesUnordered::new();
            let mut pending = HashSet::new();
            for (index, provider) in self.providers.iter().enumerate() {
                if could_beat(provider.as_ref(), &detections) {
                    pending.insert(index);
                    let ctx = &ctx;
                    running.push(async move { (index, provider.detect(email, ctx).await) });
                } else {
                    ctx.timer(provider.id(), email.domain()).finish(
                        Outcome::Skipped,
                        &format!("cannot beat the {} answer in hand", best_source(&detections)),
                    );
                }
            }
            while !pending.is_empty() {
                if pending.iter().all(|&i| !could_beat(self.providers[i].as_ref(), &detections)) {
                    for &i in &pending {
                        ctx.timer(self.providers[i].id(), email.domain()).finish(
                            Outcome::Cancelled,
                            &format!(
                                "cancelled: cannot beat the {} answer in hand",
                                best_source(&detections)
                            ),
                        );
                    }
                    break;
                }
                match tokio::time::timeout_at(deadline, running.next()).await {
                    Ok(Some((index, result))) => {
                        pending.remove(&index);
                        match result {
                            Ok(found) => detections.extend(found),
                            Err(error) => {
                                tracing::debug!(provider = self.providers[index].id(), %error, "provider failed");
                                ctx.timer(self.providers[index].id(), email.domain()).fail(&error);
                                errors.push(error);
                            }
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        for &i in &pending {
                            timed_out.push(self.providers[i].id());
                            ctx.timer(self.providers[i].id(), email.domain())
                                .finish(Outcome::Timeout, "the discovery deadline passed");
                        }
                        break;
                    }
                }
            }
            drop(running);
        }

        // Stable sort: ties keep provider order. Two providers may find the same answer the
        // same way (a plugin's MX knowledge may repeat a user catalogue's).
        detections.sort_by_key(Detection::rank_key);
        let mut seen = HashSet::new();
        detections.retain(|d| seen.insert((d.provider.id.clone(), d.source)));
        let failure = if detections.is_empty() { Some(failure(&timed_out, &errors)) } else { None };
        let owner = detections
            .iter()
            .any(|d| d.source.receives_address())
            .then(|| email.as_str().to_owned());
        (CachedRun { detections, failure, at: Instant::now(), owner }, ctx.into_trace())
    }
}

/// Whether a provider's best possible answer would rank above every answer in hand.
fn could_beat(provider: &dyn Provider, detections: &[Detection]) -> bool {
    let best = detections.iter().map(Detection::rank_key).min();
    best.is_none_or(|best| (provider.best_possible_source().rank(), Trust::Verified) < best)
}

fn best_source(detections: &[Detection]) -> &'static str {
    detections.iter().min_by_key(|d| d.rank_key()).map_or("", |d| d.source.as_str())
}

fn failure(timed_out: &[&str], errors: &[SourceError]) -> Failure {
    if !timed_out.is_empty() && errors.is_empty() {
        return Failure {
            kind: FailureKind::Timeout,
            message: format!("the deadline passed; still running: {}", timed_out.join(", ")),
        };
    }
    if errors.is_empty() {
        return Failure {
            kind: FailureKind::NotFound,
            message: "nothing found: no source knows this domain".into(),
        };
    }
    let mut reasons: Vec<String> = errors.iter().map(ToString::to_string).collect();
    if !timed_out.is_empty() {
        reasons.push(format!("timed out: {}", timed_out.join(", ")));
    }
    let kind = if errors.iter().all(SourceError::is_timeout) {
        FailureKind::Timeout
    } else {
        FailureKind::Network
    };
    Failure { kind, message: format!("sources failed: {}", reasons.join("; ")) }
}

impl Discovery {
    /// A fresh context for one run outside [`Discovery::discover`] (for example a provider
    /// crate's own flow, such as autodiscover with the user's credentials): the same
    /// configuration, resolver and HTTP client, its own memo and trace. Never cached.
    pub fn context(&self) -> DiscoveryContext {
        self.context_at(Instant::now())
    }

    fn context_at(&self, started: Instant) -> DiscoveryContext {
        DiscoveryContext::with_network(self.config.clone(), self.network.clone(), started)
    }
}

#[cfg(test)]
mod tests;
