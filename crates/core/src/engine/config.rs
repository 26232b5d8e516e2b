//! Discovery configuration.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use rustls::pki_types::CertificateDer;

use crate::catalogue::Catalogue;
use crate::sources::dns::DEFAULT_DNS_TIMEOUT;
use crate::sources::fetch::DEFAULT_HTTP_TIMEOUT;
use crate::sources::guard::AddressPolicy;

/// The default overall deadline of one discovery.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);
/// How long a found answer is cached per domain.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(10 * 60);
/// How long "nothing found" is cached per domain.
pub const DEFAULT_NEGATIVE_CACHE_TTL: Duration = Duration::from_secs(60);

/// The ports probed when guessing (IMAP with TLS, IMAP with STARTTLS, SMTP submission with
/// TLS, with STARTTLS). Only test setups change these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbePorts {
    /// Default 993.
    pub imaps: u16,
    /// Default 143.
    pub imap: u16,
    /// Default 465.
    pub submissions: u16,
    /// Default 587.
    pub submission: u16,
}

impl Default for ProbePorts {
    fn default() -> Self {
        Self { imaps: 993, imap: 143, submissions: 465, submission: 587 }
    }
}

/// Microsoft 365's v2 autodiscover endpoint (`?Email=…&Protocol=EWS` is appended).
pub const DEFAULT_M365_AUTODISCOVER_URL: &str =
    "https://outlook.office365.com/autodiscover/autodiscover.json";
/// The public Thunderbird ISPDB; the domain is appended.
pub const DEFAULT_ISPDB_URL: &str = "https://autoconfig.thunderbird.net/v1.1/";

/// Which catalogue the `catalogue` provider answers from.
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

/// The ports used in URLs that discovery builds itself (`https://autoconfig.<domain>/…`).
/// Redirect targets keep their own ports. Only test setups and unusual LANs change these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlPorts {
    /// Port for https URLs. Default: 443.
    pub https: u16,
    /// Port for http URLs. Default: 80.
    pub http: u16,
}

impl Default for UrlPorts {
    fn default() -> Self {
        Self { https: 443, http: 80 }
    }
}

impl UrlPorts {
    /// `https://<host>[:port]<path>` (or `http`), the port written only when not the default.
    pub fn url(self, host: &str, path: &str, https: bool) -> Option<Url> {
        let (scheme, port, default) =
            if https { ("https", self.https, 443) } else { ("http", self.http, 80) };
        let authority = if port == default { host.to_owned() } else { format!("{host}:{port}") };
        Url::parse(&format!("{scheme}://{authority}{path}")).ok()
    }
}

/// How a discovery runs. Build with [`DiscoveryConfig::builder`]; `Default` gives the defaults
/// documented on each setter.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    pub(crate) deadline: Duration,
    pub(crate) offline: bool,
    pub(crate) catalogue: CatalogueChoice,
    pub(crate) nameservers: Vec<SocketAddr>,
    pub(crate) dns_timeout: Duration,
    pub(crate) http_timeout: Duration,
    pub(crate) ispdb_url: Option<Url>,
    pub(crate) m365_autodiscover_url: Option<Url>,
    pub(crate) allow_http: bool,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) address_policy: AddressPolicy,
    pub(crate) url_ports: UrlPorts,
    pub(crate) cache_ttl: Option<Duration>,
    pub(crate) negative_cache_ttl: Option<Duration>,
    pub(crate) guess: bool,
    pub(crate) probe_ports: ProbePorts,
    pub(crate) probe_timeout: Duration,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            deadline: DEFAULT_DEADLINE,
            offline: false,
            catalogue: CatalogueChoice::Builtin,
            nameservers: Vec::new(),
            dns_timeout: DEFAULT_DNS_TIMEOUT,
            http_timeout: DEFAULT_HTTP_TIMEOUT,
            ispdb_url: Url::parse(DEFAULT_ISPDB_URL).ok(),
            m365_autodiscover_url: Url::parse(DEFAULT_M365_AUTODISCOVER_URL).ok(),
            allow_http: false,
            extra_roots: Vec::new(),
            address_policy: AddressPolicy::strict(),
            url_ports: UrlPorts::default(),
            cache_ttl: Some(DEFAULT_CACHE_TTL),
            negative_cache_ttl: Some(DEFAULT_NEGATIVE_CACHE_TTL),
            guess: true,
            probe_ports: ProbePorts::default(),
            probe_timeout: Duration::from_secs(3),
        }
    }
}

