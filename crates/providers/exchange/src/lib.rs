//! The `exchange` provider: on-premises Exchange found by POX autodiscover (Nylas `exchange`,
//! with the EWS URL and the ActiveSync host).
//!
//! Discovery sends no credentials: an endpoint of the user's own domain that answers 401 is
//! evidence that Exchange lives there, reported as such; the full settings come from
//! `Discovery::autodiscover_with_credentials` once the user has typed a password.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use nativeauth_core::model::ProviderInfo;
use nativeauth_core::sources::autodiscover::{
    AutodiscoverOutcome, CredentialRules, run_autodiscover,
};
use nativeauth_core::sources::mx::same_registrable_domain;
use nativeauth_core::{
    AuthHint, Detection, DiscoveryContext, EmailAddress, ExchangeEndpoints, NylasProvider,
    Provider, ProviderPlugin, Source, SourceError, Trust, async_trait, inventory,
};

/// The provider id.
pub const ID: &str = "exchange";

/// Exchange found by autodiscover.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExchangeProvider;

inventory::submit! {
    ProviderPlugin { id: ID, rank: 50, make: || Box::new(ExchangeProvider) }
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
    ) -> Result<Option<Detection>, SourceError> {
        if ctx.is_offline() {
            return Ok(None);
        }
        let outcome = run_autodiscover(ctx, email, None, &CredentialRules::default()).await?;
        Ok(match outcome {
            AutodiscoverOutcome::Settings { settings, endpoint, via_srv, .. } => {
                let host = endpoint.host_str().unwrap_or_default().to_owned();
                let ews_url = settings.ews_url().map(str::to_owned);
                let eas_host = settings.eas_host();
                let microsoft = eas_host.as_deref() == Some("outlook.office365.com");
                let (incoming, outgoing) = settings.mail_servers();
                let trust = if !via_srv && same_registrable_domain(&host, email.domain()) {
                    Trust::Verified
                } else {
                    Trust::Unverified
                };
                let mut notes = Vec::new();
                if via_srv {
                    notes.push(
                        "autodiscover endpoint found through SRV (DNS without DNSSEC)".to_owned(),
                    );
                }
                Some(Detection {
                    provider: ProviderInfo {
                        id: if microsoft { "office365".into() } else { format!("exchange:{host}") },
                        name: if microsoft {
                            "Microsoft 365".into()
                        } else {
                            format!("Exchange ({host})")
                        },
                        nylas: if microsoft {
                            NylasProvider::Office365
                        } else {
                            NylasProvider::Exchange
                        },
                    },
                    incoming,
                    outgoing,
                    exchange: Some(ExchangeEndpoints { ews_url, eas_host }),
                    auth_hint: if microsoft { AuthHint::OAuth2 } else { AuthHint::Password },
                    source: Source::Autodiscover,
                    trust,
                    evidence: format!("autodiscover settings from {endpoint}"),
                    notes,
                })
            }
            AutodiscoverOutcome::AuthRequired { endpoint } => {
                let host = endpoint.host_str().unwrap_or_default().to_owned();
                Some(Detection {
                    provider: ProviderInfo {
                        id: format!("exchange:{host}"),
                        name: format!("Exchange ({host})"),
                        nylas: NylasProvider::Exchange,
                    },
                    incoming: Vec::new(),
                    outgoing: Vec::new(),
                    exchange: Some(ExchangeEndpoints { ews_url: None, eas_host: Some(host) }),
                    auth_hint: AuthHint::Password,
                    source: Source::Autodiscover,
                    trust: Trust::Verified,
                    evidence: format!("{endpoint} answered 401: Exchange autodiscover that wants sign-in"),
                    notes: vec![
                        "the full settings (EWS URL) come from autodiscover with the user's password"
                            .to_owned(),
                    ],
                })
            }
            _ => None,
        })
    }
}
