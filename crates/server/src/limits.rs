//! Rate limits: a fixed one-minute window per key, counted in memory, or across the fleet in
//! Redis when the server has one (falling back to memory, logged, while Redis cannot answer).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use nativeauth::redis::RedisStore;

const WINDOW: Duration = Duration::from_secs(60);
/// How long a shared count may take before memory counts instead.
const SHARED_TIMEOUT: Duration = Duration::from_millis(250);
/// Keys kept before old windows are swept.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
pub(crate) struct Limits {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
    shared: Option<RedisStore>,
    shared_errors: AtomicU64,
}

impl Limits {
    /// Limits counted across every server that shares `store`.
    pub(crate) fn shared(store: RedisStore) -> Self {
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

    fn check_local(&self, key: &str, limit: u32) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            return Err(WINDOW
                .saturating_sub(now.duration_since(entry.0))
                .max(Duration::from_secs(1)));
        }
        Ok(())
    }
}
