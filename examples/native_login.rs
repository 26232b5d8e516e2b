//! The whole native login flow, as a login service would run it: discover the provider → ask
//! for the password (no echo) → optionally check it against the mail servers → v2
//! authorize → token, or v3 create a grant.
//!
//! ```sh
//! NYLAS_CLIENT_SECRET=… cargo run --example native_login -- \
//!     --api v2 --api-url https://api.nylas.com --client-id YOUR_CLIENT_ID --name "Jane Doe" jane@example.com
//! NYLAS_API_KEY=… cargo run --example native_login -- --api v3 --api-url https://api.us.nylas.com jane@example.com
//! ```
//!
//! Without an account, run it against the local sandbox (`cargo run -p nativeauth-sandbox`):
//! `--api-url http://127.0.0.1:8099` with the sandbox's client id `sandbox-client`.
//!
//! The client secret (v2) is read from `NYLAS_CLIENT_SECRET`, the API key (v3) from
//! `NYLAS_API_KEY` — never a command-line argument, which other users can see. The password is
//! read from the terminal without echo, or from the first line of standard input when that is
//! not a terminal (for scripted runs).

#![allow(clippy::print_stdout)] // an example program talks to its user

use std::io::{self, BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::Parser;
use nativeauth::connect::{
    AuthorizeRequest, ConnectClient, Consent, Credentials, CustomAuthClient, CustomAuthRequest,
    Scopes,
};
use nativeauth::providers::imap::check_login;
use nativeauth::secrecy::ExposeSecret;
use nativeauth::{AuthHint, Discovery, DiscoveryConfig, EmailAddress, NylasProvider, Trust};

/// Run discover → authorize → token for one address.
#[derive(Parser)]
struct Args {
    /// The user's email address.
    email: String,
    /// Which API: v2 (authorize → token) or v3 (a grant).
    #[arg(long, default_value = "v2", value_parser = ["v2", "v3"])]
    api: String,
    /// Base URL of the API (http is accepted only for loopback, such as the sandbox).
    #[arg(long)]
    api_url: Option<String>,
    /// Your Nylas client id (v2).
    #[arg(long, default_value = "sandbox-client")]
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
    /// Sign in to the detected IMAP and SMTP servers before sending the password on.
    #[arg(long)]
    check_login: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let email = EmailAddress::parse(&args.email)?;
    let scopes: Scopes = args.scopes.parse()?;
    let (secret_variable, what) = match args.api.as_str() {
        "v3" => ("NYLAS_API_KEY", "your API key"),
        _ => ("NYLAS_CLIENT_SECRET", "your client secret"),
    };
    let api_secret = std::env::var(secret_variable)
        .with_context(|| format!("set {secret_variable} to {what}"))?;

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
    if args.check_login {
        let check = check_login(
            &discovery.context(),
            &email,
            &detection,
            &credentials,
            consent,
            std::time::Duration::from_secs(10),
        )
        .await?;
        println!("login check: {} — {}", check.kind.as_str(), check.message);
        if let Some(url) = &check.help_url {
            println!("  help: {url}");
        }
        if !check.ok {
            bail!("the mail server did not accept the password; nothing was sent to the API");
        }
    }

    if args.api == "v3" {
        let request = CustomAuthRequest::with_consent(&email, &detection, &credentials, consent)?;
        for warning in request.warnings() {
            println!("warning: {warning}");
        }
        let base =
            args.api_url.as_deref().unwrap_or(nativeauth::connect::CustomAuthClient::US_BASE_URL);
        let client = CustomAuthClient::builder(api_secret)
            .base_url(base)
            .allow_loopback_http(true)
            .build()?;
        let created = client.create_grant(&request).await?;
        println!(
            "created grant {} ({}, provider {}, status {})",
            created.id,
            created.email.as_deref().unwrap_or(email.as_str()),
            created.provider,
            created.grant_status.as_deref().unwrap_or("unknown")
        );
        return Ok(());
    }

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

    let base = args.api_url.as_deref().unwrap_or(nativeauth::connect::ConnectClient::US_BASE_URL);
    let client = ConnectClient::builder(&args.client_id, api_secret)
        .base_url(base)
        .allow_loopback_http(true)
        .build()?;
    let code = client.authorize(&request).await?;
    println!(
        "authorized; the one-time code is valid for {} more seconds",
        nativeauth::connect::AuthCode::LIFETIME.saturating_sub(code.age()).as_secs()
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
