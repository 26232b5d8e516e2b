//! The `catalogue` provider: answers from `providers.toml`, with no network at all.
//!
//! The built-in catalogue is compiled into the binary (`include_str!`) and parsed once, on
//! first use. An application can extend it with its own file (its entries win) or replace it,
//! with a [`CatalogueChoice`] set as this provider's options:
//! `DiscoveryConfig::builder().provider_options(CatalogueChoice::Extend(mine))`.
//!
//! Matching is on label boundaries: exact domains, `*.` wildcards for subdomains, and MX host
//! patterns (used by the MX source to recognise custom domains hosted at a known provider).
//!
//! # The catalogue file
//!
//! A catalogue file is a list of `[[provider]]` tables. Unknown keys are errors, so a typo never
//! passes silently.
//!
//! ```toml
//! [[provider]]
//! id = "gmail"                 # unique; lowercase [a-z0-9][a-z0-9._-]*
//! name = "Gmail"               # display name
//! nylas = "gmail"              # gmail yahoo aol icloud hotmail outlook office365 exchange imap
//! auth = "oauth2"              # what the login page asks for: password | app-password | oauth2
//!                              # | unsupported (no IMAP/SMTP for other apps: no servers, and
//!                              # a note saying what the user can do)
//! domains = ["gmail.com", "*.example.com"]   # exact, or "*." = subdomains only; lowercase
//!                                            # ASCII (punycode); each domain in one entry only
//! mx = ["aspmx.l.google.com", "*.google.com", "mx*.zoho.com"]   # optional MX host patterns
//! notes = ["Needs an app password."]         # optional advice shown with the answer
//! documentation = "https://…"                # optional
//! app_password_url = "https://…"             # optional: where users create an app password
//!
//! [[provider.incoming]]        # preference order; at least one
//! protocol = "imap"            # imap | pop3
//! host = "imap.gmail.com"      # may use %EMAILDOMAIN%
//! port = 993                   # 1-65535
//! security = "tls"             # tls | starttls | plain
//! username = "%EMAILADDRESS%"  # optional template; this is the default
//! auth = ["oauth2", "password-cleartext"]    # optional; default ["password-cleartext"]
//!
//! [[provider.outgoing]]        # preference order; at least one
//! protocol = "smtp"
//! host = "smtp.gmail.com"
//! port = 465
//! security = "tls"
//!
//! [[gateway]]                  # MX hosts that receive mail without holding mailboxes
//! name = "Proofpoint"
//! kind = "filter"              # filter | forwarding
//! mx = ["*.pphosted.com"]      # at least one; never also a provider's pattern
//! documentation = "https://…"  # optional
//! ```
//!
//! A domain whose MX is a gateway is not answered by that MX: the trace names the gateway and
//! the domain's own sources (autoconfig, autodiscover, SRV) decide.
//!
//! MX patterns follow [`MxPattern`]: a leading `*.` is one or more labels, a `*` inside a label
//! is any run of characters within that label. Domain and MX matching work on label boundaries.
//!
//! Loading reports *every* problem with `file:line:column`, and duplicates (ids, domains, MX
//! patterns) with the position of the first definition too.
//!
//! ```
//! # mod nativeauth { pub use nativeauth_core::*; pub use nativeauth_catalogue as catalogue; }
//! use nativeauth::catalogue::Catalogue;
//!
//! let text = r#"
//! [[provider]]
//! id = "example"
//! name = "Example Mail"
//! nylas = "imap"
//! auth = "password"
//! domains = ["example.com", "*.example.org"]
//! [[provider.incoming]]
//! protocol = "imap"
//! host = "imap.example.com"
//! port = 993
//! security = "tls"
//! [[provider.outgoing]]
//! protocol = "smtp"
//! host = "smtp.example.com"
//! port = 465
//! security = "tls"
//! "#;
//! let catalogue = Catalogue::parse(text, "my-providers.toml")?;
//! assert_eq!(catalogue.lookup("mail.example.org").map(|m| m.entry.id.as_str()), Some("example"));
//! assert!(catalogue.lookup("example.org").is_none());
//! assert!(catalogue.lookup("notexample.com").is_none());
//! # Ok::<(), nativeauth::catalogue::CatalogueError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod file;

pub use file::{
    Catalogue, CatalogueEntry, CatalogueError, DomainMatch, Gateway, GatewayKind, GatewayMatch,
    MxMatch, MxPattern, PatternError, Position, Problem, ProblemKind, ServerSpec, check_domain,
};

use std::sync::{Arc, OnceLock};

use nativeauth_core::plugin::{DiscoveryContext, ProviderPlugin, async_trait, inventory};
use nativeauth_core::{Detection, EmailAddress, Outcome, Provider, Source, SourceError};

/// Which catalogue the `catalogue` provider answers from: this provider's options.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum CatalogueChoice {
    /// The catalogue compiled into the binary.
    #[default]
    Builtin,
    /// The user's catalogue first, then the built-in one: the user's entries win for the
    /// domains and MX hosts they name.
    Extend(Arc<Catalogue>),
    /// Only the user's catalogue.
    Replace(Arc<Catalogue>),
}

