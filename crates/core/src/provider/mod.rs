//! The `Provider` trait and the plugin registry.
//!
//! A provider plugin is a crate that implements [`Provider`] and registers a [`ProviderPlugin`]
//! with `inventory::submit!`. Registration happens at link time, so a plugin crate that no binary
//! references registers nothing: the `nativeauth` facade names every built-in provider crate,
//! and applications use the facade.
//!
//! ```
//! use nativeauth_core::plugin::{DiscoveryContext, ProviderPlugin, async_trait, inventory};
//! use nativeauth_core::{Detection, EmailAddress, Provider, Source, SourceError};
//!
//! struct Nobody;
//!
//! #[async_trait]
//! impl Provider for Nobody {
//!     fn id(&self) -> &'static str {
//!         "nobody"
//!     }
//!     fn best_possible_source(&self) -> Source {
//!         Source::Guess
//!     }
//!     async fn detect(&self, _: &EmailAddress, _: &DiscoveryContext) -> Result<Vec<Detection>, SourceError> {
//!         Ok(Vec::new())
//!     }
//! }
//!
//! inventory::submit! {
//!     ProviderPlugin { rank: 900, make: || Box::new(Nobody) }
//! }
//!
//! assert!(nativeauth_core::registry().iter().any(|p| p.id() == "nobody"));
//! ```

use async_trait::async_trait;

use crate::model::{Detection, EmailAddress, Source};
use crate::net::context::DiscoveryContext;
use crate::net::error::SourceError;

/// A way of finding out who hosts a mailbox.
#[async_trait]
pub trait Provider: Send + Sync {
    /// A stable, unique identifier (`catalogue`, `exchange`, `imap`, …), used in the trace.
    fn id(&self) -> &'static str;

    /// Looks for this provider's answer for `email`.
    ///
    /// Returns every answer this provider has in hand (its preferred one first; the engine
    /// ranks them with everyone else's and keeps the runners-up as alternatives), nothing when
    /// it has nothing to say about the address, and an error only when it could not find out
    /// (network failure, timeout). Network lookups go through `ctx`, which shares and
    /// memoises them between providers and records the trace. The engine calls this only when
    /// the run may use the network.
    async fn detect(
        &self,
        email: &EmailAddress,
        ctx: &DiscoveryContext,
    ) -> Result<Vec<Detection>, SourceError>;

    /// An answer that needs no network at all (a catalogue, a built-in domain list). The
    /// engine asks every provider this first; an unbeatable answer here means no DNS or HTTP
    /// happens. Default: none.
    fn detect_offline(&self, email: &EmailAddress, ctx: &DiscoveryContext) -> Option<Detection> {
        let _ = (email, ctx);
        None
    }

    /// The best source [`detect`](Provider::detect) can answer with. The engine does not start,
    /// or cancels, a provider that cannot beat the answer already in hand.
    fn best_possible_source(&self) -> Source;

    /// A popular domain that `domain` is probably a typo of (`gmial.com` → `gmail.com`). The
    /// engine asks only when the domain cannot be the user's (it does not exist, accepts no
    /// mail, or offline nothing knows it). Default: none.
    fn suggest_domain(&self, domain: &str, ctx: &DiscoveryContext) -> Option<String> {
        let _ = (domain, ctx);
        None
    }
}

/// A provider's registration, submitted with `inventory::submit!`. The provider's id is the
/// one its [`Provider::id`] returns.
#[derive(Debug)]
pub struct ProviderPlugin {
    /// Order of consideration: lower runs first and wins ties between equal answers (it does
    /// not rank answers: [`Source::rank`](crate::Source::rank) does). The built-in providers
    /// use 0 (the catalogue), 21 (Microsoft 365's autodiscover endpoint), 50 (Exchange
    /// autodiscover) and 100 (IMAP: autoconfig, SRV, guessing); a plugin picks a number
    /// between those it should run among.
    pub rank: u32,
    /// Builds the provider.
    pub make: fn() -> Box<dyn Provider>,
}

inventory::collect!(ProviderPlugin);

/// Every registered provider, built, sorted by rank, then id. A second registration of an id
/// is dropped with a warning, so the first in rank order wins.
pub fn registry() -> Vec<Box<dyn Provider>> {
    let mut providers: Vec<(u32, Box<dyn Provider>)> =
        inventory::iter::<ProviderPlugin>().map(|p| (p.rank, (p.make)())).collect();
    providers.sort_by(|(a_rank, a), (b_rank, b)| (a_rank, a.id()).cmp(&(b_rank, b.id())));
    let mut seen = std::collections::HashSet::new();
    providers
        .into_iter()
        .filter(|(rank, provider)| {
            let first = seen.insert(provider.id());
            if !first {
                tracing::warn!(
                    id = provider.id(),
                    rank,
                    "provider registered twice; ignoring the later one"
                );
            }
            first
        })
        .map(|(_, provider)| provider)
        .collect()
}
