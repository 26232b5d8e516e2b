//! The per-domain cache of discovery results: public data only (never credentials), bounded
//! in size, with in-flight de-duplication so that concurrent discoveries of one domain share
//! one run.
//!
//! Built on `quick_cache`: a sharded map whose eviction policy (CLOCK-PRO) keeps what is asked
//! often when a flood of one-off domains passes (a login page typed at random), with constant
//! work per operation (no scan, no global lock on the request path), a size bound counted in
//! estimated bytes, and placeholders that make concurrent callers of one key wait for the one
//! run under way. Lifetimes are checked on read: an entry past its lifetime is a miss.
//!
//! A run whose answers are one user's (`Detection::is_personal_to`: a literal login name, a
//! login autodiscover named, a server named after the local part) is kept under the full
//! address, never shared with other users of the domain: Bob must not receive Alice's login
//! name. Answers that follow the same rule for every user (placeholders) are shared by the
//! domain, so a busy domain asks the network once.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::{Detection, Failure};

/// The domain-level result of one run.
#[derive(Debug)]
pub(super) struct CachedRun {
    pub(super) detections: Vec<Detection>,
    pub(super) failure: Option<Failure>,
    /// A popular domain close to a mistyped one (see `Report::suggestion`).
    pub(super) suggested_domain: Option<String>,
    pub(super) at: Instant,
    /// The address this run's answers belong to, when they may depend on it.
    pub(super) owner: Option<String>,
}

impl CachedRun {
    fn serves(&self, address: &str) -> bool {
        self.owner.as_deref().is_none_or(|owner| owner == address)
    }

    /// About how many bytes this run keeps alive in the cache under `key`: what the capacity
    /// is counted in. An estimate (string contents and the structures holding them, plus the
    /// cache's own bookkeeping per entry), not an allocator's measurement.
    fn approximate_bytes(&self, key: &str) -> u32 {
        /// The cache's bookkeeping per entry (hash table slot, access-order node, the `Arc`).
        const ENTRY_OVERHEAD: usize = 160;
        let strings = |items: &[String]| items.iter().map(|s| s.len() + 24).sum::<usize>();
        let detections: usize = self
            .detections
            .iter()
            .map(|d| {
                let servers: usize = d
                    .incoming
                    .iter()
                    .chain(&d.outgoing)
                    .map(|s| std::mem::size_of_val(s) + s.host.len() + 64)
                    .sum();
                std::mem::size_of::<Detection>()
                    + d.provider.id.len()
                    + d.provider.name.len()
                    + d.evidence.len()
                    + strings(&d.notes)
                    + servers
                    + 128 // provider links, Exchange endpoints
            })
            .sum();
        let failure = self.failure.as_ref().map_or(0, |f| f.message.len());
        let total = ENTRY_OVERHEAD
            + std::mem::size_of::<Self>()
            + key.len()
            + detections
            + failure
            + self.suggested_domain.as_ref().map_or(0, String::len)
            + self.owner.as_ref().map_or(0, String::len);
        u32::try_from(total).unwrap_or(u32::MAX)
    }
}

/// How long a run stays valid: found → `found`; nothing found → `negative`; network failures,
/// timeouts and busy refusals → not at all (the next caller tries again).
#[derive(Debug, Clone, Copy)]
struct Lifetimes {
    found: Option<Duration>,
    negative: Option<Duration>,
}

impl Lifetimes {
    fn of(&self, run: &CachedRun) -> Option<Duration> {
        match run.failure.as_ref().map(|f| f.kind) {
            None => self.found,
            Some(kind) if kind.is_definite() => self.negative,
            Some(_) => None,
        }
    }

    fn is_fresh(&self, run: &CachedRun) -> bool {
        self.of(run).is_some_and(|lifetime| run.at.elapsed() < lifetime)
    }
}

/// A cached run with its weight, computed once: the cache asks for weights while it evicts.
#[derive(Clone)]
struct Weighed {
    run: Arc<CachedRun>,
    bytes: u32,
}

impl Weighed {
    fn new(key: &str, run: Arc<CachedRun>) -> Self {
        // At least 1: the cache never evicts weightless entries.
        let bytes = run.approximate_bytes(key).max(1);
        Self { run, bytes }
    }
}

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<String, Weighed> for ByBytes {
    fn weight(&self, _key: &String, value: &Weighed) -> u64 {
        u64::from(value.bytes)
    }
}

type Entries = quick_cache::sync::Cache<String, Weighed, ByBytes>;

/// The most entries reserved up front, whatever the bound: a huge bound must not allocate
/// gigabytes at startup (past this, the tables grow as they fill).
const MAX_RESERVED_ENTRIES: usize = 1 << 20;