/// The text of the built-in catalogue.
pub const BUILTIN_TOML: &str = include_str!("../../../../providers.toml");

/// The provider id, also the source name in traces.
pub const ID: &str = "catalogue";

/// The built-in catalogue, parsed on first use.
///
/// # Panics
/// If the `providers.toml` compiled in is invalid. It is fixed at build time and the test suite
/// loads it, so a release cannot contain an invalid one.
pub fn builtin() -> &'static Catalogue {
    static BUILTIN: OnceLock<Catalogue> = OnceLock::new();
    BUILTIN.get_or_init(|| match Catalogue::parse(BUILTIN_TOML, "providers.toml (built-in)") {
        Ok(catalogue) => catalogue,
        Err(error) => panic!("the built-in providers.toml is invalid:\n{error}"),
    })
}

/// The catalogues to consult for a configuration, in order: the user's first, when given.
pub fn catalogues(choice: &CatalogueChoice) -> impl Iterator<Item = &Catalogue> {
    let (user, with_builtin) = match choice {
        CatalogueChoice::Extend(user) => (Some(&**user), true),
        CatalogueChoice::Replace(user) => (Some(&**user), false),
        _ => (None, true),
    };
    user.into_iter().chain(with_builtin.then(builtin))
}

/// The first catalogue entry for `domain` (user's catalogue first).
pub fn lookup_domain<'a>(choice: &'a CatalogueChoice, domain: &str) -> Option<DomainMatch<'a>> {
    catalogues(choice).find_map(|catalogue| catalogue.lookup(domain))
}

/// The gateway (filtering or forwarding service) whose MX pattern matches `host`, user
/// catalogue first.
pub fn match_gateway<'a>(choice: &'a CatalogueChoice, host: &str) -> Option<GatewayMatch<'a>> {
    catalogues(choice).find_map(|catalogue| catalogue.match_gateway(host))
}

/// The first catalogue entry whose MX pattern matches `host`, the domain's most preferred MX
/// host (user's catalogue first).
pub fn match_mx_host<'a>(choice: &'a CatalogueChoice, host: &str) -> Option<MxMatch<'a>> {
    catalogues(choice).find_map(|catalogue| catalogue.match_mx_host(host))
}

/// Builds the provider, parsing the built-in catalogue now so that the first lookup does not
/// pay for it.
fn make_provider() -> Box<dyn Provider> {
    builtin();
    Box::new(CatalogueProvider)
}

/// Answers from the catalogue on the email's domain.
#[derive(Debug, Default, Clone, Copy)]
pub struct CatalogueProvider;

#[async_trait]
impl Provider for CatalogueProvider {
    fn id(&self) -> &'static str {
        ID
    }

    fn detect_offline(&self, email: &EmailAddress, ctx: &DiscoveryContext) -> Option<Detection> {
        let timer = ctx.timer(ID, email.domain());
        match lookup_domain(&ctx.options::<CatalogueChoice>(), email.domain()) {
            Some(found) => {
                let evidence = format!(
                    "domain {} matches {:?} in entry {:?}",
                    email.domain(),
                    found.rule,
                    found.entry.id
                );
                timer.finish(Outcome::Found, &evidence);
                Some(found.entry.detection(email, Source::Catalogue, evidence))
            }
            None => {
                timer.finish(Outcome::Nothing, "no catalogue entry for this domain");
                None
            }
        }
    }

    fn best_possible_source(&self) -> Source {
        Source::Mx
    }

    fn suggest_domain(&self, domain: &str, ctx: &DiscoveryContext) -> Option<String> {
        let choice = ctx.options::<CatalogueChoice>();
        catalogues(&choice).find_map(|catalogue| catalogue.suggest(domain)).map(str::to_owned)
    }

    /// The network part: the domain's MX host against the catalogue's MX patterns. (The
    /// domain itself was matched by [`Provider::detect_offline`].)
    async fn detect(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Vec<Detection>, SourceError> {
        Ok(self.detect_by_mx(email, ctx).await?.into_iter().collect())
    }
}

