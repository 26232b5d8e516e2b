//! The `google` provider: Gmail addresses, and custom domains hosted at Google Workspace
//! (recognised by their MX host). Both map to Nylas provider `gmail`, which signs in with
//! OAuth.
//!
//! It carries its own knowledge of Google, so Workspace domains are recognised even when an
//! application replaces the built-in catalogue.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::LazyLock;

use nativeauth_core::catalogue::MxPattern;
use nativeauth_core::model::{Outcome, ProviderInfo};
use nativeauth_core::{
    AuthHint, AuthMethod, Detection, DiscoveryContext, EmailAddress, NylasProvider, Protocol,
    Provider, ProviderPlugin, Security, Server, Source, SourceError, Trust, UsernameTemplate,
    async_trait, inventory,
};

/// The provider id.
pub const ID: &str = "google";

/// Consumer Gmail domains.
pub const GMAIL_DOMAINS: [&str; 2] = ["gmail.com", "googlemail.com"];

/// MX hosts that mean "mail is hosted at Google" (discovery-protocols.md §1).
pub const GOOGLE_MX_PATTERNS: [&str; 5] = [
    "aspmx.l.google.com",
    "*.aspmx.l.google.com",
    "*.google.com",
    "*.googlemail.com",
    "smtp.google.com",
];

/// Whether `host` (an MX host) is one of Google's.
pub fn is_google_mx(host: &str) -> bool {
    // Parsed once, not on every discovery.
    static PATTERNS: LazyLock<Vec<MxPattern>> = LazyLock::new(|| {
        GOOGLE_MX_PATTERNS.iter().filter_map(|p| MxPattern::parse(p).ok()).collect()
    });
    PATTERNS.iter().any(|p| p.matches(host))
}

/// Gmail and Google Workspace.
#[derive(Debug, Default, Clone, Copy)]
pub struct GoogleProvider;

inventory::submit! {
    ProviderPlugin { id: ID, rank: 10, make: || Box::new(GoogleProvider) }
}

fn server(protocol: Protocol, host: &str, port: u16) -> Server {
    Server {
        protocol,
        host: host.to_owned(),
        port,
        security: Security::Tls,
        username: UsernameTemplate::email_address(),
        auth: vec![AuthMethod::OAuth2, AuthMethod::PasswordCleartext],
    }
}

fn google(source: Source, trust: Trust, evidence: String) -> Detection {
    let mut notes = vec![
        "Sign in with Google (OAuth 2.0); IMAP with a password needs an app password.".to_owned(),
    ];
    if trust == Trust::Unverified {
        notes.push("recognised by the domain's MX host (DNS without DNSSEC)".to_owned());
    }
    Detection {
        provider: ProviderInfo {
            id: "gmail".into(),
            name: "Google (Gmail / Workspace)".into(),
            nylas: NylasProvider::Gmail,
        },
        incoming: vec![server(Protocol::Imap, "imap.gmail.com", 993)],
        outgoing: vec![server(Protocol::Smtp, "smtp.gmail.com", 465)],
        exchange: None,
        auth_hint: AuthHint::OAuth2,
        source,
        trust,
        evidence,
        notes,
    }
}

#[async_trait]
impl Provider for GoogleProvider {
    fn id(&self) -> &'static str {
        ID
    }

    fn detect_offline(&self, email: &EmailAddress, ctx: &DiscoveryContext) -> Option<Detection> {
        let domain = email.domain();
        GMAIL_DOMAINS.contains(&domain).then(|| {
            let evidence = format!("{domain} is a Gmail domain");
            ctx.timer(ID, domain).finish(Outcome::Found, &evidence);
            google(Source::Catalogue, Trust::Verified, evidence)
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
        let primary = ctx.primary_mx(domain).await?;
        let timer = ctx.timer(ID, domain);
        // The most preferred MX host decides (a null MX has an empty exchange).
        match primary {
            Some(mx) if is_google_mx(&mx.exchange) => {
                let evidence = format!("MX {} is Google's: Google Workspace", mx.exchange);
                timer.finish(Outcome::Found, &evidence);
                Ok(Some(google(Source::Mx, Trust::Unverified, evidence)))
            }
            Some(mx) => {
                timer.finish(Outcome::Nothing, &format!("MX {} is not Google's", mx.exchange));
                Ok(None)
            }
            None => {
                timer.finish(Outcome::Nothing, "no MX host");
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_google_mx_hosts_on_label_boundaries() {
        for host in [
            "aspmx.l.google.com",
            "ALT1.ASPMX.L.GOOGLE.COM.",
            "smtp.google.com",
            "aspmx2.googlemail.com",
        ] {
            assert!(is_google_mx(host), "{host}");
        }
        for host in
            ["google.com", "aspmx.l.google.com.evil.example", "notgoogle.com", "mx.example.com"]
        {
            assert!(!is_google_mx(host), "{host}");
        }
    }
}
