//! Discovery configuration.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use url::Url;

use crate::address_policy::AddressPolicy;

pub(crate) mod shared_cache;

/// Default timeout of one HTTP request.
pub(crate) const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// The default overall deadline of one discovery.
const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);
/// How long a found answer is cached per domain.
const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(10 * 60);
/// How long providers that rank below the MX pattern wait for the domain's MX answer before
/// they start anyway: long enough for a nearby resolver's answer (which decides most domains,
/// so they usually never start), short enough to cost an unknown domain little.
const DEFAULT_HEAD_START: Duration = Duration::from_millis(10);
/// How long "nothing found" is cached per domain.
const DEFAULT_NEGATIVE_CACHE_TTL: Duration = Duration::from_secs(60);
/// The cache's size bound, in (estimated) bytes of answers: about 100,000 "nothing found"
/// domains or 25,000 found ones.
const DEFAULT_CACHE_CAPACITY: u64 = 64 * 1024 * 1024;
/// How long one call to the shared cache may take before discovery goes on without it.
const DEFAULT_SHARED_CACHE_TIMEOUT: Duration = Duration::from_millis(250);
/// How many discoveries may use the network at once before more are refused as busy.
const DEFAULT_MAX_NETWORK_DISCOVERIES: usize = 512;

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
    /// `None` when `host` is not a valid host name (see
    /// `plugin::is_host_name`): no URL is ever built from anything else.
    pub fn url(self, host: &str, path: &str, https: bool) -> Option<Url> {
        if !crate::domain::is_host_name(host) {
            return None;
        }
        let (scheme, port, default) =
            if https { ("https", self.https, 443) } else { ("http", self.http, 80) };
        let authority = if port == default { host.to_owned() } else { format!("{host}:{port}") };
        Url::parse(&format!("{scheme}://{authority}{path}")).ok()
    }
}

/// Options of one provider crate, stored in the configuration by their type (for example
/// the imap provider's `ImapOptions`), so that a provider with a new option never needs a change
/// in core. A provider reads its options with [`DiscoveryConfig::provider_options`] and gets its
/// own defaults when the application set none.
#[derive(Clone, Default)]
pub(crate) struct ProviderOptions {
    by_type: HashMap<TypeId, (&'static str, Arc<dyn Any + Send + Sync>)>,
}

impl std::fmt::Debug for ProviderOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.by_type.values().map(|(name, _)| *name).collect();
        names.sort_unstable();
        f.debug_set().entries(names).finish()
    }
}

/// How a discovery runs. Build with [`DiscoveryConfig::builder`]; `Default` gives the defaults
/// documented on each setter.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    pub(crate) deadline: Duration,
    pub(crate) offline: bool,
    pub(crate) nameservers: Vec<SocketAddr>,
    /// `None`: the system resolver's own timeout and attempts (resolv.conf), or
    /// 3 seconds for explicit name servers.
    pub(crate) dns_timeout: Option<Duration>,
    pub(crate) http_timeout: Duration,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) address_policy: AddressPolicy,
    pub(crate) url_ports: UrlPorts,
    pub(crate) provider_options: ProviderOptions,
    pub(crate) head_start: Duration,
    pub(crate) cache_ttl: Option<Duration>,
    pub(crate) negative_cache_ttl: Option<Duration>,
    pub(crate) cache_capacity: u64,
    pub(crate) max_network_discoveries: Option<usize>,
    pub(crate) shared_cache: Option<Arc<dyn crate::config::shared_cache::SharedCache>>,
    /// Signs and checks the shared values (its `Debug` shows the algorithm only).
    pub(crate) shared_cache_key: Option<ring::hmac::Key>,
    pub(crate) shared_cache_timeout: Duration,
    /// Whether this instance publishes to the shared cache (and takes leases), or only reads.
    pub(crate) shared_cache_publish: bool,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            deadline: DEFAULT_DEADLINE,
            offline: false,
            nameservers: Vec::new(),
            dns_timeout: None,
            http_timeout: DEFAULT_HTTP_TIMEOUT,
            extra_roots: Vec::new(),
            address_policy: AddressPolicy::strict(),
            url_ports: UrlPorts::default(),
            provider_options: ProviderOptions::default(),
            head_start: DEFAULT_HEAD_START,
            cache_ttl: Some(DEFAULT_CACHE_TTL),
            negative_cache_ttl: Some(DEFAULT_NEGATIVE_CACHE_TTL),
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            max_network_discoveries: Some(DEFAULT_MAX_NETWORK_DISCOVERIES),
            shared_cache: None,
            shared_cache_key: None,
            shared_cache_timeout: DEFAULT_SHARED_CACHE_TIMEOUT,
            shared_cache_publish: true,
        }
    }
}

