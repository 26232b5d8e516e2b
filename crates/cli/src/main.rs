//! `discover`: the debug binary. Parses arguments, runs a discovery, prints, and maps the
//! outcome to an exit status. All real work lives in the library.
#![forbid(unsafe_code)]

mod args;
mod batch;
mod fleet;
mod human;
mod login;
mod parsed_json;
mod payload;

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use nativeauth::catalogue::Catalogue;
use nativeauth::providers::catalogue::CatalogueChoice;
use nativeauth::providers::imap::ImapOptions;
use nativeauth::providers::microsoft::MicrosoftOptions;
use nativeauth::{
    AddressPolicy, Discovery, DiscoveryConfig, DiscoveryConfigBuilder, EmailAddress, Failure,
    FailureKind, Report, UrlPorts, load_pem_roots,
};

use crate::args::Args;

/// Exit statuses of the interface contract.
mod status {
    pub(crate) const DETECTED: u8 = 0;
    pub(crate) const NOTHING: u8 = 1;
    pub(crate) const USAGE: u8 = 2;
    pub(crate) const NETWORK: u8 = 3;
    pub(crate) const REFUSED: u8 = 4;
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_tracing(args.verbose);
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(io::stderr(), "discover: {error:#}");
            ExitCode::from(status::USAGE)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<u8> {
    if let Some(path) = &args.check_catalogue {
        return check_catalogue(path);
    }
    let email = args.render_for.as_deref();
    if let Some(path) = &args.parse_autoconfig {
        let parse = nativeauth::providers::imap::autoconfig::parse_autoconfig;
        return parse_saved(path, email, parse, parsed_json::view);
    }
    if let Some(path) = &args.parse_autodiscover {
        let parse = nativeauth::providers::exchange::parse_pox;
        return parse_saved(path, email, parse, parsed_json::autodiscover_view);
    }
    if let Some(path) = &args.batch {
        // The batch bounds its own discoveries in flight (`--concurrency`), so none is shed.
        let config = discovery_config(args)?
            .max_network_discoveries(Some(usize::from(args.concurrency)))
            .build();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async {
            let config = fleet::with_shared_cache(args, config)?;
            let discovery = Arc::new(Discovery::new(config)?);
            let run = batch::run(discovery.clone(), path, usize::from(args.concurrency)).await;
            if discovery.shared_cache_errors() > 0 {
                let errors = discovery.shared_cache_errors();
                let _ = writeln!(io::stderr(), "discover: --cache: {errors} Redis call(s) failed; those addresses were discovered without it");
            }
            run
        })?;
        return Ok(status::DETECTED);
    }
    let input = args.email.as_deref().unwrap_or_default();
    let email = match EmailAddress::parse(input) {
        Ok(email) => email,
        Err(error) => {
            let _ =
                writeln!(io::stderr(), "discover: {input:?} is not a valid email address: {error}");
            if args.json {
                let failure = Failure::invalid_email(&error);
                print_json(&Report::invalid_email_json(input, &failure))?;
            }
            return Ok(status::USAGE);
        }
    };
    let config = discovery_config(args)?.build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let config = {
        let _inside = runtime.enter();
        fleet::with_shared_cache(args, config)?
    };
    let discovery = Discovery::new(config)?;
    let report = runtime.block_on(discovery.discover(&email));
    if args.check_login {
        return runtime.block_on(login::run(args, &discovery, &report));
    }
    if let Some(version) = args.payload {
        return print_payload(args, version, &report);
    }
    if args.json {
        print_json(&report.to_json())?;
    } else {
        let mut out = io::stdout().lock();
        human::write_report(&mut out, &report, args.offline)?;
        out.flush()?;
    }
    Ok(exit_status(&report))
}

fn print_payload(
    args: &Args,
    version: args::PayloadVersion,
    report: &Report,
) -> anyhow::Result<u8> {
    let Some(detection) = &report.best else {
        let message = report.failure.as_ref().map_or("nothing found", |f| f.message.as_str());
        let _ = writeln!(io::stderr(), "discover: no payload for {}: {message}", report.email);
        return Ok(exit_status(report));
    };
    let (body, warnings) = payload::build(args, version, &report.email, detection)?;
    for warning in warnings {
        let _ = writeln!(io::stderr(), "warning: {warning}");
    }
    let mut out = io::stdout().lock();
    writeln!(out, "{body}")?;
    out.flush()?;
    Ok(status::DETECTED)
}

