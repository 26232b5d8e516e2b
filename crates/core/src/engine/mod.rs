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
//! Results are cached per domain (see [`DiscoveryConfigBuilder::cache_ttl`](crate::DiscoveryConfigBuilder::cache_ttl)
//! and [`cache_capacity`](crate::DiscoveryConfigBuilder::cache_capacity)), so a busy login
//! server asks the network about each domain once. At most
//! [`max_network_discoveries`](crate::DiscoveryConfigBuilder::max_network_discoveries) runs use
//! the network at once; past that, a run is refused at once as busy.

mod cache;
mod shared;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use self::cache::{Cache, CachedRun};
use self::shared::SharedTurn;
use crate::config::DiscoveryConfig;
use crate::model::{
    Detection, EmailAddress, Failure, FailureKind, Outcome, Report, Source, Step, Trust,
};
use crate::net::context::DiscoveryContext;
use crate::net::dns::MxAnswer;
use crate::net::error::SetupError;
use crate::net::error::SourceError;
use crate::net::network::Network;
use crate::provider::{Provider, registry};

/// Finds who hosts a mailbox. Build one per application and share it (it is `Send + Sync`;
/// wrap it in an `Arc` for tasks): it holds the providers, the resolver, the HTTP client and
/// the per-domain cache, so sharing it is what lets concurrent logins for one domain cause one
/// set of lookups.
///
/// Through the `nativeauth` facade, which links the provider crates (with `nativeauth-core`
/// alone, [`Discovery::new`] refuses: no provider is registered):
///
/// ```
/// # use nativeauth_core as nativeauth;
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use nativeauth::{Discovery, DiscoveryConfig, EmailAddress};
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
    /// One permit per discovery using the network at once (`None`: no limit).
    network_slots: Option<Arc<tokio::sync::Semaphore>>,
    /// Shared-cache calls that failed or timed out.
    shared_errors: std::sync::atomic::AtomicU64,
    /// Shared values refused, per [`shared::wire::Rejected`] reason (in `Rejected::ALL`'s order).
    shared_rejected: [std::sync::atomic::AtomicU64; 4],
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
    /// Providers register themselves when their crates are linked: use this through the
    /// `nativeauth` facade (`nativeauth::Discovery::new`). A program that depends on
    /// `nativeauth-core` alone has no provider and gets [`SetupError::NoProviders`].
    ///
    /// # Errors
    /// [`SetupError::NoProviders`] when no provider is registered; otherwise when the system
    /// DNS configuration is unusable or TLS cannot be set up.
    pub fn new(config: DiscoveryConfig) -> Result<Self, SetupError> {
        let providers = registry();
        if providers.is_empty() {
            return Err(SetupError::NoProviders);
        }
        Self::with_providers(config, providers)
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
        let cache = Cache::new(config.cache_ttl, config.negative_cache_ttl, config.cache_capacity);
        let network_slots = config
            .max_network_discoveries
            .map(|limit| Arc::new(tokio::sync::Semaphore::new(limit)));
        Ok(Self {
            config: Arc::new(config),
            network,
            providers,
            cache,
            network_slots,
            shared_errors: std::sync::atomic::AtomicU64::new(0),
            shared_rejected: Default::default(),
        })
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
        let suggestion = run.suggested_domain.as_ref().and_then(|domain| {
            EmailAddress::parse(&format!("{}@{domain}", email.local_part())).ok()
        });
        Report {
            email: email.clone(),
            best: detections.next(),
            alternatives: detections.collect(),
            trace,
            elapsed: started.elapsed(),
            failure: run.failure.clone(),
            suggestion,
        }
    }

    /// Whether discovering `email` now would ask the network: discovery is not offline, no
    /// fresh answer in this instance's cache serves the address, and no provider answers it
    /// offline with what no network source could beat (a catalogue entry). A server charges
    /// only such detections to a client's budget. (A fleet's shared cache is not asked: that
    /// would itself be a network call.)
    pub fn needs_network(&self, email: &EmailAddress) -> bool {
        if self.config.offline || self.cache.holds(email.domain(), email.as_str()) {
            return false;
        }
        let ctx = self.context();
        !self.providers.iter().filter_map(|p| p.detect_offline(email, &ctx)).any(|d| unbeatable(&d))
    }

    /// One uncached run: its result, and its trace.
    async fn run(&self, email: &EmailAddress) -> (CachedRun, Vec<Step>) {
        let started = Instant::now();
        let deadline = tokio::time::Instant::from_std(started) + self.config.deadline;
        let ctx = self.context_at(started);
        let mut state = RunState::default();

        // Providers that answered here already have their step in the trace.
        let mut answered_offline = HashSet::new();
        for provider in &self.providers {
            if let Some(detection) = provider.detect_offline(email, &ctx) {
                answered_offline.insert(provider.id());
                state.detections.push(detection);
            }
        }
        let unbeatable = state.detections.iter().any(unbeatable);
        let mut verdict = None;
        // Set when this run asks the network with a shared cache: its answer is published.
        let mut shared_turn: Option<SharedTurn> = None;
        if ctx.is_offline() {
            // Nothing to start: offline, only the answers above count.
        } else if unbeatable {
            for provider in self.providers.iter().filter(|p| !answered_offline.contains(p.id())) {
                ctx.timer(provider.id(), email.domain())
                    .finish(Outcome::Skipped, "not needed: the catalogue answered");
            }
        } else if let Some(answer) =
            self.shared_answer(email.domain(), &ctx, deadline, &mut shared_turn).await
        {
            return (answer, ctx.into_trace());
        } else if let Some(_permit) = self.network_slot() {
            verdict = self.network_phase(email, &ctx, deadline, &mut state).await;
        } else {
            // Refused at once rather than queued: an answer in hand that the network could
            // still beat is not given (nor cached) as if it were the best one.
            ctx.timer("engine", email.domain()).finish(
                Outcome::Skipped,
                "busy: the limit of discoveries using the network at once is reached",
            );
            state.detections.clear();
            verdict = Some(Verdict::Busy);
        }

        let RunState { mut detections, errors, timed_out, dns_timed_out } = state;
        // An answer that stands only because better sources failed is not shared.
        let complete = errors.is_empty() && timed_out.is_empty();
        if dns_timed_out && verdict.is_none() && errors.iter().all(SourceError::is_timeout) {
            verdict = Some(Verdict::DnsTimeout);
        }
        // Stable sort: ties keep provider order. Two providers may find the same answer the
        // same way (a plugin's MX knowledge may repeat a user catalogue's).
        detections.sort_by_key(Detection::rank_key);
        let mut seen = HashSet::new();
        detections.retain(|d| seen.insert((d.provider.id.clone(), d.source)));
        let failure = if detections.is_empty() {
            Some(verdict.map_or_else(
                || failure(&timed_out, &errors, self.config.offline),
                |v| v.failure(email.domain()),
            ))
        } else {
            None
        };
        // A correction is offered only when the domain cannot be the user's: it does not
        // exist, accepts no mail, or (offline) nothing knows it.
        let suggested_domain = match failure.as_ref().map(|f| f.kind) {
            Some(FailureKind::NoSuchDomain | FailureKind::NullMx) => self.suggest(email, &ctx),
            Some(FailureKind::NotFound) if ctx.is_offline() => self.suggest(email, &ctx),
            _ => None,
        };
        let owner =
            detections.iter().any(|d| d.is_personal_to(email)).then(|| email.as_str().to_owned());
        let run = CachedRun { detections, failure, suggested_domain, at: Instant::now(), owner };
        if let Some(turn) = shared_turn {
            self.publish(email.domain(), &run, complete, turn).await;
        }
        (run, ctx.into_trace())
    }

    /// A permit to use the network, or `None` when `max_network_discoveries` are under way.
    fn network_slot(&self) -> Option<Option<tokio::sync::OwnedSemaphorePermit>> {
        match &self.network_slots {
            None => Some(None),
            Some(slots) => slots.clone().try_acquire_owned().ok().map(Some),
        }
    }

    /// The first provider's suggestion for a mistyped domain.
    fn suggest(&self, email: &EmailAddress, ctx: &DiscoveryContext) -> Option<String> {
        self.providers.iter().find_map(|p| p.suggest_domain(email.domain(), ctx))
    }

    /// The network phase: providers that could beat the answer in hand run at once, those that
    /// rank below the MX pattern after a short head start (an MX answer decides most domains,
    /// so they usually never start); the domain's own MX answer ends the run at once when the
    /// domain does not exist, accepts no mail, or its DNS does not answer.
    async fn network_phase(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
        deadline: tokio::time::Instant,
        state: &mut RunState,
    ) -> Option<Verdict> {
        let domain = email.domain();
        let mut running = FuturesUnordered::new();
        let mut pending: HashSet<usize> = HashSet::new();
        let mut waiting: Vec<usize> = Vec::new();
        let start = |index: usize, running: &mut FuturesUnordered<_>| {
            let provider = &self.providers[index];
            running.push(async move { (index, provider.detect(email, ctx).await) });
        };
        for (index, provider) in self.providers.iter().enumerate() {
            if !could_beat(provider.as_ref(), &state.detections) {
                ctx.timer(provider.id(), domain).finish(
                    Outcome::Skipped,
                    &format!("cannot beat the {} answer in hand", best_source(&state.detections)),
                );
            } else if provider.best_possible_source().rank() <= Source::Mx.rank() {
                pending.insert(index);
                start(index, &mut running);
            } else {
                waiting.push(index);
            }
        }
        let mut domain_check = std::pin::pin!(ctx.mx_answer(domain));
        let mut checking = true;
        let head_start = tokio::time::sleep(self.config.head_start);
        let mut head_start = std::pin::pin!(head_start);
        let mut head_start_over = false;
        loop {
            // The lower-ranked providers wait for the domain's MX verdict too: a domain that
            // cannot have mail must not see their requests.
            let early_done = !checking
                && pending
                    .iter()
                    .all(|&i| self.providers[i].best_possible_source().rank() > Source::Mx.rank());
            if !waiting.is_empty() && (head_start_over || early_done) {
                for index in std::mem::take(&mut waiting) {
                    let provider = &self.providers[index];
                    if could_beat(provider.as_ref(), &state.detections) {
                        pending.insert(index);
                        start(index, &mut running);
                    } else {
                        ctx.timer(provider.id(), domain).finish(
                            Outcome::Skipped,
                            &format!(
                                "not started: cannot beat the {} answer in hand",
                                best_source(&state.detections)
                            ),
                        );
                    }
                }
            }
            if pending.is_empty() && waiting.is_empty() {
                return None;
            }
            let beatable = pending
                .iter()
                .chain(&waiting)
                .any(|&i| could_beat(self.providers[i].as_ref(), &state.detections));
            if !beatable {
                let reason = format!(
                    "cancelled: cannot beat the {} answer in hand",
                    best_source(&state.detections)
                );
                self.stop(ctx, domain, &pending, &waiting, Outcome::Cancelled, &reason);
                return None;
            }
            tokio::select! {
                biased;
                // The verdict first: when it and a result are both ready, it decides.
                answer = &mut domain_check, if checking => {
                    checking = false;
                    if let Some(verdict) = self.judge(ctx, domain, answer, state, &pending, &waiting) {
                        return Some(verdict);
                    }
                }
                Some((index, result)) = running.next(), if !pending.is_empty() => {
                    pending.remove(&index);
                    match result {
                        Ok(found) => state.detections.extend(found),
                        Err(error) => {
                            tracing::debug!(provider = self.providers[index].id(), %error, "provider failed");
                            ctx.timer(self.providers[index].id(), domain).fail(&error);
                            state.errors.push(error);
                        }
                    }
                }
                () = &mut head_start, if !head_start_over && !waiting.is_empty() => {
                    head_start_over = true;
                }
                () = tokio::time::sleep_until(deadline) => {
                    for &i in pending.iter().chain(&waiting) {
                        state.timed_out.push(self.providers[i].id());
                    }
                    self.stop(ctx, domain, &pending, &waiting, Outcome::Timeout, "the discovery deadline passed");
                    return None;
                }
            }
        }
    }

    /// What the domain's MX answer says about the run: it ends at once when the domain does
    /// not exist, accepts no mail, or its DNS is silent (unless its servers answered other
    /// questions: then the providers' own lookups, bounded too, decide).
    fn judge(
        &self,
        ctx: &DiscoveryContext,
        domain: &str,
        answer: Result<MxAnswer, SourceError>,
        state: &mut RunState,
        pending: &HashSet<usize>,
        waiting: &[usize],
    ) -> Option<Verdict> {
        let verdict = match answer {
            Ok(answer) if answer.no_such_domain => Verdict::NoSuchDomain,
            Ok(answer) if answer.is_null_mx() => Verdict::NullMx,
            Err(error) if error.is_timeout() && !ctx.domain_answered(domain) => Verdict::DnsTimeout,
            Err(error) if error.is_timeout() => {
                state.dns_timed_out = true;
                return None;
            }
            _ => return None,
        };
        let outcome =
            if verdict == Verdict::DnsTimeout { Outcome::Timeout } else { Outcome::Cancelled };
        self.stop(ctx, domain, pending, waiting, outcome, verdict.reason());
        Some(verdict)
    }

    /// Records why the providers still pending or waiting end here.
    fn stop(
        &self,
        ctx: &DiscoveryContext,
        domain: &str,
        pending: &HashSet<usize>,
        waiting: &[usize],
        outcome: Outcome,
        reason: &str,
    ) {
        for &i in pending {
            ctx.timer(self.providers[i].id(), domain).finish(outcome, reason);
        }
        for &i in waiting {
            let not_started = if outcome == Outcome::Timeout { outcome } else { Outcome::Skipped };
            ctx.timer(self.providers[i].id(), domain).finish(not_started, reason);
        }
    }
}

