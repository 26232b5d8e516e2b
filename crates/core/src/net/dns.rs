//! DNS: MX, SRV and address lookups through one hickory resolver, built from the system
//! configuration or from explicit name servers.
//!
//! "The name does not exist" (NXDOMAIN) and "no records of that type" are answers — an empty
//! list — not errors. Timeouts, SERVFAIL and other failures are typed errors that reach the
//! trace.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

/// The default timeout of one DNS query.
pub(crate) const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(3);

/// One MX record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxRecord {
    /// Lower is preferred.
    pub preference: u16,
    /// The mail exchanger, lowercase, without a trailing dot (empty for a null MX).
    pub exchange: String,
}

/// One SRV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    /// Lower is preferred.
    pub priority: u16,
    /// Relative weight among records of the same priority.
    pub weight: u16,
    /// Port.
    pub port: u16,
    /// Target host, lowercase, without a trailing dot (`""` for `.`, "service not offered").
    pub target: String,
}

/// The MX answer of a domain, and whether the domain exists at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MxAnswer {
    /// The records, most preferred first; a null MX (RFC 7505) has an empty exchange.
    pub(crate) records: Vec<MxRecord>,
    /// The server answered NXDOMAIN: the name does not exist (not merely "no MX").
    pub(crate) no_such_domain: bool,
}

impl MxAnswer {
    /// Whether the domain publishes a null MX (`0 .`, RFC 7505): it accepts no mail.
    pub(crate) fn is_null_mx(&self) -> bool {
        !self.records.is_empty() && self.records.iter().all(|r| r.exchange.is_empty())
    }
}

/// Why a lookup failed (as opposed to finding nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// No answer in time.
    #[error("DNS {record} {name}: timed out")]
    Timeout {
        /// The name asked about.
        name: String,
        /// The record type.
        record: &'static str,
    },
    /// The server answered with an error code (SERVFAIL, REFUSED, …).
    #[error("DNS {record} {name}: the server answered {code}")]
    ServerFailure {
        /// The name asked about.
        name: String,
        /// The record type.
        record: &'static str,
        /// The response code.
        code: String,
    },
    /// Any other failure (network error, malformed answer).
    #[error("DNS {record} {name}: {reason}")]
    Failed {
        /// The name asked about.
        name: String,
        /// The record type.
        record: &'static str,
        /// What happened.
        reason: String,
    },
    /// The name is not a valid DNS name.
    #[error("{name:?} is not a valid DNS name")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// The resolver could not be set up (no usable system configuration).
    #[error("cannot set up DNS: {0}")]
    Setup(String),
}

impl DnsError {
    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }
}

/// The resolver every DNS lookup goes through.
#[derive(Clone)]
pub(crate) struct Dns {
    resolver: TokioResolver,
    /// The most one lookup may take, whatever the resolver's retries (UDP, then TCP, then
    /// the next attempt) add up to.
    limit: Duration,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns").finish_non_exhaustive()
    }
}

impl Dns {
    /// A resolver from the system configuration (`/etc/resolv.conf`), with its own timeout and
    /// attempts unless `timeout` overrides them (then one attempt).
    ///
    /// # Errors
    /// [`DnsError::Setup`] when the system configuration cannot be read or names no server.
    pub(crate) fn system(timeout: Option<Duration>) -> Result<Self, DnsError> {
        let mut builder =
            TokioResolver::builder_tokio().map_err(|e| DnsError::Setup(e.to_string()))?;
        let options = builder.options_mut();
        if let Some(timeout) = timeout {
            options.timeout = timeout;
            options.attempts = 1;
        }
        let limit = options.timeout * u32::try_from(options.attempts.max(1)).unwrap_or(1);
        let resolver = builder.build().map_err(|e| DnsError::Setup(e.to_string()))?;
        Ok(Self { resolver, limit })
    }

    /// A resolver that asks exactly these servers (UDP, and TCP for truncated answers), in
    /// order. The hosts file is not consulted.
    ///
    /// # Errors
    /// [`DnsError::Setup`] when the list is empty or the resolver cannot be built.
    pub(crate) fn with_nameservers(
        servers: &[SocketAddr],
        timeout: Duration,
    ) -> Result<Self, DnsError> {
        if servers.is_empty() {
            return Err(DnsError::Setup("no name server given".into()));
        }
        let name_servers = servers
            .iter()
            .map(|server| {
                let mut config = NameServerConfig::udp_and_tcp(server.ip());
                for connection in &mut config.connections {
                    connection.port = server.port();
                }
                config
            })
            .collect();
        let mut builder = Resolver::builder_with_config(
            ResolverConfig::from_name_servers(name_servers),
            TokioRuntimeProvider::default(),
        );
        let options = builder.options_mut();
        options.timeout = timeout;
        options.attempts = 1;
        options.use_hosts_file = ResolveHosts::Never;
        options.server_ordering_strategy =
            hickory_resolver::config::ServerOrderingStrategy::UserProvidedOrder;
        let resolver = builder.build().map_err(|e| DnsError::Setup(e.to_string()))?;
        Ok(Self { resolver, limit: timeout })
    }

    /// Runs one lookup within [`Dns::limit`](Self): a silent server costs the configured
    /// timeout, not the timeout once per protocol and attempt.
    async fn bounded<T>(
        &self,
        name: &str,
        record: &'static str,
        lookup: impl std::future::Future<Output = Result<T, NetError>>,
    ) -> Result<Result<T, NetError>, DnsError> {
        tokio::time::timeout(self.limit, lookup)
            .await
            .map_err(|_| DnsError::Timeout { name: name.to_owned(), record })
    }

