use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::config::DiscoveryConfigBuilder;
use crate::model::{NylasProvider, ProviderInfo, Source};

/// A provider that answers with a fixed detection (or nothing, or an error) after a delay,
/// and counts how often it was asked.
struct Fixed {
    id: &'static str,
    delay: Duration,
    best: Source,
    offline: Option<Source>,
    answer: Result<Option<Source>, SourceError>,
    calls: Arc<AtomicUsize>,
}

fn detection(id: &str, source: Source) -> Detection {
    Detection::new(ProviderInfo::new(id, id, NylasProvider::Imap), source, Trust::Verified, "")
}

#[async_trait]
impl Provider for Fixed {
    fn id(&self) -> &'static str {
        self.id
    }

    fn detect_offline(&self, _: &EmailAddress, _: &DiscoveryContext) -> Option<Detection> {
        self.offline.map(|source| detection(self.id, source))
    }

    fn best_possible_source(&self) -> Source {
        self.best
    }

    async fn detect(
        &self,
        _: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Vec<Detection>, SourceError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        ctx.timer(self.id, "x").finish(Outcome::Nothing, "looked");
        let source = self.answer.clone()?;
        Ok(source.map(|source| detection(self.id, source)).into_iter().collect())
    }
}

fn fixed(
    id: &'static str,
    ms: u64,
    best: Source,
    answer: Result<Option<Source>, SourceError>,
) -> Box<Fixed> {
    Box::new(Fixed {
        id,
        delay: Duration::from_millis(ms),
        best,
        offline: None,
        answer,
        calls: Arc::new(AtomicUsize::new(0)),
    })
}

/// An online configuration (offline, the engine starts no provider's network phase) with a
/// resolver that these fixed providers never ask.
fn online() -> DiscoveryConfigBuilder {
    DiscoveryConfig::builder().nameservers([std::net::SocketAddr::from(([127, 0, 0, 1], 9))])
}

#[allow(clippy::vec_box)] // the boxes become `Box<dyn Provider>`
fn discovery(providers: Vec<Box<Fixed>>) -> Discovery {
    let config = online().cache_ttl(None, None).build();
    Discovery::with_providers(
        config,
        providers.into_iter().map(|p| p as Box<dyn Provider>).collect(),
    )
    .unwrap()
}

fn email() -> EmailAddress {
    EmailAddress::parse("a@example.com").unwrap()
}

