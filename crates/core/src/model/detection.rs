//! A detection: one candidate answer to "who hosts this mailbox, and with which settings",
//! together with how it was found and how far it can be trusted.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{EmailAddress, Server};

/// The `provider` value of the Nylas `/connect/authorize` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NylasProvider {
    /// Google (gmail.com and Google Workspace): OAuth.
    Gmail,
    /// Yahoo Mail: app password.
    Yahoo,
    /// AOL Mail: app password.
    Aol,
    /// iCloud Mail: app-specific password.
    Icloud,
    /// Hotmail (consumer Microsoft).
    Hotmail,
    /// Outlook.com (consumer Microsoft).
    Outlook,
    /// Microsoft 365: OAuth.
    Office365,
    /// On-premises Exchange (EAS/EWS).
    Exchange,
    /// Any other IMAP/SMTP service.
    Imap,
}

impl NylasProvider {
    /// Every value, in the order the API documents them.
    pub const ALL: [Self; 9] = [
        Self::Gmail,
        Self::Yahoo,
        Self::Exchange,
        Self::Outlook,
        Self::Imap,
        Self::Icloud,
        Self::Hotmail,
        Self::Aol,
        Self::Office365,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gmail => "gmail",
            Self::Yahoo => "yahoo",
            Self::Aol => "aol",
            Self::Icloud => "icloud",
            Self::Hotmail => "hotmail",
            Self::Outlook => "outlook",
            Self::Office365 => "office365",
            Self::Exchange => "exchange",
            Self::Imap => "imap",
        }
    }

    /// Whether the connect API links this provider's accounts only with an OAuth refresh
    /// token, never a password: Google, Microsoft 365, and Outlook.com and Hotmail (Microsoft
    /// turned password sign-in off for them). The same set in v2 and v3.
    pub const fn requires_oauth(self) -> bool {
        matches!(self, Self::Gmail | Self::Office365 | Self::Outlook | Self::Hotmail)
    }
}

impl fmt::Display for NylasProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the login page must ask the user for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthHint {
    /// The account password.
    Password,
    /// A password generated in the provider's security settings, not the account password.
    AppPassword,
    /// No password field: the user signs in at the provider (OAuth 2.0).
    #[serde(rename = "oauth2")]
    OAuth2,
    /// The provider gives other apps no IMAP/SMTP access (end-to-end encrypted services, or
    /// access only through a program on the user's own computer): nothing to ask for; the
    /// notes say what the user can do.
    Unsupported,
}

impl AuthHint {
    /// The wire name (`password`, `app-password`, `oauth2`, `unsupported`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::AppPassword => "app-password",
            Self::OAuth2 => "oauth2",
            Self::Unsupported => "unsupported",
        }
    }

    /// One sentence for the login page's designer.
    pub const fn login_page_advice(self) -> &'static str {
        match self {
            Self::Password => "ask for the account password",
            Self::AppPassword => {
                "ask for an app password generated in the provider's security settings \
                 (the normal account password is refused)"
            }
            Self::OAuth2 => {
                "no password field: send the user to the provider's sign-in (OAuth 2.0)"
            }
            Self::Unsupported => {
                "no password field: this provider gives other apps no mail access; show the \
                 note"
            }
        }
    }
}

impl fmt::Display for AuthHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a detection came from. [`Source::rank`] is the one ranking of sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The built-in or user-supplied `providers.toml`, matched on the domain.
    Catalogue,
    /// A catalogue MX pattern matched the domain's MX host.
    Mx,
    /// A Mozilla autoconfig file published by the domain (or its MX host's domain).
    Autoconfig(AutoconfigOrigin),
    /// The Thunderbird ISPDB entry of the email's own domain.
    Ispdb,
    /// The Thunderbird ISPDB entry of the domain that hosts the MX (MX-derived: the link rests
    /// on DNS without DNSSEC).
    MxIspdb,
    /// Exchange autodiscover (POX or the Microsoft 365 JSON endpoint).
    Autodiscover,
    /// DNS SRV records (RFC 6186).
    Srv,
    /// Guessed host names confirmed by probing.
    Guess,
}

/// Which autoconfig URL answered (all three rank alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutoconfigOrigin {
    /// `autoconfig.<domain>/mail/config-v1.1.xml`.
    Subdomain,
    /// `<domain>/.well-known/autoconfig/mail/config-v1.1.xml`.
    WellKnown,
    /// The autoconfig of the domain that hosts the MX.
    MxDomain,
}

impl Source {
    /// The wire name used in JSON and the trace.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Catalogue => "catalogue",
            Self::Mx => "mx",
            Self::Autoconfig(_) => "autoconfig",
            Self::Ispdb | Self::MxIspdb => "ispdb",
            Self::Autodiscover => "autodiscover",
            Self::Srv => "srv",
            Self::Guess => "guess",
        }
    }

    /// The rank class of the source, the one ranking of answers: lower is better. The
    /// domain's own sources (its https autoconfig and its ISPDB entry) always outrank those
    /// derived from its MX host, whose link to the domain rests on DNS alone.
    pub const fn rank(self) -> u8 {
        match self {
            Self::Catalogue => 0,
            Self::Mx => 1,
            Self::Autoconfig(AutoconfigOrigin::Subdomain | AutoconfigOrigin::WellKnown) => 2,
            Self::Ispdb => 3,
            Self::Autoconfig(AutoconfigOrigin::MxDomain) | Self::MxIspdb => 4,
            Self::Autodiscover => 5,
            Self::Srv => 6,
            Self::Guess => 7,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Whether an answer may be used without asking the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trust {
    /// From the catalogue, or fetched over https on every hop.
    Verified,
    /// From plain http, DNS without DNSSEC, or a guess: an attacker on the path could have
    /// forged it, so the app should confirm the servers with the user before sending a password.
    Unverified,
}

impl Trust {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Unverified => "unverified",
        }
    }

    /// What this trust level means for the login page.
    pub const fn meaning(self) -> &'static str {
        match self {
            Self::Verified => "safe to use without asking the user",
            Self::Unverified => {
                "could have been forged on the network: show the servers to the user and ask \
                 before sending a password"
            }
        }
    }
}

