//! nativeauth's shared store on Redis (or a protocol-compatible server such as Valkey), for a
//! fleet of login servers: the second cache layer behind each instance's in-memory cache
//! ([`nativeauth_core::SharedCache`]: values with a lifetime, and `SET NX PX` leases so that
//! one instance at a time asks about a domain), and rate limits counted across the fleet.
//!
//! One [`RedisStore`] holds one multiplexed connection that reconnects by itself; every
//! command is bounded by the timeouts given to [`RedisStore::connect`], so a Redis that is
//! down, stalled or answers garbage fails fast and the caller goes on alone.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::time::Duration;

use async_trait::async_trait;
use nativeauth_core::{SharedCache, SharedCacheError};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Why a store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RedisSetupError {
    /// The URL is not a Redis URL (`redis://host:port/db`, `rediss://…`).
    #[error("invalid Redis URL: {0}")]
    Url(#[source] redis::RedisError),
    /// The connection manager could not be created.
    #[error("cannot set up the Redis connection: {0}")]
    Connection(#[source] redis::RedisError),
}

/// A Redis store. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    namespace: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: only the namespace is shown.
        f.debug_struct("RedisStore").field("namespace", &self.namespace).finish_non_exhaustive()
    }
}

/// Deletes a lease only while it holds the releasing instance's token.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Takes a value once: the value (then replaced by the tombstone `ARGV[1]`, keeping its
/// expiry), a tombstone (a value starting with `~`) as it is, or nothing. One script, so two
/// instances taking at once cannot both win.
const TAKE_SCRIPT: &str = r"
local value = redis.call('GET', KEYS[1])
if not value then return {0, ''} end
if string.sub(value, 1, 1) == '~' then return {1, value} end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
return {2, value}
";

/// The tombstone [`RedisStore::take_once`] leaves.
pub const TAKEN: &str = "~taken";

/// What [`RedisStore::take_once`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// The value, now taken: later takes find the tombstone [`TAKEN`].
    Value(Vec<u8>),
    /// A tombstone: [`TAKEN`], or what [`RedisStore::set_tombstone`] put there.
    Tombstone(String),
    /// No such key (never stored, or past its lifetime).
    Missing,
}

/// Counts one hit in a fixed window atomically and returns (count, milliseconds left).
const RATE_SCRIPT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); left = tonumber(ARGV[1]) end
return {count, left}
";

impl RedisStore {
    /// A store on `url` whose keys all start with `namespace` (several applications can share
    /// one Redis). Connects lazily, so a server starts while Redis is down and uses it once it
    /// is up; each connection attempt and each command is bounded by `timeout`. Must be called
    /// inside a Tokio runtime.
    ///
    /// # Errors
    /// [`RedisSetupError`] for an invalid URL.
    pub fn connect(url: &str, namespace: &str, timeout: Duration) -> Result<Self, RedisSetupError> {
        let client = redis::Client::open(url).map_err(RedisSetupError::Url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            // Reconnecting happens in the background; a request never waits for many tries.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(RedisSetupError::Connection)?;
        Ok(Self { connection, namespace: namespace.to_owned() })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    /// The full Redis key of `key` (with the namespace), for a caller that binds a value to the
    /// place it is stored.
    pub fn namespaced(&self, key: &str) -> String {
        self.key(key)
    }

    /// Takes the value under `key` atomically, at most once across every instance: the first
    /// caller gets [`Taken::Value`], and the key then holds the tombstone [`TAKEN`] until it
    /// expires, so later callers get [`Taken::Tombstone`] rather than [`Taken::Missing`].
    /// Store values with [`SharedCache::put`]; a stored value must not start with `~`, the
    /// mark of a tombstone.
    ///
    /// # Errors
    /// [`SharedCacheError`] when Redis could not answer (the value may or may not be taken).
    pub async fn take_once(&self, key: &str) -> Result<Taken, SharedCacheError> {
        let mut connection = self.connection.clone();
        let (status, value): (u8, Vec<u8>) = redis::Script::new(TAKE_SCRIPT)
            .key(self.key(key))
            .arg(TAKEN)
            .invoke_async(&mut connection)
            .await
            .map_err(|e| SharedCacheError::new("take", e))?;
        Ok(match status {
            2 => Taken::Value(value),
            1 => Taken::Tombstone(String::from_utf8_lossy(&value).into_owned()),
            _ => Taken::Missing,
        })
    }

    /// Replaces what `key` holds with the tombstone `tombstone` (which starts with `~`),
    /// keeping its expiry; nothing when the key is gone. For a taker that learnt more than
    /// "taken", such as "expired".
    ///
    /// # Errors
    /// [`SharedCacheError`] when Redis could not answer.
    pub async fn set_tombstone(&self, key: &str, tombstone: &str) -> Result<(), SharedCacheError> {
        debug_assert!(tombstone.starts_with('~'));
        let mut connection = self.connection.clone();
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(tombstone)
            .arg("KEEPTTL")
            .arg("XX")
            .query_async::<Option<String>>(&mut connection)
            .await
            .map(|_| ())
            .map_err(|e| SharedCacheError::new("SET KEEPTTL", e))
    }

    /// Counts one attempt for `key` in a fixed window of `window` across every instance:
    /// `Ok(())` while at most `limit` attempts fell in the window, `Err(wait)` past it.
    ///
    /// # Errors
    /// The outer error when Redis could not answer (the caller then counts locally).
    pub async fn count_attempt(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<Result<(), Duration>, SharedCacheError> {
        let script = redis::Script::new(RATE_SCRIPT);
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let mut connection = self.connection.clone();
        let (count, left_ms): (u64, i64) = script
            .key(self.key(&format!("rate:{key}")))
            .arg(window_ms)
            .invoke_async(&mut connection)
            .await
            .map_err(|e| SharedCacheError::new("rate limit", e))?;
        if count > u64::from(limit) {
            let left = Duration::from_millis(u64::try_from(left_ms).unwrap_or(0));
            return Ok(Err(left.max(Duration::from_secs(1))));
        }
        Ok(Ok(()))
    }
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl SharedCache for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, SharedCacheError> {
        let mut connection = self.connection.clone();
        connection.get(self.key(key)).await.map_err(|e| SharedCacheError::new("GET", e))
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedCacheError> {
        let mut connection = self.connection.clone();
        let options =
            redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(millis(ttl)));
        connection
            .set_options::<_, _, ()>(self.key(key), value, options)
            .await
            .map_err(|e| SharedCacheError::new("SET", e))
    }

    async fn lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, SharedCacheError> {
        let mut connection = self.connection.clone();
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(millis(ttl)));
        let taken: Option<String> = connection
            .set_options(self.key(key), token, options)
            .await
            .map_err(|e| SharedCacheError::new("SET NX", e))?;
        Ok(taken.is_some())
    }

    fn full_key(&self, key: &str) -> String {
        self.key(key)
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), SharedCacheError> {
        let mut connection = self.connection.clone();
        redis::Script::new(RELEASE_SCRIPT)
            .key(self.key(key))
            .arg(token)
            .invoke_async::<i64>(&mut connection)
            .await
            .map(|_| ())
            .map_err(|e| SharedCacheError::new("release", e))
    }
}
