//! The `imap` provider: any IMAP/SMTP service that publishes its settings — or, as the last
//! resort, whose guessed servers answer a probe.
//!
//! Its sources run at once, and the best-ranked answer wins as soon as it is known
//! (the `priority` module):
//! 1. the domain's own autoconfig over https (`autoconfig.<d>`, then `/.well-known/`) — verified;
//! 2. the autoconfig of the domain that hosts its MX (host minus first label, then the
//!    registrable base) — unverified (the link came from DNS); with `allow_http`, the domain's
//!    own autoconfig over plain http — unverified;
//! 3. the ISPDB entry of the domain — verified; then of the MX host's domains — unverified;
//! 4. DNS SRV records (RFC 6186) — unverified.
//!
//! Only when none of them answers: guessed host names (`imap.<d>`, `mail.<d>`, `<d>`;
//! `smtp.<d>`, `mail.<d>`, `<d>`) on 993/143 and 465/587, probed concurrently and staggered,
//! with verified TLS and no credentials — unverified.
//!
//! Every answer maps to Nylas provider `imap` with full server settings.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod autoconfig;
mod login;
mod mx_domains;
mod options;
mod priority;
pub mod probe;
mod session;
mod srv;

use priority::{Alternative, first_by_class, first_by_priority};
use std::sync::Mutex;
use std::time::Duration;

use nativeauth_core::plugin::{
    DiscoveryContext, ProviderPlugin, async_trait, inventory, registrable_domain,
    same_registrable_domain,
};
use nativeauth_core::{
    AuthHint, AuthMethod, AutoconfigOrigin, Detection, EmailAddress, NylasProvider, Outcome,
    Protocol, Provider, ProviderInfo, Security, Server, Source, SourceError, Trust, Url,
    UsernameTemplate,
};

use crate::autoconfig::{FoundConfig, fetch_config, ispdb_url, subdomain_url, well_known_url};
pub use crate::login::{
    LoginCheck, LoginCheckError, LoginCheckKind, check_login, classify_refusal,
};
pub use crate::mx_domains::{MxDomains, mx_domains};
pub use crate::options::{DEFAULT_ISPDB_URL, ImapOptions, ProbePorts};
use crate::probe::{ProbeTarget, Prober};
pub use crate::srv::{SrvServers, srv_servers};

/// The provider id.
pub const ID: &str = "imap";

/// Delay between the starts of two probes (happy-eyeballs style: the preferred candidate gets
/// a head start, the others follow quickly instead of waiting for it to time out).
const PROBE_STAGGER: Duration = Duration::from_millis(25);

/// Finds IMAP/SMTP settings for any domain that publishes them.
#[derive(Debug, Default, Clone, Copy)]
pub struct ImapProvider;

inventory::submit! {
    ProviderPlugin { rank: 100, make: || Box::new(ImapProvider) }
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
            Err(error) if error.is_refused() => {
                self.refused.get_or_insert(error);
                None
            }
            Err(error) => {
                self.first_error.get_or_insert(error);
                None
            }
        }
    }

    fn finish(self) -> Result<Vec<Detection>, SourceError> {
        if let Some(refused) = self.refused {
            return Err(refused);
        }
        match self.first_error {
            Some(error) if !self.answered => Err(error),
            _ => Ok(Vec::new()),
        }
    }
}

/// Everything one run of the provider shares.
struct Run<'a> {
    email: &'a EmailAddress,
    ctx: &'a DiscoveryContext,
    options: &'a ImapOptions,
    attempts: Mutex<Attempts>,
}