impl DiscoveryConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> DiscoveryConfigBuilder {
        DiscoveryConfigBuilder { config: Self::default() }
    }

    /// The overall deadline.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Whether discovery is limited to the catalogue (no DNS, no HTTP).
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Which catalogue to answer from.
    pub fn catalogue(&self) -> &CatalogueChoice {
        &self.catalogue
    }

    /// The ISPDB base URL, or `None` when the ISPDB is not consulted.
    pub fn ispdb_url(&self) -> Option<&Url> {
        self.ispdb_url.as_ref()
    }

    /// The Microsoft 365 v2 autodiscover URL, or `None` when it is not asked.
    pub fn m365_autodiscover_url(&self) -> Option<&Url> {
        self.m365_autodiscover_url.as_ref()
    }

    /// Whether plain-http autoconfig URLs are tried.
    pub fn allows_http(&self) -> bool {
        self.allow_http
    }

    /// The ports of URLs discovery builds.
    pub fn url_ports(&self) -> UrlPorts {
        self.url_ports
    }

    /// Whether guessing and probing is tried as the last resort.
    pub fn guesses(&self) -> bool {
        self.guess
    }

    /// The ports probed when guessing.
    pub fn probe_ports(&self) -> ProbePorts {
        self.probe_ports
    }

    /// Timeout of one probe.
    pub fn probe_timeout(&self) -> Duration {
        self.probe_timeout
    }

    /// The address policy.
    pub fn address_policy(&self) -> &AddressPolicy {
        &self.address_policy
    }

    /// Extra trusted roots.
    pub fn extra_roots(&self) -> &[CertificateDer<'static>] {
        &self.extra_roots
    }
}

/// Builds a [`DiscoveryConfig`].
///
/// ```
/// use std::time::Duration;
/// use nativeauth_core::DiscoveryConfig;
///
/// let config = DiscoveryConfig::builder().deadline(Duration::from_secs(3)).offline(true).build();
/// assert!(config.is_offline());
/// assert_eq!(config.deadline(), Duration::from_secs(3));
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct DiscoveryConfigBuilder {
    config: DiscoveryConfig,
}

impl DiscoveryConfigBuilder {
    /// The overall deadline of one discovery; a zero deadline is raised to 1 ms.
    /// Default: 10 seconds.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.config.deadline = deadline.max(Duration::from_millis(1));
        self
    }

    /// Answer from the catalogue only, without DNS or HTTP. Default: `false`.
    pub fn offline(mut self, offline: bool) -> Self {
        self.config.offline = offline;
        self
    }

    /// Which catalogue to answer from. Default: [`CatalogueChoice::Builtin`].
    pub fn catalogue(mut self, catalogue: CatalogueChoice) -> Self {
        self.config.catalogue = catalogue;
        self
    }

    /// Ask these DNS servers instead of the system's. Default: the system's (`/etc/resolv.conf`).
    pub fn nameservers(mut self, servers: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.config.nameservers = servers.into_iter().collect();
        self
    }

    /// Timeout of one DNS query. Default: 3 seconds.
    pub fn dns_timeout(mut self, timeout: Duration) -> Self {
        self.config.dns_timeout = timeout;
        self
    }

    /// Timeout of one HTTP request. Default: 5 seconds.
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.config.http_timeout = timeout;
        self
    }

    /// The ISPDB base URL (the domain is appended), or `None` to skip the ISPDB.
    /// Default: [`DEFAULT_ISPDB_URL`].
    pub fn ispdb_url(mut self, url: Option<Url>) -> Self {
        self.config.ispdb_url = url.map(|mut url| {
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            url
        });
        self
    }

    /// The Microsoft 365 v2 autodiscover endpoint, or `None` not to ask it (it receives the
    /// address). Default: [`DEFAULT_M365_AUTODISCOVER_URL`].
    pub fn m365_autodiscover_url(mut self, url: Option<Url>) -> Self {
        self.config.m365_autodiscover_url = url;
        self
    }

    /// Also try plain-http autoconfig; answers found that way are unverified. Default: `false`.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.config.allow_http = allow;
        self
    }

    /// Trust these root certificates in addition to the system's. Default: none.
    pub fn extra_roots(mut self, roots: impl IntoIterator<Item = CertificateDer<'static>>) -> Self {
        self.config.extra_roots.extend(roots);
        self
    }

    /// Which special addresses (loopback, private, link-local, …) may be connected to.
    /// Default: none ([`AddressPolicy::strict`]).
    pub fn address_policy(mut self, policy: AddressPolicy) -> Self {
        self.config.address_policy = policy;
        self
    }

    /// The ports of URLs discovery builds itself. Default: 443 and 80.
    pub fn url_ports(mut self, ports: UrlPorts) -> Self {
        self.config.url_ports = ports;
        self
    }

    /// How long answers are cached per domain, or `None` not to cache them; "nothing found" is
    /// cached for `negative` (or not at all). Failures and timeouts are never cached.
    /// Default: 10 minutes and 1 minute.
    pub fn cache_ttl(mut self, found: Option<Duration>, negative: Option<Duration>) -> Self {
        self.config.cache_ttl = found;
        self.config.negative_cache_ttl = negative;
        self
    }

    /// Guess host names and probe them when no other source answers (no credentials are ever
    /// sent). Default: `true`.
    pub fn guess(mut self, guess: bool) -> Self {
        self.config.guess = guess;
        self
    }

    /// The ports probed when guessing. Default: 993, 143, 465, 587.
    pub fn probe_ports(mut self, ports: ProbePorts) -> Self {
        self.config.probe_ports = ports;
        self
    }

    /// Timeout of one probe. Default: 3 seconds.
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.config.probe_timeout = timeout;
        self
    }

    /// The configuration.
    pub fn build(self) -> DiscoveryConfig {
        self.config
    }
}
