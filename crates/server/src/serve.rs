//! Serving the router with the bounds the edge needs, which `axum::serve` does not offer: a
//! limit on connections, a deadline for a request's headers, and an idle deadline for a
//! connection between requests. (The deadline of a whole request, body included, is the
//! router's: see [`crate::guard`].)

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::config::Settings;

/// The connection bounds of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long a connection may stay silent before it is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; past it, new ones wait in the listen queue.
    pub max_connections: usize,
}

impl From<&Settings> for ServeOptions {
    fn from(file: &Settings) -> Self {
        Self {
            header_timeout: Duration::from_secs(file.header_timeout_secs.max(1)),
            // A request in flight is never idle-closed: it ends by its own deadline first.
            idle_timeout: Duration::from_secs(
                file.idle_timeout_secs.max(file.request_timeout_secs.saturating_add(1)),
            ),
            max_connections: file.max_connections.max(1),
        }
    }
}

/// A stream that notes when bytes last moved, for the idle deadline.
struct Watched<S> {
    inner: S,
    started: Instant,
    last: Arc<AtomicU64>,
}

impl<S> Watched<S> {
    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests in flight
/// finish. Each connection carries its peer's address for the rate limits.
///
/// # Errors
/// Never in practice: accept errors (a full file table, say) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(options.max_connections));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let router = router.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _permit = permit;
            connection(stream, peer, router, options, &mut stopped).await;
        });
    }
    let _ = stop.send(true);
    // Let the requests in flight finish: every connection holds a permit until it ends.
    let _ = slots.acquire_many(u32::try_from(options.max_connections).unwrap_or(u32::MAX)).await;
    Ok(())
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
    options: ServeOptions,
    stopped: &mut tokio::sync::watch::Receiver<bool>,
) {
    let last = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let io = TokioIo::new(Watched { inner: stream, started, last: last.clone() });
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let idle_ms = u64::try_from(options.idle_timeout.as_millis()).unwrap_or(u64::MAX);
    loop {
        let silent_for = u64::try_from(started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_sub(last.load(Ordering::Relaxed));
        let wait = Duration::from_millis(idle_ms.saturating_sub(silent_for).max(1));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended");
                }
                return;
            }
            () = tokio::time::sleep(wait) => {
                let now = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                if now.saturating_sub(last.load(Ordering::Relaxed)) >= idle_ms {
                    tracing::debug!("an idle connection was closed");
                    return;
                }
            }
            _ = stopped.changed() => connection.as_mut().graceful_shutdown(),
        }
    }
}
