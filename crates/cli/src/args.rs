//! Command-line arguments. Parsing only validates; nothing here touches files or the network.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;
use nativeauth::IpRange;
use nativeauth::Url;

/// The login servers' namespace in a fleet's Redis (`--cache-namespace`'s default).
pub(crate) const PRODUCTION_NAMESPACE: &str = "nativeauth";

/// Find who hosts a mailbox and which servers and settings to use, and show why.
///
/// Exit status: 0 detected, 1 nothing found, 2 bad usage or invalid address,
/// 3 every source failed on the network or the deadline passed; with --check-login, 4 when the
/// server refused the credentials; with --batch, 0 when the run completed (each address's
/// outcome is in its line).
#[derive(Debug, Parser)]
#[command(name = "discover", version, about, max_term_width = 100)]
pub(crate) struct Args {
    /// The email address to look up.
    #[arg(
        value_name = "EMAIL",
        required_unless_present_any = ["check_catalogue", "parse_autoconfig", "parse_autodiscover", "batch"]
    )]
    pub(crate) email: Option<String>,

    /// Print one JSON object (the stable schema in docs/discover-json.md) instead of text.
    #[arg(long)]
    pub(crate) json: bool,

    /// Answer from the catalogue only: no DNS, no HTTP.
    #[arg(long)]
    pub(crate) offline: bool,

    /// Overall deadline in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_timeout)]
    pub(crate) timeout: f64,

    /// Timeout of one DNS query in seconds; a domain whose DNS does not answer in time ends
    /// with dns-timeout (exit 3). Default: the system resolver's own (/etc/resolv.conf), or 3
    /// with --nameserver.
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub(crate) dns_timeout: Option<f64>,

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

    /// Discover every address of FILE (one per line; blank lines and # comments skipped; `-`
    /// for standard input) and print JSON Lines in input order, each with its "line" number.
    /// A progress bar goes to stderr when it is a terminal, and a summary at the end.
    #[arg(long, value_name = "FILE|-", conflicts_with = "email")]
    pub(crate) batch: Option<PathBuf>,

    /// Share answers through this Redis (`redis://host:6379/0`) with other runs and login
    /// servers: what one found, the others use without the network, and one at a time asks
    /// about a domain (for --batch above all). Needs the fleet's root key in NATIVEAUTH_KEY (or
    /// NATIVEAUTH_COOKIE_KEY): the shared answers are signed with a key derived from it. While
    /// Redis cannot answer, discovery goes on alone. A run with a setting that changes what may
    /// be trusted (--catalogue, --ca-file, --nameserver, --allow-http, …) reads the fleet's
    /// answers but does not publish its own.
    #[arg(long, value_name = "URL")]
    pub(crate) cache: Option<String>,

    /// The --cache namespace: the login servers' (`nativeauth`) by default; another one (a
    /// test or staging fleet's) also takes answers found under settings that change what may
    /// be trusted. A value stays bound to its namespace.
    #[arg(long, value_name = "NAME", default_value = PRODUCTION_NAMESPACE, requires = "cache")]
    pub(crate) cache_namespace: String,

    /// How many addresses --batch works on at once.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub(crate) concurrency: u16,

    /// Parse a saved autoconfig file (config-v1.1.xml) and print the servers it yields as JSON.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["email", "check_catalogue"])]
    pub(crate) parse_autoconfig: Option<PathBuf>,

    /// Parse a saved Exchange autodiscover (POX) response and print what it says as JSON.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["email", "check_catalogue", "parse_autoconfig"])]
    pub(crate) parse_autodiscover: Option<PathBuf>,

    /// With --parse-autoconfig / --parse-autodiscover: render placeholders for this address.
    #[arg(long = "email", value_name = "EMAIL")]
    pub(crate) render_for: Option<String>,

    /// Microsoft 365's v2 autodiscover endpoint, asked only when autodiscover.<domain> points
    /// at Microsoft (it receives the address).
    #[arg(long, value_name = "URL", default_value = nativeauth::providers::microsoft::DEFAULT_AUTODISCOVER_URL, value_parser = parse_url)]
    pub(crate) m365_autodiscover_url: Url,

    /// Never ask Microsoft 365's v2 autodiscover endpoint.
    #[arg(long)]
    pub(crate) no_m365_autodiscover: bool,

    /// Use this DNS server instead of the system's (IP or IP:PORT; repeatable).
    #[arg(long = "nameserver", value_name = "IP[:PORT]", value_parser = parse_nameserver)]
    pub(crate) nameservers: Vec<SocketAddr>,

    /// Base URL of the ISPDB (the domain is appended).
    #[arg(long, value_name = "URL", default_value = nativeauth::providers::imap::DEFAULT_ISPDB_URL, value_parser = parse_url)]
    pub(crate) ispdb_url: Url,

    /// Do not consult the ISPDB.
    #[arg(long)]
    pub(crate) no_ispdb: bool,

    /// Extra trusted root certificates, PEM (the system store is always used; SSL_CERT_FILE is
    /// honoured too).
    #[arg(long, value_name = "PEM")]
    pub(crate) ca_file: Option<PathBuf>,

    /// Lift the private/loopback address guard entirely (tests, LAN setups).
    #[arg(long)]
    pub(crate) allow_private_targets: bool,

    /// Allow connections into this special range only, such as 127.0.0.1/32 (repeatable).
    #[arg(long = "allow-target-range", value_name = "CIDR")]
    pub(crate) allowed_ranges: Vec<IpRange>,

    /// Also try plain-http autoconfig; answers found that way are marked unverified.
    #[arg(long)]
    pub(crate) allow_http: bool,

    /// Port of the https URLs discovery builds itself (for test setups).
    #[arg(long, value_name = "PORT", default_value_t = 443)]
    pub(crate) https_port: u16,

    /// Port of the http URLs discovery builds itself (for test setups).
    #[arg(long, value_name = "PORT", default_value_t = 80)]
    pub(crate) http_port: u16,

    /// Print the request body this detection leads to instead of the report: the v2
    /// `/connect/authorize` body or the v3 `/v3/connect/custom` body. Secrets are shown as
    /// placeholders such as "<PASSWORD>".
    #[arg(long, value_name = "VERSION", value_enum, conflicts_with = "json")]
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

    /// After discovery, sign in to the detected IMAP and SMTP servers with the password read
    /// from the first line of standard input (never an argument) and say what is wrong, if
    /// anything. Exit 0 signed in, 4 refused, 3 unreachable / TLS failure / timeout, 1 nothing
    /// to check.
    #[arg(long, conflicts_with_all = ["payload", "batch", "offline"])]
    pub(crate) check_login: bool,

    /// With --payload or --check-login: go on with an unverified detection (the user
    /// confirmed its servers).
    #[arg(long)]
    pub(crate) accept_unverified: bool,

    /// With --payload or --check-login: allow servers that offer only plaintext.
    #[arg(long)]
    pub(crate) allow_plaintext: bool,

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

fn parse_nameserver(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("{text:?} is not an IP address or IP:PORT"))
}

fn parse_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" | "http" => Ok(url),
        other => Err(format!("{other}: only https and http URLs are supported")),
    }
}