#[tokio::test(start_paused = true)]
async fn ranks_answers_by_source_and_keeps_runners_up() {
    let autoconfig = Source::Autoconfig(crate::model::AutoconfigOrigin::Subdomain);
    let discovery = discovery(vec![
        fixed("srv", 0, Source::Srv, Ok(Some(Source::Srv))),
        fixed("autoconfig", 5, autoconfig, Ok(Some(autoconfig))),
        fixed("none", 0, autoconfig, Ok(None)),
    ]);
    let report = discovery.discover(&email()).await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(autoconfig));
    assert_eq!(report.alternatives.iter().map(|d| d.source).collect::<Vec<_>>(), vec![Source::Srv]);
    assert!(report.failure.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_slow_lower_priority_source_is_cancelled_once_a_better_answer_exists() {
    let slow = fixed("slow-srv", 10_000, Source::Srv, Ok(Some(Source::Srv)));
    let discovery = discovery(vec![fixed("mx", 30, Source::Mx, Ok(Some(Source::Mx))), slow]);
    let started = tokio::time::Instant::now();
    let report = discovery.discover(&email()).await;
    assert_eq!(started.elapsed(), Duration::from_millis(30), "the slow source was not awaited");
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Mx));
    let cancelled = report.trace.iter().find(|s| s.source == "slow-srv").unwrap();
    assert_eq!(cancelled.outcome, Outcome::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn a_slower_higher_priority_source_is_awaited() {
    let discovery = discovery(vec![
        fixed(
            "autoconfig",
            80,
            Source::Autoconfig(crate::AutoconfigOrigin::Subdomain),
            Ok(Some(Source::Autoconfig(crate::AutoconfigOrigin::Subdomain))),
        ),
        fixed("srv", 5, Source::Srv, Ok(Some(Source::Srv))),
    ]);
    let started = tokio::time::Instant::now();
    let report = discovery.discover(&email()).await;
    // This test's DNS never answers, so without the MX verdict both start after the 10 ms
    // head start; autoconfig then takes 80 ms and is awaited.
    assert_eq!(started.elapsed(), Duration::from_millis(90));
    assert_eq!(report.best.as_ref().map(|d| d.provider.id.as_str()), Some("autoconfig"));
    assert_eq!(report.alternatives.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_catalogue_answer_needs_no_network_phase() {
    let mut catalogue = fixed("catalogue", 0, Source::Mx, Ok(None));
    catalogue.offline = Some(Source::Catalogue);
    let network = fixed("network", 0, Source::Mx, Ok(Some(Source::Mx)));
    let calls = [catalogue.calls.clone(), network.calls.clone()];
    let report = discovery(vec![catalogue, network]).discover(&email()).await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Catalogue));
    assert_eq!(
        calls.iter().map(|c| c.load(Ordering::SeqCst)).sum::<usize>(),
        0,
        "no provider's network phase ran"
    );
    assert!(report.trace.iter().all(|s| s.outcome == Outcome::Skipped));
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_a_provider_that_never_answers_and_names_it() {
    let config = online().cache_ttl(None, None).deadline(Duration::from_millis(200)).build();
    let stuck: Box<dyn Provider> = fixed("stuck", 3_600_000, Source::Srv, Ok(Some(Source::Srv)));
    let discovery = Discovery::with_providers(config, vec![stuck]).unwrap();
    let started = tokio::time::Instant::now();
    let report = discovery.discover(&email()).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_millis(250),
        "{elapsed:?}"
    );
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, FailureKind::Timeout);
    assert!(failure.message.contains("stuck"), "{}", failure.message);
    assert_eq!(
        (report.trace[0].source.as_str(), report.trace[0].outcome),
        ("stuck", Outcome::Timeout)
    );
}

#[tokio::test(start_paused = true)]
async fn failures_are_network_errors_and_nothing_is_not_found() {
    let error =
        SourceError::Status { url: "https://mx.example/connection-refused".into(), status: 502 };
    let report =
        discovery(vec![fixed("broken", 0, Source::Mx, Err(error))]).discover(&email()).await;
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, FailureKind::Network);
    assert!(failure.message.contains("connection-refused: HTTP 502"), "{}", failure.message);
    assert!(
        report.trace.iter().any(|s| s.outcome == Outcome::Error && s.detail.contains("HTTP 502"))
    );

    let report = discovery(vec![fixed("empty", 0, Source::Mx, Ok(None))]).discover(&email()).await;
    assert_eq!(report.failure.map(|f| f.kind), Some(FailureKind::NotFound));
}

#[tokio::test(start_paused = true)]
async fn the_same_answer_found_twice_the_same_way_is_kept_once() {
    let report = discovery(vec![
        fixed("twin", 0, Source::Mx, Ok(Some(Source::Mx))),
        fixed("twin", 0, Source::Mx, Ok(Some(Source::Mx))),
        fixed("twin", 0, Source::Srv, Ok(Some(Source::Srv))),
    ])
    .discover(&email())
    .await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Mx));
    assert!(report.alternatives.iter().all(|d| d.source != Source::Mx));
}

#[tokio::test(start_paused = true)]
async fn the_cache_answers_a_domain_once_even_for_concurrent_callers() {
    let provider = fixed("mx", 50, Source::Mx, Ok(Some(Source::Mx)));
    let calls = provider.calls.clone();
    let config = online().build();
    let discovery = Discovery::with_providers(config, vec![provider as Box<dyn Provider>]).unwrap();
    let a = EmailAddress::parse("a@example.com").unwrap();
    let b = EmailAddress::parse("b@EXAMPLE.com").unwrap();
    let (first, second) = tokio::join!(discovery.discover(&a), discovery.discover(&b));
    let third = discovery.discover(&a).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one run for three discoveries");
    for report in [&first, &second, &third] {
        assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Mx));
    }
    assert_eq!(second.email.as_str(), "b@example.com");
    assert_eq!(third.trace.len(), 1);
    assert_eq!(third.trace[0].source, "cache");
}

