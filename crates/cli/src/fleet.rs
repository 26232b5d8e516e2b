//! `--cache`: the fleet's shared answers in Redis. A run reads and publishes there only with
//! the settings the fleet's login servers run with; a setting that changes what may be trusted
//! or found keeps this run's answers out of the login servers' namespace, since every server of
//! the fleet would otherwise serve them, signed, as its own.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use nativeauth::DiscoveryConfig;
use nativeauth::keys::{KeyPurpose, RootKey};
use nativeauth::redis::RedisStore;

use crate::args::{Args, PRODUCTION_NAMESPACE};

/// The bound of one call to the `--cache` Redis.
const SHARED_TIMEOUT: Duration = Duration::from_millis(250);

/// The settings of `args` (and the environment) that keep this run from publishing, as the
/// user wrote them.
pub(crate) fn publish_blockers(args: &Args) -> Vec<&'static str> {
    let defaults = [
        (args.catalogue.is_some(), "--catalogue"),
        (args.no_builtin_catalogue, "--no-builtin-catalogue"),
        (args.ca_file.is_some(), "--ca-file"),
        (std::env::var_os("SSL_CERT_FILE").is_some(), "SSL_CERT_FILE"),
        (std::env::var_os("SSL_CERT_DIR").is_some(), "SSL_CERT_DIR"),
        (args.allow_private_targets, "--allow-private-targets"),
        (!args.allowed_ranges.is_empty(), "--allow-target-range"),
        (!args.nameservers.is_empty(), "--nameserver"),
        (args.allow_http, "--allow-http"),
        (args.ispdb_url.as_str() != nativeauth::providers::imap::DEFAULT_ISPDB_URL, "--ispdb-url"),
        (args.no_ispdb, "--no-ispdb"),
        (
            args.m365_autodiscover_url.as_str()
                != nativeauth::providers::microsoft::DEFAULT_AUTODISCOVER_URL,
            "--m365-autodiscover-url",
        ),
        (args.no_m365_autodiscover, "--no-m365-autodiscover"),
        (args.https_port != 443, "--https-port"),
        (args.http_port != 80, "--http-port"),
    ];
    defaults.into_iter().filter(|(set, _)| *set).map(|(_, name)| name).collect()
}

/// `config` with the `--cache` Redis as its shared layer, in the login servers' namespace (or
/// `--cache-namespace`), reading only when a setting keeps this run from publishing. Call
/// inside the runtime.
pub(crate) fn with_shared_cache(
    args: &Args,
    config: DiscoveryConfig,
) -> anyhow::Result<DiscoveryConfig> {
    let Some(url) = &args.cache else { return Ok(config) };
    // The shared answers are signed with the fleet key, derived from the root key its servers
    // share.
    let root = RootKey::from_env().context("--cache")?.context(
        "--cache needs the fleet's root key: set NATIVEAUTH_KEY (or NATIVEAUTH_COOKIE_KEY) to the \
         value its login servers use, at least 32 bytes (the shared answers are signed with a \
         key derived from it)",
    )?;
    let store =
        RedisStore::connect(url, &args.cache_namespace, SHARED_TIMEOUT).context("--cache")?;
    let key = root.derive(KeyPurpose::Fleet);
    let builder = config.to_builder().shared_cache(Arc::new(store), key.bytes(), SHARED_TIMEOUT);
    let blockers = publish_blockers(args);
    if blockers.is_empty() || args.cache_namespace != PRODUCTION_NAMESPACE {
        return Ok(builder.build());
    }
    let _ = writeln!(
        std::io::stderr(),
        "discover: --cache: reading the fleet's answers without publishing this run's: {} \
         change{} what may be trusted (use --cache-namespace for a test fleet)",
        blockers.join(", "),
        if blockers.len() == 1 { "s" } else { "" }
    );
    Ok(builder.shared_cache_read_only().build())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::{CommandFactory, Parser};

    use super::*;

    /// The arguments that change what may be trusted or found: set away from their default, this
    /// run does not publish to the login servers' namespace ([`publish_blockers`] names them).
    /// Every argument is on this list or on [`NEUTRAL`], so a new one has to be placed.
    const TRUST_CHANGING: &[&str] = &[
        "catalogue",
        "no_builtin_catalogue",
        "ca_file",
        "allow_private_targets",
        "allowed_ranges",
        "nameservers",
        "allow_http",
        "ispdb_url",
        "no_ispdb",
        "m365_autodiscover_url",
        "no_m365_autodiscover",
        "https_port",
        "http_port",
    ];

    /// The arguments that change only what is printed, or how long and how widely the run goes
    /// (a run cut short is not published anyway).
    const NEUTRAL: &[&str] = &[
        "email",
        "json",
        "offline",
        "timeout",
        "dns_timeout",
        "check_catalogue",
        "batch",
        "cache",
        "cache_namespace",
        "concurrency",
        "parse_autoconfig",
        "parse_autodiscover",
        "render_for",
        "payload",
        "name",
        "scopes",
        "client_id",
        "check_login",
        "accept_unverified",
        "allow_plaintext",
        "verbose",
        "help",
        "version",
    ];

    #[test]
    fn every_argument_is_placed_on_one_side() {
        let mut command = Args::command();
        command.build();
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            let sides =
                usize::from(TRUST_CHANGING.contains(&id)) + usize::from(NEUTRAL.contains(&id));
            assert_eq!(sides, 1, "place --{} in TRUST_CHANGING or NEUTRAL", id.replace('_', "-"));
        }
    }

    #[test]
    fn each_trust_changing_argument_keeps_the_run_from_publishing() {
        let set: &[(&str, &[&str])] = &[
            ("catalogue", &["--catalogue", "x.toml"]),
            ("no_builtin_catalogue", &["--no-builtin-catalogue"]),
            ("ca_file", &["--ca-file", "ca.pem"]),
            ("allow_private_targets", &["--allow-private-targets"]),
            ("allowed_ranges", &["--allow-target-range", "10.0.0.0/8"]),
            ("nameservers", &["--nameserver", "127.0.0.1:5353"]),
            ("allow_http", &["--allow-http"]),
            ("ispdb_url", &["--ispdb-url", "https://ispdb.example/v1.1/"]),
            ("no_ispdb", &["--no-ispdb"]),
            ("m365_autodiscover_url", &["--m365-autodiscover-url", "https://m365.example/"]),
            ("no_m365_autodiscover", &["--no-m365-autodiscover"]),
            ("https_port", &["--https-port", "8443"]),
            ("http_port", &["--http-port", "8080"]),
        ];
        assert_eq!(set.len(), TRUST_CHANGING.len(), "every listed argument is tried");
        let plain = Args::parse_from(["discover", "a@b.example"]);
        let from_env =
            ["SSL_CERT_FILE", "SSL_CERT_DIR"].iter().any(|v| std::env::var_os(v).is_some());
        assert!(publish_blockers(&plain).is_empty() || from_env);
        for (id, flags) in set {
            assert!(TRUST_CHANGING.contains(id), "{id}");
            let args = Args::parse_from(
                ["discover", "a@b.example"].iter().copied().chain(flags.iter().copied()),
            );
            let blockers = publish_blockers(&args);
            assert!(
                blockers.contains(&flags[0]),
                "{flags:?} does not block publishing: {blockers:?}"
            );
        }
    }
}