impl Run<'_> {
    fn note<T>(&self, result: Result<Option<T>, SourceError>) -> Option<T> {
        self.attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).note(result)
    }

    /// One autoconfig URL → a detection with the given source and trust (https hops decide).
    async fn autoconfig(
        &self,
        source_name: &str,
        url: Option<Url>,
        source: Source,
        trust: Trust,
    ) -> Option<Detection> {
        let url = url?;
        let allow_http = url.scheme() == "http";
        let found = usable(self.note(fetch_config(self.ctx, source_name, &url, allow_http).await))?;
        let trust = if found.https_end_to_end { trust } else { Trust::Unverified };
        Some(detection(self.email, &found, source, trust))
    }

    async fn mx_domains(&self) -> Option<MxDomains> {
        let domain = self.email.domain();
        let first = self.note(self.ctx.primary_mx(domain).await)?;
        mx_domains(&first.exchange, domain)
    }

    /// The autoconfig of the MX host's domains, most specific first.
    async fn mx_autoconfig(&self) -> Option<Detection> {
        let derived = self.mx_domains().await?;
        let ports = self.ctx.config().url_ports();
        for domain in derived.candidates() {
            let url = subdomain_url(domain, self.email, true, ports);
            let source = Source::Autoconfig(AutoconfigOrigin::MxDomain);
            if let Some(found) = self.autoconfig("autoconfig", url, source, Trust::Unverified).await
            {
                return Some(found);
            }
        }
        None
    }

    /// The ISPDB entry of the MX host's domains.
    async fn mx_ispdb(&self) -> Option<Detection> {
        let base = self.options.ispdb_url.clone()?;
        let derived = self.mx_domains().await?;
        for domain in derived.candidates() {
            let url = ispdb_url(&base, domain);
            if let Some(found) =
                self.autoconfig("ispdb", url, Source::MxIspdb, Trust::Unverified).await
            {
                return Some(found);
            }
        }
        None
    }

    async fn srv(&self) -> Option<Detection> {
        let domain = self.email.domain();
        let timer = self.ctx.timer("srv", domain);
        let servers = match srv_servers(self.ctx, domain).await {
            Ok(servers) => servers,
            Err(error) => {
                timer.finish(Outcome::Error, &error.to_string());
                self.note::<()>(Err(error));
                return None;
            }
        };
        self.note::<()>(Ok(None));
        if servers.incoming.is_empty() || servers.outgoing.is_empty() {
            timer.finish(Outcome::Nothing, "no usable incoming and outgoing SRV pair");
            return None;
        }
        timer.finish(Outcome::Found, "IMAP/POP3 and submission announced by SRV");
        let mut notes = vec![
            "found through DNS SRV records without DNSSEC: confirm the servers with the user"
                .to_owned(),
        ];
        notes.extend(foreign_hosts_note(
            self.email,
            servers.incoming.iter().chain(&servers.outgoing).map(|s| s.host.as_str()),
        ));
        let provider = ProviderInfo::new(domain, domain, NylasProvider::Imap);
        let evidence = format!("SRV records of {domain}");
        Some(
            Detection::new(provider, Source::Srv, Trust::Unverified, evidence)
                .with_servers(servers.incoming, servers.outgoing)
                .with_notes(notes),
        )
    }

    /// The last resort: probe guessed servers, staggered, and keep the best that answers per
    /// direction.
    async fn guess(&self) -> Option<Detection> {
        let domain = self.email.domain();
        let ports = self.options.probe_ports;
        let hosts = |first: &str| {
            [format!("{first}.{domain}"), format!("mail.{domain}"), domain.to_owned()]
        };
        let mut incoming = Vec::new();
        for host in hosts("imap") {
            incoming.push((host.clone(), ports.imaps, Protocol::Imap, Security::Tls));
            incoming.push((host, ports.imap, Protocol::Imap, Security::StartTls));
        }
        let mut outgoing = Vec::new();
        for host in hosts("smtp") {
            outgoing.push((host.clone(), ports.submissions, Protocol::Smtp, Security::Tls));
            outgoing.push((host, ports.submission, Protocol::Smtp, Security::StartTls));
        }
        // Names that do not resolve are dropped at once: one concurrent round of (memoised)
        // lookups instead of a probe each.
        let mut names: Vec<String> = hosts("imap").into_iter().chain(hosts("smtp")).collect();
        names.sort_unstable();
        names.dedup();
        let lookups = names.iter().map(|name| async move {
            let resolves = self.ctx.ips(name).await.is_ok_and(|ips| !ips.is_empty());
            resolves.then(|| name.clone())
        });
        let resolving: Vec<String> =
            futures_util::future::join_all(lookups).await.into_iter().flatten().collect();
        incoming.retain(|(host, ..)| resolving.contains(host));
        outgoing.retain(|(host, ..)| resolving.contains(host));
        if incoming.is_empty() || outgoing.is_empty() {
            return None;
        }
        let (imap, smtp) =
            futures_util::future::join(self.probe_all(incoming), self.probe_all(outgoing)).await;
        let (imap, smtp) = (imap?, smtp?);
        let mut notes = vec![
            "guessed and probed (no credentials sent): confirm the servers with the user"
                .to_owned(),
        ];
        notes.extend(foreign_hosts_note(
            self.email,
            [imap.host.as_str(), smtp.host.as_str()].into_iter(),
        ));
        let provider = ProviderInfo::new(domain, domain, NylasProvider::Imap);
        let evidence = format!("probed {} and {}", imap.address(), smtp.address());
        Some(
            Detection::new(provider, Source::Guess, Trust::Unverified, evidence)
                .with_servers(vec![imap], vec![smtp])
                .with_notes(notes),
        )
    }

    async fn probe_all(
        &self,
        candidates: Vec<(String, u16, Protocol, Security)>,
    ) -> Option<Server> {
        let Ok(prober) = Prober::new(self.ctx, self.options.probe_timeout) else { return None };
        let prober = &prober;
        let alternatives: Vec<Alternative<'_, Server>> = candidates
            .into_iter()
            .enumerate()
            .map(|(index, (host, port, protocol, security))| {
                let delay = PROBE_STAGGER * u32::try_from(index).unwrap_or(u32::MAX);
                let ctx = self.ctx;
                Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    let target = ProbeTarget { host: host.clone(), port, protocol, security };
                    let timer = ctx.timer("guess", &format!("{protocol} {host}:{port} {security}"));
                    match prober.probe(&target).await {
                        Ok(report) => {
                            timer.finish(
                                Outcome::Found,
                                &format!(
                                    "answered at {}; {}",
                                    report.addr,
                                    report.capabilities.join(" ")
                                ),
                            );
                            Some(Server {
                                protocol,
                                host,
                                port,
                                security,
                                username: UsernameTemplate::email_address(),
                                auth: vec![AuthMethod::PasswordCleartext],
                            })
                        }
                        Err(error) => {
                            timer.finish(Outcome::Nothing, &error.to_string());
                            None
                        }
                    }
                }) as Alternative<'_, Server>
            })
            .collect();
        first_by_priority(alternatives).await.into_iter().next()
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
    ) -> Result<Vec<Detection>, SourceError> {
        let options = ctx.options::<ImapOptions>();
        let run = Run { email, ctx, options: &options, attempts: Mutex::new(Attempts::default()) };
        let domain = email.domain();
        let ports = ctx.config().url_ports();
        // Rank classes, best first. Within a class the sources have equal authority (the
        // domain's owner over https at autoconfig.<d> and at <d>/.well-known), so the first
        // valid answer wins and a dead server never holds up the other.
        const OWN_HTTPS: usize = 0;
        const OWN_HTTP: usize = 1;
        const ISPDB: usize = 2;
        const MX_DERIVED: usize = 3;
        const SRV: usize = 4;
        let mut alternatives: Vec<(usize, Alternative<'_, Detection>)> = Vec::new();
        for (https, trust, class) in
            [(true, Trust::Verified, OWN_HTTPS), (false, Trust::Unverified, OWN_HTTP)]
        {
            if !https && !options.allow_http {
                continue;
            }
            alternatives.push((
                class,
                Box::pin(run.autoconfig(
                    "autoconfig",
                    subdomain_url(domain, email, https, ports),
                    Source::Autoconfig(AutoconfigOrigin::Subdomain),
                    trust,
                )),
            ));
            alternatives.push((
                class,
                Box::pin(run.autoconfig(
                    "autoconfig",
                    well_known_url(domain, email, https, ports),
                    Source::Autoconfig(AutoconfigOrigin::WellKnown),
                    trust,
                )),
            ));
        }
        if let Some(base) = &options.ispdb_url {
            alternatives.push((
                ISPDB,
                Box::pin(run.autoconfig(
                    "ispdb",
                    ispdb_url(base, domain),
                    Source::Ispdb,
                    Trust::Verified,
                )),
            ));
        }
        alternatives.push((MX_DERIVED, Box::pin(run.mx_autoconfig())));
        alternatives.push((MX_DERIVED, Box::pin(run.mx_ispdb())));
        alternatives.push((SRV, Box::pin(run.srv())));
        let found = first_by_class(alternatives).await;
        if !found.is_empty() {
            return Ok(found);
        }
        if options.guess {
            if let Some(found) = run.guess().await {
                return Ok(vec![found]);
            }
        }
        run.attempts.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner).finish()
    }
}

