//! One-time codes: after a sign-in the browser carries only a code back to the app, and the
//! result waits here until the app exchanges it server-to-server. A code is 256 random bits,
//! valid [`CODE_LIFETIME`], and taken at most once; a taken or expired code leaves a tombstone
//! for twice the lifetime, so the app is told "used" or "expired" rather than "unknown".
//!
//! One instance keeps results in memory (bounded). A fleet keeps them in Redis (`shared`),
//! falling back to memory while Redis cannot answer.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::result::SignInResult;

#[cfg(feature = "redis")]
mod shared;
#[cfg(feature = "redis")]
pub(crate) use shared::SharedCodes;

/// Without the `redis` feature there is no fleet: no shared store can exist.
#[cfg(not(feature = "redis"))]
pub(crate) enum SharedCodes {}

#[cfg(not(feature = "redis"))]
impl SharedCodes {
    async fn put(&self, _: &[u8; 32], _: u64, _: &SignInResult) -> bool {
        match *self {}
    }

    async fn take(&self, _: &[u8; 32], _: u64) -> SharedTake {
        match *self {}
    }

    async fn mark_taken(&self, _: &[u8; 32]) {
        match *self {}
    }
}

/// What the fleet's store said about a code. (Returned once per exchange and never kept, so
/// its size does not matter.)
#[cfg_attr(not(feature = "redis"), allow(dead_code))] // no store can answer
#[allow(clippy::large_enum_variant)]
pub(crate) enum SharedTake {
    /// Its result, or why not.
    Done(Result<SignInResult, Refusal>),
    /// Not there: a result this instance kept while Redis was away may be in memory.
    Missing,
    /// The store did not answer.
    Unavailable,
}

/// How long the app has to exchange a code.
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Codes (waiting or tombstoned) one instance keeps in memory at most.
const MEMORY_CAPACITY: usize = 20_000;

/// Why a code was not exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Exchanged before.
    Used,
    /// Past its lifetime.
    Expired,
    /// Never issued here, or long gone.
    Unknown,
    /// The fleet's store could not answer.
    Unavailable,
}

impl Refusal {
    /// The API's `kind`.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Self::Used => "code-used",
            Self::Expired => "code-expired",
            Self::Unknown => "code-unknown",
            Self::Unavailable => "unavailable",
        }
    }
}

struct Slot {
    expires: u64,
    /// `None` once taken.
    value: Option<SignInResult>,
}

/// Where results wait for their exchange.
pub(crate) struct Codes {
    memory: Mutex<HashMap<[u8; 32], Slot>>,
    shared: Option<SharedCodes>,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn digest(code: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, code.as_bytes()).as_ref());
    out
}

impl Codes {
    /// Codes in this process's memory only.
    pub(crate) fn local() -> Self {
        Self { memory: Mutex::default(), shared: None }
    }

    /// Codes kept in the fleet's store first (memory while it cannot answer).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // no store can exist
    pub(crate) fn shared(store: SharedCodes) -> Self {
        Self { shared: Some(store), ..Self::local() }
    }

    /// Whether a new code can be kept: checked before the connect API is called, so that an
    /// account is never linked without a code to hand it over.
    pub(crate) fn has_room(&self) -> bool {
        // Also with a fleet: while Redis is away, results fall back to memory.
        let mut memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
        sweep(&mut memory, now());
        memory.len() < MEMORY_CAPACITY
    }

    /// Keeps `result` and returns its code.
    pub(crate) async fn issue(&self, result: SignInResult) -> String {
        self.issue_at(result, now()).await
    }

    async fn issue_at(&self, result: SignInResult, now: u64) -> String {
        let code = crate::signing::random_token();
        let hash = digest(&code);
        let expires = now + CODE_LIFETIME.as_secs();
        if let Some(shared) = &self.shared {
            if shared.put(&hash, expires, &result).await {
                return code;
            }
        }
        let mut memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
        sweep(&mut memory, now);
        memory.insert(hash, Slot { expires, value: Some(result) });
        code
    }

    /// Takes the result of `code`, once.
    pub(crate) async fn take(&self, code: &str) -> Result<SignInResult, Refusal> {
        self.take_at(code, now()).await
    }

    async fn take_at(&self, code: &str, now: u64) -> Result<SignInResult, Refusal> {
        let hash = digest(code);
        let mut unavailable = false;
        if let Some(shared) = &self.shared {
            match shared.take(&hash, now).await {
                SharedTake::Done(result) => {
                    // Whatever the fleet says (the result, used, expired), a copy kept here when
                    // the write's answer was late is spent with it: a code is never good twice.
                    self.memory.lock().unwrap_or_else(PoisonError::into_inner).remove(&hash);
                    return result;
                }
                SharedTake::Missing => {}
                SharedTake::Unavailable => unavailable = true,
            }
        }
        let taken = {
            let mut memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
            match memory.get_mut(&hash) {
                None if unavailable => Err(Refusal::Unavailable),
                None => Err(Refusal::Unknown),
                Some(slot) if slot.expires < now => {
                    slot.value = None;
                    Err(Refusal::Expired)
                }
                Some(slot) => slot.value.take().ok_or(Refusal::Used),
            }
        };
        if let (Ok(_), Some(shared)) = (&taken, &self.shared) {
            shared.mark_taken(&hash).await;
        }
        taken
    }
}

