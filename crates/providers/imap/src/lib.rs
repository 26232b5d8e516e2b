//! The `imap` provider: any IMAP/SMTP service that publishes its settings.
//!
//! It tries, in rank order, and answers with the first that yields servers:
//! 1. the domain's own autoconfig over https (`autoconfig.<d>`, then `/.well-known/`) —
//!    verified; with `allow_http`, the same over plain http — unverified;
//! 2. the ISPDB entry of the domain — verified (https end to end);
//! 3. the autoconfig and ISPDB entries of the domain that hosts its MX (the MX host minus its
//!    first label, then the registrable base domain) — unverified (the link came from DNS);
//! 4. DNS SRV records (RFC 6186) — unverified.
//!
//! Every answer maps to Nylas provider `imap` with full server settings.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use nativeauth_core::model::{AuthMethod, Outcome, ProviderInfo};
use nativeauth_core::sources::autoconfig::{
    AutoconfigDocument, FoundConfig, fetch_config, ispdb_url, subdomain_url, well_known_url,
};
use nativeauth_core::sources::mx::mx_domains;
use nativeauth_core::sources::srv::srv_servers;
use nativeauth_core::{
    AuthHint, AutoconfigOrigin, Detection, DiscoveryContext, EmailAddress, NylasProvider, Provider,
    ProviderPlugin, Source, SourceError, Trust, async_trait, inventory,
};

/// The provider id.
pub const ID: &str = "imap";

/// Finds IMAP/SMTP settings for any domain that publishes them.
#[derive(Debug, Default, Clone, Copy)]
pub struct ImapProvider;

inventory::submit! {
    ProviderPlugin { id: ID, rank: 100, make: || Box::new(ImapProvider) }
}

/// Collects failures so that the provider reports an error only when nothing answered — or
/// when a target was refused by the address guard, which the report must show.
#[derive(Default)]
struct Attempts {
    answered: bool,
    first_error: Option<SourceError>,
    refused: Option<SourceError>,
}

impl Attempts {
    fn note<T>(&mut self, result: Result<Option<T>, SourceError>) -> Option<T> {
        match result {
            Ok(found) => {
                self.answered = true;
                found
            }
            Err(error @ SourceError::Refused { .. }) => {
                self.refused.get_or_insert(error);
                None
            }
            Err(error) => {
                self.first_error.get_or_insert(error);
                None
            }
        }
    }

    fn finish(self) -> Result<Option<Detection>, SourceError> {
        if let Some(refused) = self.refused {
            return Err(refused);
        }
        match self.first_error {
            Some(error) if !self.answered => Err(error),
            _ => Ok(None),
        }
    }
}

