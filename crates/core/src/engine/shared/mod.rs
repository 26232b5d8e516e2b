//! The fleet's shared cache, seen from the engine: leases (one instance of a fleet asks the
//! network about a domain while the others wait for its answer), reading and publishing shared
//! answers, and the signed wire format they travel in (`wire`).

pub(super) mod wire;

use std::sync::Arc;
use std::time::Duration;

use super::Discovery;
use super::cache::CachedRun;
use crate::config::shared_cache::{SharedCache, SharedCacheError};
use crate::model::{Outcome, Trust};
use crate::net::context::DiscoveryContext;

/// This instance's turn to ask the network while sharing a cache.
pub(super) struct SharedTurn {
    /// The domain's lease, when this instance took it.
    pub(super) lease: Option<Lease>,
}

/// A lease on a domain in the shared cache. Given back after publishing, or, when the run is
/// dropped before that (a client that went away), from a background task: an abandoned lease
/// would keep the fleet waiting until it expires.
pub(super) struct Lease {
    cache: Arc<dyn SharedCache>,
    key: String,
    /// Only the holder's token releases it, never another instance's lease.
    token: String,
    timeout: Duration,
    released: bool,
}

impl Lease {
    async fn release(mut self) {
        self.released = true;
        let _ =
            tokio::time::timeout(self.timeout, self.cache.release(&self.key, &self.token)).await;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (cache, key, token, timeout) = (
            self.cache.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.token),
            self.timeout,
        );
        runtime.spawn(async move {
            let _ = tokio::time::timeout(timeout, cache.release(&key, &token)).await;
        });
    }
}

/// A random lease token (128 bits, hex).
fn random_token() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    // A failing system random source leaves zeros: the lease still works, only less strictly.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How soon an instance waiting for another's run first looks for its answer; each later look
/// waits twice as long, up to [`SHARED_POLL_MAX`].
const SHARED_POLL: Duration = Duration::from_millis(25);
/// The longest pause between two looks.
const SHARED_POLL_MAX: Duration = Duration::from_millis(400);
/// A lease outlives the holder's deadline by this much, then expires by itself.
const SHARED_LEASE_MARGIN: Duration = Duration::from_secs(1);

