//! The catalogue file: its schema (documented on the crate), loader, MX patterns and
//! suggestions.

mod error;
mod load;
mod pattern;
mod schema;
mod suggest;

use std::collections::HashMap;
use std::path::Path;

pub use error::{CatalogueError, Position, Problem, ProblemKind};
pub use pattern::{MxPattern, PatternError, check_domain};

pub use nativeauth_core::plugin::ServerSpec;
use nativeauth_core::{
    AuthHint, Detection, EmailAddress, NylasProvider, ProviderInfo, RequiredStep, Source, Trust,
};

/// One provider of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// Unique id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The Nylas provider value.
    pub nylas: NylasProvider,
    /// What the login page must ask for.
    pub auth: AuthHint,
    /// Exact domains and `*.` wildcards.
    pub domains: Vec<String>,
    /// MX host patterns.
    pub mx: Vec<MxPattern>,
    /// Advice for the login page.
    pub notes: Vec<String>,
    /// A link to the provider's own instructions.
    pub documentation: Option<String>,
    /// Where users create an app password, for providers that want one.
    pub app_password_url: Option<String>,
    /// What the user must do at the provider before signing in, in order.
    pub requires: Vec<RequiredStep>,
    /// Incoming servers, preferred first.
    pub incoming: Vec<ServerSpec>,
    /// Outgoing servers, preferred first.
    pub outgoing: Vec<ServerSpec>,
}

impl CatalogueEntry {
    /// The detection this entry gives for `email`.
    pub fn detection(&self, email: &EmailAddress, source: Source, evidence: String) -> Detection {
        Detection {
            provider: ProviderInfo {
                id: self.id.clone(),
                name: self.name.clone(),
                nylas: self.nylas,
                documentation: self.documentation.clone(),
                app_password_url: self.app_password_url.clone(),
            },
            incoming: self.incoming.iter().map(|s| s.to_server(email)).collect(),
            outgoing: self.outgoing.iter().map(|s| s.to_server(email)).collect(),
            exchange: None,
            auth_hint: self.auth,
            source,
            trust: Trust::Verified,
            evidence,
            notes: self.notes.clone(),
            requires: self.requires.clone(),
        }
    }
}

/// What a mail gateway does with a domain's mail before it reaches the mailbox host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum GatewayKind {
    /// A filtering gateway (spam, malware) in front of the real mail host.
    Filter,
    /// A forwarding service: the mailbox is somewhere else entirely.
    Forwarding,
}

impl GatewayKind {
    /// The words the trace uses (`filtering gateway`, `forwarding service`).
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Filter => "filtering gateway",
            Self::Forwarding => "forwarding service",
        }
    }
}

/// A service whose MX hosts receive a domain's mail but do not hold its mailboxes: its MX says
/// nothing about where the user signs in, so discovery goes on with the domain's own sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// The vendor or service (`Proofpoint`).
    pub name: String,
    /// Filtering or forwarding.
    pub kind: GatewayKind,
    /// Its MX host patterns.
    pub mx: Vec<MxPattern>,
    /// A link to the vendor's documentation of these MX hosts.
    pub documentation: Option<String>,
}

/// A gateway match: the gateway and the pattern that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayMatch<'a> {
    /// The matching gateway.
    pub gateway: &'a Gateway,
    /// The pattern that matched.
    pub pattern: &'a MxPattern,
}

/// A domain match: the entry and the rule (domain or wildcard) that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainMatch<'a> {
    /// The matching entry.
    pub entry: &'a CatalogueEntry,
    /// The catalogue domain that matched (`gmail.com` or `*.example.com`).
    pub rule: &'a str,
}

/// An MX match: the entry and the pattern that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MxMatch<'a> {
    /// The matching entry.
    pub entry: &'a CatalogueEntry,
    /// The pattern that matched.
    pub pattern: &'a MxPattern,
}

/// A loaded, validated and indexed catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    origin: String,
    entries: Vec<CatalogueEntry>,
    gateways: Vec<Gateway>,
    /// The domains users type most, most popular first.
    popular: Vec<String>,
    /// Exact domain → (entry index, index in the entry's domains).
    exact: HashMap<Box<str>, (usize, usize)>,
    /// Suffix of a `*.suffix` wildcard → (entry index, index in the entry's domains).
    wildcard: HashMap<Box<str>, (usize, usize)>,
}

