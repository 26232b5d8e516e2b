//! The stable JSON shape of a discovery report, shared by `discover --json`, the batch mode and
//! the login server. Field names are a contract: fields may be added, none removed or renamed.
//! Every field and value is listed in `docs/discover-json.md` at the repository's root.
//!
//! `error.kind` is one of `invalid-email`, `not-found` (every source answered, none knew the
//! domain), `network` (sources failed, so the answer is unknown), `timeout` (the deadline
//! passed), `no-such-domain` (the domain's DNS answered NXDOMAIN), `null-mx` (the domain
//! publishes a null MX, RFC 7505: no mail) and `dns-timeout` (the domain's DNS did not answer).
//! A client that knows only the first four should treat `no-such-domain` and `null-mx` as
//! `not-found` and `dns-timeout` as `network`; new kinds may be added the same way.
//! `suggestion` is a likely correction of a mistyped address (`gmial.com` → `gmail.com`), or
//! `null`.
//!
//! The JSON view renders username templates for the report's address, so it is built per
//! address, never cached.

use std::time::Duration;

use serde::Serialize;

use crate::model::{
    AuthMethod, EmailAddress, ExchangeEndpoints, Failure, Outcome, Protocol, ProviderInfo, Report,
    RequiredStep, Security, Server, Source, Step, Trust,
};

impl Report {
    /// The JSON view of this report (`discover --json`), usernames rendered for its address.
    ///
    /// Field names are a stable contract: fields may be added, none removed or renamed; every
    /// field and value is listed in `docs/discover-json.md`. `error.kind` is one of
    /// `invalid-email`, `not-found` (every source answered, none knew the domain), `network`
    /// (sources failed, so the answer is unknown), `timeout` (the deadline passed),
    /// `no-such-domain` (NXDOMAIN), `null-mx` (RFC 7505: no mail) and `dns-timeout` (the
    /// domain's DNS did not answer). A client that knows only the first four should treat
    /// `no-such-domain` and `null-mx` as `not-found` and `dns-timeout` as `network`; new kinds
    /// may be added the same way.
    pub fn to_json(&self) -> impl Serialize + '_ {
        self.json()
    }

    /// The JSON view (same shape as [`Report::to_json`]) for input that is not a valid
    /// address: `detected: false` and the `invalid-email` error built with
    /// [`Failure::invalid_email`].
    pub fn invalid_email_json<'a>(input: &'a str, failure: &'a Failure) -> impl Serialize + 'a {
        JsonReport::invalid_email(input, failure)
    }

    fn json(&self) -> JsonReport<'_> {
        let best = self.best.as_ref();
        JsonReport {
            email: self.email.as_str(),
            domain: self.email.domain(),
            detected: best.is_some(),
            provider: best.map(|d| &d.provider),
            source: best.map(|d| d.source),
            trust: best.map(|d| d.trust),
            auth: best.map(|d| d.auth_hint.as_str()),
            requires: best.map(|d| d.requires.as_slice()).unwrap_or_default(),
            incoming: best.map(|d| render_servers(&d.incoming, &self.email)).unwrap_or_default(),
            outgoing: best.map(|d| render_servers(&d.outgoing, &self.email)).unwrap_or_default(),
            exchange: best.and_then(|d| d.exchange.as_ref()),
            notes: best.map(|d| d.notes.as_slice()).unwrap_or_default(),
            evidence: best.map(|d| d.evidence.as_str()),
            alternatives: self
                .alternatives
                .iter()
                .map(|d| JsonAlternative {
                    provider: &d.provider,
                    source: d.source,
                    trust: d.trust,
                    auth: d.auth_hint.as_str(),
                    requires: &d.requires,
                    incoming: render_servers(&d.incoming, &self.email),
                    outgoing: render_servers(&d.outgoing, &self.email),
                    exchange: d.exchange.as_ref(),
                    evidence: &d.evidence,
                })
                .collect(),
            trace: self.trace.iter().map(JsonStep::from).collect(),
            elapsed_ms: millis(self.elapsed),
            error: self.failure.as_ref(),
            suggestion: self.suggestion.as_ref().map(EmailAddress::as_str),
        }
    }
}

fn render_servers<'a>(servers: &'a [Server], email: &EmailAddress) -> Vec<JsonServer<'a>> {
    servers
        .iter()
        .map(|s| JsonServer {
            protocol: s.protocol,
            host: &s.host,
            port: s.port,
            security: s.security,
            username: s.username.render(email),
            auth: &s.auth,
        })
        .collect()
}

