//! nativeauth core, the kernel: the model, the [`Provider`] trait and its registry, the
//! discovery engine, the connect module, and the network layer that every provider shares.
//!
//! The pipeline: an [`EmailAddress`] is parsed once at the edge; a [`Discovery`] runs every
//! registered [`Provider`] for it (offline answers first, network sources after); their
//! [`Detection`]s are ranked into a [`Report`] that also carries the trace of every step.
//!
//! Layers, each importing only those before it: `model` → the pure rules `domain` (host names,
//! public suffixes) and `address_policy` (which addresses may be contacted) → `config` (the
//! [`DiscoveryConfig`] and the fleet's [`SharedCache`] trait) → `net` (DNS, the guarded HTTP
//! client and TCP connect, TLS, XML, the per-run [`plugin::DiscoveryContext`]) → `provider` →
//! `engine` (with the fleet's leases and wire format in `engine/shared`). Core never names a
//! provider: protocols live in the provider crates.
//!
//! Applications use the `nativeauth` facade, which re-exports this crate and links the
//! built-in provider crates. **Depending on `nativeauth-core` alone links no provider**:
//! [`Discovery::new`] then fails with [`SetupError::NoProviders`] ("no providers are
//! registered: depend on the `nativeauth` facade and refer to it"), rather than finding
//! nothing. Provider authors find what they need in [`plugin`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod address_policy;
pub(crate) mod config;
pub mod connect;
mod domain;
mod engine;
#[doc(hidden)]
pub mod fuzzing;
pub mod keys;
mod model;
mod net;
pub mod plugin;
mod provider;
mod report;

pub use address_policy::{AddressPolicy, GuardError, IpRange, RangeParseError};
pub use config::shared_cache::{SharedCache, SharedCacheError};
pub use config::{DiscoveryConfig, DiscoveryConfigBuilder, UrlPorts};
pub use engine::Discovery;
pub use model::{
    AuthHint, AuthMethod, AutoconfigOrigin, Detection, DomainProblem, EmailAddress, EmailError,
    ExchangeEndpoints, Failure, FailureKind, LocalPartProblem, NylasProvider, Outcome,
    PreLoginStep, Protocol, ProviderInfo, Report, RequiredStep, Security, Server, Source, Step,
    Trust, UsernameTemplate,
};
pub use net::crypto::crypto_provider;
pub use net::error::{SetupError, SourceError};
pub use net::tls::{load_pem_roots, tls_config};
pub use provider::{Provider, registry};

/// Re-exported for extra trusted roots in the configuration.
pub use rustls::pki_types::CertificateDer;
/// Re-exported so that applications build secrets with the same `secrecy` version.
pub use secrecy;
/// Re-exported: URLs in the configuration and in answers.
pub use url::Url;
