//! A fleet's side of one-time codes: results wait in Redis under the SHA-256 of their code
//! (Redis never sees a code), sealed with ChaCha20-Poly1305 under the `result` key, the
//! associated data binding the Redis key and the expiry, so Redis never holds an access token
//! in the clear and a value moved to another key does not open. Taking is one Lua script, so
//! two instances exchanging the same code at once cannot both win.

use nativeauth::SharedCache;
use nativeauth::redis::{RedisStore, TAKEN, Taken};

use super::{CODE_LIFETIME, Refusal, SharedTake};
use crate::result::SignInResult;
use crate::signing::Sealer;

/// The format byte of a sealed value.
const FORMAT: u8 = 1;
/// The bound of one Redis call.
pub(super) const REDIS_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);
/// The tombstone of a code found expired (a taken one gets [`TAKEN`]).
const EXPIRED: &str = "~expired";

/// Results kept in the fleet's Redis.
pub(crate) struct SharedCodes {
    store: RedisStore,
    sealer: Sealer,
}

pub(super) fn redis_key(hash: &[u8; 32]) -> String {
    format!("result:{}", crate::signing::hex(hash))
}

fn aad(full_key: &str, expires: u64) -> Vec<u8> {
    let mut aad = vec![FORMAT];
    aad.extend_from_slice(full_key.as_bytes());
    aad.extend_from_slice(&expires.to_be_bytes());
    aad
}

impl SharedCodes {
    /// Results in `store`, sealed under `key` (the `result` key).
    pub(crate) fn new(store: RedisStore, key: &[u8; 32]) -> Self {
        Self { store, sealer: Sealer::new(key) }
    }

    /// Keeps `result` under `hash` until `expires`; `false` (logged) when Redis did not take it.
    pub(super) async fn put(&self, hash: &[u8; 32], expires: u64, result: &SignInResult) -> bool {
        let Some(sealed) = self.seal(hash, expires, result) else {
            tracing::error!(event_id = %result.event_id, "the result could not be sealed");
            return false;
        };
        let stored = tokio::time::timeout(
            REDIS_TIMEOUT,
            self.store.put(&redis_key(hash), &sealed, CODE_LIFETIME * 2),
        )
        .await;
        match stored {
            Ok(Ok(())) => return true,
            Ok(Err(error)) => tracing::warn!(
                %error,
                event_id = %result.event_id,
                "the result could not be shared; kept on this instance"
            ),
            Err(_) => tracing::warn!(
                event_id = %result.event_id,
                "Redis did not answer in time; the result is kept on this instance"
            ),
        }
        false
    }

    fn seal(&self, hash: &[u8; 32], expires: u64, result: &SignInResult) -> Option<Vec<u8>> {
        let full_key = self.store.namespaced(&redis_key(hash));
        let body = self.sealer.seal(&aad(&full_key, expires), serde_json::to_vec(result).ok()?)?;
        let mut sealed = vec![FORMAT];
        sealed.extend_from_slice(&expires.to_be_bytes());
        sealed.extend_from_slice(&body);
        Some(sealed)
    }

    /// Takes the result under `hash`, once, across the fleet.
    pub(super) async fn take(&self, hash: &[u8; 32], now: u64) -> SharedTake {
        let taken = tokio::time::timeout(REDIS_TIMEOUT, self.store.take_once(&redis_key(hash)))
            .await
            .unwrap_or_else(|_| Err(nativeauth::SharedCacheError::message("no answer in time")));
        match taken {
            Ok(Taken::Value(sealed)) => {
                let full_key = self.store.namespaced(&redis_key(hash));
                let opened = open(&self.sealer, &full_key, &sealed, now);
                if opened.as_ref().is_err_and(|r| *r == Refusal::Expired) {
                    // Only the message of a later attempt depends on this: best effort.
                    let marked = tokio::time::timeout(
                        REDIS_TIMEOUT,
                        self.store.set_tombstone(&redis_key(hash), EXPIRED),
                    )
                    .await;
                    if !matches!(marked, Ok(Ok(()))) {
                        tracing::debug!("an expired code could not be marked as such");
                    }
                }
                SharedTake::Done(opened)
            }
            Ok(Taken::Tombstone(mark)) if mark == EXPIRED => {
                SharedTake::Done(Err(Refusal::Expired))
            }
            Ok(Taken::Tombstone(_)) => SharedTake::Done(Err(Refusal::Used)),
            Ok(Taken::Missing) => SharedTake::Missing,
            Err(error) => {
                tracing::warn!(%error, "the shared result store did not answer");
                SharedTake::Unavailable
            }
        }
    }

    /// Marks the code under `hash` taken: a write whose answer was late may have landed after
    /// all, and a tombstone over it keeps another instance from exchanging the same code.
    pub(super) async fn mark_taken(&self, hash: &[u8; 32]) {
        let marked = tokio::time::timeout(
            REDIS_TIMEOUT,
            self.store.put(&redis_key(hash), TAKEN.as_bytes(), CODE_LIFETIME * 2),
        )
        .await;
        if !matches!(marked, Ok(Ok(()))) {
            tracing::warn!("a code taken from memory could not be marked taken in Redis");
        }
    }
}

/// A sealed value opened, or why not. A value that does not open (another key's, altered, an
/// unknown format) is unknown: it is not a code this fleet issued.
fn open(sealer: &Sealer, full_key: &str, sealed: &[u8], now: u64) -> Result<SignInResult, Refusal> {
    let unknown = |why: &str| {
        tracing::warn!(reason = why, "a shared result was refused");
        Refusal::Unknown
    };
    // The format byte and the expiry, then what the sealer made.
    let header = 1 + 8;
    if sealed.len() < header || sealed[0] != FORMAT {
        return Err(unknown("unknown format"));
    }
    let mut expires = [0u8; 8];
    expires.copy_from_slice(&sealed[1..header]);
    let expires = u64::from_be_bytes(expires);
    let plain = sealer
        .open(&aad(full_key, expires), &sealed[header..])
        .ok_or_else(|| unknown("does not open under this key and place"))?;
    // Checked only once the expiry is known to be genuine.
    if expires < now {
        return Err(Refusal::Expired);
    }
    serde_json::from_slice(&plain).map_err(|_| unknown("not a result"))
}
