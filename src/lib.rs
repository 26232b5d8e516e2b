//! nativeauth: find who hosts a mailbox and which settings to use, then build the native
//! authentication payload.
//!
//! This facade re-exports the kernel ([`nativeauth_core`]) and links the built-in provider
//! crates, each behind a Cargo feature of the same name (all on by default), so that their
//! registrations reach [`registry`]. Depend on this crate, not on the provider crates one by
//! one: a provider crate that nothing references is not linked and registers nothing.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nativeauth::{Discovery, DiscoveryConfig, EmailAddress, NylasProvider};
//!
//! let discovery = Discovery::new(DiscoveryConfig::builder().offline(true).build())?;
//! let report = discovery.discover(&EmailAddress::parse("alice@gmail.com")?).await;
//! let best = report.best.expect("gmail.com is in the catalogue");
//! assert_eq!(best.provider.nylas, NylasProvider::Gmail);
//! assert_eq!(best.incoming[0].host, "imap.gmail.com");
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[doc(hidden)]
pub mod fuzzing;

pub use nativeauth_core::*;

/// The provider catalogue: the `providers.toml` schema and loader ([`catalogue::Catalogue`]),
/// the built-in catalogue and the `catalogue` provider (the same crate as
/// [`providers::catalogue`]).
#[cfg(feature = "catalogue")]
#[doc(inline)]
pub use nativeauth_catalogue as catalogue;

// `pub mod providers` and `BUILTIN_IDS`, from the provider features that are on (build.rs).
include!(concat!(env!("OUT_DIR"), "/providers.rs"));

/// The shared store on Redis for a fleet of servers: the second cache layer
/// ([`DiscoveryConfigBuilder::shared_cache`]) and rate limits counted across instances.
#[cfg(feature = "redis")]
#[doc(inline)]
pub use nativeauth_redis as redis;

/// Ids of the providers the built-in crates of this build register, in registry order.
/// Derived from the registry, so it cannot drift from what the crates register; an
/// application's own plugins are not counted.
pub fn builtin_providers() -> Vec<&'static str> {
    registry().iter().map(|p| p.id()).filter(|id| BUILTIN_IDS.contains(id)).collect()
}