#[async_trait]
impl Provider for ImapProvider {
    fn id(&self) -> &'static str {
        ID
    }

    fn best_possible_source(&self) -> Source {
        Source::Autoconfig(AutoconfigOrigin::Subdomain)
    }

    async fn detect(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Option<Detection>, SourceError> {
        if ctx.is_offline() {
            return Ok(None);
        }
        let domain = email.domain();
        let config = ctx.config();
        let ports = config.url_ports();
        let mut attempts = Attempts::default();

        // 1. The domain's own autoconfig.
        let mut own = vec![
            (AutoconfigOrigin::Subdomain, subdomain_url(domain, email, true, ports)),
            (AutoconfigOrigin::WellKnown, well_known_url(domain, email, true, ports)),
        ];
        if config.allows_http() {
            own.push((AutoconfigOrigin::Subdomain, subdomain_url(domain, email, false, ports)));
            own.push((AutoconfigOrigin::WellKnown, well_known_url(domain, email, false, ports)));
        }
        for (origin, url) in own {
            let Some(url) = url else { continue };
            let found =
                attempts.note(fetch_config(ctx, "autoconfig", &url, config.allows_http()).await);
            if let Some(found) = usable(found) {
                let trust =
                    if found.https_end_to_end { Trust::Verified } else { Trust::Unverified };
                return Ok(Some(detection(email, &found, Source::Autoconfig(origin), trust)));
            }
        }

        // 2. The ISPDB entry of the domain.
        if let Some(base) = config.ispdb_url() {
            if let Some(url) = ispdb_url(base, domain) {
                let found = attempts.note(fetch_config(ctx, "ispdb", &url, false).await);
                if let Some(found) = usable(found) {
                    return Ok(Some(detection(email, &found, Source::Ispdb, Trust::Verified)));
                }
            }
        }

        // 3. Where the MX points.
        let mx = attempts.note(ctx.mx(domain).await.map(Some)).unwrap_or_default();
        if let Some(derived) =
            mx.iter().find(|r| !r.exchange.is_empty()).and_then(|r| mx_domains(&r.exchange, domain))
        {
            let candidates = derived.candidates();
            for mx_domain in &candidates {
                if let Some(url) = subdomain_url(mx_domain, email, true, ports) {
                    let found = attempts.note(fetch_config(ctx, "autoconfig", &url, false).await);
                    if let Some(found) = usable(found) {
                        let source = Source::Autoconfig(AutoconfigOrigin::MxDomain);
                        return Ok(Some(detection(email, &found, source, Trust::Unverified)));
                    }
                }
            }
            if let Some(base) = config.ispdb_url() {
                for mx_domain in &candidates {
                    let Some(url) = ispdb_url(base, mx_domain) else { continue };
                    let found = attempts.note(fetch_config(ctx, "ispdb", &url, false).await);
                    if let Some(found) = usable(found) {
                        return Ok(Some(detection(
                            email,
                            &found,
                            Source::Ispdb,
                            Trust::Unverified,
                        )));
                    }
                }
            }
        }

        // 4. SRV records.
        let timer = ctx.timer("srv", domain);
        match srv_servers(ctx, domain).await {
            Ok(servers) if !servers.incoming.is_empty() && !servers.outgoing.is_empty() => {
                timer.finish(Outcome::Found, "IMAP/POP3 and submission announced by SRV");
                let mut notes = vec![
                    "found through DNS SRV records without DNSSEC: confirm the servers with the user"
                        .to_owned(),
                ];
                notes.extend(foreign_hosts_note(
                    email,
                    servers.incoming.iter().chain(&servers.outgoing).map(|s| s.host.as_str()),
                ));
                return Ok(Some(Detection {
                    provider: ProviderInfo {
                        id: domain.to_owned(),
                        name: domain.to_owned(),
                        nylas: NylasProvider::Imap,
                    },
                    incoming: servers.incoming,
                    outgoing: servers.outgoing,
                    exchange: None,
                    auth_hint: AuthHint::Password,
                    source: Source::Srv,
                    trust: Trust::Unverified,
                    evidence: format!("SRV records of {domain}"),
                    notes,
                }));
            }
            Ok(_) => {
                attempts.answered = true;
                timer.finish(Outcome::Nothing, "no usable incoming and outgoing SRV pair");
            }
            Err(error) => {
                timer.finish(Outcome::Error, &error.to_string());
                attempts.first_error.get_or_insert(error);
            }
        }
        attempts.finish()
    }
}

/// A found document counts only when it has an incoming and an outgoing server.
fn usable(found: Option<FoundConfig>) -> Option<FoundConfig> {
    found.filter(|f| !f.document.incoming.is_empty() && !f.document.outgoing.is_empty())
}

fn detection(email: &EmailAddress, found: &FoundConfig, source: Source, trust: Trust) -> Detection {
    let doc: &AutoconfigDocument = &found.document;
    let incoming: Vec<_> = doc.incoming.iter().map(|s| s.to_server(email)).collect();
    let outgoing: Vec<_> = doc.outgoing.iter().map(|s| s.to_server(email)).collect();
    let oauth_only = incoming.iter().chain(&outgoing).all(|s| s.auth == [AuthMethod::OAuth2]);
    let mut notes = Vec::new();
    if trust == Trust::Unverified {
        notes.push(match source {
            Source::Autoconfig(AutoconfigOrigin::MxDomain) | Source::Ispdb => {
                "found through the domain's MX host (DNS without DNSSEC): confirm the servers with the user".to_owned()
            }
            _ => "fetched over plain http: confirm the servers with the user".to_owned(),
        });
    }
    notes.extend(foreign_hosts_note(
        email,
        incoming.iter().chain(&outgoing).map(|s| s.host.as_str()),
    ));
    let id = doc.provider_id.clone().unwrap_or_else(|| email.domain().to_owned());
    Detection {
        provider: ProviderInfo {
            name: doc.name().map_or_else(|| id.clone(), str::to_owned),
            id,
            nylas: NylasProvider::Imap,
        },
        incoming,
        outgoing,
        exchange: None,
        auth_hint: if oauth_only { AuthHint::OAuth2 } else { AuthHint::Password },
        source,
        trust,
        evidence: format!("{} at {}", source, found.url),
        notes,
    }
}

/// Security rule 8: say so when the servers are outside the user's registrable domain.
fn foreign_hosts_note<'a>(
    email: &EmailAddress,
    hosts: impl Iterator<Item = &'a str>,
) -> Option<String> {
    let own = psl::domain_str(email.domain()).unwrap_or(email.domain());
    let mut foreign: Vec<&str> = hosts
        .filter(|host| {
            let base = psl::domain_str(host).unwrap_or(host);
            !base.eq_ignore_ascii_case(own)
        })
        .collect();
    foreign.sort_unstable();
    foreign.dedup();
    (!foreign.is_empty()).then(|| format!("servers outside {own}: {}", foreign.join(", ")))
}
