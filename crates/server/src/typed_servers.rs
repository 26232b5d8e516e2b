//! Which servers a user may type for an address. Typed servers receive the user's password and,
//! once linked, the mailbox's mail, so they must stay inside the address's own mail setup:
//! otherwise anyone could point `victim@their-domain` at a server of their own that accepts
//! every password (and a v3 grant for that address would follow).
//!
//! Under [`TypedServers::SameDomain`] a host is allowed when its registrable domain (by the
//! Public Suffix List, private section included, so `*.amazonaws.com` or a hosting suffix is a
//! domain of its own per customer) is the address's, or when it is one of the servers of the
//! catalogue entry whose MX pattern one of the domain's MX hosts matches (a known mail host's
//! own servers: not any host under its registrable domain, which at a hosting company also
//! names its customers' machines). Offline, or when MX does not answer, only the address's own
//! domain counts. IP literals and `localhost` are never accepted.

use nativeauth::EmailAddress;
use nativeauth::plugin::{has_registrable_domain, is_host_name, registrable_domain};
use nativeauth::providers::catalogue::{CatalogueChoice, match_mx_host};
use serde::Deserialize;

/// The rule for servers the user types (`typed_servers`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TypedServers {
    /// Hosts inside the address's own domain, or the domain of a known mail host its MX
    /// points to (the default).
    #[default]
    SameDomain,
    /// Any host name. Anyone can then point any address at their own servers: only for an
    /// app whose users are all trusted (an internal tool), never for a public sign-in.
    Any,
    /// No typed servers: only what discovery found.
    None,
}

/// Why a typed host was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not a host name: an IP literal, `localhost`, or not a valid name.
    NotAHostName,
    /// A host outside the allowed domains; the address's domain, to name in the message.
    OutsideDomain(String),
    /// Typed servers are turned off.
    TurnedOff,
}

/// The registrable domain `host` belongs to: by the Public Suffix List, or, under a top-level
/// domain the list does not know (`.test`, a company's internal one), by the list's default
/// rule `*` (the last two labels). `None` for a public suffix itself (`github.io`, `co.uk`),
/// which belongs to no one.
fn owner(host: &str) -> Option<String> {
    if has_registrable_domain(host) {
        return Some(registrable_domain(host).to_owned());
    }
    let tld = host.rsplit('.').next()?;
    let tld_known = has_registrable_domain(&format!("x.{tld}"));
    let labels: Vec<&str> = host.split('.').collect();
    (!tld_known && labels.len() >= 2).then(|| labels[labels.len() - 2..].join("."))
}

/// Where a user of an address may point typed servers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Allowed {
    /// Registrable domains any host of which is allowed: the address's own.
    pub(crate) domains: Vec<String>,
    /// Hosts allowed as they are: the servers of the known mail host the domain's MX names.
    pub(crate) hosts: Vec<String>,
}

/// Where a user of `email` may point typed servers.
pub(crate) async fn allowed_domains(
    discovery: &nativeauth::Discovery,
    email: &EmailAddress,
) -> Allowed {
    let domain = email.domain();
    let mut allowed = Allowed { domains: owner(domain).into_iter().collect(), hosts: Vec::new() };
    if discovery.config().is_offline() {
        return allowed;
    }
    let choice = discovery.config().provider_options::<CatalogueChoice>();
    // Discovery asked about MX moments ago: the context's resolver answers from its cache.
    let records = match discovery.context().mx(domain).await {
        Ok(records) => records,
        Err(error) => {
            tracing::debug!(%error, "no MX answer: only the address's own domain is allowed");
            return allowed;
        }
    };
    for record in records {
        let Some(found) = match_mx_host(&choice, &record.exchange) else { continue };
        let detection = found.entry.detection(email, nativeauth::Source::Mx, String::new());
        for server in detection.incoming.iter().chain(&detection.outgoing) {
            let host = server.host.to_ascii_lowercase();
            if !allowed.hosts.contains(&host) {
                allowed.hosts.push(host);
            }
        }
    }
    allowed
}