#[tokio::test]
async fn expired_cache_entries_are_looked_up_again() {
    let provider = fixed("mx", 0, Source::Mx, Ok(Some(Source::Mx)));
    let calls = provider.calls.clone();
    let config = online().cache_ttl(Some(Duration::from_millis(30)), None).build();
    let discovery = Discovery::with_providers(config, vec![provider as Box<dyn Provider>]).unwrap();
    discovery.discover(&email()).await;
    discovery.discover(&email()).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    std::thread::sleep(Duration::from_millis(40));
    discovery.discover(&email()).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn failures_are_not_cached() {
    let error = SourceError::Timeout { target: "x".into() };
    let provider = fixed("flaky", 0, Source::Mx, Err(error));
    let calls = provider.calls.clone();
    let discovery =
        Discovery::with_providers(online().build(), vec![provider as Box<dyn Provider>]).unwrap();
    discovery.discover(&email()).await;
    discovery.discover(&email()).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn offline_no_network_phase_runs_and_only_offline_answers_count() {
    let mut with_offline_answer = fixed("listed", 0, Source::Mx, Ok(Some(Source::Mx)));
    with_offline_answer.offline = Some(Source::Srv);
    let network_only = fixed("network", 0, Source::Mx, Ok(Some(Source::Mx)));
    let calls = [with_offline_answer.calls.clone(), network_only.calls.clone()];
    let providers: Vec<Box<dyn Provider>> = vec![with_offline_answer, network_only];
    let config = DiscoveryConfig::builder().offline(true).cache_ttl(None, None).build();
    let report = Discovery::with_providers(config, providers).unwrap().discover(&email()).await;
    assert_eq!(calls.iter().map(|c| c.load(Ordering::SeqCst)).sum::<usize>(), 0);
    assert_eq!(
        report.best.map(|d| (d.provider.id, d.source)),
        Some(("listed".into(), Source::Srv))
    );
    assert!(report.trace.is_empty(), "no steps for work never started: {:?}", report.trace);
}

#[tokio::test(start_paused = true)]
async fn lower_ranked_providers_wait_for_a_fast_mx_answer_and_then_never_start() {
    let mx = fixed("mx", 2, Source::Mx, Ok(Some(Source::Mx)));
    let srv = fixed("srv", 0, Source::Srv, Ok(Some(Source::Srv)));
    let calls = srv.calls.clone();
    let report = discovery(vec![mx, srv]).discover(&email()).await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Mx));
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the MX answer came within the head start");
    assert!(report.trace.iter().any(|s| s.source == "srv" && s.outcome == Outcome::Skipped));
}

#[tokio::test(start_paused = true)]
async fn lower_ranked_providers_start_after_the_head_start_when_mx_is_slow() {
    let mx = fixed("mx", 500, Source::Mx, Ok(None));
    let srv = fixed("srv", 0, Source::Srv, Ok(Some(Source::Srv)));
    let calls = srv.calls.clone();
    let started = tokio::time::Instant::now();
    let report = discovery(vec![mx, srv]).discover(&email()).await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Srv));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(started.elapsed(), Duration::from_millis(500), "then waited for the better MX");
}

/// A provider that knows `listed.example` offline (as a catalogue does), answers every other
/// domain from the network after `delay` — personally to the address when `personal` — and
/// counts its runs per domain.
struct Counting {
    delay: Duration,
    personal: bool,
    runs: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

impl Counting {
    fn new(delay_ms: u64) -> Self {
        Self { delay: Duration::from_millis(delay_ms), personal: false, runs: Arc::default() }
    }

    fn runs(&self) -> Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>> {
        self.runs.clone()
    }

    fn count(&self, domain: &str) {
        *self.runs.lock().unwrap().entry(domain.to_owned()).or_default() += 1;
    }
}

#[async_trait]
impl Provider for Counting {
    fn id(&self) -> &'static str {
        "counting"
    }