/// Drops entries whose tombstone time is over.
fn sweep(memory: &mut HashMap<[u8; 32], Slot>, now: u64) {
    if memory.len() >= MEMORY_CAPACITY / 2 {
        let keep = CODE_LIFETIME.as_secs();
        memory.retain(|_, slot| slot.expires + keep >= now);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use nativeauth::secrecy::SecretString;

    use super::*;
    use crate::result::Linked;

    pub(super) fn result(event: &str) -> SignInResult {
        SignInResult {
            event_id: event.into(),
            state: None,
            signed_link: false,
            tenant_id: None,
            email_address: "ann@yahoo.com".into(),
            provider: "yahoo".into(),
            source: "catalogue".into(),
            trust: "verified".into(),
            linked: Linked::V2 {
                account_id: "acc".into(),
                access_token: SecretString::from("the-access-token"),
                provider: "yahoo".into(),
            },
        }
    }

    pub(super) async fn walk_the_lifecycle(codes: &Codes) {
        let t0 = 1_000_000;
        let code = codes.issue_at(result("e1"), t0).await;
        assert_eq!(code.len(), 64, "256 bits");
        assert_eq!(codes.take_at("nope", t0).await.unwrap_err(), Refusal::Unknown);
        let taken = codes.take_at(&code, t0 + 599).await.unwrap();
        assert_eq!(taken.event_id, "e1");
        assert_eq!(codes.take_at(&code, t0 + 600).await.unwrap_err(), Refusal::Used);
        let late = codes.issue_at(result("e2"), t0).await;
        assert_eq!(codes.take_at(&late, t0 + 601).await.unwrap_err(), Refusal::Expired);
        assert_eq!(codes.take_at(&late, t0 + 602).await.unwrap_err(), Refusal::Expired);
    }

    #[tokio::test]
    async fn in_memory_a_code_is_taken_once_and_expires() {
        walk_the_lifecycle(&Codes::local()).await;
    }

    #[test]
    fn memory_is_bounded() {
        let codes = Codes::local();
        {
            let mut memory = codes.memory.lock().unwrap();
            for i in 0..MEMORY_CAPACITY {
                let mut hash = [0u8; 32];
                hash[..8].copy_from_slice(&(i as u64).to_be_bytes());
                memory.insert(hash, Slot { expires: now() + 600, value: None });
            }
        }
        assert!(!codes.has_room(), "full of live codes");
        for slot in codes.memory.lock().unwrap().values_mut() {
            slot.expires = 1;
        }
        assert!(codes.has_room(), "tombstones past their time are swept");
    }
}

/// The fleet's side, against a real Redis.
#[cfg(all(test, feature = "redis"))]
mod shared_tests {
    #![allow(clippy::unwrap_used)]

    use nativeauth::SharedCache;
    use nativeauth::redis::RedisStore;
    use nativeauth::secrecy::ExposeSecret;
    use nativeauth_testkit::RedisServer;

    use super::shared::{REDIS_TIMEOUT, redis_key};
    use super::tests::{result, walk_the_lifecycle};
    use super::*;
    use crate::result::Linked;

    #[tokio::test]
    async fn in_redis_a_code_is_taken_once_expires_and_is_sealed() {
        let redis = RedisServer::start();
        let store = RedisStore::connect(&redis.url(), "nativeauth", REDIS_TIMEOUT).unwrap();
        let codes = Codes::shared(SharedCodes::new(store.clone(), &[9u8; 32]));
        walk_the_lifecycle(&codes).await;
        assert!(codes.memory.lock().unwrap().is_empty(), "everything went to Redis");

        // What Redis holds: no token, no code; and a value moved to another code's key does
        // not open there.
        let code = codes.issue_at(result("e3"), now()).await;
        let key = redis_key(&digest(&code));
        let raw = store.get(&key).await.unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("the-access-token"));
        assert!(!String::from_utf8_lossy(&raw).contains("ann@yahoo.com"));
        let other = "f".repeat(64);
        store.put(&redis_key(&digest(&other)), &raw, CODE_LIFETIME).await.unwrap();
        assert_eq!(codes.take(&other).await.unwrap_err(), Refusal::Unknown);
        // Under another result key it does not open either.
        let stranger = Codes::shared(SharedCodes::new(store.clone(), &[8u8; 32]));
        assert_eq!(stranger.take(&code).await.unwrap_err(), Refusal::Unknown);
        // …and that attempt used it up, as any taker does.
        assert_eq!(codes.take(&code).await.unwrap_err(), Refusal::Used);

        // Two instances racing for one code: exactly one wins.
        let code = codes.issue(result("e4")).await;
        let twin = Codes::shared(SharedCodes::new(store.clone(), &[9u8; 32]));
        let (a, b) = tokio::join!(codes.take(&code), twin.take(&code));
        let wins = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{a:?} {b:?}");
        let losers: Vec<Refusal> = [a, b].into_iter().filter_map(Result::err).collect();
        assert_eq!(losers, [Refusal::Used]);
        drop(redis);
    }

    #[tokio::test]
    async fn with_redis_down_results_stay_on_the_instance() {
        let mut redis = RedisServer::start();
        let store = RedisStore::connect(&redis.url(), "nativeauth", REDIS_TIMEOUT).unwrap();
        redis.stop();
        let codes = Codes::shared(SharedCodes::new(store, &[9u8; 32]));
        let code = codes.issue(result("e5")).await;
        let taken = codes.take(&code).await.unwrap();
        assert!(
            matches!(taken.linked, Linked::V2 { ref access_token, .. } if access_token.expose_secret() == "the-access-token")
        );
        assert_eq!(codes.take("0".repeat(64).as_str()).await.unwrap_err(), Refusal::Unavailable);
    }
}
