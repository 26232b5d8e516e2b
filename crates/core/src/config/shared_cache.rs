//! A cache shared by several `Discovery` instances (a fleet of login servers): the second layer
//! behind each instance's in-memory cache, and the leases that let one instance run a domain
//! while the others wait for its answer. The store is the embedding application's (the
//! `nativeauth-redis` crate implements it on Redis); every call is bounded in time, and a store
//! that fails, stalls or answers garbage only costs the fleet its sharing: discovery goes on
//! alone.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

/// Why a shared-store call failed. Discovery logs it, counts it and goes on without the store.
#[derive(Debug, thiserror::Error)]
#[error("shared cache: {message}")]
pub struct SharedCacheError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SharedCacheError {
    /// An error with its cause.
    pub fn new(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self { message: message.into(), source: Some(source.into()) }
    }

    /// An error without a cause (a timeout, say).
    pub fn message(message: impl Into<String>) -> Self {
        Self { message: message.into(), source: None }
    }
}

/// A key-value store shared by several discovery instances. Keys are short, namespaced and
/// never contain an address (a domain at most); values are public answers only.
#[async_trait]
pub trait SharedCache: Send + Sync + fmt::Debug {
    /// The value under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, SharedCacheError>;

    /// Stores `value` under `key` for `ttl`.
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedCacheError>;

    /// Takes the lease `key` for `ttl`, holding `token`, when no one holds it (`SET NX PX`):
    /// `true` when taken.
    async fn lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, SharedCacheError>;

    /// Gives the lease `key` back early, only if it still holds `token` (it may have expired
    /// and been taken by another instance); it expires by itself otherwise.
    async fn release(&self, key: &str, token: &str) -> Result<(), SharedCacheError>;

    /// The full name `key` has in the store (with any namespace the store adds): what a
    /// signed value is bound to. Default: `key` itself.
    fn full_key(&self, key: &str) -> String {
        key.to_owned()
    }
}
