//! The `Provider` trait and the plugin registry.
//!
//! A provider plugin is a crate that implements [`Provider`] and registers a [`ProviderPlugin`]
//! with `inventory::submit!`. Registration happens at link time, so a plugin crate that no binary
//! references registers nothing: the `nativeauth` facade names every built-in provider crate,
//! and applications use the facade.
//!
//! ```
//! use async_trait::async_trait;
//! use nativeauth_core::{Detection, DiscoveryContext, EmailAddress, Provider, ProviderPlugin, SourceError};
//!
//! struct Nobody;
//!
//! #[async_trait]
//! impl Provider for Nobody {
//!     fn id(&self) -> &'static str {
//!         "nobody"
//!     }
//!     async fn detect(&self, _: &EmailAddress, _: &DiscoveryContext) -> Result<Option<Detection>, SourceError> {
//!         Ok(None)
//!     }
//! }
//!
//! inventory::submit! {
//!     ProviderPlugin { id: "nobody", rank: 900, make: || Box::new(Nobody) }
//! }
//!
//! assert!(nativeauth_core::registry().iter().any(|p| p.id == "nobody"));
//! ```

use async_trait::async_trait;

use crate::engine::DiscoveryContext;
use crate::error::SourceError;
use crate::model::{Detection, EmailAddress, Source};

/// A way of finding out who hosts a mailbox.
#[async_trait]
pub trait Provider: Send + Sync {
    /// A stable, unique identifier (`catalogue`, `google`, `imap`, …), used in the trace.
    fn id(&self) -> &'static str;

    /// Looks for this provider's answer for `email`.
    ///
    /// Returns `Ok(None)` when this provider has nothing to say about the address, and an
    /// error only when it could not find out (network failure, timeout). Network lookups go
    /// through `ctx`, which shares and memoises them between providers and records the trace;
    /// when `ctx.is_offline()` a provider must not touch the network.
    async fn detect(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Option<Detection>, SourceError>;

    /// An answer that needs no network at all (a catalogue, a built-in domain list). The
    /// engine asks every provider this first; an unbeatable answer here means no DNS or HTTP
    /// happens. Default: none.
    fn detect_offline(&self, email: &EmailAddress, ctx: &DiscoveryContext) -> Option<Detection> {
        let _ = (email, ctx);
        None
    }

    /// The best source [`detect`](Provider::detect) can answer with. The engine does not start,
    /// or cancels, a provider that cannot beat the answer already in hand.
    /// Default: [`Source::Catalogue`], which is never skipped.
    fn best_possible_source(&self) -> Source {
        Source::Catalogue
    }
}

/// A provider's registration.
#[derive(Debug)]
pub struct ProviderPlugin {
    /// The provider's id (the same as [`Provider::id`]).
    pub id: &'static str,
    /// Order of consideration: lower runs first and wins ties. The catalogue is 0; network
    /// providers use 100 and up.
    pub rank: u32,
    /// Builds the provider.
    pub make: fn() -> Box<dyn Provider>,
}

inventory::collect!(ProviderPlugin);

/// Every registered provider, sorted by rank, then id. A second registration of an id is
/// dropped with a warning, so the first in rank order wins.
pub fn registry() -> Vec<&'static ProviderPlugin> {
    let mut plugins: Vec<&'static ProviderPlugin> = inventory::iter::<ProviderPlugin>().collect();
    plugins.sort_by_key(|p| (p.rank, p.id));
    let mut seen = std::collections::HashSet::new();
    plugins.retain(|p| {
        let first = seen.insert(p.id);
        if !first {
            tracing::warn!(
                id = p.id,
                rank = p.rank,
                "provider registered twice; ignoring the later one"
            );
        }
        first
    });
    plugins
}
