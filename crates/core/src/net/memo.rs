//! Per-run memos: each distinct question is asked once per discovery, and concurrent askers of
//! the same question await one answer.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use super::dns::DnsError;

/// One result per key for a run; concurrent askers of the same key await one computation.
pub(crate) struct Memo<V> {
    cells: Mutex<HashMap<String, Arc<OnceCell<V>>>>,
}

impl<V: Clone> Memo<V> {
    pub(crate) fn new() -> Self {
        Self { cells: Mutex::new(HashMap::new()) }
    }

    pub(crate) async fn get_or_run<F, Fut>(&self, key: &str, run: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
            cells.entry(key.to_owned()).or_default().clone()
        };
        cell.get_or_init(run).await.clone()
    }
}

impl<T, E> Memo<Result<T, E>> {
    /// Whether a finished question whose key satisfies `key` got an answer (not an error).
    pub(crate) fn any_answered(&self, key: impl Fn(&str) -> bool) -> bool {
        let cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        cells.iter().any(|(k, cell)| key(k) && matches!(cell.get(), Some(Ok(_))))
    }
}

/// The run's memo of host addresses (A and AAAA).
pub(crate) type IpMemo = Memo<Result<Vec<IpAddr>, DnsError>>;

tokio::task_local! {
    /// The address memo of the run whose request is being sent: the HTTP client's resolver
    /// is shared by every run and only sees a host name, so the run lends it its memo here.
    static RUN_DNS: Arc<IpMemo>;
}

/// Runs `request` with the run's address memo available to the resolver.
pub(crate) async fn with_run_dns<T>(memo: &Arc<IpMemo>, request: impl Future<Output = T>) -> T {
    RUN_DNS.scope(Arc::clone(memo), request).await
}

/// The address memo of the run being served, if the resolver is called inside one.
pub(crate) fn run_dns() -> Option<Arc<IpMemo>> {
    RUN_DNS.try_with(Arc::clone).ok()
}