/// Whether `host` (as typed, trimmed and lowercased by the caller) may be used under `rule`.
pub(crate) fn check(
    rule: TypedServers,
    host: &str,
    email: &EmailAddress,
    allowed: &Allowed,
) -> Result<(), Refusal> {
    if rule == TypedServers::None {
        return Err(Refusal::TurnedOff);
    }
    let bare = host.strip_suffix('.').unwrap_or(host);
    let literal = bare.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>();
    let local = bare == "localhost" || bare.ends_with(".localhost");
    // An all-numeric name is an IPv4 address in another spelling (`2130706433`, `127.1`).
    let numeric = bare.split('.').all(|label| label.bytes().all(|b| b.is_ascii_digit()));
    if literal.is_ok() || local || numeric || !is_host_name(bare) {
        return Err(Refusal::NotAHostName);
    }
    if rule == TypedServers::Any {
        return Ok(());
    }
    if allowed.hosts.iter().any(|known| known == bare) {
        return Ok(());
    }
    match owner(bare) {
        Some(domain) if allowed.domains.contains(&domain) => Ok(()),
        _ => Err(Refusal::OutsideDomain(email.domain().to_owned())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn check_for(host: &str, email: &str, allowed: &[&str]) -> Result<(), Refusal> {
        let email = EmailAddress::parse(email).unwrap();
        let allowed = Allowed {
            domains: allowed.iter().map(|s| (*s).to_owned()).collect(),
            hosts: vec!["imap.mail.me.com".into()],
        };
        check(TypedServers::SameDomain, host, &email, &allowed)
    }

    #[test]
    fn a_known_mail_hosts_servers_are_allowed_as_they_are() {
        assert_eq!(check_for("imap.mail.me.com", "cfo@northbeam-corp.com", &[]), Ok(()));
        assert_eq!(
            check_for("IMAP.mail.me.com.".to_lowercase().as_str(), "cfo@northbeam-corp.com", &[]),
            Ok(())
        );
        let outside = Err(Refusal::OutsideDomain("northbeam-corp.com".into()));
        assert_eq!(check_for("evil.mail.me.com", "cfo@northbeam-corp.com", &[]), outside);
        assert_eq!(check_for("evil.me.com", "cfo@northbeam-corp.com", &[]), outside);
    }

    #[test]
    fn hosts_stay_inside_the_address_domain() {
        let own = ["northbeam-corp.com"];
        assert_eq!(check_for("imap.northbeam-corp.com", "cfo@northbeam-corp.com", &own), Ok(()));
        assert_eq!(check_for("northbeam-corp.com", "cfo@northbeam-corp.com", &own), Ok(()));
        let outside = Err(Refusal::OutsideDomain("northbeam-corp.com".into()));
        assert_eq!(check_for("imap.attacker-mail.net", "cfo@northbeam-corp.com", &own), outside);
        assert_eq!(
            check_for("northbeam-corp.com.evil.net", "cfo@northbeam-corp.com", &own),
            outside
        );
        for literal in
            ["127.0.0.1", "[::1]", "::1", "localhost", "imap.localhost", "2130706433", "127.1"]
        {
            assert_eq!(
                check_for(literal, "cfo@northbeam-corp.com", &own),
                Err(Refusal::NotAHostName),
                "{literal}"
            );
        }
        assert_eq!(
            check_for("a/b.northbeam-corp.com", "cfo@northbeam-corp.com", &own),
            Err(Refusal::NotAHostName)
        );
    }

    #[test]
    fn a_hosting_suffix_is_a_domain_per_customer() {
        // Under the PSL's private section, each name under a hosting suffix is its own domain.
        let allowed = [registrable_domain("shop.github.io").to_owned()];
        assert_eq!(allowed[0], "shop.github.io");
        assert!(check_for("mail.shop.github.io", "ann@shop.github.io", &[&allowed[0]]).is_ok());
        assert!(check_for("attacker.github.io", "ann@shop.github.io", &[&allowed[0]]).is_err());
        assert!(check_for("github.io", "ann@shop.github.io", &[&allowed[0]]).is_err());
        let bucket = registrable_domain("victim.s3.amazonaws.com");
        assert_ne!(bucket, "amazonaws.com");
    }

    #[test]
    fn owners_follow_the_list_and_its_default_rule() {
        assert_eq!(owner("imap.mail.example.co.uk").as_deref(), Some("example.co.uk"));
        assert_eq!(owner("imap.verify.test").as_deref(), Some("verify.test"));
        assert_eq!(owner("verify.test").as_deref(), Some("verify.test"));
        assert_eq!(owner("co.uk"), None);
        assert_eq!(owner("github.io"), None);
        assert_eq!(owner("test"), None);
    }

    #[test]
    fn any_and_none_are_explicit() {
        let email = EmailAddress::parse("cfo@northbeam-corp.com").unwrap();
        let none = Allowed::default();
        assert_eq!(check(TypedServers::Any, "imap.elsewhere.net", &email, &none), Ok(()));
        assert_eq!(
            check(TypedServers::Any, "127.0.0.1", &email, &none),
            Err(Refusal::NotAHostName)
        );
        let own = Allowed { domains: vec!["northbeam-corp.com".into()], hosts: Vec::new() };
        assert_eq!(
            check(TypedServers::None, "imap.northbeam-corp.com", &email, &own),
            Err(Refusal::TurnedOff)
        );
    }
}
