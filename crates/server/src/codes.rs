//! One-time codes: after a sign-in the browser carries only a code back to the app, and the
//! result waits here until the app exchanges it server-to-server. A code is 256 random bits,
//! valid [`CODE_LIFETIME`], and taken at most once; a taken or expired code leaves a tombstone
//! for twice the lifetime, so the app is told "used" or "expired" rather than "unknown".
//!
//! One instance keeps results in memory (bounded). A fleet keeps them in Redis under the
//! SHA-256 of the code (Redis never sees a code), sealed with ChaCha20-Poly1305 under the
//! `result` key, the associated data binding the Redis key and the expiry, so Redis never holds
//! an access token in the clear and a value moved to another key does not open. Taking is one
//! Lua script, so two instances exchanging the same code at once cannot both win.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nativeauth::SharedCache;
use nativeauth::redis::{RedisStore, TAKEN, Taken};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::result::SignInResult;

/// How long the app has to exchange a code.
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Codes (waiting or tombstoned) one instance keeps in memory at most.
const MEMORY_CAPACITY: usize = 20_000;
/// The format byte of a sealed value.
const FORMAT: u8 = 1;
/// The bound of one Redis call.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// The tombstone of a code found expired (a taken one gets [`TAKEN`]).
const EXPIRED: &str = "~expired";

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
    shared: Option<(RedisStore, LessSafeKey)>,
    /// For the nonces of sealed values.
    random: SystemRandom,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn digest(code: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, code.as_bytes()).as_ref());
    out
}

fn redis_key(hash: &[u8; 32]) -> String {
    format!("result:{}", crate::signing::hex(hash))
}

fn aad(full_key: &str, expires: u64) -> Vec<u8> {
    let mut aad = vec![FORMAT];
    aad.extend_from_slice(full_key.as_bytes());
    aad.extend_from_slice(&expires.to_be_bytes());
    aad
}

impl Codes {
    /// Codes in this process's memory only.
    pub(crate) fn local() -> Self {
        Self { memory: Mutex::default(), shared: None, random: SystemRandom::new() }
    }