/// A found document counts only when it has an incoming and an outgoing server.
fn usable(found: Option<FoundConfig>) -> Option<FoundConfig> {
    found.filter(|f| !f.document.incoming.is_empty() && !f.document.outgoing.is_empty())
}

fn detection(email: &EmailAddress, found: &FoundConfig, source: Source, trust: Trust) -> Detection {
    let doc = &found.document;
    let incoming: Vec<_> = doc.incoming.iter().map(|s| s.to_server(email)).collect();
    let outgoing: Vec<_> = doc.outgoing.iter().map(|s| s.to_server(email)).collect();
    let oauth_only = incoming.iter().chain(&outgoing).all(|s| s.auth == [AuthMethod::OAuth2]);
    let mut notes = Vec::new();
    if trust == Trust::Unverified {
        notes.push(match source {
            Source::Autoconfig(AutoconfigOrigin::MxDomain) | Source::MxIspdb => {
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
    let name = doc.name().map_or_else(|| id.clone(), str::to_owned);
    // The evidence is cached per domain: no query string (it carries the address).
    let mut url: Url = found.url.clone();
    url.set_query(None);
    Detection::new(
        ProviderInfo::new(id, name, NylasProvider::Imap),
        source,
        trust,
        format!("{source} at {url}"),
    )
    .with_servers(incoming, outgoing)
    .with_auth_hint(if oauth_only { AuthHint::OAuth2 } else { AuthHint::Password })
    .with_notes(notes)
}

/// Servers outside the user's registrable domain are worth a note: the user may not expect
/// their password to go to another company's servers.
fn foreign_hosts_note<'a>(
    email: &EmailAddress,
    hosts: impl Iterator<Item = &'a str>,
) -> Option<String> {
    let own = registrable_domain(email.domain());
    let mut foreign: Vec<&str> = hosts.filter(|host| !same_registrable_domain(host, own)).collect();
    foreign.sort_unstable();
    foreign.dedup();
    (!foreign.is_empty()).then(|| format!("servers outside {own}: {}", foreign.join(", ")))
}