/// What a run has found so far.
#[derive(Default)]
struct RunState {
    detections: Vec<Detection>,
    errors: Vec<SourceError>,
    timed_out: Vec<&'static str>,
    /// The domain's MX query timed out, though other questions about it were answered.
    dns_timed_out: bool,
}

/// How the domain's own DNS ended a run early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    NoSuchDomain,
    NullMx,
    DnsTimeout,
    /// Not the domain's DNS: the network limit refused the run before it asked anything.
    Busy,
}

impl Verdict {
    fn reason(self) -> &'static str {
        match self {
            Self::NoSuchDomain => "cancelled: the domain does not exist",
            Self::NullMx => "cancelled: the domain accepts no mail (null MX)",
            Self::DnsTimeout => "the domain's DNS does not answer",
            Self::Busy => "busy: too many discoveries are using the network",
        }
    }

    fn failure(self, domain: &str) -> Failure {
        match self {
            Self::NoSuchDomain => Failure {
                kind: FailureKind::NoSuchDomain,
                message: format!("{domain} does not exist (its DNS answered NXDOMAIN)"),
            },
            Self::NullMx => Failure {
                kind: FailureKind::NullMx,
                message: format!("{domain} accepts no mail (it publishes a null MX, RFC 7505)"),
            },
            Self::DnsTimeout => Failure {
                kind: FailureKind::DnsTimeout,
                message: format!("the DNS servers of {domain} did not answer in time"),
            },
            Self::Busy => Failure {
                kind: FailureKind::Busy,
                message: "busy: too many discoveries are using the network; try again shortly"
                    .into(),
            },
        }
    }
}

