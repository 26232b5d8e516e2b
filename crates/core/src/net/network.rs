//! The long-lived network parts of a discovery: one resolver, one guarded HTTP client and one
//! TLS configuration, shared by every run.
//!
//! The resolver is set up at once (a broken DNS configuration should fail at start-up); TLS on
//! first use, because loading the system's trust roots costs milliseconds that an answer from
//! the catalogue never needs.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;

use super::dns::Dns;
use super::error::SetupError;
use super::http::{FetchOptions, GuardedHttp};
use crate::address_policy::AddressPolicy;
use crate::config::DiscoveryConfig;

/// What is built on first use: the TLS configuration and the HTTP client on top of it.
#[derive(Debug)]
struct TlsClients {
    /// For raw TLS connections (probes), without ALPN.
    tls: Arc<rustls::ClientConfig>,
    http: GuardedHttp,
}

/// DNS, HTTP and TLS for one `Discovery`.
#[derive(Debug)]
pub(crate) struct Network {
    pub(crate) dns: Dns,
    pub(crate) policy: AddressPolicy,
    http_options: FetchOptions,
    extra_roots: Vec<CertificateDer<'static>>,
    clients: OnceLock<Result<TlsClients, Arc<SetupError>>>,
}

impl Network {
    /// Sets up the resolver the configuration asks for; TLS follows on first use.
    pub(crate) fn new(config: &DiscoveryConfig) -> Result<Self, SetupError> {
        let dns = if config.nameservers.is_empty() {
            Dns::system(config.dns_timeout)?
        } else {
            let timeout = config.dns_timeout.unwrap_or(super::dns::DEFAULT_DNS_TIMEOUT);
            Dns::with_nameservers(&config.nameservers, timeout)?
        };
        let http_options = FetchOptions {
            timeout: config.http_timeout,
            policy: config.address_policy.clone(),
            ..FetchOptions::default()
        };
        Ok(Self {
            dns,
            policy: config.address_policy.clone(),
            http_options,
            extra_roots: config.extra_roots.clone(),
            clients: OnceLock::new(),
        })
    }

    fn clients(&self) -> Result<&TlsClients, Arc<SetupError>> {
        self.clients
            .get_or_init(|| {
                // Loading the system's trust roots is the costly part: once for both uses.
                let tls = super::tls::tls_config(self.extra_roots.clone())?;
                let http = GuardedHttp::with_tls(
                    self.dns.clone(),
                    self.http_options.clone(),
                    tls.clone(),
                )?;
                let mut raw = tls;
                raw.alpn_protocols.clear();
                Ok(TlsClients { tls: Arc::new(raw), http })
            })
            .as_ref()
            .map_err(Arc::clone)
    }

    /// The guarded HTTP client.
    pub(crate) fn http(&self) -> Result<&GuardedHttp, Arc<SetupError>> {
        self.clients().map(|c| &c.http)
    }

    /// The TLS configuration for raw connections (no ALPN), fully verifying.
    pub(crate) fn tls(&self) -> Result<Arc<rustls::ClientConfig>, Arc<SetupError>> {
        self.clients().map(|c| Arc::clone(&c.tls))
    }
}
