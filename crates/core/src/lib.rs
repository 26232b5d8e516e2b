//! nativeauth core: the model, the provider registry, the catalogue and the discovery engine.
//!
//! The pipeline: an [`EmailAddress`] is parsed once at the edge; a [`Discovery`] runs every
//! registered [`Provider`] for it (the catalogue first, network sources after); their
//! [`Detection`]s are ranked into a [`Report`] that also carries the trace of every step.
//!
//! Applications normally use the `nativeauth` facade crate, which re-exports this crate and
//! links the built-in provider plugins.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod catalogue;
pub mod connect;
pub mod engine;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod model;
mod provider;
pub mod sources;

pub use engine::{
    CatalogueChoice, Discovery, DiscoveryConfig, DiscoveryContext, SetupError, UrlPorts,
};
pub use error::SourceError;
pub use model::{
    AuthHint, AuthMethod, AutoconfigOrigin, Detection, EmailAddress, EmailError, ExchangeEndpoints,
    NylasProvider, Protocol, ProviderInfo, Report, Security, Server, Source, Trust,
    UsernameTemplate,
};
pub use provider::{Provider, ProviderPlugin, registry};

/// Re-exported so that plugin crates implement [`Provider`] with the same `async_trait`.
pub use async_trait::async_trait;
/// Re-exported so that plugin crates register with the same `inventory` version as the core.
pub use inventory;
/// Re-exported for URLs and TLS roots in the configuration.
pub use reqwest;
/// Re-exported for TLS root certificates in the configuration.
pub use rustls::pki_types;
/// Re-exported so that applications build secrets with the same `secrecy` version.
pub use secrecy;