    /// Codes in `store`, shared by the fleet, sealed under `key` (the `result` key).
    pub(crate) fn shared(store: RedisStore, key: &[u8; 32]) -> Self {
        let key = UnboundKey::new(&CHACHA20_POLY1305, key)
            .map(LessSafeKey::new)
            .unwrap_or_else(|_| unreachable!("a 32-byte key is a valid ChaCha20-Poly1305 key"));
        Self { shared: Some((store, key)), ..Self::local() }
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
        if let Some((store, key)) = &self.shared {
            match self.seal(store, key, &hash, expires, &result) {
                Some(sealed) => {
                    let stored = tokio::time::timeout(
                        REDIS_TIMEOUT,
                        store.put(&redis_key(&hash), &sealed, CODE_LIFETIME * 2),
                    )
                    .await;
                    match stored {
                        Ok(Ok(())) => return code,
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
                }
                None => {
                    tracing::error!(event_id = %result.event_id, "the result could not be sealed")
                }
            }
        }
        let mut memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
        sweep(&mut memory, now);
        memory.insert(hash, Slot { expires, value: Some(result) });
        code
    }

    fn seal(
        &self,
        store: &RedisStore,
        key: &LessSafeKey,
        hash: &[u8; 32],
        expires: u64,
        result: &SignInResult,
    ) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).ok()?;
        let mut body = serde_json::to_vec(result).ok()?;
        let full_key = store.namespaced(&redis_key(hash));
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(&full_key, expires)),
            &mut body,
        )
        .ok()?;
        let mut sealed = vec![FORMAT];
        sealed.extend_from_slice(&expires.to_be_bytes());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&body);
        Some(sealed)
    }

    /// Takes the result of `code`, once.
    pub(crate) async fn take(&self, code: &str) -> Result<SignInResult, Refusal> {
        self.take_at(code, now()).await
    }

    async fn take_at(&self, code: &str, now: u64) -> Result<SignInResult, Refusal> {
        let hash = digest(code);
        let mut unavailable = false;
        if let Some((store, key)) = &self.shared {
            let taken = tokio::time::timeout(REDIS_TIMEOUT, store.take_once(&redis_key(&hash)))
                .await
                .unwrap_or_else(|_| {
                    Err(nativeauth::SharedCacheError::message("no answer in time"))
                });
            match taken {
                Ok(Taken::Value(sealed)) => {
                    // A copy kept here when the write's answer was late is spent with it.
                    self.memory.lock().unwrap_or_else(PoisonError::into_inner).remove(&hash);
                    let full_key = store.namespaced(&redis_key(&hash));
                    let opened = open(key, &full_key, sealed, now);
                    if opened.as_ref().is_err_and(|r| *r == Refusal::Expired) {
                        // Only the message of a later attempt depends on this: best effort.
                        let marked = tokio::time::timeout(
                            REDIS_TIMEOUT,
                            store.set_tombstone(&redis_key(&hash), EXPIRED),
                        )
                        .await;
                        if !matches!(marked, Ok(Ok(()))) {
                            tracing::debug!("an expired code could not be marked as such");
                        }
                    }
                    return opened;
                }
                Ok(Taken::Tombstone(mark)) if mark == EXPIRED => return Err(Refusal::Expired),
                Ok(Taken::Tombstone(_)) => return Err(Refusal::Used),
                // A result this instance kept while Redis was away may still be in memory.
                Ok(Taken::Missing) => {}
                Err(error) => {
                    tracing::warn!(%error, "the shared result store did not answer");
                    unavailable = true;
                }
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
        if let (Ok(_), Some((store, _))) = (&taken, &self.shared) {
            // A write whose answer was late may have landed after all: a tombstone over it
            // keeps another instance from exchanging the same code.
            let marked = tokio::time::timeout(
                REDIS_TIMEOUT,
                store.put(&redis_key(&hash), TAKEN.as_bytes(), CODE_LIFETIME * 2),
            )
            .await;
            if !matches!(marked, Ok(Ok(()))) {
                tracing::warn!("a code taken from memory could not be marked taken in Redis");
            }
        }
        taken
    }
}

/// A sealed value opened, or why not. A value that does not open (another key's, altered, an
/// unknown format) is unknown: it is not a code this fleet issued.
fn open(
    key: &LessSafeKey,
    full_key: &str,
    sealed: Vec<u8>,
    now: u64,
) -> Result<SignInResult, Refusal> {
    let unknown = |why: &str| {
        tracing::warn!(reason = why, "a shared result was refused");
        Refusal::Unknown
    };
    let header = 1 + 8 + NONCE_LEN;
    if sealed.len() < header || sealed[0] != FORMAT {
        return Err(unknown("unknown format"));
    }
    let mut expires = [0u8; 8];
    expires.copy_from_slice(&sealed[1..9]);
    let expires = u64::from_be_bytes(expires);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&sealed[9..header]);
    let mut body = sealed[header..].to_vec();
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(full_key, expires)),
            &mut body,
        )
        .map_err(|_| unknown("does not open under this key and place"))?;
    // Checked only once the expiry is known to be genuine.
    if expires < now {
        return Err(Refusal::Expired);
    }
    serde_json::from_slice(plain).map_err(|_| unknown("not a result"))
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

    use nativeauth::secrecy::{ExposeSecret, SecretString};
    use nativeauth_testkit::RedisServer;

    use super::*;
    use crate::result::Linked;

    fn result(event: &str) -> SignInResult {
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

    async fn walk_the_lifecycle(codes: &Codes) {
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

    #[tokio::test]
    async fn in_redis_a_code_is_taken_once_expires_and_is_sealed() {
        let redis = RedisServer::start();
        let store = RedisStore::connect(&redis.url(), "nativeauth", REDIS_TIMEOUT).unwrap();
        let codes = Codes::shared(store.clone(), &[9u8; 32]);
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
        let stranger = Codes::shared(store.clone(), &[8u8; 32]);
        assert_eq!(stranger.take(&code).await.unwrap_err(), Refusal::Unknown);
        // …and that attempt used it up, as any taker does.
        assert_eq!(codes.take(&code).await.unwrap_err(), Refusal::Used);

        // Two instances racing for one code: exactly one wins.
        let code = codes.issue(result("e4")).await;
        let twin = Codes::shared(store.clone(), &[9u8; 32]);
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
        let codes = Codes::shared(store, &[9u8; 32]);
        let code = codes.issue(result("e5")).await;
        let taken = codes.take(&code).await.unwrap();
        assert!(
            matches!(taken.linked, Linked::V2 { ref access_token, .. } if access_token.expose_secret() == "the-access-token")
        );
        assert_eq!(codes.take("0".repeat(64).as_str()).await.unwrap_err(), Refusal::Unavailable);
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
