//! Command-line arguments. Parsing only validates; nothing here touches files or the network.

use std::path::PathBuf;

use clap::Parser;

/// Find who hosts a mailbox and which servers and settings to use, and show why.
///
/// Exit status: 0 detected, 1 nothing found, 2 bad usage or invalid address,
/// 3 every source failed on the network or the deadline passed.
#[derive(Debug, Parser)]
#[command(name = "discover", version, about, max_term_width = 100)]
pub(crate) struct Args {
    /// The email address to look up.
    #[arg(value_name = "EMAIL", required_unless_present = "check_catalogue")]
    pub(crate) email: Option<String>,

    /// Print one JSON object (the stable schema of discover-cli.md) instead of text.
    #[arg(long)]
    pub(crate) json: bool,

    /// Answer from the catalogue only: no DNS, no HTTP.
    #[arg(long)]
    pub(crate) offline: bool,

    /// Overall deadline in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_timeout)]
    pub(crate) timeout: f64,

    /// Also use this catalogue file (providers.toml schema); its entries win over the
    /// built-in ones.
    #[arg(long, value_name = "FILE")]
    pub(crate) catalogue: Option<PathBuf>,

    /// Do not use the built-in catalogue (only the --catalogue file, if any).
    #[arg(long)]
    pub(crate) no_builtin_catalogue: bool,

    /// Check a catalogue file and list every problem with its line and column; exit 0 when
    /// it is valid, 2 when it is not.
    #[arg(long, value_name = "FILE", conflicts_with = "email")]
    pub(crate) check_catalogue: Option<PathBuf>,

    /// Print the request body this detection leads to instead of the report: the v2
    /// `/connect/authorize` body or the v3 `/v3/connect/custom` body. Secrets are shown as
    /// placeholders such as "<PASSWORD>".
    #[arg(long, value_name = "VERSION", value_enum)]
    pub(crate) payload: Option<PayloadVersion>,

    /// The user's display name in the v2 payload.
    #[arg(long, value_name = "NAME", default_value = "<NAME>", requires = "payload")]
    pub(crate) name: String,

    /// Comma-separated scopes for the v2 payload (validated against the known list).
    #[arg(
        long,
        value_name = "LIST",
        default_value = "email.modify,email.send",
        requires = "payload"
    )]
    pub(crate) scopes: String,

    /// The Nylas client id in the v2 payload.
    #[arg(long, value_name = "ID", default_value = "<CLIENT_ID>", requires = "payload")]
    pub(crate) client_id: String,

    /// More diagnostics on stderr (-v: debug, -vv: trace). Never shows a secret.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// Which request body `--payload` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PayloadVersion {
    /// Nylas v2 `POST /connect/authorize`.
    V2,
    /// Nylas v3 `POST /v3/connect/custom`.
    V3,
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 3600.0 => Ok(secs),
        _ => Err(format!("{text:?} is not a number of seconds between 0 and 3600")),
    }
}
