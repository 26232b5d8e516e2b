//! Parsing and validating `providers.toml` text. No file is opened here (see
//! [`Catalogue::load_file`](super::Catalogue::load_file) for that thin wrapper).

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use super::error::{CatalogueError, Position, Problem, ProblemKind};
use super::pattern::{MxPattern, check_domain};
use super::schema::{self, RawServer};
use super::{CatalogueEntry, Gateway, ServerSpec};
use nativeauth_core::plugin::Placeholder;
use nativeauth_core::{
    AuthHint, AuthMethod, PreLoginStep, RequiredStep, Security, UsernameTemplate,
};

/// Turns byte offsets into 1-based line and column numbers (columns count characters).
struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let line_starts =
            std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { text, line_starts }
    }

    fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line.saturating_sub(1)];
        let column = self.text.get(line_start..offset).map_or(1, |s| s.chars().count() + 1);
        Position { line, column }
    }
}

/// Collects problems with their positions while the file is validated.
struct Checker<'a> {
    lines: LineIndex<'a>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn report(&mut self, span: Range<usize>, kind: ProblemKind) {
        let at = self.lines.position(span.start);
        self.problems.push(Problem { at, kind, first: None });
    }

    fn report_duplicate(&mut self, span: Range<usize>, first: Range<usize>, kind: ProblemKind) {
        let at = self.lines.position(span.start);
        let first = Some(self.lines.position(first.start));
        self.problems.push(Problem { at, kind, first });
    }
}

/// A parsed catalogue: its entries, and its popular domains (most popular first).
pub(super) struct Parsed {
    pub(super) entries: Vec<CatalogueEntry>,
    pub(super) gateways: Vec<Gateway>,
    pub(super) popular: Vec<String>,
}

/// Parses and validates catalogue text. `origin` names the file in error messages.
pub(super) fn parse(text: &str, origin: &str) -> Result<Parsed, CatalogueError> {
    let mut checker = Checker { lines: LineIndex::new(text), problems: Vec::new() };
    let (raw, schema_problems) = schema::read(text);
    for (span, message) in schema_problems {
        checker.report(span, ProblemKind::Syntax(message));
    }

    let mut ids: HashMap<String, Range<usize>> = HashMap::new();
    let mut domains: HashMap<String, Range<usize>> = HashMap::new();
    let mut mx_patterns: HashMap<String, Range<usize>> = HashMap::new();
    let mut entries = Vec::with_capacity(raw.provider.len());

    for provider in raw.provider {
        let provider_span = provider.span();
        let provider = provider.into_inner();
        // A missing or mistyped id is already reported; the rest of the entry is still checked.
        let id = provider.id.map(|id| {
            let id_span = id.span();
            let id = id.into_inner();
            if !is_valid_id(&id) {
                checker.report(id_span.clone(), ProblemKind::InvalidId(id.clone()));
            }
            if let Some(first) = ids.get(&id) {
                let kind = ProblemKind::DuplicateId(id.clone());
                checker.report_duplicate(id_span, first.clone(), kind);
            } else {
                ids.insert(id.clone(), id_span);
            }
            id
        });

        let mut entry_domains = Vec::with_capacity(provider.domains.len());
        for domain in provider.domains {
            let span = domain.span();
            let domain = domain.into_inner();
            if let Err(reason) = check_domain(&domain) {
                checker.report(span, ProblemKind::InvalidDomain { domain, reason });
                continue;
            }
            if let Some(first) = domains.get(&domain) {
                checker.report_duplicate(span, first.clone(), ProblemKind::DuplicateDomain(domain));
                continue;
            }
            domains.insert(domain.clone(), span);
            entry_domains.push(domain);
        }

        let entry_mx = check_mx_patterns(&mut checker, provider.mx, &mut mx_patterns);

        let incoming = check_servers(&mut checker, provider.incoming.valid, Direction::Incoming);
        let outgoing = check_servers(&mut checker, provider.outgoing.valid, Direction::Outgoing);
        let label = id.clone().unwrap_or_default();
        // A provider without IMAP/SMTP access for other apps lists no servers, and must say
        // what its users can do instead.
        let unsupported = provider.auth == Some(AuthHint::Unsupported);
        if unsupported && provider.notes.is_empty() {
            checker
                .report(provider_span.clone(), ProblemKind::UnsupportedWithoutNote(label.clone()));
        }
        // A direction whose servers all had schema problems is reported there already.
        if incoming.is_empty() && !provider.incoming.any_invalid && !unsupported {
            let kind = ProblemKind::NoServers { id: label.clone(), direction: "incoming" };
            checker.report(provider_span.clone(), kind);
        }
        if outgoing.is_empty() && !provider.outgoing.any_invalid && !unsupported {
            let kind = ProblemKind::NoServers { id: label, direction: "outgoing" };
            checker.report(provider_span, kind);
        }

        // An entry with a schema problem is not built: the file is refused anyway.
        let (Some(id), Some(name), Some(nylas), Some(auth)) =
            (id, provider.name, provider.nylas, provider.auth)
        else {
            continue;
        };
        let requires = required_steps(
            provider.requires,
            auth,
            provider.app_password_url.as_deref(),
            provider.documentation.as_deref(),
        );
        entries.push(CatalogueEntry {
            id,
            name,
            nylas,
            auth,
            domains: entry_domains,
            mx: entry_mx,
            notes: provider.notes,
            documentation: provider.documentation,
            app_password_url: provider.app_password_url,
            requires,
            incoming,
            outgoing,
        });
    }

    let mut gateways = Vec::with_capacity(raw.gateway.len());
    for gateway in raw.gateway {
        let gateway_span = gateway.span();
        let gateway = gateway.into_inner();
        if gateway.mx.is_empty() {
            checker.report(gateway_span, ProblemKind::GatewayWithoutMx);
        }
        let patterns = check_mx_patterns(&mut checker, gateway.mx, &mut mx_patterns);
        if let (Some(name), Some(kind)) = (gateway.name, gateway.kind) {
            gateways.push(Gateway {
                name,
                kind,
                mx: patterns,
                documentation: gateway.documentation,
            });
        }
    }

    let mut popular = Vec::with_capacity(raw.popular.len());
    for domain in raw.popular {
        let span = domain.span();
        let domain = domain.into_inner();
        // A suggestion must lead somewhere the catalogue answers.
        if domains.contains_key(&domain) {
            popular.push(domain);
        } else {
            checker.report(span, ProblemKind::UnknownPopularDomain(domain));
        }
    }

    if checker.problems.is_empty() {
        Ok(Parsed { entries, gateways, popular })
    } else {
        checker.problems.sort_by_key(|p| p.at);
        Err(CatalogueError::invalid(origin, checker.problems))
    }
}

