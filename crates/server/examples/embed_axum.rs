//! An app of its own that mounts the login page at `/connect`, configured from code, with the
//! local connect sandbox running in-process (for development: nothing reaches a real mailbox).
//!
//! ```sh
//! cargo run -p nativeauth-server --example embed_axum -- --listen 127.0.0.1:8080
//! # then open http://127.0.0.1:8080/
//! ```

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use nativeauth::DiscoveryConfig;
use nativeauth_server::{ServeOptions, ServerConfig};

#[derive(serde::Deserialize)]
struct Welcome {
    #[serde(default)]
    state: String,
    #[serde(default)]
    code: String,
}

/// The app's success page: a real app compares `state` with its session's, then exchanges the
/// code at `/connect/api/exchange` (see `app_side.rs`).
async fn welcome(Query(query): Query<Welcome>) -> Html<String> {
    let received = if query.code.is_empty() { "no code" } else { "a sign-in code" };
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><title>Welcome</title><p id=\"welcome\">Welcome back: \
         {received} arrived for state {}.</p></html>",
        query.state.replace(['<', '>', '&', '"'], "")
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = nativeauth::crypto_provider().install_default();
    let mut args = std::env::args().skip(1);
    let mut listen: SocketAddr = "127.0.0.1:8080".parse()?;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => {
                listen = args.next().context("--listen needs ADDR:PORT")?.parse()?;
            }
            other => anyhow::bail!("unknown argument {other:?} (only --listen ADDR:PORT)"),
        }
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let base = format!("http://{}", listener.local_addr()?);
    // Configured from code, against the local connect sandbox started in-process (the same
    // API, scripted, with its own secrets); it stops when `sandbox` is dropped.
    let (config, sandbox) = ServerConfig::builder()
        .success_url(format!("{base}/welcome"))
        .discovery(DiscoveryConfig::builder().offline(true).build())
        .build_sandbox()
        .await?;
    let options = ServeOptions::from(config.settings());
    let login = nativeauth_server::router(config)?;
    let app = Router::new()
        .route("/", get(|| async { Html("<a href=\"/connect\">Connect your mailbox</a>") }))
        .route("/welcome", get(welcome))
        .merge(nativeauth_server::mount("/connect", login));
    nativeauth_server::serve(listener, app, options, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    drop(sandbox);
    Ok(())
}