/// Now, in Unix milliseconds (the clock a fleet shares).
fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A shared-cache key: namespaced and versioned, and never holding an address (a domain is
/// public and at most 253 characters).
fn shared_key(kind: &str, domain: &str) -> String {
    format!("nativeauth:v{}:{kind}:{domain}", wire::VERSION)
}

impl Discovery {
    /// The shared cache's answer for `domain`, waiting for another instance's run when one
    /// holds the domain's lease. `None` when this instance must ask the network itself; then
    /// `turn` is set (with the lease, when this instance took it), unless the shared cache is
    /// not there or not usable.
    pub(super) async fn shared_answer(
        &self,
        domain: &str,
        ctx: &DiscoveryContext,
        deadline: tokio::time::Instant,
        turn: &mut Option<SharedTurn>,
    ) -> Option<CachedRun> {
        let shared = self.config.shared_cache.clone()?;
        let signing = self.config.shared_cache_key.as_ref()?;
        let timer = ctx.timer("shared-cache", domain);
        let key = shared_key("run", domain);
        let full_key = shared.full_key(&key);
        let lease_key = shared_key("lease", domain);
        let token = random_token();
        // Waiting for another instance leaves this one at least half of what remains.
        let now = tokio::time::Instant::now();
        let wait_until = now + deadline.saturating_duration_since(now) / 2;
        let mut waited = false;
        let mut pause = SHARED_POLL;
        loop {
            match self.shared_call(shared.get(&key)).await {
                Err(error) => {
                    timer.finish(Outcome::Error, &error.to_string());
                    return None;
                }
                Ok(Some(bytes)) => {
                    match wire::decode_signed(&bytes, signing, &full_key, unix_millis()) {
                        Ok(run) => {
                            let how = if waited {
                                "another instance's run, waited for"
                            } else {
                                "answered by another instance"
                            };
                            timer.finish(Outcome::Found, how);
                            return Some(run);
                        }
                        Err(rejected) => self.count_rejected(rejected),
                    }
                }
                Ok(None) => {}
            }
            if !self.config.shared_cache_publish {
                // Reading only: no lease either, or the fleet would wait for an answer that
                // this instance will never publish.
                timer.finish(Outcome::Nothing, "not in the shared cache (reading only)");
                return None;
            }
            let ttl = self.config.deadline + SHARED_LEASE_MARGIN;
            match self.shared_call(shared.lease(&lease_key, &token, ttl)).await {
                Err(error) => {
                    timer.finish(Outcome::Error, &error.to_string());
                    return None;
                }
                Ok(true) => {
                    timer.finish(Outcome::Nothing, "not in the shared cache: this instance asks");
                    let lease = Lease {
                        cache: shared.clone(),
                        key: lease_key,
                        token,
                        timeout: self.config.shared_cache_timeout,
                        released: false,
                    };
                    *turn = Some(SharedTurn { lease: Some(lease) });
                    return None;
                }
                // A lease held past what this instance may wait (squatted, or a slow run) stops
                // being waited for.
                Ok(false) if tokio::time::Instant::now() + pause >= wait_until => {
                    timer.finish(
                        Outcome::Timeout,
                        "another instance is still asking: this one asks too",
                    );
                    *turn = Some(SharedTurn { lease: None });
                    return None;
                }
                Ok(false) => {
                    waited = true;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(SHARED_POLL_MAX);
                }
            }
        }
    }

    /// Counts a refused shared value, and logs the first of each reason (never the value).
    fn count_rejected(&self, rejected: wire::Rejected) {
        use std::sync::atomic::Ordering;
        let index = wire::Rejected::ALL.iter().position(|r| *r == rejected).unwrap_or(0);
        if self.shared_rejected[index].fetch_add(1, Ordering::Relaxed) == 0 {
            tracing::warn!(
                reason = rejected.as_str(),
                "shared cache: a value was refused (not this fleet's, moved from another key, \
                 past its signed expiry, or of another format); asking anew. Logged once per reason"
            );
        }
    }

    /// Shared values refused since this discovery was built, by reason: `format` (another
    /// envelope), `signature` (not this fleet's key, or moved from another key), `expired`
    /// (past its signed expiry), `body` (another version).
    pub fn shared_cache_rejections(&self) -> Vec<(&'static str, u64)> {
        wire::Rejected::ALL
            .iter()
            .zip(&self.shared_rejected)
            .map(|(r, n)| (r.as_str(), n.load(std::sync::atomic::Ordering::Relaxed)))
            .collect()
    }

    /// Publishes this instance's run for the others (when it may be kept, shared and is
    /// complete), bounded by the shared cache's timeout, then gives the lease back in the
    /// background. Awaited, so that the answer is in the store before this run returns (a
    /// batch that ends right after must not lose its last answers).
    pub(super) async fn publish(
        &self,
        domain: &str,
        run: &CachedRun,
        complete: bool,
        turn: SharedTurn,
    ) {
        let (Some(shared), Some(signing)) =
            (self.config.shared_cache.as_deref(), self.config.shared_cache_key.as_ref())
        else {
            return;
        };
        // Only what no one on the path could have shaped is shared: an answer resting on plain
        // http, DNS without DNSSEC or a guess stays with the instance that found it.
        let shapeable = run.detections.iter().any(|d| d.trust == Trust::Unverified);
        if complete && !shapeable && self.config.shared_cache_publish {
            if let Some(ttl) = self.cache.lifetime(run) {
                let key = shared_key("run", domain);
                let left = ttl.saturating_sub(run.at.elapsed());
                let expires_ms =
                    unix_millis().saturating_add(u64::try_from(left.as_millis()).unwrap_or(0));
                if let Some(bytes) =
                    wire::encode_signed(run, signing, &shared.full_key(&key), expires_ms)
                {
                    let _ = self.shared_call(shared.put(&key, &bytes, left)).await;
                }
            }
        }
        if let Some(lease) = turn.lease {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(lease.release());
            }
        }
    }

    /// One shared-cache call, bounded in time; failures are logged and counted.
    async fn shared_call<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, SharedCacheError>>,
    ) -> Result<T, SharedCacheError> {
        let result = match tokio::time::timeout(self.config.shared_cache_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(SharedCacheError::message(format!(
                "no answer within {} ms",
                self.config.shared_cache_timeout.as_millis()
            ))),
        };
        if let Err(error) = &result {
            self.shared_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(%error, "shared cache unavailable: going on without it");
        }
        result
    }

    /// How many shared-cache calls have failed or timed out since this discovery was built.
    pub fn shared_cache_errors(&self) -> u64 {
        self.shared_errors.load(std::sync::atomic::Ordering::Relaxed)
    }
}
