//! From catalogue text to the raw entries, reporting every problem of the schema in one pass:
//! TOML syntax errors (the parser recovers and goes on), unknown keys, missing keys, wrong
//! types and unknown values. Each value is typed by serde on its own, so one bad value does not
//! hide the next; an entry with any such problem is left out of the later checks.

use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use serde::de::IntoDeserializer;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::GatewayKind;
use nativeauth_core::{AuthHint, AuthMethod, NylasProvider, Protocol, RequiredStep, Security};

/// The file: `popular` domains and `[[provider]]` entries.
pub(super) struct RawFile {
    /// Domains users type most, most popular first: what a typo is checked against.
    pub(super) popular: Vec<Spanned<String>>,
    /// Every `[[provider]]` entry, with what could be read of it.
    pub(super) provider: Vec<Spanned<RawProvider>>,
    /// Every `[[gateway]]` entry, with what could be read of it.
    pub(super) gateway: Vec<Spanned<RawGateway>>,
}

/// One `[[gateway]]` entry as written.
pub(super) struct RawGateway {
    pub(super) name: Option<String>,
    pub(super) kind: Option<GatewayKind>,
    pub(super) mx: Vec<Spanned<String>>,
    pub(super) documentation: Option<String>,
}

/// One `[[provider]]` entry as written. A value with a problem is `None` (or left out of its
/// list), so the later checks still see everything else.
pub(super) struct RawProvider {
    pub(super) id: Option<Spanned<String>>,
    pub(super) name: Option<String>,
    pub(super) nylas: Option<NylasProvider>,
    pub(super) auth: Option<AuthHint>,
    pub(super) domains: Vec<Spanned<String>>,
    pub(super) mx: Vec<Spanned<String>>,
    pub(super) notes: Vec<String>,
    pub(super) documentation: Option<String>,
    pub(super) app_password_url: Option<String>,
    pub(super) requires: Vec<RequiredStep>,
    pub(super) incoming: RawServers,
    pub(super) outgoing: RawServers,
}

/// The servers of one direction whose schema is valid.
pub(super) struct RawServers {
    pub(super) valid: Vec<Spanned<RawServer>>,
    /// Whether any server of this direction was left out for a schema problem.
    pub(super) any_invalid: bool,
}

/// One `[[provider.incoming]]` or `[[provider.outgoing]]` server as written.
pub(super) struct RawServer {
    pub(super) protocol: Spanned<Protocol>,
    pub(super) host: Spanned<String>,
    pub(super) port: Spanned<u16>,
    pub(super) security: Security,
    pub(super) username: Option<Spanned<String>>,
    pub(super) auth: Option<Vec<AuthMethod>>,
}

const FILE_KEYS: &[&str] = &["popular", "provider", "gateway"];
const GATEWAY_KEYS: &[&str] = &["name", "kind", "mx", "documentation"];
const PROVIDER_KEYS: &[&str] = &[
    "id",
    "name",
    "nylas",
    "auth",
    "domains",
    "mx",
    "notes",
    "documentation",
    "app_password_url",
    "requires",
    "incoming",
    "outgoing",
];
const SERVER_KEYS: &[&str] = &["protocol", "host", "port", "security", "username", "auth"];

/// A schema problem: where, and the message.
pub(super) type SchemaProblem = (Range<usize>, String);

/// Reads `text`, returning the entries whose schema is valid and every problem found.
pub(super) fn read(text: &str) -> (RawFile, Vec<SchemaProblem>) {
    let mut problems = Vec::new();
    let (document, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        // What the parser recovered is partial: checking it would report keys as missing
        // that are only unreadable. Every syntax error is reported; the schema comes next run.
        for error in syntax_errors {
            problems.push((error.span().unwrap_or(0..0), error.message().trim().to_owned()));
        }
        let empty = RawFile { popular: Vec::new(), provider: Vec::new(), gateway: Vec::new() };
        return (empty, problems);
    }
    let span = document.span();
    let mut fields = Fields::new(document.into_inner(), span, FILE_KEYS, &mut problems);
    let popular = fields.optional(&mut problems, "popular").unwrap_or_default();
    let provider = fields
        .tables(&mut problems, "provider")
        .into_iter()
        .map(|(table, span)| read_provider(table, span, &mut problems))
        .collect();
    let gateway = fields
        .tables(&mut problems, "gateway")
        .into_iter()
        .map(|(table, span)| read_gateway(table, span, &mut problems))
        .collect();
    (RawFile { popular, provider, gateway }, problems)
}

fn read_gateway(
    table: DeTable<'_>,
    span: Range<usize>,
    problems: &mut Vec<SchemaProblem>,
) -> Spanned<RawGateway> {
    let mut fields = Fields::new(table, span.clone(), GATEWAY_KEYS, problems);
    let gateway = RawGateway {
        name: fields.required(problems, "name"),
        kind: fields.required(problems, "kind"),
        mx: fields.required(problems, "mx").unwrap_or_default(),
        documentation: fields.optional(problems, "documentation"),
    };
    Spanned::new(span, gateway)
}