/// Milliseconds with microsecond resolution, so sub-millisecond steps do not all read 0.
fn millis(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

/// The JSON shape of a report (`discover --json`).
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    /// The normalised address (or the raw input when it was invalid).
    pub(crate) email: &'a str,
    /// The domain in ASCII (empty when the input was invalid).
    pub(crate) domain: &'a str,
    /// Whether a provider was found.
    pub(crate) detected: bool,
    /// Who hosts the mailbox.
    pub(crate) provider: Option<&'a ProviderInfo>,
    /// Where the answer came from.
    pub(crate) source: Option<Source>,
    /// Whether it can be used without asking.
    pub(crate) trust: Option<Trust>,
    /// What the login page must ask for.
    pub(crate) auth: Option<&'a str>,
    /// What the user must do at the provider first (`[]` when nothing).
    pub(crate) requires: &'a [RequiredStep],
    /// Incoming servers, usernames rendered.
    pub(crate) incoming: Vec<JsonServer<'a>>,
    /// Outgoing servers, usernames rendered.
    pub(crate) outgoing: Vec<JsonServer<'a>>,
    /// Exchange endpoints.
    pub(crate) exchange: Option<&'a ExchangeEndpoints>,
    /// Advice for the login page.
    pub(crate) notes: &'a [String],
    /// Why this answer.
    pub(crate) evidence: Option<&'a str>,
    /// Runners-up.
    pub(crate) alternatives: Vec<JsonAlternative<'a>>,
    /// Every step tried.
    pub(crate) trace: Vec<JsonStep<'a>>,
    /// Wall time in milliseconds.
    pub(crate) elapsed_ms: f64,
    /// Why nothing was found.
    pub(crate) error: Option<&'a Failure>,
    /// A likely correction of a mistyped address, when the domain cannot be the user's.
    pub(crate) suggestion: Option<&'a str>,
}

impl<'a> JsonReport<'a> {
    fn invalid_email(input: &'a str, failure: &'a Failure) -> Self {
        Self {
            email: input,
            domain: "",
            detected: false,
            provider: None,
            source: None,
            trust: None,
            auth: None,
            requires: &[],
            incoming: Vec::new(),
            outgoing: Vec::new(),
            exchange: None,
            notes: &[],
            evidence: None,
            alternatives: Vec::new(),
            trace: Vec::new(),
            elapsed_ms: 0.0,
            error: Some(failure),
            suggestion: None,
        }
    }
}

/// A server in JSON.
#[derive(Debug, Serialize)]
pub(crate) struct JsonServer<'a> {
    /// `imap`, `pop3` or `smtp`.
    pub(crate) protocol: Protocol,
    /// Host name.
    pub(crate) host: &'a str,
    /// Port.
    pub(crate) port: u16,
    /// `tls`, `starttls` or `plain`.
    pub(crate) security: Security,
    /// The username for this address.
    pub(crate) username: String,
    /// Login methods, preferred first.
    pub(crate) auth: &'a [AuthMethod],
}

/// A runner-up in JSON.
#[derive(Debug, Serialize)]
pub(crate) struct JsonAlternative<'a> {
    /// Who.
    pub(crate) provider: &'a ProviderInfo,
    /// Where from.
    pub(crate) source: Source,
    /// How trusted.
    pub(crate) trust: Trust,
    /// What the login page must ask for.
    pub(crate) auth: &'a str,
    /// What the user must do at the provider first (`[]` when nothing).
    pub(crate) requires: &'a [RequiredStep],
    /// Incoming servers.
    pub(crate) incoming: Vec<JsonServer<'a>>,
    /// Outgoing servers.
    pub(crate) outgoing: Vec<JsonServer<'a>>,
    /// Exchange endpoints.
    pub(crate) exchange: Option<&'a ExchangeEndpoints>,
    /// Why this answer.
    pub(crate) evidence: &'a str,
}

/// A trace step in JSON.
#[derive(Debug, Serialize)]
pub(crate) struct JsonStep<'a> {
    /// Source or provider.
    pub(crate) source: &'a str,
    /// What it looked at.
    pub(crate) target: &'a str,
    /// Duration in milliseconds.
    pub(crate) ms: f64,
    /// Start offset in milliseconds.
    pub(crate) start_ms: f64,
    /// How it ended.
    pub(crate) outcome: Outcome,
    /// Why.
    pub(crate) detail: &'a str,
}

impl<'a> From<&'a Step> for JsonStep<'a> {
    fn from(step: &'a Step) -> Self {
        Self {
            source: &step.source,
            target: &step.target,
            ms: millis(step.duration),
            start_ms: millis(step.start),
            outcome: step.outcome,
            detail: &step.detail,
        }
    }
}