    fn detect_offline(&self, email: &EmailAddress, ctx: &DiscoveryContext) -> Option<Detection> {
        if ctx.is_offline() {
            // Offline runs are what the flood below is made of: count them here.
            self.count(email.domain());
            return email.domain().starts_with("hot").then(|| detection("counting", Source::Mx));
        }
        (email.domain() == "listed.example").then(|| detection("counting", Source::Catalogue))
    }

    fn best_possible_source(&self) -> Source {
        Source::Mx
    }

    async fn detect(
        &self,
        email: &EmailAddress,
        _: &DiscoveryContext,
    ) -> Result<Vec<Detection>, SourceError> {
        self.count(email.domain());
        tokio::time::sleep(self.delay).await;
        let mut found = detection("counting", Source::Mx);
        if self.personal {
            found.exchange = Some(crate::model::ExchangeEndpoints {
                ews_url: None,
                eas_host: None,
                login: Some(format!("CORP\\{}", email.local_part())),
            });
        }
        Ok(vec![found])
    }
}

#[tokio::test]
async fn a_hot_domain_survives_a_flood_of_one_off_domains_and_the_bound_holds() {
    let provider = Counting::new(0);
    let runs = provider.runs();
    let capacity = 64 * 1024;
    let config = DiscoveryConfig::builder().offline(true).cache_capacity(capacity).build();
    let discovery = Discovery::with_providers(config, vec![Box::new(provider)]).unwrap();
    let hot = EmailAddress::parse("a@hot.example").unwrap();
    for _ in 0..20 {
        discovery.discover(&hot).await;
    }
    for i in 0..20_000 {
        let one_off = EmailAddress::parse(&format!("a@flood-{i}.example")).unwrap();
        discovery.discover(&one_off).await;
        if i % 100 == 0 {
            discovery.discover(&hot).await;
        }
    }
    let report = discovery.discover(&hot).await;
    assert_eq!(report.trace[0].source, "cache", "{:?}", report.trace);
    assert_eq!(runs.lock().unwrap()["hot.example"], 1, "the hot domain was never evicted");
    assert_eq!(runs.lock().unwrap().len(), 20_001, "every one-off domain ran once");
    let (entries, bytes) = discovery.cache.size();
    assert!(bytes <= capacity, "{bytes} bytes cached, bound {capacity}");
    assert!(entries > 10 && entries < 2_000, "{entries} entries under a 64 KiB bound");
}

#[tokio::test(start_paused = true)]
async fn fifty_concurrent_callers_of_one_cold_domain_share_one_run() {
    let provider = Counting::new(50);
    let runs = provider.runs();
    let discovery = Discovery::with_providers(online().build(), vec![Box::new(provider)]).unwrap();
    let callers = (0..50).map(|i| {
        let email = EmailAddress::parse(&format!("user{i}@cold.example")).unwrap();
        let discovery = &discovery;
        async move { discovery.discover(&email).await }
    });
    let reports = futures_util::future::join_all(callers).await;
    assert_eq!(runs.lock().unwrap()["cold.example"], 1);
    assert!(reports.iter().all(|r| r.best.as_ref().map(|d| d.source) == Some(Source::Mx)));
}

#[tokio::test(start_paused = true)]
async fn answers_personal_to_one_user_are_never_given_to_another() {
    let mut provider = Counting::new(0);
    provider.personal = true;
    let runs = provider.runs();
    let discovery = Discovery::with_providers(online().build(), vec![Box::new(provider)]).unwrap();
    let login = |report: &Report| {
        report.best.as_ref().and_then(|d| d.exchange.as_ref()).and_then(|e| e.login.clone())
    };
    let alice = EmailAddress::parse("alice@corp.example").unwrap();
    let bob = EmailAddress::parse("bob@corp.example").unwrap();
    assert_eq!(login(&discovery.discover(&alice).await).as_deref(), Some("CORP\\alice"));
    assert_eq!(login(&discovery.discover(&bob).await).as_deref(), Some("CORP\\bob"));
    let again = discovery.discover(&alice).await;
    assert_eq!(login(&again).as_deref(), Some("CORP\\alice"));
    assert_eq!(again.trace[0].source, "cache", "Alice's own answer is cached for her");
    assert_eq!(login(&discovery.discover(&bob).await).as_deref(), Some("CORP\\bob"));
    assert_eq!(runs.lock().unwrap()["corp.example"], 2, "one run per user");
}

