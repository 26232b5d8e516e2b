//! The per-domain cache of discovery results: public data only (never credentials), with
//! in-flight de-duplication so that concurrent discoveries of one domain share one run.
//!
//! A run whose answers are one user's (`Detection::is_personal_to`: a literal login name, a
//! login autodiscover named, a server named after the local part) is kept under the full
//! address, never shared with other users of the domain: Bob must not receive Alice's login
//! name. Answers that follow the same rule for every user (placeholders) are shared by the
//! domain, so a busy domain asks the network once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::model::{Detection, Failure};

/// Entries kept before expired ones are purged.
const PURGE_ABOVE: usize = 100_000;

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
}

#[derive(Default)]
struct Entry {
    cell: OnceCell<Arc<CachedRun>>,
}

pub(super) struct Cache {
    ttl: Option<Duration>,
    negative_ttl: Option<Duration>,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

impl Cache {
    pub(super) fn new(ttl: Option<Duration>, negative_ttl: Option<Duration>) -> Self {
        Self { ttl, negative_ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// How long a run stays valid: found → ttl; nothing found → negative ttl; network
    /// failures and timeouts → not at all (the next caller tries again).
    fn lifetime(&self, run: &CachedRun) -> Option<Duration> {
        match run.failure.as_ref().map(|f| f.kind) {
            None => self.ttl,
            Some(kind) if kind.is_definite() => self.negative_ttl,
            Some(_) => None,
        }
    }

    fn is_fresh(&self, run: &CachedRun) -> bool {
        self.lifetime(run).is_some_and(|ttl| run.at.elapsed() < ttl)
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
        if self.ttl.is_none() && self.negative_ttl.is_none() {
            return Arc::new(run().await);
        }
        let run = Mutex::new(Some(run));
        let take_run = || run.lock().unwrap_or_else(PoisonError::into_inner).take();
        let entry = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if entries.len() > PURGE_ABOVE {
                entries.retain(|_, e| e.cell.get().is_none_or(|r| self.is_fresh(r)));
            }
            let usable = |e: &&Arc<Entry>| {
                e.cell.get().is_none_or(|r| self.is_fresh(r) && r.serves(address))
            };
            let current =
                entries.get(address).filter(usable).or_else(|| entries.get(domain).filter(usable));
            match current {
                Some(entry) => entry.clone(),
                None => {
                    let entry = Arc::new(Entry::default());
                    entries.insert(domain.to_owned(), entry.clone());
                    entry
                }
            }
        };
        let ran = AtomicBool::new(false);
        let result = entry
            .cell
            .get_or_init(|| async {
                ran.store(true, Ordering::Relaxed);
                match take_run() {
                    Some(run) => Arc::new(run().await),
                    // Unreachable: only the caller that initialises the cell runs, once.
                    None => Arc::new(CachedRun {
                        detections: Vec::new(),
                        failure: None,
                        suggested_domain: None,
                        at: Instant::now(),
                        owner: None,
                    }),
                }
            })
            .await
            .clone();
        if !ran.load(Ordering::Relaxed) {
            if result.serves(address) {
                return result;
            }
            // Another user's run, whose answers are theirs alone: ask for this user.
            let Some(run) = take_run() else { return result };
            let own = Arc::new(run().await);
            if self.lifetime(&own).is_some() && own.owner.is_some() {
                let entry = Arc::new(Entry::default());
                let _ = entry.cell.set(own.clone());
                let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
                entries.insert(address.to_owned(), entry);
            }
            return own;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.get(domain).is_some_and(|e| Arc::ptr_eq(e, &entry))
            && (self.lifetime(&result).is_none() || result.owner.is_some())
        {
            entries.remove(domain);
        }
        if self.lifetime(&result).is_some() && result.owner.is_some() {
            entries.insert(address.to_owned(), entry);
        }
        result
    }
}
