//! The `microsoft` provider: Outlook.com and Hotmail addresses (Nylas `outlook` / `hotmail`),
//! and Microsoft 365 custom domains (Nylas `office365`), recognised by their MX host
//! (`*.mail.protection.outlook.com`) or — when the domain's `autodiscover` name points at
//! Microsoft but its MX goes through a mail filter — by Microsoft's v2 autodiscover endpoint.
//!
//! The v2 endpoint receives the address, so it is asked only on that DNS evidence, and an
//! application can turn it off (`DiscoveryConfig::builder().m365_autodiscover_url(None)`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::LazyLock;

use nativeauth_core::catalogue::MxPattern;
use nativeauth_core::model::{Outcome, ProviderInfo};
use nativeauth_core::sources::autodiscover::parse_v2_json;
use nativeauth_core::{
    AuthHint, AuthMethod, Detection, DiscoveryContext, EmailAddress, ExchangeEndpoints,
    NylasProvider, Protocol, Provider, ProviderPlugin, Security, Server, Source, SourceError,
    Trust, UsernameTemplate, async_trait, inventory,
};

/// The provider id.
pub const ID: &str = "microsoft";

/// Consumer domains and their Nylas provider.
pub const CONSUMER_DOMAINS: [(&str, NylasProvider); 5] = [
    ("outlook.com", NylasProvider::Outlook),
    ("live.com", NylasProvider::Outlook),
    ("msn.com", NylasProvider::Outlook),
    ("hotmail.com", NylasProvider::Hotmail),
    ("hotmail.co.uk", NylasProvider::Hotmail),
];

/// MX hosts of Microsoft 365 tenants.
pub const M365_MX: &str = "*.mail.protection.outlook.com";
/// MX hosts of consumer Outlook.com custom domains.
pub const CONSUMER_MX: &str = "*.olc.protection.outlook.com";
/// Where a Microsoft 365 domain's `autodiscover` CNAME points.
pub const M365_AUTODISCOVER_CNAME: &str = "autodiscover.outlook.com";
/// The host of Microsoft 365's EWS endpoint.
pub const M365_EWS_HOST: &str = "outlook.office365.com";

/// Outlook.com, Hotmail and Microsoft 365.
#[derive(Debug, Default, Clone, Copy)]
pub struct MicrosoftProvider;

inventory::submit! {
    ProviderPlugin { id: ID, rank: 20, make: || Box::new(MicrosoftProvider) }
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

fn microsoft(nylas: NylasProvider, source: Source, trust: Trust, evidence: String) -> Detection {
    let (id, name) = match nylas {
        NylasProvider::Office365 => ("office365", "Microsoft 365"),
        NylasProvider::Hotmail => ("hotmail", "Hotmail"),
        _ => ("outlook", "Outlook.com"),
    };
    let mut notes =
        vec!["Microsoft requires OAuth 2.0 (basic authentication is disabled).".to_owned()];
    if trust == Trust::Unverified {
        notes.push("recognised by the domain's MX host (DNS without DNSSEC)".to_owned());
    }
    Detection {
        provider: ProviderInfo { id: id.into(), name: name.into(), nylas },
        incoming: vec![server(Protocol::Imap, M365_EWS_HOST, 993, Security::Tls)],
        outgoing: vec![server(Protocol::Smtp, "smtp.office365.com", 587, Security::StartTls)],
        exchange: Some(ExchangeEndpoints {
            ews_url: Some(format!("https://{M365_EWS_HOST}/EWS/Exchange.asmx")),
            eas_host: Some(M365_EWS_HOST.into()),
        }),
        auth_hint: AuthHint::OAuth2,
        source,
        trust,
        evidence,
        notes,
    }
}

/// The MX patterns, parsed once.
static M365_PATTERN: LazyLock<Option<MxPattern>> = LazyLock::new(|| MxPattern::parse(M365_MX).ok());
static CONSUMER_PATTERN: LazyLock<Option<MxPattern>> =
    LazyLock::new(|| MxPattern::parse(CONSUMER_MX).ok());

fn matches(pattern: &LazyLock<Option<MxPattern>>, host: &str) -> bool {
    pattern.as_ref().is_some_and(|p| p.matches(host))
}

#[async_trait]
impl Provider for MicrosoftProvider {
    fn id(&self) -> &'static str {
        ID
    }

    fn detect_offline(&self, email: &EmailAddress, ctx: &DiscoveryContext) -> Option<Detection> {
        let domain = email.domain();
        CONSUMER_DOMAINS.iter().find(|(d, _)| *d == domain).map(|(_, nylas)| {
            let evidence = format!("{domain} is a Microsoft consumer domain");
            ctx.timer(ID, domain).finish(Outcome::Found, &evidence);
            microsoft(*nylas, Source::Catalogue, Trust::Verified, evidence)
        })
    }

    fn best_possible_source(&self) -> Source {
        Source::Mx
    }

    async fn detect(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Option<Detection>, SourceError> {
        let domain = email.domain();
        if ctx.is_offline() {
            return Ok(None);
        }
        if let Some(mx) = ctx.primary_mx(domain).await? {
            let found = if matches(&M365_PATTERN, &mx.exchange) {
                Some(NylasProvider::Office365)
            } else if matches(&CONSUMER_PATTERN, &mx.exchange) {
                Some(NylasProvider::Outlook)
            } else {
                None
            };
            if let Some(nylas) = found {
                let evidence = format!("MX {} is Microsoft's", mx.exchange);
                ctx.timer(ID, &format!("MX {}", mx.exchange)).finish(Outcome::Found, &evidence);
                return Ok(Some(microsoft(nylas, Source::Mx, Trust::Unverified, evidence)));
            }
        }
        Ok(None)
    }
}

/// The id of the v2-endpoint provider.
pub const V2_ID: &str = "microsoft-v2";

/// Microsoft 365 by the v2 autodiscover endpoint. A separate provider so that the engine
/// knows its best answer is an autodiscover one (it can be cancelled once a better source has
/// answered), while MX recognition answers at MX rank.
#[derive(Debug, Default, Clone, Copy)]
pub struct Microsoft365AutodiscoverProvider;

inventory::submit! {
    ProviderPlugin { id: V2_ID, rank: 21, make: || Box::new(Microsoft365AutodiscoverProvider) }
}

#[async_trait]
impl Provider for Microsoft365AutodiscoverProvider {
    fn id(&self) -> &'static str {
        V2_ID
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
        self.detect_by_v2_endpoint(email, ctx).await
    }
}

impl Microsoft365AutodiscoverProvider {
    /// Asks Microsoft's v2 endpoint, but only when `autodiscover.<domain>` points at Microsoft.
    async fn detect_by_v2_endpoint(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Option<Detection>, SourceError> {
        let Some(base) = ctx.config().m365_autodiscover_url() else { return Ok(None) };
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
                timer.finish(
                    if error.is_timeout() { Outcome::Timeout } else { Outcome::Error },
                    &error.to_string(),
                );
                return Err(error.into());
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
                // https end to end, to Microsoft's fixed endpoint.
                Ok(Some(microsoft(
                    NylasProvider::Office365,
                    Source::Autodiscover,
                    Trust::Verified,
                    evidence,
                )))
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
