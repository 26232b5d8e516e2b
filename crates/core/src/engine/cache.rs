//! The per-domain cache of discovery results: public data only (never credentials), with
//! in-flight de-duplication so that concurrent discoveries of one domain share one run.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::model::{Detection, Failure, FailureKind};

/// Entries kept before expired ones are purged.
const PURGE_ABOVE: usize = 100_000;

/// The domain-level result of one run.
#[derive(Debug)]
pub(super) struct CachedRun {
    pub(super) detections: Vec<Detection>,
    pub(super) failure: Option<Failure>,
    pub(super) at: Instant,
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
            Some(FailureKind::NotFound) => self.negative_ttl,
            Some(_) => None,
        }
    }

    fn is_fresh(&self, run: &CachedRun) -> bool {
        self.lifetime(run).is_some_and(|ttl| run.at.elapsed() < ttl)
    }

    /// The cached run for `domain` (or the one another caller has started), or a new one.
    pub(super) async fn get_or_run<F, Fut>(&self, domain: &str, run: F) -> Arc<CachedRun>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = CachedRun>,
    {
        if self.ttl.is_none() && self.negative_ttl.is_none() {
            return Arc::new(run().await);
        }
        let entry = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if entries.len() > PURGE_ABOVE {
                entries.retain(|_, e| e.cell.get().is_none_or(|r| self.is_fresh(r)));
            }
            let current =
                entries.get(domain).filter(|e| e.cell.get().is_none_or(|r| self.is_fresh(r)));
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
                Arc::new(run().await)
            })
            .await
            .clone();
        let ran = ran.load(Ordering::Relaxed);
        if ran && self.lifetime(&result).is_none() {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if entries.get(domain).is_some_and(|e| Arc::ptr_eq(e, &entry)) {
                entries.remove(domain);
            }
        }
        result
    }
}