/// A typical entry's weight, to size the cache's tables for its bound.
const TYPICAL_ENTRY_BYTES: u64 = 400;

pub(super) struct Cache {
    lifetimes: Lifetimes,
    /// `None` when nothing is cached (both lifetimes off, or no capacity).
    entries: Option<Entries>,
}

impl Cache {
    /// A cache of at most about `capacity_bytes` (see [`CachedRun::approximate_bytes`]).
    pub(super) fn new(
        found: Option<Duration>,
        negative: Option<Duration>,
        capacity_bytes: u64,
    ) -> Self {
        let lifetimes = Lifetimes { found, negative };
        let enabled = (found.is_some() || negative.is_some()) && capacity_bytes > 0;
        let entries = enabled.then(|| {
            let typical = usize::try_from(capacity_bytes / TYPICAL_ENTRY_BYTES).unwrap_or(1);
            let entries = Entries::with_weighter(typical.max(1), capacity_bytes, ByBytes);
            // Room for a full cache up front: growing the tables mid-flood stalls every caller
            // of a shard while it rehashes. Untouched, the room costs address space, not memory.
            entries.reserve(typical.min(MAX_RESERVED_ENTRIES));
            entries
        });
        Self { lifetimes, entries }
    }

    /// How long `run` may be kept, by the same rules in every layer.
    pub(super) fn lifetime(&self, run: &CachedRun) -> Option<Duration> {
        self.lifetimes.of(run)
    }

    /// A fresh run under `key`; a stale one is removed on the way.
    fn fresh(&self, entries: &Entries, key: &str) -> Option<Arc<CachedRun>> {
        let found = entries.get(key)?;
        if self.lifetimes.is_fresh(&found.run) {
            return Some(found.run);
        }
        entries.remove_if(key, |current| Arc::ptr_eq(&current.run, &found.run));
        None
    }

    /// Whether a fresh run for `address` at `domain` is kept (the domain's shared one serving
    /// the address, or the address's own).
    ///
    /// Only looks: unlike a lookup it neither marks the entry as asked again (so asking
    /// before discovering does not make an entry look busy) nor removes a stale one.
    pub(super) fn holds(&self, domain: &str, address: &str) -> bool {
        let Some(entries) = &self.entries else { return false };
        let fresh = |key: &str| entries.peek(key).filter(|e| self.lifetimes.is_fresh(&e.run));
        fresh(domain).is_some_and(|e| e.run.serves(address)) || fresh(address).is_some()
    }

    /// The cached run for `address` at `domain` (a shared one for the domain, the address's
    /// own, or the one another caller has started), or a new one.
    pub(super) async fn get_or_run<F, Fut>(
        &self,
        domain: &str,
        address: &str,
        run: F,
    ) -> Arc<CachedRun>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = CachedRun>,
    {
        let Some(entries) = &self.entries else {
            return Arc::new(run().await);
        };
        if let Some(shared) = self.fresh(entries, domain).filter(|r| r.serves(address)) {
            return shared;
        }
        if let Some(own) = self.fresh(entries, address) {
            return own;
        }

        let asked = Instant::now();
        let result = match entries.get_value_or_guard_async(domain).await {
            Ok(other) => other.run,
            Err(guard) => {
                let result = Arc::new(run().await);
                // The callers waiting on this placeholder get the run whatever it is; a
                // failure is taken out again. One user's answers stay under the domain as a
                // marker that the domain's answers are personal: other users then find it at
                // once (it never serves them) and ask for themselves instead of waiting here.
                let _ = guard.insert(Weighed::new(domain, result.clone()));
                if self.lifetimes.of(&result).is_none() {
                    entries.remove_if(domain, |current| Arc::ptr_eq(&current.run, &result));
                }
                if self.lifetimes.of(&result).is_some() && result.owner.is_some() {
                    entries.insert(address.to_owned(), Weighed::new(address, result.clone()));
                }
                return result;
            }
        };
        // A run that finished while this caller waited, or an entry another caller has just
        // stored: either is current. Anything older and stale is not used.
        let current = result.at >= asked || self.lifetimes.is_fresh(&result);
        if current && result.serves(address) {
            return result;
        }
        // Another user's run, whose answers are theirs alone (or an outdated one): ask anew.
        let own = Arc::new(run().await);
        if self.lifetimes.of(&own).is_some() && own.owner.is_some() {
            entries.insert(address.to_owned(), Weighed::new(address, own.clone()));
        }
        own
    }

    /// (entries, approximate bytes) held: for tests of the bound.
    #[cfg(test)]
    pub(super) fn size(&self) -> (u64, u64) {
        self.entries.as_ref().map_or((0, 0), |e| (e.len() as u64, e.weight()))
    }
}
