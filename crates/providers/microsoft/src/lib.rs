//! The `microsoft` provider: Microsoft 365 tenants found by Microsoft's v2 autodiscover
//! endpoint (`autodiscover.json`), for domains whose MX goes through a mail filter so that the
//! catalogue's MX pattern (`*.mail.protection.outlook.com`) cannot recognise them.
//!
//! Outlook.com, Hotmail and Microsoft 365 by MX are data: catalogue rows in `providers.toml`.
//!
//! The endpoint receives the address, so it is asked only when `autodiscover.<domain>` is a
//! CNAME to Microsoft, and an application can turn it off with
//! [`MicrosoftOptions::autodiscover_url`] `= None`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod v2_endpoint;

use nativeauth_core::plugin::{DiscoveryContext, ProviderPlugin, async_trait, inventory};
use nativeauth_core::{
    AuthHint, AuthMethod, Detection, EmailAddress, ExchangeEndpoints, Outcome, Protocol, Provider,
    ProviderInfo, Security, Server, Source, SourceError, Trust, Url, UsernameTemplate,
};

pub use v2_endpoint::{V2Endpoint, V2Error, parse_v2_json};

/// The provider id.
pub const ID: &str = "microsoft";

/// Microsoft 365's v2 autodiscover endpoint (`?Email=…&Protocol=EWS` is appended).
pub const DEFAULT_AUTODISCOVER_URL: &str =
    "https://outlook.office365.com/autodiscover/autodiscover.json";
/// Where a Microsoft 365 domain's `autodiscover` CNAME points.
pub const M365_AUTODISCOVER_CNAME: &str = "autodiscover.outlook.com";
/// The host of Microsoft 365's EWS endpoint (defined once, in the model).
const M365_EWS_HOST: &str = ProviderInfo::MICROSOFT_365_HOST;

/// Options of the `microsoft` provider, set with
/// `DiscoveryConfig::builder().provider_options(MicrosoftOptions { .. })`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MicrosoftOptions {
    /// The v2 endpoint, or `None` never to ask it (it receives the address).
    /// Default: [`DEFAULT_AUTODISCOVER_URL`].
    pub autodiscover_url: Option<Url>,
}

impl Default for MicrosoftOptions {
    fn default() -> Self {
        Self { autodiscover_url: Url::parse(DEFAULT_AUTODISCOVER_URL).ok() }
    }
}

/// Microsoft 365 by the v2 autodiscover endpoint.
#[derive(Debug, Default, Clone, Copy)]
pub struct MicrosoftProvider;

inventory::submit! {
    ProviderPlugin { rank: 21, make: || Box::new(MicrosoftProvider) }
}

fn server(protocol: Protocol, host: &str, port: u16, security: Security) -> Server {
    Server {
        protocol,
        host: host.to_owned(),
        port,
        security,
        username: UsernameTemplate::email_address(),
        auth: vec![AuthMethod::OAuth2],
    }
}

/// The Microsoft 365 answer: Microsoft's fixed servers, OAuth only. The endpoint is
/// Microsoft's own and was reached over https end to end, so the answer is verified.
fn microsoft_365(evidence: String) -> Detection {
    let provider = ProviderInfo::microsoft_365();
    Detection::new(provider, Source::Autodiscover, Trust::Verified, evidence)
        .with_servers(
            vec![server(Protocol::Imap, M365_EWS_HOST, 993, Security::Tls)],
            vec![server(Protocol::Smtp, "smtp.office365.com", 587, Security::StartTls)],
        )
        .with_exchange(ExchangeEndpoints {
            ews_url: Some(format!("https://{M365_EWS_HOST}/EWS/Exchange.asmx")),
            eas_host: Some(M365_EWS_HOST.into()),
            login: None,
        })
        .with_auth_hint(AuthHint::OAuth2)
        .with_note("Microsoft requires OAuth 2.0 (basic authentication is disabled).")
}

#[async_trait]
impl Provider for MicrosoftProvider {
    fn id(&self) -> &'static str {
        ID
    }

    fn best_possible_source(&self) -> Source {
        Source::Autodiscover
    }

    /// Asks Microsoft's v2 endpoint, but only when `autodiscover.<domain>` points at Microsoft.
    async fn detect(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Vec<Detection>, SourceError> {
        Ok(self.ask(email, ctx).await?.into_iter().collect())
    }
}

impl MicrosoftProvider {
    /// The v2 endpoint's answer, when `autodiscover.<domain>` points at Microsoft.
    async fn ask(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Option<Detection>, SourceError> {
        let options = ctx.options::<MicrosoftOptions>();
        let Some(base) = &options.autodiscover_url else { return Ok(None) };
        let cname = ctx.cname(&format!("autodiscover.{}", email.domain())).await.unwrap_or(None);
        if cname.as_deref() != Some(M365_AUTODISCOVER_CNAME) {
            return Ok(None);
        }
        let mut url = base.clone();
        url.query_pairs_mut().append_pair("Email", email.as_str()).append_pair("Protocol", "EWS");
        let timer = ctx.timer("autodiscover", url.as_str());
        let fetched = match ctx.fetch(&url, false).await {
            Ok(fetched) => fetched,
            Err(error) => {
                let error = SourceError::from(error);
                timer.fail(&error);
                return Err(error);
            }
        };
        let answer = (fetched.status.is_success())
            .then(|| parse_v2_json(&String::from_utf8_lossy(&fetched.body)));
        match answer {
            Some(Ok(endpoint))
                if endpoint.url.starts_with(&format!("https://{M365_EWS_HOST}/")) =>
            {
                let evidence = format!("Microsoft 365 autodiscover: EWS at {}", endpoint.url);
                timer.finish(Outcome::Found, &evidence);
                Ok(Some(microsoft_365(evidence)))
            }
            Some(Ok(endpoint)) => {
                timer.finish(Outcome::Nothing, &format!("EWS elsewhere: {}", endpoint.url));
                Ok(None)
            }
            Some(Err(error)) => {
                timer.finish(Outcome::Nothing, &error.to_string());
                Ok(None)
            }
            None => {
                timer.finish(Outcome::Nothing, &format!("HTTP {}", fetched.status.as_u16()));
                Ok(None)
            }
        }
    }
}
