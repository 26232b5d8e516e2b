//! `nativeauth-sandbox`: the local connect API (v2 and v3) for building and testing a native
//! login page without an account. See the library documentation for what it validates and
//! which inputs script which failures.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use nativeauth::secrecy::SecretString;
use nativeauth_sandbox::{SandboxConfig, serve};

/// Serve the Nylas-compatible connect endpoints on loopback.
#[derive(Debug, Parser)]
#[command(name = "nativeauth-sandbox", version, about)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8099")]
    listen: SocketAddr,
    /// The v2 client id to accept.
    #[arg(long, default_value = "sandbox-client")]
    client_id: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = SandboxConfig { client_id: args.client_id, ..SandboxConfig::default() };
    // Secrets come from the environment, never from the command line (other users see it).
    let mut notes = Vec::new();
    match std::env::var("NYLAS_CLIENT_SECRET") {
        Ok(secret) => config.client_secret = SecretString::from(secret),
        Err(_) => {
            notes.push("client secret: the default \"sandbox-secret\" (set NYLAS_CLIENT_SECRET)")
        }
    }
    match std::env::var("NYLAS_API_KEY") {
        Ok(key) => config.api_key = SecretString::from(key),
        Err(_) => notes.push("API key: the default \"sandbox-api-key\" (set NYLAS_API_KEY)"),
    }
    let client_id = config.client_id.clone();
    let running = serve(args.listen, config)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let mut out = std::io::stderr().lock();
    use std::io::Write as _;
    writeln!(out, "nativeauth-sandbox on {} (client id {client_id})", running.url())?;
    for note in notes {
        writeln!(out, "  {note}")?;
    }
    writeln!(
        out,
        "  scripted: password \"wrong\" is refused; local parts \"ratelimited\" and \"unavailable\" fail"
    )?;
    drop(out);
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    Ok(())
}
