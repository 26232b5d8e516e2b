//! nativeauth: find who hosts a mailbox and which settings to use, then build the native
//! authentication payload.
//!
//! This facade re-exports [`nativeauth_core`] and links every built-in provider plugin, so
//! that their registrations reach [`registry`]. Depend on this crate, not on the plugin crates
//! one by one: a plugin crate that nothing references is not linked and registers nothing.
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

pub use nativeauth_core::*;

/// The built-in provider plugins. Naming each crate here is what links it.
pub mod providers {
    pub use nativeauth_catalogue as catalogue;
    pub use nativeauth_exchange as exchange;
    pub use nativeauth_google as google;
    pub use nativeauth_imap as imap;
    pub use nativeauth_microsoft as microsoft;
}

/// Ids of the built-in provider plugins, one per crate linked by this facade.
pub const BUILTIN_PROVIDERS: &[&str] =
    &[nativeauth_catalogue::ID, nativeauth_google::ID, nativeauth_imap::ID];
