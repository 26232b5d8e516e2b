//! Rate limits: a fixed one-minute window per key, counted in memory, or across the fleet in
//! Redis when the server has one (falling back to memory, logged, while Redis cannot answer).
//!
//! In memory the windows live in a bounded cache (`quick_cache`, the one discovery uses):
//! constant work per check however many clients there are, and memory bounded by
//! [`MEMORY_KEYS`]. Past the bound the coldest keys go first; a key being hammered stays hot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Where a fleet counts: its Redis.
#[cfg(feature = "redis")]
pub(crate) type SharedCounter = nativeauth::redis::RedisStore;

/// Without the `redis` feature there is no fleet: no shared counter can exist.
#[cfg(not(feature = "redis"))]
pub(crate) enum SharedCounter {}

#[cfg(not(feature = "redis"))]
impl SharedCounter {
    async fn count_attempt(
        &self,
        _: &str,
        _: u32,
        _: Duration,
    ) -> Result<Result<(), Duration>, nativeauth::SharedCacheError> {
        match *self {}
    }
}

const WINDOW: Duration = Duration::from_secs(60);
/// How long a shared count may take before memory counts instead.
const SHARED_TIMEOUT: Duration = Duration::from_millis(250);
/// Keys counted in memory at most.
const MEMORY_KEYS: usize = 200_000;

/// The limiter.
pub struct Limits {
    windows: Mutex<quick_cache::unsync::Cache<String, (Instant, u32)>>,
    shared: Option<SharedCounter>,
    shared_errors: AtomicU64,
}

impl Default for Limits {
    fn default() -> Self {
        Self::with_capacity(MEMORY_KEYS)
    }
}

impl Limits {
    /// Limits counted in memory, for at most `keys` keys at once.
    #[doc(hidden)] // for the benchmark
    pub fn with_capacity(keys: usize) -> Self {
        Self {
            windows: Mutex::new(quick_cache::unsync::Cache::new(keys)),
            shared: None,
            shared_errors: AtomicU64::new(0),
        }
    }

    /// Limits counted across every server that shares `store`.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // no store can exist
    pub(crate) fn shared(store: SharedCounter) -> Self {
        Self { shared: Some(store), ..Self::default() }
    }

    /// Counts one attempt for `key`; `Err(wait)` when more than `limit` fell in the window.
    pub(crate) async fn check(&self, key: &str, limit: u32) -> Result<(), Duration> {
        if let Some(store) = &self.shared {
            // Bounded here too: a first connection attempt may take longer than one command.
            let counted =
                tokio::time::timeout(SHARED_TIMEOUT, store.count_attempt(key, limit, WINDOW))
                    .await
                    .unwrap_or_else(|_| {
                        Err(nativeauth::SharedCacheError::message("no answer in time"))
                    });
            match counted {
                Ok(verdict) => return verdict,
                Err(error) => {
                    self.shared_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%error, "rate limits: Redis unavailable, counting in memory");
                }
            }
        }
        self.check_local(key, limit)
    }

    /// How many times Redis could not count and memory did.
    pub(crate) fn shared_errors(&self) -> u64 {
        self.shared_errors.load(Ordering::Relaxed)
    }

    /// Counts one attempt for `key` in memory.
    #[doc(hidden)] // for the benchmark
    pub fn check_local(&self, key: &str, limit: u32) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let (start, count) = match windows.get_mut(key) {
            Some(mut entry) => {
                if now.duration_since(entry.0) >= WINDOW {
                    *entry = (now, 0);
                }
                entry.1 = entry.1.saturating_add(1);
                *entry
            }
            None => {
                windows.insert(key.to_owned(), (now, 1));
                (now, 1)
            }
        };
        if count > limit {
            return Err(WINDOW
                .saturating_sub(now.duration_since(start))
                .max(Duration::from_secs(1)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_limited_and_others_are_not() {
        let limits = Limits::with_capacity(100);
        assert!(limits.check_local("a", 2).is_ok());
        assert!(limits.check_local("a", 2).is_ok());
        assert!(limits.check_local("a", 2).is_err());
        assert!(limits.check_local("b", 2).is_ok());
    }

    #[test]
    fn memory_stays_bounded_and_a_hammered_key_stays_counted() {
        let limits = Limits::with_capacity(1_000);
        for _ in 0..3 {
            let _ = limits.check_local("attacker", 2);
        }
        for i in 0..50_000 {
            let _ = limits.check_local(&format!("k{i}"), 2);
            if i % 100 == 0 {
                assert!(limits.check_local("attacker", 2).is_err(), "after {i} other keys");
            }
        }
        assert!(limits.windows.lock().unwrap().len() <= 1_000);
    }
}