impl CatalogueProvider {
    /// A custom domain hosted at a known provider: its most preferred MX host matches the
    /// provider's MX patterns. The link comes from DNS, but the servers are the known
    /// provider's own: a forged MX record can only send the user to that real provider, never
    /// to the forger, so the answer is verified.
    async fn detect_by_mx(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Option<Detection>, SourceError> {
        let Some(mx) = ctx.primary_mx(email.domain()).await? else {
            return Ok(None);
        };
        let timer = ctx.timer(ID, &format!("MX {}", mx.exchange));
        let choice = ctx.options::<CatalogueChoice>();
        let Some(found) = match_mx_host(&choice, &mx.exchange) else {
            // A gateway's MX says nothing about the mailbox behind it: the domain's own
            // sources (autoconfig, autodiscover, SRV) decide.
            let detail = match match_gateway(&choice, &mx.exchange) {
                Some(gateway) => format!(
                    "MX is a {} ({}): the mailbox host is behind it; asking the domain's own sources",
                    gateway.gateway.kind.describe(),
                    gateway.gateway.name
                ),
                None => "no catalogue MX pattern matches".to_owned(),
            };
            timer.finish(Outcome::Nothing, &detail);
            return Ok(None);
        };
        let evidence = format!(
            "MX {} matches {:?} of entry {:?}",
            mx.exchange,
            found.pattern.as_str(),
            found.entry.id
        );
        timer.finish(Outcome::Found, &evidence);
        let detection = found.entry.detection(email, Source::Mx, evidence).with_note(format!(
            "{} is hosted at {} (recognised by its MX host)",
            email.domain(),
            found.entry.name
        ));
        Ok(Some(detection))
    }
}

inventory::submit! {
    ProviderPlugin { rank: 0, make: make_provider }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use nativeauth_core::{DiscoveryConfig, NylasProvider, Protocol, Security};

    use super::*;

    const USER: &str = r#"
[[provider]]
id = "mine"
name = "My Mail"
nylas = "imap"
auth = "password"
domains = ["gmail.com", "mine.example"]
[[provider.incoming]]
protocol = "imap"
host = "imap.mine.example"
port = 993
security = "tls"
[[provider.outgoing]]
protocol = "smtp"
host = "smtp.mine.example"
port = 465
security = "tls"
"#;

    async fn detect(choice: CatalogueChoice, address: &str) -> Option<Detection> {
        let config = Arc::new(DiscoveryConfig::builder().provider_options(choice).build());
        let ctx = DiscoveryContext::new(config, Instant::now());
        let email = EmailAddress::parse(address).unwrap();
        CatalogueProvider.detect_offline(&email, &ctx)
    }

    #[tokio::test]
    async fn answers_gmail_from_the_builtin_catalogue() {
        let d = detect(CatalogueChoice::Builtin, "alice@gmail.com").await.unwrap();
        assert_eq!(d.provider.id, "gmail");
        assert_eq!(d.provider.nylas, NylasProvider::Gmail);
        assert_eq!(d.source, Source::Catalogue);
        let imap = &d.incoming[0];
        assert_eq!(
            (imap.protocol, imap.host.as_str(), imap.port, imap.security),
            (Protocol::Imap, "imap.gmail.com", 993, Security::Tls)
        );
        let smtp = &d.outgoing[0];
        assert_eq!(
            (smtp.protocol, smtp.host.as_str(), smtp.port, smtp.security),
            (Protocol::Smtp, "smtp.gmail.com", 465, Security::Tls)
        );
    }

    #[tokio::test]
    async fn lookalike_domains_match_nothing() {
        for address in [
            "bob@notaol.com",
            "bob@gmail.com.evil.example",
            "bob@mail.gmail.com",
            "bob@aol.com.evil.example",
        ] {
            assert_eq!(detect(CatalogueChoice::Builtin, address).await, None, "{address}");
        }
        assert!(detect(CatalogueChoice::Builtin, "bob@aol.com").await.is_some());
    }

    #[tokio::test]
    async fn a_user_catalogue_extends_or_replaces_the_builtin_one() {
        let user = Arc::new(Catalogue::parse(USER, "user.toml").unwrap());
        let extended = CatalogueChoice::Extend(user.clone());
        assert_eq!(
            detect(extended.clone(), "a@gmail.com").await.unwrap().provider.id,
            "mine",
            "user entries win"
        );
        assert_eq!(detect(extended, "a@yahoo.com").await.unwrap().provider.id, "yahoo");
        let replaced = CatalogueChoice::Replace(user);
        assert_eq!(detect(replaced.clone(), "a@mine.example").await.unwrap().provider.id, "mine");
        assert_eq!(detect(replaced, "a@yahoo.com").await, None);
    }

    #[test]
    fn mx_hosts_of_hosted_domains_are_recognised() {
        let choice = CatalogueChoice::Builtin;
        let id = |host: &str| match_mx_host(&choice, host).map(|m| m.entry.id.clone());
        assert_eq!(id("aspmx.l.google.com.").as_deref(), Some("gmail"));
        assert_eq!(id("alt1.aspmx.l.google.com").as_deref(), Some("gmail"));
        assert_eq!(id("contoso-com.mail.protection.outlook.com").as_deref(), Some("office365"));
        assert_eq!(id("mx.zoho.com").as_deref(), Some("zoho"));
        assert_eq!(id("in1-smtp.messagingengine.com").as_deref(), Some("fastmail"));
        assert_eq!(id("mx01.mail.icloud.com").as_deref(), Some("icloud"));
        assert_eq!(id("aspmx.l.google.com.evil.example"), None);
        assert_eq!(id("mx.example.net"), None);
    }
}