impl Catalogue {
    /// Parses and validates catalogue text. `origin` names it in error messages (a file name).
    ///
    /// # Errors
    /// [`CatalogueError::Invalid`] listing every problem with its line and column.
    pub fn parse(text: &str, origin: &str) -> Result<Self, CatalogueError> {
        let parsed = load::parse(text, origin)?;
        Ok(Self::from_entries(origin, parsed.entries, parsed.gateways, parsed.popular))
    }

    /// Reads and parses a catalogue file.
    ///
    /// # Errors
    /// [`CatalogueError::Io`] when the file cannot be read, otherwise as [`Catalogue::parse`].
    pub fn load_file(path: &Path) -> Result<Self, CatalogueError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| CatalogueError::Io { path: path.to_owned(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// A catalogue with no entries.
    pub fn empty() -> Self {
        Self::from_entries("(empty)", Vec::new(), Vec::new(), Vec::new())
    }

    fn from_entries(
        origin: &str,
        entries: Vec<CatalogueEntry>,
        gateways: Vec<Gateway>,
        popular: Vec<String>,
    ) -> Self {
        let mut exact = HashMap::new();
        let mut wildcard = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            for (position, domain) in entry.domains.iter().enumerate() {
                match domain.strip_prefix("*.") {
                    Some(suffix) => wildcard.insert(suffix.into(), (index, position)),
                    None => exact.insert(domain.as_str().into(), (index, position)),
                };
            }
        }
        Self { origin: origin.to_owned(), entries, gateways, popular, exact, wildcard }
    }

    /// Where the catalogue came from (a file name, or `built-in`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[CatalogueEntry] {
        &self.entries
    }

    /// Every gateway, in file order.
    pub fn gateways(&self) -> &[Gateway] {
        &self.gateways
    }

    /// The entry with this id.
    pub fn entry(&self, id: &str) -> Option<&CatalogueEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// How many domains (exact and wildcard) the catalogue knows.
    pub fn domain_count(&self) -> usize {
        self.exact.len() + self.wildcard.len()
    }

    /// The entry for a domain (lowercase ASCII, as [`EmailAddress::domain`] gives it): an exact
    /// match first, then the most specific `*.` wildcard.
    pub fn lookup(&self, domain: &str) -> Option<DomainMatch<'_>> {
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        let hit = self.exact.get(domain).or_else(|| {
            // Each proper suffix that starts after a dot, longest first, so that
            // `*.a.example.com` beats `*.example.com`.
            domain.match_indices('.').find_map(|(dot, _)| self.wildcard.get(&domain[dot + 1..]))
        });
        hit.map(|&(index, position)| {
            let entry = &self.entries[index];
            DomainMatch { entry, rule: &entry.domains[position] }
        })
    }

    /// The popular domains, most popular first (the top-level `popular` list).
    pub fn popular_domains(&self) -> &[String] {
        &self.popular
    }

    /// The popular domain `domain` is most likely a typo of (`gmial.com` → `gmail.com`):
    /// within a Damerau–Levenshtein distance of 1, or 2 for longer names, the closest and then
    /// the most popular wins. `None` for a popular domain itself.
    pub fn suggest(&self, domain: &str) -> Option<&str> {
        suggest::closest(domain, self.popular.iter().map(String::as_str))
    }

    /// The entry whose MX pattern matches `host` (an MX target; any case, trailing dot allowed).
    /// Callers pass the most preferred MX host (lowest preference value).
    pub fn match_mx_host(&self, host: &str) -> Option<MxMatch<'_>> {
        self.entries.iter().find_map(|entry| {
            entry.mx.iter().find(|p| p.matches(host)).map(|pattern| MxMatch { entry, pattern })
        })
    }

    /// The gateway whose MX pattern matches `host` (any case, trailing dot allowed): mail for
    /// the domain passes through it, and the mailbox is elsewhere.
    pub fn match_gateway(&self, host: &str) -> Option<GatewayMatch<'_>> {
        self.gateways.iter().find_map(|gateway| {
            let pattern = gateway.mx.iter().find(|p| p.matches(host))?;
            Some(GatewayMatch { gateway, pattern })
        })
    }
}

#[cfg(test)]
mod tests;
