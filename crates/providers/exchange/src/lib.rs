//! The `exchange` provider: Exchange found by POX autodiscover (Nylas `exchange`, with the EWS
//! URL and the ActiveSync host), and autodiscover with the user's credentials for the login
//! flow.
//!
//! Discovery sends no credentials: an endpoint of the user's own domain that answers 401 is
//! evidence that Exchange lives there, reported as such; the full settings come from
//! [`autodiscover_with_credentials`] once the user has typed a password.
//!
//! The protocol lives here end to end: [`parse_pox`] is the pure parser, [`run_autodiscover`]
//! the chain (candidates in order, redirects, the SRV step, credential rules).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod chain;
mod pox;

use nativeauth_core::plugin::registrable_domain;
use nativeauth_core::plugin::{DiscoveryContext, ProviderPlugin, async_trait, inventory};
use nativeauth_core::{
    AuthHint, Detection, Discovery, EmailAddress, ExchangeEndpoints, NylasProvider, Provider,
    ProviderInfo, Source, SourceError, Step, Trust,
};

pub use chain::{
    AutodiscoverCredentials, AutodiscoverError, AutodiscoverOutcome, CredentialRules,
    MAX_REDIRECTS, MICROSOFT_AUTODISCOVER_HOSTS, run_autodiscover,
};
pub use pox::{
    AutodiscoverParseError, AutodiscoverProtocol, AutodiscoverSettings, PoxResponse, parse_pox,
};

/// The provider id.
pub const ID: &str = "exchange";

/// Exchange found by autodiscover.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExchangeProvider;

inventory::submit! {
    ProviderPlugin { rank: 50, make: || Box::new(ExchangeProvider) }
}

#[async_trait]
impl Provider for ExchangeProvider {
    fn id(&self) -> &'static str {
        ID
    }

    fn best_possible_source(&self) -> Source {
        Source::Autodiscover
    }

    async fn detect(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Vec<Detection>, SourceError> {
        let outcome = run_autodiscover(ctx, email, None, &CredentialRules::default()).await?;
        Ok(Vec::from_iter(match outcome {
            AutodiscoverOutcome::Settings { .. } => outcome_detection(email, &outcome),
            AutodiscoverOutcome::AuthRequired { endpoint, schemes, verified } => {
                let host = endpoint.host_str().unwrap_or_default().to_owned();
                let provider = ProviderInfo::new(
                    format!("exchange:{host}"),
                    format!("Exchange ({host})"),
                    NylasProvider::Exchange,
                );
                let evidence = format!(
                    "{endpoint} answered 401 ({}): Exchange autodiscover that wants sign-in",
                    schemes.join(", ")
                );
                let trust = if verified { Trust::Verified } else { Trust::Unverified };
                let mut detection = Detection::new(provider, Source::Autodiscover, trust, evidence);
                let hosted = registrable_domain(&host) != registrable_domain(email.domain());
                if hosted {
                    // The question the app puts to the user before any password goes there.
                    detection = detection.with_note(format!(
                        "Your organisation's mail settings point to {host}. Allow?"
                    ));
                } else if !verified {
                    detection = detection.with_note(UNVERIFIED_NOTE);
                }
                Some(
                    detection
                        .with_exchange(ExchangeEndpoints {
                            ews_url: None,
                            eas_host: Some(host),
                            login: None,
                        })
                        .with_note(
                            "the full settings (EWS URL) come from autodiscover with the user's password",
                        ),
                )
            }
            _ => None,
        }))
    }
}

/// Why an autodiscover answer is unverified, for the login page.
const UNVERIFIED_NOTE: &str = "found by autodiscover at the bare domain (usually the website), \
    through plain http, through SRV or outside the domain: confirm the server with the user";

/// The detection for autodiscover settings (other outcomes have none).
fn outcome_detection(email: &EmailAddress, outcome: &AutodiscoverOutcome) -> Option<Detection> {
    let AutodiscoverOutcome::Settings { settings, endpoint, address, via_srv, verified, .. } =
        outcome
    else {
        return None;
    };
    // The login: what the server named, else the mailbox a redirectAddr led to.
    let login = settings
        .login_name()
        .map(str::to_owned)
        .or_else(|| (!address.eq_ignore_ascii_case(email.as_str())).then(|| address.clone()));
    Some(from_settings(settings, endpoint, *via_srv, *verified, login))
}

/// The answer for autodiscover settings from `endpoint`.
fn from_settings(
    settings: &AutodiscoverSettings,
    endpoint: &nativeauth_core::Url,
    via_srv: bool,
    verified: bool,
    login: Option<String>,
) -> Detection {
    let host = endpoint.host_str().unwrap_or_default().to_owned();
    let eas_host = settings.eas_host();
    let microsoft = eas_host.as_deref() == Some(ProviderInfo::MICROSOFT_365_HOST);
    let (incoming, outgoing) = settings.mail_servers();
    let trust = if verified { Trust::Verified } else { Trust::Unverified };
    let provider = if microsoft {
        ProviderInfo::microsoft_365()
    } else {
        ProviderInfo::new(
            format!("exchange:{host}"),
            format!("Exchange ({host})"),
            NylasProvider::Exchange,
        )
    };
    let mut detection = Detection::new(
        provider,
        Source::Autodiscover,
        trust,
        format!("autodiscover settings from {endpoint}"),
    )
    .with_servers(incoming, outgoing)
    .with_exchange(ExchangeEndpoints {
        ews_url: settings.ews_url().map(str::to_owned),
        eas_host,
        login,
    })
    .with_auth_hint(if microsoft { AuthHint::OAuth2 } else { AuthHint::Password });
    if via_srv {
        detection =
            detection.with_note("autodiscover endpoint found through SRV (DNS without DNSSEC)");
    }
    detection
}

/// The result of an authenticated autodiscover, with the trace of every hop.
#[derive(Debug)]
pub struct AutodiscoverRun {
    /// What the chain found, or why it failed.
    pub result: Result<AutodiscoverOutcome, AutodiscoverError>,
    /// Every hop.
    pub trace: Vec<Step>,
}

impl AutodiscoverRun {
    /// The detection the settings lead to (with the login autodiscover named, for the
    /// payload), or `None` when the chain found no settings.
    pub fn detection(&self, email: &EmailAddress) -> Option<Detection> {
        self.result.as_ref().ok().and_then(|outcome| outcome_detection(email, outcome))
    }
}

/// Exchange autodiscover *with* the user's credentials (the login flow, after the user typed a
/// password): HTTP Basic, sent only over https to the user's registrable domain, Microsoft's
/// autodiscover hosts and `rules.allowed_hosts`. A chain that leads elsewhere stops before
/// sending anything there and answers [`AutodiscoverOutcome::NeedsConfirmation`] with the
/// target. Runs under the discovery's deadline, with its resolver and HTTP client; never
/// cached.
pub async fn autodiscover_with_credentials(
    discovery: &Discovery,
    email: &EmailAddress,
    credentials: &AutodiscoverCredentials,
    rules: &CredentialRules,
) -> AutodiscoverRun {
    let ctx = discovery.context();
    let result = if ctx.is_offline() {
        Ok(AutodiscoverOutcome::NotFound)
    } else {
        tokio::time::timeout(
            discovery.config().deadline(),
            run_autodiscover(&ctx, email, Some(credentials), rules),
        )
        .await
        .unwrap_or(Err(AutodiscoverError::Timeout))
    };
    AutodiscoverRun { result, trace: ctx.into_trace() }
}