fn discovery_config(args: &Args) -> anyhow::Result<DiscoveryConfigBuilder> {
    let mut roots = Vec::new();
    let env_file = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
    for path in args.ca_file.iter().chain(env_file.as_ref()) {
        roots.extend(load_pem_roots(path)?);
    }
    let policy = if args.allow_private_targets {
        AddressPolicy::allow_all()
    } else {
        AddressPolicy::strict().allowing(args.allowed_ranges.iter().copied())
    };
    let mut builder = DiscoveryConfig::builder();
    if let Some(seconds) = args.dns_timeout {
        builder = builder.dns_timeout(Duration::from_secs_f64(seconds));
    }
    Ok(builder
        .deadline(Duration::from_secs_f64(args.timeout))
        .offline(args.offline)
        .provider_options(catalogue_choice(args)?)
        .provider_options(
            ImapOptions::default()
                .ispdb_url((!args.no_ispdb).then(|| args.ispdb_url.clone()))
                .allow_http(args.allow_http),
        )
        .provider_options(MicrosoftOptions {
            autodiscover_url: (!args.no_m365_autodiscover)
                .then(|| args.m365_autodiscover_url.clone()),
        })
        .nameservers(args.nameservers.iter().copied())
        .extra_roots(roots)
        .address_policy(policy)
        .url_ports(UrlPorts { https: args.https_port, http: args.http_port }))
}

/// `--parse-autoconfig` / `--parse-autodiscover`: parse a saved file with `parse` and print
/// what `view` makes of it (placeholders rendered for `--email`, when given).
fn parse_saved<T, E: std::fmt::Display>(
    path: &std::path::Path,
    email: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, E>,
    view: impl FnOnce(&T, Option<&EmailAddress>) -> serde_json::Value,
) -> anyhow::Result<u8> {
    let email = match email.map(EmailAddress::parse).transpose() {
        Ok(email) => email,
        Err(error) => {
            let _ = writeln!(io::stderr(), "discover: --email is not a valid address: {error}");
            return Ok(status::USAGE);
        }
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match parse(&text) {
        Ok(parsed) => {
            print_json(&view(&parsed, email.as_ref()))?;
            Ok(status::DETECTED)
        }
        Err(error) => {
            let _ = writeln!(io::stderr(), "discover: {}: {error}", path.display());
            Ok(status::NOTHING)
        }
    }
}

fn catalogue_choice(args: &Args) -> anyhow::Result<CatalogueChoice> {
    let user = match &args.catalogue {
        Some(path) => Some(Arc::new(Catalogue::load_file(path)?)),
        None => None,
    };
    Ok(match (user, args.no_builtin_catalogue) {
        (Some(user), false) => CatalogueChoice::Extend(user),
        (Some(user), true) => CatalogueChoice::Replace(user),
        (None, false) => CatalogueChoice::Builtin,
        (None, true) => CatalogueChoice::Replace(Arc::new(Catalogue::empty())),
    })
}

fn check_catalogue(path: &std::path::Path) -> anyhow::Result<u8> {
    match Catalogue::load_file(path) {
        Ok(catalogue) => {
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "{}: valid, {} providers, {} domains",
                path.display(),
                catalogue.entries().len(),
                catalogue.domain_count()
            )?;
            Ok(status::DETECTED)
        }
        Err(error) if error.problems().is_empty() => {
            let _ = writeln!(io::stderr(), "discover: {error}");
            Ok(status::USAGE)
        }
        Err(error) => {
            // One `file:line:column: message` line per problem, as compilers do, then the count.
            let count = error.problems().len();
            let noun = if count == 1 { "problem" } else { "problems" };
            let _ =
                writeln!(io::stderr(), "{error}\ndiscover: {count} {noun} in {}", path.display());
            Ok(status::USAGE)
        }
    }
}

fn exit_status(report: &Report) -> u8 {
    match report.failure.as_ref().map(|f| f.kind) {
        None => status::DETECTED,
        Some(FailureKind::NotFound | FailureKind::NoSuchDomain | FailureKind::NullMx) => {
            status::NOTHING
        }
        Some(FailureKind::InvalidEmail) => status::USAGE,
        Some(
            FailureKind::Network
            | FailureKind::Timeout
            | FailureKind::DnsTimeout
            | FailureKind::Busy,
        ) => status::NETWORK,
        // Kinds added later: treat as "could not find out".
        Some(_) => status::NETWORK,
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                .is_some_and(|kind| kind == io::ErrorKind::BrokenPipe)
    })
}

fn init_tracing(verbosity: u8) {
    let level = match verbosity {
        0 => tracing::Level::WARN,
        1 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    // Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org).
    let colour = io::IsTerminal::is_terminal(&io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .init();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    #[test]
    fn a_busy_refusal_exits_like_a_network_failure() {
        let report = Report {
            email: EmailAddress::parse("a@example.com").unwrap(),
            best: None,
            alternatives: Vec::new(),
            trace: Vec::new(),
            elapsed: Duration::ZERO,
            failure: Some(Failure { kind: FailureKind::Busy, message: "busy".into() }),
            suggestion: None,
        };
        assert_eq!(exit_status(&report), status::NETWORK);
        let json = serde_json::to_value(report.to_json()).unwrap();
        assert_eq!(json["error"]["kind"], "busy");
    }
}