fn read_provider(
    table: DeTable<'_>,
    span: Range<usize>,
    problems: &mut Vec<SchemaProblem>,
) -> Spanned<RawProvider> {
    let mut fields = Fields::new(table, span.clone(), PROVIDER_KEYS, problems);
    let provider = RawProvider {
        id: fields.required(problems, "id"),
        name: fields.required(problems, "name"),
        nylas: fields.required(problems, "nylas"),
        auth: fields.required(problems, "auth"),
        domains: fields.optional(problems, "domains").unwrap_or_default(),
        mx: fields.optional(problems, "mx").unwrap_or_default(),
        notes: fields.optional(problems, "notes").unwrap_or_default(),
        documentation: fields.optional(problems, "documentation"),
        app_password_url: fields.optional(problems, "app_password_url"),
        requires: fields.optional(problems, "requires").unwrap_or_default(),
        incoming: read_servers(&mut fields, problems, "incoming"),
        outgoing: read_servers(&mut fields, problems, "outgoing"),
    };
    Spanned::new(span, provider)
}

/// The servers under `key` whose schema is valid.
fn read_servers(
    fields: &mut Fields<'_>,
    problems: &mut Vec<SchemaProblem>,
    key: &str,
) -> RawServers {
    let failed_before = fields.failed;
    let mut servers = RawServers { valid: Vec::new(), any_invalid: false };
    for (table, span) in fields.tables(problems, key) {
        match read_server(table, span, problems) {
            Some(server) => servers.valid.push(server),
            None => servers.any_invalid = true,
        }
    }
    // `key` itself may have been of the wrong type.
    servers.any_invalid |= fields.failed && !failed_before;
    servers
}

fn read_server(
    table: DeTable<'_>,
    span: Range<usize>,
    problems: &mut Vec<SchemaProblem>,
) -> Option<Spanned<RawServer>> {
    let mut fields = Fields::new(table, span.clone(), SERVER_KEYS, problems);
    let protocol = fields.required(problems, "protocol");
    let host = fields.required(problems, "host");
    let port = fields.required(problems, "port");
    let security = fields.required(problems, "security");
    let username = fields.optional(problems, "username");
    let auth = fields.optional(problems, "auth");
    if fields.failed {
        return None;
    }
    let server = RawServer {
        protocol: protocol?,
        host: host?,
        port: port?,
        security: security?,
        username,
        auth,
    };
    Some(Spanned::new(span, server))
}

/// The keys of one table, taken one by one; a problem with any of them sets `failed`.
struct Fields<'i> {
    values: HashMap<String, Spanned<DeValue<'i>>>,
    span: Range<usize>,
    failed: bool,
}

impl<'i> Fields<'i> {
    /// Takes `table`'s keys, reporting those not in `known`.
    fn new(
        table: DeTable<'i>,
        span: Range<usize>,
        known: &[&str],
        problems: &mut Vec<SchemaProblem>,
    ) -> Self {
        let mut failed = false;
        let mut values = HashMap::new();
        for (key, value) in table {
            if known.contains(&key.get_ref().as_ref()) {
                values.insert(key.get_ref().to_string(), value);
            } else {
                let expected = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>();
                let message = format!(
                    "unknown field `{}`, expected one of {}",
                    key.get_ref(),
                    expected.join(", ")
                );
                problems.push((key.span(), message));
                failed = true;
            }
        }
        Self { values, span, failed }
    }

    /// The value of `key`, typed; a problem when it is missing or invalid.
    fn required<T: Deserialize<'i>>(
        &mut self,
        problems: &mut Vec<SchemaProblem>,
        key: &str,
    ) -> Option<T> {
        if !self.values.contains_key(key) {
            problems.push((self.span.clone(), format!("missing field `{key}`")));
            self.failed = true;
            return None;
        }
        self.optional(problems, key)
    }

    /// The value of `key`, typed, if present; a problem when it is invalid.
    fn optional<T: Deserialize<'i>>(
        &mut self,
        problems: &mut Vec<SchemaProblem>,
        key: &str,
    ) -> Option<T> {
        let value = self.values.remove(key)?;
        let span = value.span();
        match T::deserialize(value.into_deserializer()) {
            Ok(typed) => Some(typed),
            Err(error) => {
                let message = format!("{key}: {}", error.message().trim());
                problems.push((error.span().unwrap_or(span), message));
                self.failed = true;
                None
            }
        }
    }

    /// The tables of the array of tables `key` (empty when absent); a problem for anything else.
    fn tables(
        &mut self,
        problems: &mut Vec<SchemaProblem>,
        key: &str,
    ) -> Vec<(DeTable<'i>, Range<usize>)> {
        let Some(value) = self.values.remove(key) else {
            return Vec::new();
        };
        let span = value.span();
        let DeValue::Array(array) = value.into_inner() else {
            problems.push((span, format!("{key}: expected an array of tables")));
            self.failed = true;
            return Vec::new();
        };
        let mut tables = Vec::new();
        for item in array {
            let span = item.span();
            match item.into_inner() {
                DeValue::Table(table) => tables.push((table, span)),
                other => {
                    let found = other.type_str();
                    problems.push((span, format!("{key}: expected a table, found {found}")));
                    self.failed = true;
                }
            }
        }
        tables
    }
}
