//! The long-lived network parts of a [`Discovery`](super::Discovery): one resolver and one
//! guarded HTTP client, shared by every run.

use super::config::DiscoveryConfig;
use crate::sources::dns::{Dns, DnsError};
use crate::sources::fetch::{FetchOptions, GuardedHttp};
use crate::sources::http::HttpError;
use crate::sources::probe::Prober;

/// Why a discovery could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// DNS could not be set up.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// HTTP or TLS could not be set up.
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// DNS and HTTP for one [`Discovery`](super::Discovery).
#[derive(Debug, Clone)]
pub struct Network {
    /// The resolver.
    pub dns: Dns,
    /// The guarded HTTP client.
    pub http: GuardedHttp,
    /// The prober for guessed servers.
    pub prober: Prober,
}

impl Network {
    /// Builds the resolver and the HTTP client the configuration asks for.
    ///
    /// # Errors
    /// [`SetupError`] when the system DNS configuration is unusable or TLS cannot be set up.
    pub fn new(config: &DiscoveryConfig) -> Result<Self, SetupError> {
        let dns = if config.nameservers.is_empty() {
            Dns::system(config.dns_timeout)?
        } else {
            Dns::with_nameservers(&config.nameservers, config.dns_timeout)?
        };
        let options = FetchOptions {
            timeout: config.http_timeout,
            extra_roots: config.extra_roots.clone(),
            policy: config.address_policy.clone(),
            ..FetchOptions::default()
        };
        // Loading the system's trust roots is the costly part: once for both clients.
        let tls = crate::sources::http::tls_config(config.extra_roots.clone())?;
        let http = GuardedHttp::with_tls(dns.clone(), options, tls.clone())?;
        let prober =
            Prober::with_tls(dns.clone(), config.address_policy.clone(), tls, config.probe_timeout);
        Ok(Self { dns, http, prober })
    }
}