impl DiscoveryConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> DiscoveryConfigBuilder {
        DiscoveryConfigBuilder { config: Self::default() }
    }

    /// A builder starting from this configuration, to change some of it.
    pub fn to_builder(&self) -> DiscoveryConfigBuilder {
        DiscoveryConfigBuilder { config: self.clone() }
    }

    /// The overall deadline.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Whether discovery is limited to the catalogue (no DNS, no HTTP).
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// The answer cache's size bound in bytes (0: no cache).
    pub fn cache_capacity(&self) -> u64 {
        self.cache_capacity
    }

    /// How many discoveries may use the network at once (`None`: no limit).
    pub fn max_network_discoveries(&self) -> Option<usize> {
        self.max_network_discoveries
    }

    /// The ports of URLs discovery builds.
    pub fn url_ports(&self) -> UrlPorts {
        self.url_ports
    }

    /// The options of type `T` set with [`DiscoveryConfigBuilder::provider_options`], or
    /// `T::default()` when none were set.
    ///
    /// ```
    /// # use nativeauth_core as nativeauth;
    /// use nativeauth::DiscoveryConfig;
    ///
    /// #[derive(Debug, Clone, Default, PartialEq)]
    /// struct MyOptions { endpoint: Option<String> }
    ///
    /// let mine = MyOptions { endpoint: Some("https://mail.example/api".into()) };
    /// let config = DiscoveryConfig::builder().provider_options(mine.clone()).build();
    /// assert_eq!(*config.provider_options::<MyOptions>(), mine);
    /// assert_eq!(*DiscoveryConfig::default().provider_options::<MyOptions>(), MyOptions::default());
    /// ```
    pub fn provider_options<T: Any + Send + Sync + Default>(&self) -> Arc<T> {
        self.provider_options
            .by_type
            .get(&TypeId::of::<T>())
            .and_then(|(_, options)| Arc::clone(options).downcast::<T>().ok())
            .unwrap_or_default()
    }

    /// The settings of this configuration that change what may be trusted, by name
    /// (`nameservers`, `extra_roots`, `address_policy`, `url_ports`): an instance with any of
    /// them should not publish to a fleet's shared cache that runs without them. Provider
    /// options (another catalogue, another ISPDB) are the caller's to check.
    pub fn trust_changes(&self) -> Vec<&'static str> {
        let changes = [
            (!self.nameservers.is_empty(), "nameservers"),
            (!self.extra_roots.is_empty(), "extra_roots"),
            (self.address_policy != AddressPolicy::strict(), "address_policy"),
            (self.url_ports != UrlPorts::default(), "url_ports"),
        ];
        changes.into_iter().filter(|(set, _)| *set).map(|(_, name)| name).collect()
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
/// # use nativeauth_core as nativeauth;
/// use std::time::Duration;
/// use nativeauth::DiscoveryConfig;
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

    /// Ask these DNS servers instead of the system's. Default: the system's (`/etc/resolv.conf`).
    pub fn nameservers(mut self, servers: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.config.nameservers = servers.into_iter().collect();
        self
    }

    /// Timeout of one DNS query (asked once). A domain whose DNS does not answer in that time
    /// ends the run with `dns-timeout`. Default: the system resolver's own timeout and
    /// attempts (`options timeout:` and `attempts:` in `/etc/resolv.conf`); 3 seconds, one
    /// attempt, with explicit name servers.
    pub fn dns_timeout(mut self, timeout: Duration) -> Self {
        self.config.dns_timeout = Some(timeout);
        self
    }

    /// Timeout of one HTTP request. Default: 5 seconds.
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.config.http_timeout = timeout;
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

    /// The cache's size bound in bytes, counted as an estimate of what each entry keeps
    /// alive; past it, entries asked once are evicted before those asked often (a flood of
    /// one-off domains does not push out the busy ones). 0 turns the cache off.
    /// Default: 64 MiB, about 100,000 "nothing found" domains or 25,000
    /// found ones.
    pub fn cache_capacity(mut self, bytes: u64) -> Self {
        self.config.cache_capacity = bytes;
        self
    }

    /// How many discoveries may use the network at once; past it, a discovery that needs the
    /// network ends at once with `FailureKind::Busy` instead of queueing without bound.
    /// Catalogue answers, cached answers and callers waiting for a run already under way
    /// never count. `None`: no limit. Default: 512.
    pub fn max_network_discoveries(mut self, limit: Option<usize>) -> Self {
        self.config.max_network_discoveries = limit;
        self
    }

    /// A cache shared with other instances (a fleet of servers), behind this one's in-memory
    /// cache: answers another instance found are used without asking the network, and one
    /// instance at a time asks about a domain while the others wait for its answer (at most
    /// half the deadline). Same lifetimes as the in-memory cache; answers personal to one user
    /// are never shared. Each call is bounded by `timeout`; a failing store is logged, counted
    /// ([`Discovery::shared_cache_errors`](crate::Discovery::shared_cache_errors)) and skipped.
    ///
    /// Values are signed (HMAC-SHA256) with `key`, which every instance of the fleet shares:
    /// a value that anyone else wrote to the store is not used, so write access to the store
    /// alone cannot send users' passwords to other servers. Default: none.
    pub fn shared_cache(
        mut self,
        cache: Arc<dyn crate::config::shared_cache::SharedCache>,
        key: &[u8],
        timeout: Duration,
    ) -> Self {
        self.config.shared_cache = Some(cache);
        self.config.shared_cache_key = Some(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key));
        self.config.shared_cache_timeout = timeout;
        self
    }

    /// Reads the shared cache without publishing to it (and without taking leases, so no
    /// other instance waits for this one): for a run under settings that change what may be
    /// trusted (another catalogue, extra roots, private targets, another nameserver, plain
    /// http, test ports), whose answers must not reach a fleet that runs without them.
    pub fn shared_cache_read_only(mut self) -> Self {
        self.config.shared_cache_publish = false;
        self
    }

    /// Options of one provider crate (its own type, e.g. `ImapOptions`); a second call with
    /// the same type replaces the first. Providers without options set use their defaults.
    pub fn provider_options<T: Any + Send + Sync>(mut self, options: T) -> Self {
        self.config
            .provider_options
            .by_type
            .insert(TypeId::of::<T>(), (std::any::type_name::<T>(), Arc::new(options)));
        self
    }

    /// How long providers that rank below the MX pattern wait for the domain's MX answer
    /// before they start anyway. Default: 10 ms.
    pub fn head_start(mut self, head_start: Duration) -> Self {
        self.config.head_start = head_start;
        self
    }

    /// The configuration.
    pub fn build(self) -> DiscoveryConfig {
        self.config
    }
}
