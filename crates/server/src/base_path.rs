//! The path the router is mounted at (`/connect`; empty at the root), for the URLs the page
//! and its cookies use: set around each request from axum's `NestedPath` by the middleware
//! every request goes through.

use std::future::Future;

tokio::task_local! {
    static BASE_PATH: String;
}

/// The path the router is mounted at, for this request (empty at the root).
pub(crate) fn base_path() -> String {
    BASE_PATH.try_with(Clone::clone).unwrap_or_default()
}

/// Runs `request` with `base` as its base path.
pub(crate) async fn scope<F: Future>(base: String, request: F) -> F::Output {
    BASE_PATH.scope(base, request).await
}
