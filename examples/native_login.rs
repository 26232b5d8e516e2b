//! The whole native login flow, as a login service would run it:
//! discover the provider → ask for the password (no echo) → authorize → token.
//!
//! ```sh
//! NYLAS_CLIENT_SECRET=… cargo run --example native_login -- \
//!     --api-url https://api.nylas.com --client-id YOUR_CLIENT_ID --name "Jane Doe" jane@example.com
//! ```
//!
//! The client secret is read from `NYLAS_CLIENT_SECRET` (never a command-line argument, which
//! other users can see). The password is read from the terminal without echo, or from the
//! first line of standard input when that is not a terminal (for scripted runs).

#![allow(clippy::print_stdout)] // an example program talks to its user

use std::io::{self, BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::Parser;
use nativeauth::connect::{AuthorizeRequest, ConnectClient, Consent, Credentials, Scopes};
use nativeauth::secrecy::ExposeSecret;
use nativeauth::{AuthHint, Discovery, DiscoveryConfig, EmailAddress, NylasProvider, Trust};

/// Run discover → authorize → token for one address.
#[derive(Parser)]
struct Args {
    /// The user's email address.
    email: String,
    /// Base URL of the Nylas-v2-compatible API (http is accepted only for loopback mocks).
    #[arg(long, default_value = nativeauth::connect::DEFAULT_BASE_URL)]
    api_url: String,
    /// Your Nylas client id.
    #[arg(long)]
    client_id: String,
    /// The user's display name.
    #[arg(long, default_value = "Native Login Example")]
    name: String,
    /// Comma-separated scopes.
    #[arg(long, default_value = "email.read_only,email.send")]
    scopes: String,
    /// Answer from the catalogue only.
    #[arg(long)]
    offline: bool,
    /// Go on with an unverified answer (you checked its servers).
    #[arg(long)]
    accept_unverified: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let email = EmailAddress::parse(&args.email)?;
    let scopes: Scopes = args.scopes.parse()?;
    let client_secret = std::env::var("NYLAS_CLIENT_SECRET")
        .context("set NYLAS_CLIENT_SECRET to your client secret")?;

    let discovery = Discovery::new(DiscoveryConfig::builder().offline(args.offline).build())?;
    let report = discovery.discover(&email).await;
    let Some(detection) = report.best else {
        bail!("no provider found for {email}");
    };
    println!(
        "{email}: {} (Nylas provider {}, via {}, {})",
        detection.provider.name, detection.provider.nylas, detection.source, detection.trust
    );
    let mut consent = Consent::none();
    if detection.trust == Trust::Unverified {
        for server in detection.incoming.iter().chain(&detection.outgoing) {
            println!("  {} {} {}", server.protocol, server.address(), server.security);
        }
        if !args.accept_unverified {
            bail!(
                "this answer is unverified: check the servers above, then run again with \
                 --accept-unverified"
            );
        }
        consent = consent.accept_unverified();
    }
    if detection.auth_hint == AuthHint::OAuth2
        || matches!(
            detection.provider.nylas,
            NylasProvider::Gmail
                | NylasProvider::Office365
                | NylasProvider::Outlook
                | NylasProvider::Hotmail
        )
    {
        let with =
            if detection.provider.nylas == NylasProvider::Gmail { "Google" } else { "Microsoft" };
        bail!(
            "{} accepts no password here: sign in with {with} (OAuth) and use Credentials::oauth",
            detection.provider.name
        );
    }

    let prompt = match detection.auth_hint {
        AuthHint::AppPassword => format!("App password for {email}: "),
        _ => format!("Password for {email}: "),
    };
    let password = read_password(&prompt)?;
    let credentials = Credentials::password(password);
    let request = AuthorizeRequest::with_consent(
        &args.client_id,
        &args.name,
        &email,
        &detection,
        &credentials,
        scopes,
        consent,
    )?;
    for warning in request.warnings() {
        println!("warning: {warning}");
    }

    let client = ConnectClient::builder(&args.client_id, client_secret)
        .base_url(&args.api_url)
        .allow_loopback_http(true)
        .build()?;
    let code = client.authorize(&request).await?;
    println!(
        "authorized; the one-time code is valid for {} more seconds",
        nativeauth::connect::CODE_LIFETIME.saturating_sub(code.age()).as_secs()
    );
    let account = client.token(code).await?;
    println!(
        "linked account {} ({}, provider {}); access token received ({} characters)",
        account.account_id,
        account.email_address,
        account.provider,
        account.access_token.expose_secret().len()
    );
    Ok(())
}

fn read_password(prompt: &str) -> anyhow::Result<String> {
    if io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password(prompt)?);
    }
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
