use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::model::{AuthHint, NylasProvider, ProviderInfo, Source};

/// A provider that answers with a fixed detection (or nothing, or an error) after a delay.
struct Fixed {
    id: &'static str,
    delay: Duration,
    answer: Result<Option<Source>, SourceError>,
}

#[async_trait]
impl Provider for Fixed {
    fn id(&self) -> &'static str {
        self.id
    }

    async fn detect(
        &self,
        _: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Option<Detection>, SourceError> {
        tokio::time::sleep(self.delay).await;
        ctx.timer(self.id, "x").finish(Outcome::Nothing, "looked");
        let source = self.answer.clone()?;
        Ok(source.map(|source| Detection {
            provider: ProviderInfo {
                id: self.id.into(),
                name: self.id.into(),
                nylas: NylasProvider::Imap,
            },
            incoming: vec![],
            outgoing: vec![],
            exchange: None,
            auth_hint: AuthHint::Password,
            source,
            trust: Trust::Verified,
            evidence: String::new(),
            notes: vec![],
        }))
    }
}

fn fixed(
    id: &'static str,
    ms: u64,
    answer: Result<Option<Source>, SourceError>,
) -> Box<dyn Provider> {
    Box::new(Fixed { id, delay: Duration::from_millis(ms), answer })
}

fn offline() -> DiscoveryConfig {
    DiscoveryConfig::builder().offline(true).build()
}

fn email() -> EmailAddress {
    EmailAddress::parse("a@example.com").unwrap()
}

#[tokio::test]
async fn ranks_answers_by_source_and_keeps_runners_up() {
    let discovery = Discovery::with_providers(
        offline(),
        vec![
            fixed("srv", 0, Ok(Some(Source::Srv))),
            fixed("mx", 0, Ok(Some(Source::Mx))),
            fixed("none", 0, Ok(None)),
        ],
    )
    .unwrap();
    let report = discovery.discover(&email()).await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Mx));
    assert_eq!(report.alternatives.iter().map(|d| d.source).collect::<Vec<_>>(), vec![Source::Srv]);
    assert!(report.failure.is_none());
    assert_eq!(report.trace.len(), 3);
}

#[tokio::test]
async fn stops_after_a_catalogue_answer() {
    let discovery = Discovery::with_providers(
        offline(),
        vec![
            fixed("catalogue", 0, Ok(Some(Source::Catalogue))),
            fixed("slow", 60_000, Ok(Some(Source::Srv))),
        ],
    )
    .unwrap();
    let report = discovery.discover(&email()).await;
    assert_eq!(report.best.as_ref().map(|d| d.provider.id.as_str()), Some("catalogue"));
    assert!(report.alternatives.is_empty());
    let last = report.trace.last().unwrap();
    assert_eq!((last.source.as_str(), last.outcome), ("slow", Outcome::Cancelled));
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_a_provider_that_never_answers() {
    let config =
        DiscoveryConfig::builder().offline(true).deadline(Duration::from_millis(200)).build();
    let discovery =
        Discovery::with_providers(config, vec![fixed("stuck", 3_600_000, Ok(Some(Source::Srv)))])
            .unwrap();
    let report = discovery.discover(&email()).await;
    assert!(report.best.is_none());
    assert_eq!(report.failure.as_ref().map(|f| f.kind), Some(FailureKind::Timeout));
    assert_eq!(report.trace[0].outcome, Outcome::Timeout);
    assert_eq!(report.trace[0].source, "stuck");
}

#[tokio::test]
async fn failures_are_network_errors_and_nothing_is_not_found() {
    let error =
        SourceError::Network { target: "mx.example".into(), reason: "connection refused".into() };
    let discovery =
        Discovery::with_providers(offline(), vec![fixed("broken", 0, Err(error))]).unwrap();
    let report = discovery.discover(&email()).await;
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, FailureKind::Network);
    assert!(failure.message.contains("connection refused"), "{}", failure.message);
    assert!(
        report
            .trace
            .iter()
            .any(|s| s.outcome == Outcome::Error && s.detail.contains("connection refused"))
    );

    let discovery =
        Discovery::with_providers(offline(), vec![fixed("empty", 0, Ok(None))]).unwrap();
    let report = discovery.discover(&email()).await;
    assert_eq!(report.failure.map(|f| f.kind), Some(FailureKind::NotFound));
}

#[tokio::test]
async fn the_same_answer_found_twice_the_same_way_is_kept_once() {
    let discovery = Discovery::with_providers(
        offline(),
        vec![
            fixed("twin", 0, Ok(Some(Source::Mx))),
            fixed("twin", 0, Ok(Some(Source::Mx))),
            fixed("twin", 0, Ok(Some(Source::Srv))),
        ],
    )
    .unwrap();
    let report = discovery.discover(&email()).await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Mx));
    assert_eq!(report.alternatives.iter().map(|d| d.source).collect::<Vec<_>>(), vec![Source::Srv]);
}
