//! `nativeauth-server`: serves the branded login page.
//!
//! `nativeauth-server --sandbox` runs the whole flow on a fresh machine: the local connect
//! sandbox starts in-process and the page signs in against it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use nativeauth::DiscoveryConfig;
use nativeauth_server::{Secrets, ServerConfig, Settings};

/// Serve the branded native login page.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The configuration file (TOML); secrets come from the environment only.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Start the local connect sandbox in-process and sign in against it.
    #[arg(long)]
    sandbox: bool,
    /// Answer from the catalogue only (no DNS, no HTTP): for machines without a network.
    #[arg(long)]
    offline: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Colour only at a terminal (log files and journald get plain text), never with NO_COLOR.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
    let args = Args::parse();
    let mut file = match &args.config {
        Some(path) => Settings::from_toml_file(path)?,
        None => Settings::default(),
    };
    // Both names of the root key set to different values is a mistake worth stopping for.
    nativeauth::keys::RootKey::from_env()?;
    let secrets = Secrets::from_env();
    if args.sandbox {
        let refusals = sandbox_refusals(&args);
        if !refusals.is_empty() {
            anyhow::bail!(
                "--sandbox accepts every password but `wrong` and signs with development secrets, \
                 so it runs only on loopback without production settings: {}",
                refusals.join("; ")
            );
        }
    }
    if let Ok(url) = std::env::var("NATIVEAUTH_REDIS_URL") {
        file.redis_url = Some(url);
    }
    let options = nativeauth_server::ServeOptions::from(&file);
    let metrics_listen = file.metrics_listen;
    // The same builder an embedding app uses: the file's settings, the environment's secrets.
    let builder = ServerConfig::builder()
        .settings(file)
        .discovery(DiscoveryConfig::builder().offline(args.offline).build());
    // The sandbox is kept alive until the server stops.
    let (config, _sandbox) = if args.sandbox {
        let (config, running) = builder.build_sandbox().await?;
        tracing::info!(url = %running.url(), "the connect sandbox is running");
        (config, Some(running))
    } else {
        (builder.secrets(secrets).build(), None)
    };
    let router = nativeauth_server::router(config)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(address = %format!("http://{}", listener.local_addr()?), "the login page is served");
    if let Some(address) = metrics_listen {
        let metrics = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} (metrics_listen)"))?;
        tracing::info!(address = %address, "metrics are served");
        let metrics_router = nativeauth_server::metrics_only(router.clone());
        tokio::spawn(nativeauth_server::serve(
            metrics,
            metrics_router,
            options,
            std::future::pending(),
        ));
    }
    nativeauth_server::serve(listener, router, options, shutdown_signal()).await?;
    Ok(())
}

/// What keeps `--sandbox` from starting: each a sentence naming what to remove.
fn sandbox_refusals(args: &Args) -> Vec<String> {
    let mut refusals = Vec::new();
    if !args.listen.ip().is_loopback() {
        refusals.push(format!(
            "--listen {} is not a loopback address (use 127.0.0.1 or [::1])",
            args.listen
        ));
    }
    // The settings themselves are refused by `build_sandbox`, for an embedding app too.
    for name in [
        "NATIVEAUTH_REDIS_URL",
        "NATIVEAUTH_CALLBACK_SECRET",
        "NATIVEAUTH_APP_SECRET",
        nativeauth::keys::RootKey::ENV_VAR,
        nativeauth::keys::RootKey::LEGACY_ENV_VAR,
        "NYLAS_CLIENT_SECRET",
        "NYLAS_API_KEY",
        "GOOGLE_CLIENT_SECRET",
        "MICROSOFT_CLIENT_SECRET",
    ] {
        if std::env::var_os(name).is_some() {
            refusals.push(format!("unset {name} (the sandbox uses its own development secrets)"));
        }
    }
    refusals
}

/// Ctrl-C or SIGTERM: stop accepting, finish the requests in flight.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