/// The valid MX patterns of one entry or gateway; invalid ones, and any pattern another entry
/// or gateway already uses (`seen`), are reported.
fn check_mx_patterns(
    checker: &mut Checker<'_>,
    patterns: Vec<Spanned<String>>,
    seen: &mut HashMap<String, Range<usize>>,
) -> Vec<MxPattern> {
    let mut valid = Vec::with_capacity(patterns.len());
    for pattern in patterns {
        let span = pattern.span();
        let pattern = pattern.into_inner();
        match MxPattern::parse(&pattern) {
            Err(reason) => checker.report(span, ProblemKind::InvalidMxPattern { pattern, reason }),
            Ok(_) if seen.contains_key(&pattern) => {
                let first = seen[&pattern].clone();
                checker.report_duplicate(span, first, ProblemKind::DuplicateMxPattern(pattern));
            }
            Ok(parsed) => {
                seen.insert(pattern, span);
                valid.push(parsed);
            }
        }
    }
    valid
}

#[derive(Clone, Copy)]
enum Direction {
    Incoming,
    Outgoing,
}

fn check_servers(
    checker: &mut Checker<'_>,
    servers: Vec<Spanned<RawServer>>,
    direction: Direction,
) -> Vec<ServerSpec> {
    let mut specs = Vec::with_capacity(servers.len());
    let mut first_plain: Option<(Range<usize>, String)> = None;
    for server in servers {
        let server_span = server.span();
        let server = server.into_inner();
        match (&first_plain, server.security) {
            (None, Security::Plain) => {
                first_plain = Some((server_span, server.host.get_ref().clone()))
            }
            (Some((span, host)), security) if security.is_encrypted() => {
                checker.report(span.clone(), ProblemKind::PlaintextFirst { host: host.clone() });
                first_plain = None;
            }
            _ => {}
        }
        let mut valid = true;
        let protocol = *server.protocol.get_ref();
        let fits = match direction {
            Direction::Incoming => protocol.is_incoming(),
            Direction::Outgoing => !protocol.is_incoming(),
        };
        if !fits {
            let expected = match direction {
                Direction::Incoming => "imap or pop3",
                Direction::Outgoing => "smtp",
            };
            checker
                .report(server.protocol.span(), ProblemKind::WrongProtocol { protocol, expected });
            valid = false;
        }
        if *server.port.get_ref() == 0 {
            checker.report(server.port.span(), ProblemKind::PortZero);
            valid = false;
        }
        let host_span = server.host.span();
        let host = server.host.into_inner();
        if let Some(reason) = host_problem(&host) {
            checker.report(host_span, ProblemKind::InvalidHost { host: host.clone(), reason });
            valid = false;
        }
        let username = match server.username {
            Some(username) => {
                let span = username.span();
                let username = username.into_inner();
                if let Some(token) = Placeholder::find_unknown(&username, &Placeholder::ALL) {
                    let token = token.to_owned();
                    checker.report(span, ProblemKind::UnknownPlaceholder(token));
                    valid = false;
                }
                UsernameTemplate::new(username)
            }
            None => UsernameTemplate::email_address(),
        };
        if valid {
            specs.push(ServerSpec {
                protocol,
                host,
                port: server.port.into_inner(),
                security: server.security,
                username,
                auth: server.auth.unwrap_or_else(|| vec![AuthMethod::PasswordCleartext]),
            });
        }
    }
    specs
}