#[tokio::test(start_paused = true)]
async fn past_the_network_limit_discoveries_are_busy_at_once_but_catalogue_answers_are_not() {
    let provider = Counting::new(1_000);
    let runs = provider.runs();
    let config = online().max_network_discoveries(Some(1)).build();
    let discovery = Discovery::with_providers(config, vec![Box::new(provider)]).unwrap();
    let first = EmailAddress::parse("a@first.example").unwrap();
    let same_domain = EmailAddress::parse("b@first.example").unwrap();
    let other = EmailAddress::parse("a@other.example").unwrap();
    let listed = EmailAddress::parse("a@listed.example").unwrap();

    let started = tokio::time::Instant::now();
    let (running, waiting, refused, catalogue) = tokio::join!(
        discovery.discover(&first),
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            discovery.discover(&same_domain).await
        },
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let report = discovery.discover(&other).await;
            (report, started.elapsed())
        },
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            discovery.discover(&listed).await
        },
    );
    assert!(running.is_detected() && waiting.is_detected(), "a waiter joins the run under way");
    let (refused, at) = refused;
    assert_eq!(refused.failure.as_ref().map(|f| f.kind), Some(FailureKind::Busy));
    assert_eq!(at, Duration::from_millis(100), "refused at once, not queued");
    assert!(catalogue.is_detected(), "a catalogue answer never waits for the network");
    assert_eq!(runs.lock().unwrap().get("other.example"), None, "nothing was asked");

    // Busy is not cached: once the network is free, the domain is asked.
    let report = discovery.discover(&other).await;
    assert!(report.is_detected());
    assert_eq!(runs.lock().unwrap()["other.example"], 1);
}

#[tokio::test(start_paused = true)]
async fn once_a_domains_answers_are_known_to_be_personal_other_users_do_not_wait() {
    let mut provider = Counting::new(1_000);
    provider.personal = true;
    let runs = provider.runs();
    let discovery = Discovery::with_providers(online().build(), vec![Box::new(provider)]).unwrap();
    let alice = EmailAddress::parse("alice@corp.example").unwrap();
    discovery.discover(&alice).await;
    // Bob and Carol at once: each asks for themselves, side by side, not one after the other.
    let started = tokio::time::Instant::now();
    let bob = EmailAddress::parse("bob@corp.example").unwrap();
    let carol = EmailAddress::parse("carol@corp.example").unwrap();
    let (b, c) = tokio::join!(discovery.discover(&bob), discovery.discover(&carol));
    assert!(b.is_detected() && c.is_detected());
    assert_eq!(started.elapsed(), Duration::from_millis(1_000), "in parallel, not in turn");
    assert_eq!(runs.lock().unwrap()["corp.example"], 3);
}

#[tokio::test]
async fn only_a_discovery_that_would_ask_the_network_needs_it() {
    let provider = Counting::new(0);
    let config = online().cache_ttl(Some(Duration::from_secs(60)), None).build();
    let discovery = Discovery::with_providers(config, vec![Box::new(provider)]).unwrap();
    let listed = EmailAddress::parse("a@listed.example").unwrap();
    let unknown = EmailAddress::parse("a@unknown.example").unwrap();
    assert!(!discovery.needs_network(&listed), "the catalogue answers it");
    assert!(discovery.needs_network(&unknown));
    assert!(discovery.discover(&unknown).await.is_detected());
    assert!(!discovery.needs_network(&unknown), "now the cache answers it");
    let other_user = EmailAddress::parse("b@unknown.example").unwrap();
    assert!(!discovery.needs_network(&other_user), "the domain's answer serves every user");

    let offline = Discovery::with_providers(
        DiscoveryConfig::builder().offline(true).build(),
        vec![Box::new(Counting::new(0))],
    )
    .unwrap();
    assert!(!offline.needs_network(&unknown), "offline, nothing asks the network");
}