/// An answer no network source can beat: a verified catalogue entry.
fn unbeatable(detection: &Detection) -> bool {
    detection.rank_key() == (Source::Catalogue.rank(), Trust::Verified)
}

/// Whether a provider's best possible answer would rank above every answer in hand.
fn could_beat(provider: &dyn Provider, detections: &[Detection]) -> bool {
    let best = detections.iter().map(Detection::rank_key).min();
    best.is_none_or(|best| (provider.best_possible_source().rank(), Trust::Verified) < best)
}

fn best_source(detections: &[Detection]) -> &'static str {
    detections.iter().min_by_key(|d| d.rank_key()).map_or("", |d| d.source.as_str())
}

fn failure(timed_out: &[&str], errors: &[SourceError], offline: bool) -> Failure {
    if !timed_out.is_empty() && errors.is_empty() {
        return Failure {
            kind: FailureKind::Timeout,
            message: format!("the deadline passed; still running: {}", timed_out.join(", ")),
        };
    }
    if errors.is_empty() {
        // Offline, only the catalogue was asked: say so, since the domain may well have mail.
        let message = if offline {
            "nothing found: the catalogue does not know this domain, and offline nothing else \
             was asked (no DNS, no server of the domain)"
        } else {
            "nothing found: no source knows this domain"
        };
        return Failure { kind: FailureKind::NotFound, message: message.into() };
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