/// A host may use `%EMAILDOMAIN%` (some hosting companies serve `mail.<your domain>`); once
/// that is filled in with a sample domain it must be a valid lowercase host name.
fn host_problem(host: &str) -> Option<String> {
    if let Some(token) = Placeholder::find_unknown(host, &[Placeholder::EmailDomain]) {
        return Some(format!("{token} cannot be used in a host name (only %EMAILDOMAIN% can)"));
    }
    let sample = host.replace(Placeholder::EmailDomain.token(), "example.com");
    check_domain(&sample)
        .err()
        .map(|reason| reason.to_string())
        .or_else(|| sample.starts_with("*.").then(|| "a host name cannot be a wildcard".to_owned()))
}

/// Provider ids: `[a-z0-9][a-z0-9._-]*`, at most 64 characters.
fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

/// An entry's steps, in the order a user takes them: `auth = "app-password"` implies the
/// `app-password` step, and a step without its own URL points to the app-password page (for
/// that step) or the provider's documentation.
fn required_steps(
    written: Vec<RequiredStep>,
    auth: AuthHint,
    app_password_url: Option<&str>,
    documentation: Option<&str>,
) -> Vec<RequiredStep> {
    let mut steps = written;
    if auth == AuthHint::AppPassword && !steps.iter().any(|s| s.step == PreLoginStep::AppPassword) {
        steps.push(RequiredStep { step: PreLoginStep::AppPassword, url: None });
    }
    for step in &mut steps {
        if step.url.is_none() {
            step.url = match step.step {
                PreLoginStep::AppPassword => app_password_url.or(documentation),
                _ => documentation,
            }
            .map(str::to_owned);
        }
    }
    steps.sort_by_key(|s| PreLoginStep::ALL.iter().position(|step| *step == s.step));
    steps.dedup_by_key(|s| s.step);
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_from_one_and_in_characters() {
        let index = LineIndex::new("ab\ncdé f\n");
        assert_eq!(index.position(0), Position { line: 1, column: 1 });
        assert_eq!(index.position(3), Position { line: 2, column: 1 });
        // 'é' is two bytes but one column.
        assert_eq!(index.position(8), Position { line: 2, column: 5 });
        assert_eq!(index.position(100), Position { line: 3, column: 1 });
    }

    #[test]
    fn ids_are_checked() {
        assert!(is_valid_id("t-online.de"));
        assert!(is_valid_id("1und1"));
        assert!(!is_valid_id("Gmail"));
        assert!(!is_valid_id("-x"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("a b"));
    }

    #[test]
    fn host_names_are_checked() {
        assert_eq!(host_problem("imap.gmail.com"), None);
        assert_eq!(host_problem("mail.%EMAILDOMAIN%"), None);
        assert_eq!(host_problem("%EMAILDOMAIN%"), None);
        assert!(host_problem("%EMAILLOCALPART%.example.com").is_some());
        assert!(host_problem("IMAP.example.com").is_some());
        assert!(host_problem("imap example.com").is_some());
        assert!(host_problem("").is_some());
    }
}
