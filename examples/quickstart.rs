//! The README's library snippets as one program: discover an address, then link it with the
//! v2 handshake; with a catalogue file, discover it again with provider options and that file.
//! `tests/readme.rs` checks that every Rust block of the README is in this file (or in a
//! provider crate), and runs the program against the local sandbox.
//!
//! ```sh
//! cargo run -p nativeauth-sandbox &   # the local connect API on 127.0.0.1:8099
//! echo pw-demo | NYLAS_CLIENT_SECRET=sandbox-secret \
//!     cargo run --example quickstart -- http://127.0.0.1:8099 jane@comcast.net [CATALOGUE]
//! ```
//!
//! The password is the first line of standard input.

#![allow(clippy::print_stdout)] // an example program talks to its user

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{Context, bail};
use nativeauth::catalogue::Catalogue;
use nativeauth::connect::{AuthorizeRequest, ConnectClient, Credentials};
use nativeauth::providers::{
    catalogue::CatalogueChoice, imap::ImapOptions, microsoft::MicrosoftOptions,
};
use nativeauth::{Discovery, DiscoveryConfig, EmailAddress};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(api_url), Some(address)) = (args.next(), args.next()) else {
        bail!("usage: quickstart <API URL> <EMAIL> [CATALOGUE]");
    };
    let client_id = "sandbox-client";
    let client_secret = std::env::var("NYLAS_CLIENT_SECRET").context("set NYLAS_CLIENT_SECRET")?;
    let mut password_from_form = String::new();
    std::io::stdin().lock().read_line(&mut password_from_form)?;
    let password_from_form = password_from_form.trim_end_matches(['\r', '\n']).to_owned();

    let discovery = Discovery::new(DiscoveryConfig::default())?; // build once, share it
    let email = EmailAddress::parse(&address)?; // trims, lowercases the domain, IDNA
    let report = discovery.discover(&email).await;
    let Some(best) = &report.best else {
        bail!("nothing found for {email}");
    };
    println!("{} via {} ({})", best.provider.nylas, best.source, best.trust);
    for server in best.incoming.iter().chain(&best.outgoing) {
        println!(
            "{} {} user {}",
            server.protocol,
            server.address(),
            server.username.render(&email)
        );
    }

    let request = AuthorizeRequest::new(
        // validated before any request
        client_id,
        "Jane",
        &email,
        best,
        &Credentials::password(password_from_form),
        "email.read_only,email.send".parse()?,
    )?; // unverified answers and plaintext servers need AuthorizeRequest::with_consent
    let client = ConnectClient::builder(client_id, client_secret)
        .base_url(&api_url) // default: Nylas' API
        .allow_loopback_http(true) // http only to loopback, for a local sandbox
        .build()?;
    let code = client.authorize(&request).await?; // never retried: it carries credentials
    let account = client.token(code).await?; // the code is consumed; refused locally after 15 min
    println!("linked account {} (provider {})", account.account_id, account.provider);

    if let Some(path) = args.next() {
        let my_catalogue = Arc::new(Catalogue::load_file(path.as_ref())?);
        let config = DiscoveryConfig::builder()
            .provider_options(ImapOptions::default().guess(false).ispdb_url(None))
            .provider_options(MicrosoftOptions { autodiscover_url: None }) // never send the address to Microsoft
            .provider_options(CatalogueChoice::Extend(my_catalogue))
            .build();
        let report = Discovery::new(config)?.discover(&email).await;
        let answer = report.best.map_or_else(|| "nothing".to_owned(), |d| d.provider.id);
        println!("with the extra catalogue: {answer}");
    }
    Ok(())
}
