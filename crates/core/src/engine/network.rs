//! The long-lived network parts of a [`Discovery`](super::Discovery): one resolver, and one
//! guarded HTTP client and prober, shared by every run.
//!
//! The resolver is set up at once (a broken DNS configuration should fail at start-up); the
//! TLS clients on first use, because loading the system's trust roots costs milliseconds that
//! an answer from the catalogue never needs.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use super::config::DiscoveryConfig;
use crate::sources::dns::{Dns, DnsError};
use crate::sources::fetch::{FetchOptions, GuardedHttp};
use crate::sources::guard::AddressPolicy;
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

/// The TLS clients, built together on first use.
#[derive(Debug)]
struct Clients {
    http: GuardedHttp,
    prober: Prober,
}

/// What the clients are built from.
#[derive(Debug, Clone)]
struct ClientSettings {
    options: FetchOptions,
    policy: AddressPolicy,
    extra_roots: Vec<CertificateDer<'static>>,
    probe_timeout: Duration,
}

/// DNS, HTTP and probing for one [`Discovery`](super::Discovery).
#[derive(Debug)]
pub struct Network {
    /// The resolver.
    pub dns: Dns,
    settings: ClientSettings,
    clients: OnceLock<Result<Clients, Arc<HttpError>>>,
}

impl Network {
    /// Sets up the resolver the configuration asks for; the TLS clients follow on first use.
    ///
    /// # Errors
    /// [`SetupError`] when the system DNS configuration is unusable.
    pub fn new(config: &DiscoveryConfig) -> Result<Self, SetupError> {
        let dns = if config.nameservers.is_empty() {
            Dns::system(config.dns_timeout)?
        } else {
            Dns::with_nameservers(&config.nameservers, config.dns_timeout)?
        };
        let settings = ClientSettings {
            options: FetchOptions {
                timeout: config.http_timeout,
                extra_roots: config.extra_roots.clone(),
                policy: config.address_policy.clone(),
                ..FetchOptions::default()
            },
            policy: config.address_policy.clone(),
            extra_roots: config.extra_roots.clone(),
            probe_timeout: config.probe_timeout,
        };
        Ok(Self { dns, settings, clients: OnceLock::new() })
    }

    fn clients(&self) -> Result<&Clients, Arc<HttpError>> {
        self.clients
            .get_or_init(|| {
                // Loading the system's trust roots is the costly part: once for both clients.
                let settings = &self.settings;
                let tls = crate::sources::http::tls_config(settings.extra_roots.clone())?;
                let http =
                    GuardedHttp::with_tls(self.dns.clone(), settings.options.clone(), tls.clone())?;
                let prober = Prober::with_tls(
                    self.dns.clone(),
                    settings.policy.clone(),
                    tls,
                    settings.probe_timeout,
                );
                Ok(Clients { http, prober })
            })
            .as_ref()
            .map_err(Arc::clone)
    }

    /// The guarded HTTP client.
    ///
    /// # Errors
    /// The [`HttpError`] of setting up TLS (the same one on every call).
    pub fn http(&self) -> Result<&GuardedHttp, Arc<HttpError>> {
        self.clients().map(|c| &c.http)
    }

    /// The prober for guessed servers.
    ///
    /// # Errors
    /// The [`HttpError`] of setting up TLS.
    pub fn prober(&self) -> Result<&Prober, Arc<HttpError>> {
        self.clients().map(|c| &c.prober)
    }
}