impl fmt::Display for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Exchange endpoints found by autodiscover.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ExchangeEndpoints {
    /// The EWS URL (`https://…/EWS/Exchange.asmx`).
    pub ews_url: Option<String>,
    /// The Exchange ActiveSync host (a bare host name, what Nylas calls `exchange_server_host`).
    pub eas_host: Option<String>,
    /// The login to use instead of the typed address, when autodiscover named one (its
    /// `LoginName`, or the mailbox a `redirectAddr` led to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
}

/// Who the provider is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ProviderInfo {
    /// Stable identifier (the catalogue id, or the plugin's id).
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// The Nylas provider value.
    pub nylas: NylasProvider,
    /// A link to the provider's own instructions, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    /// Where users create an app password, for providers that want one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_password_url: Option<String>,
}

/// One candidate answer and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// Who hosts the mailbox.
    pub provider: ProviderInfo,
    /// Incoming servers in order of preference.
    pub incoming: Vec<Server>,
    /// Outgoing servers in order of preference.
    pub outgoing: Vec<Server>,
    /// Exchange endpoints, when autodiscover found them.
    pub exchange: Option<ExchangeEndpoints>,
    /// What the login page must ask for.
    pub auth_hint: AuthHint,
    /// Where the answer came from.
    pub source: Source,
    /// Whether it can be used without asking the user.
    pub trust: Trust,
    /// Why this answer: which entry, pattern, record or URL produced it.
    pub evidence: String,
    /// Advice for the login page or the user (for example "needs an app password").
    pub notes: Vec<String>,
    /// What the user must do at the provider before signing in, in order.
    pub requires: Vec<super::RequiredStep>,
}

impl ProviderInfo {
    /// The host of Microsoft 365's (Exchange Online's) mail services: EWS, EAS and IMAP.
    pub const MICROSOFT_365_HOST: &'static str = "outlook.office365.com";

    /// Microsoft 365, as every source that finds it names it (the catalogue's `office365` entry,
    /// its v2 autodiscover endpoint, an Exchange autodiscover answer pointing at it).
    pub fn microsoft_365() -> Self {
        Self::new("office365", "Microsoft 365", NylasProvider::Office365)
    }

    /// Who the provider is.
    pub fn new(id: impl Into<String>, name: impl Into<String>, nylas: NylasProvider) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            nylas,
            documentation: None,
            app_password_url: None,
        }
    }
}

impl Detection {
    /// An answer from `provider`, found by `source` with `trust` because of `evidence`; no
    /// servers, notes or Exchange endpoints yet, and a password to ask for (the `with_*`
    /// methods add the rest).
    pub fn new(
        provider: ProviderInfo,
        source: Source,
        trust: Trust,
        evidence: impl Into<String>,
    ) -> Self {
        Self {
            provider,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            exchange: None,
            auth_hint: AuthHint::Password,
            source,
            trust,
            evidence: evidence.into(),
            notes: Vec::new(),
            requires: Vec::new(),
        }
    }

    /// With the steps the user must take first.
    #[must_use]
    pub fn with_requires(mut self, requires: Vec<super::RequiredStep>) -> Self {
        self.requires = requires;
        self
    }

    /// With these servers, each list in order of preference.
    #[must_use]
    pub fn with_servers(mut self, incoming: Vec<Server>, outgoing: Vec<Server>) -> Self {
        self.incoming = incoming;
        self.outgoing = outgoing;
        self
    }

    /// With what the login page must ask for.
    #[must_use]
    pub fn with_auth_hint(mut self, auth_hint: AuthHint) -> Self {
        self.auth_hint = auth_hint;
        self
    }

    /// With Exchange endpoints.
    #[must_use]
    pub fn with_exchange(mut self, exchange: ExchangeEndpoints) -> Self {
        self.exchange = Some(exchange);
        self
    }

    /// With one more note for the login page or the user.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// With more notes.
    #[must_use]
    pub fn with_notes(mut self, notes: impl IntoIterator<Item = String>) -> Self {
        self.notes.extend(notes);
        self
    }

    /// Whether this answer is one user's rather than the domain's: a literal login name, a
    /// login autodiscover named, or a server named after the local part. Such an answer may
    /// be cached for that address only: another user of the domain must never receive it.
    pub fn is_personal_to(&self, email: &EmailAddress) -> bool {
        let local = email.local_part().to_ascii_lowercase();
        let servers = self.incoming.iter().chain(&self.outgoing);
        self.exchange.as_ref().is_some_and(|e| e.login.is_some())
            || servers.clone().any(|s| s.username.is_personal_to(email))
            || (local.len() >= 3 && servers.into_iter().any(|s| s.host.contains(&local)))
    }

    /// The ranking key: source first, then verified before unverified. Lower is better.
    pub fn rank_key(&self) -> (u8, Trust) {
        (self.source.rank(), self.trust)
    }
}
