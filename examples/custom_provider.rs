//! A provider plugin written against the facade alone: an organisation's own domains, answered
//! with no network at all, ahead of the built-in sources. Run with
//! `cargo run --example custom_provider -- someone@corp.example`.

use std::io::Write as _;

use nativeauth::plugin::{DiscoveryContext, ProviderPlugin, async_trait, inventory};
use nativeauth::{
    AuthMethod, Detection, Discovery, DiscoveryConfig, EmailAddress, NylasProvider, Outcome,
    Protocol, Provider, ProviderInfo, Security, Server, Source, SourceError, Trust,
    UsernameTemplate,
};

/// Mailboxes of `corp.example` and its subsidiaries live on the company's own IMAP servers.
struct CorpDomains;

const DOMAINS: [&str; 2] = ["corp.example", "subsidiary.example"];

fn server(protocol: Protocol, host: &str, port: u16) -> Server {
    Server {
        protocol,
        host: host.to_owned(),
        port,
        security: Security::Tls,
        username: UsernameTemplate::new("%EMAILLOCALPART%"),
        auth: vec![AuthMethod::PasswordCleartext],
    }
}

#[async_trait]
impl Provider for CorpDomains {
    fn id(&self) -> &'static str {
        "corp"
    }

    fn detect_offline(&self, email: &EmailAddress, ctx: &DiscoveryContext) -> Option<Detection> {
        let timer = ctx.timer(self.id(), email.domain());
        if !DOMAINS.contains(&email.domain()) {
            timer.finish(Outcome::Nothing, "not one of ours");
            return None;
        }
        timer.finish(Outcome::Found, "one of the company's domains");
        let provider = ProviderInfo::new("corp", "Corp Mail", NylasProvider::Imap);
        Some(
            Detection::new(provider, Source::Catalogue, Trust::Verified, "the company's list")
                .with_servers(
                    vec![server(Protocol::Imap, "imap.corp.example", 993)],
                    vec![server(Protocol::Smtp, "smtp.corp.example", 465)],
                )
                .with_note("Use your network password."),
        )
    }

    fn best_possible_source(&self) -> Source {
        Source::Catalogue
    }

    async fn detect(
        &self,
        _: &EmailAddress,
        _: &DiscoveryContext,
    ) -> Result<Vec<Detection>, SourceError> {
        Ok(Vec::new()) // everything this provider knows is offline
    }
}

inventory::submit! {
    ProviderPlugin { rank: 1, make: || Box::new(CorpDomains) }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "jane@corp.example".into());
    let discovery = Discovery::new(DiscoveryConfig::builder().offline(true).build())?;
    let report = discovery.discover(&EmailAddress::parse(&address)?).await;
    let mut out = std::io::stdout().lock();
    match &report.best {
        Some(best) => writeln!(out, "{address}: {} via {}", best.provider.name, best.source)?,
        None => writeln!(out, "{address}: nothing found")?,
    }
    Ok(())
}