    /// MX records of `domain`, most preferred first (then by name, for a stable order), and
    /// whether the domain exists.
    ///
    /// # Errors
    /// [`DnsError`] on timeout, SERVFAIL or network failure.
    pub(crate) async fn mx(&self, domain: &str) -> Result<MxAnswer, DnsError> {
        let result = self.bounded(domain, "MX", self.resolver.mx_lookup(fqdn(domain)?)).await?;
        let lookup = match classify(result, domain, "MX")? {
            Answer::Found(lookup) => lookup,
            Answer::NoData => return Ok(MxAnswer { records: Vec::new(), no_such_domain: false }),
            Answer::NoSuchDomain => {
                return Ok(MxAnswer { records: Vec::new(), no_such_domain: true });
            }
        };
        let mut records: Vec<MxRecord> = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::MX(mx) => {
                    Some(MxRecord { preference: mx.preference, exchange: host_name(&mx.exchange) })
                }
                _ => None,
            })
            .collect();
        records.sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
        Ok(MxAnswer { records, no_such_domain: false })
    }

    /// SRV records of `name` (such as `_imaps._tcp.example.com`), in RFC 2782 order: priority,
    /// then weight (heavier first, a deterministic stand-in for weighted random selection).
    /// Empty when there are none.
    ///
    /// # Errors
    /// [`DnsError`] on timeout, SERVFAIL or network failure.
    pub(crate) async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, DnsError> {
        let Some(lookup) = nothing_is_empty(
            self.bounded(name, "SRV", self.resolver.srv_lookup(fqdn(name)?)).await?,
            name,
            "SRV",
        )?
        else {
            return Ok(Vec::new());
        };
        let mut records: Vec<SrvRecord> = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::SRV(srv) => Some(SrvRecord {
                    priority: srv.priority,
                    weight: srv.weight,
                    port: srv.port,
                    target: host_name(&srv.target),
                }),
                _ => None,
            })
            .collect();
        records.sort_by(|a, b| {
            (a.priority, b.weight, &a.target).cmp(&(b.priority, a.weight, &b.target))
        });
        Ok(records)
    }

    /// The CNAME target of `name`, lowercase without the trailing dot, or `None`.
    ///
    /// # Errors
    /// [`DnsError`] on timeout, SERVFAIL or network failure.
    pub(crate) async fn cname(&self, name: &str) -> Result<Option<String>, DnsError> {
        let result = self
            .bounded(name, "CNAME", self.resolver.lookup(fqdn(name)?, RecordType::CNAME))
            .await?;
        let Some(lookup) = nothing_is_empty(result, name, "CNAME")? else {
            return Ok(None);
        };
        Ok(lookup.answers().iter().find_map(|record| match &record.data {
            RData::CNAME(target) => Some(host_name(&target.0)),
            _ => None,
        }))
    }

    /// The addresses of `host` (A and AAAA). Empty when the name does not exist.
    ///
    /// # Errors
    /// [`DnsError`] on timeout, SERVFAIL or network failure.
    pub(crate) async fn ips(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        let result = self.bounded(host, "A/AAAA", self.resolver.lookup_ip(fqdn(host)?)).await?;
        let lookup = nothing_is_empty(result, host, "A/AAAA")?;
        Ok(lookup.map(|ips| ips.iter().collect()).unwrap_or_default())
    }
}

/// The absolute form of a name, so the resolver's search list never applies.
fn fqdn(name: &str) -> Result<Name, DnsError> {
    let absolute = if name.ends_with('.') { name.to_owned() } else { format!("{name}.") };
    Name::from_ascii(&absolute).map_err(|_| DnsError::InvalidName { name: name.to_owned() })
}

/// Lowercase, without the trailing dot.
fn host_name(name: &Name) -> String {
    let text = name.to_ascii().to_ascii_lowercase();
    text.strip_suffix('.').unwrap_or(&text).to_owned()
}

/// What a lookup found.
enum Answer<T> {
    Found(T),
    /// The name exists without records of this type.
    NoData,
    /// The name does not exist (NXDOMAIN).
    NoSuchDomain,
}

/// Tells "no such name" from "no records of this type"; other failures are [`DnsError`].
fn classify<T>(
    result: Result<T, NetError>,
    name: &str,
    record: &'static str,
) -> Result<Answer<T>, DnsError> {
    match result {
        Err(NetError::Dns(HickoryDnsError::NoRecordsFound(no_records)))
            if no_records.response_code == hickory_resolver::proto::op::ResponseCode::NXDomain =>
        {
            Ok(Answer::NoSuchDomain)
        }
        Err(NetError::Dns(HickoryDnsError::NoRecordsFound(_))) => Ok(Answer::NoData),
        other => Ok(match nothing_is_empty(other, name, record)? {
            Some(found) => Answer::Found(found),
            None => Answer::NoData,
        }),
    }
}

/// Maps "no such name" and "no records" to `None`, other failures to [`DnsError`].
fn nothing_is_empty<T>(
    result: Result<T, NetError>,
    name: &str,
    record: &'static str,
) -> Result<Option<T>, DnsError> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(NetError::Dns(HickoryDnsError::NoRecordsFound(_))) => Ok(None),
        Err(NetError::Dns(HickoryDnsError::ResponseCode(code))) => {
            Err(DnsError::ServerFailure { name: name.to_owned(), record, code: code.to_string() })
        }
        Err(NetError::Timeout) => Err(DnsError::Timeout { name: name.to_owned(), record }),
        Err(other) => {
            Err(DnsError::Failed { name: name.to_owned(), record, reason: other.to_string() })
        }
    }
}
