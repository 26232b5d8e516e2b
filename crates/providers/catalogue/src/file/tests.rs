use super::*;
use nativeauth_core::{AuthMethod, EmailAddress};

/// A valid provider table with the given id and domain list, servers included.
fn provider(id: &str, domains: &str) -> String {
    format!(
        r#"[[provider]]
id = "{id}"
name = "{id} mail"
nylas = "imap"
auth = "password"
domains = {domains}
[[provider.incoming]]
protocol = "imap"
host = "imap.{id}.example"
port = 993
security = "tls"
[[provider.outgoing]]
protocol = "smtp"
host = "smtp.{id}.example"
port = 587
security = "starttls"
"#
    )
}

fn problems(text: &str) -> Vec<Problem> {
    match Catalogue::parse(text, "test.toml") {
        Err(CatalogueError::Invalid { problems, .. }) => problems,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("catalogue unexpectedly valid"),
    }
}

fn pos(line: usize, column: usize) -> Position {
    Position { line, column }
}

#[test]
fn exact_and_wildcard_domains_match_on_label_boundaries() {
    let text = provider("aol", r#"["aol.com"]"#)
        + &provider("corp", r#"["*.corp.example", "*.eu.corp.example"]"#);
    let catalogue = Catalogue::parse(&text, "t").unwrap();
    let id = |d: &str| catalogue.lookup(d).map(|m| (m.entry.id.as_str(), m.rule));
    assert_eq!(id("aol.com"), Some(("aol", "aol.com")));
    assert_eq!(id("aol.com."), Some(("aol", "aol.com")));
    assert_eq!(id("notaol.com"), None);
    assert_eq!(id("aol.com.evil.example"), None);
    assert_eq!(id("mail.aol.com"), None, "exact domains do not cover subdomains");
    assert_eq!(id("corp.example"), None, "wildcards cover subdomains only");
    assert_eq!(id("a.corp.example"), Some(("corp", "*.corp.example")));
    assert_eq!(id("x.a.corp.example"), Some(("corp", "*.corp.example")));
    assert_eq!(id("x.eu.corp.example"), Some(("corp", "*.eu.corp.example")));
    assert_eq!(id("notcorp.example"), None);
    assert_eq!(id("acorp.example"), None);
}

#[test]
fn mx_patterns_find_their_entry() {
    let text = provider("google", r#"["gmail.com"]"#).replace(
        "domains = [\"gmail.com\"]",
        "domains = [\"gmail.com\"]\nmx = [\"aspmx.l.google.com\", \"*.google.com\"]",
    );
    let catalogue = Catalogue::parse(&text, "t").unwrap();
    let id =
        |h: &str| catalogue.match_mx_host(h).map(|m| (m.entry.id.as_str(), m.pattern.as_str()));
    assert_eq!(id("aspmx.l.google.com."), Some(("google", "aspmx.l.google.com")));
    assert_eq!(id("alt2.aspmx.l.google.com"), Some(("google", "*.google.com")));
    assert_eq!(id("gmail.com.evil.example"), None);
    assert_eq!(id("google.com.evil.example"), None);
    assert_eq!(id("mx.example.net"), None);
}

#[test]
fn detections_render_host_placeholders_and_keep_username_templates() {
    let text = provider("host", r#"["host.example"]"#).replace(
        "host = \"imap.host.example\"",
        "host = \"mail.%EMAILDOMAIN%\"\nusername = \"%EMAILLOCALPART%\"",
    );
    let catalogue = Catalogue::parse(&text, "t").unwrap();
    let email = EmailAddress::parse("bob@Customer.Example").unwrap();
    let entry = catalogue.entry("host").unwrap();
    let detection = entry.detection(&email, Source::Catalogue, "why".into());
    assert_eq!(detection.incoming[0].host, "mail.customer.example");
    assert_eq!(detection.incoming[0].username.as_str(), "%EMAILLOCALPART%");
    assert_eq!(detection.incoming[0].username.render(&email), "bob");
    assert_eq!(detection.outgoing[0].username.render(&email), "bob@customer.example");
    assert_eq!(detection.outgoing[0].auth, vec![AuthMethod::PasswordCleartext]);
    assert_eq!(detection.trust, Trust::Verified);
}

#[test]
fn syntax_errors_name_line_and_column() {
    let text = "[[provider]]\nid = \"x\"\nname = \n";
    let found = problems(text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].at.line, 3);
    let message = Catalogue::parse(text, "mine.toml").unwrap_err().to_string();
    assert!(message.starts_with("mine.toml:3:"), "{message}");
}

#[test]
fn unknown_security_is_reported_at_its_value() {
    let text =
        provider("a", r#"["a.example"]"#).replace("security = \"starttls\"", "security = \"ssl\"");
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].at, pos(16, 12));
    match &found[0].kind {
        ProblemKind::Syntax(message) => {
            assert!(message.contains("ssl") && message.contains("starttls"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_keys_are_rejected() {
    let text = provider("a", r#"["a.example"]"#)
        .replace("auth = \"password\"", "auth = \"password\"\ndomain = \"a.example\"");
    let found = problems(&text);
    assert_eq!(found[0].at.line, 6);
    assert!(matches!(&found[0].kind, ProblemKind::Syntax(m) if m.contains("domain")));
}

#[test]
fn port_zero_and_out_of_range_ports_are_rejected_with_positions() {
    let text = provider("a", r#"["a.example"]"#).replace("port = 993", "port = 0");
    let found = problems(&text);
    let kinds: Vec<_> = found.iter().map(|p| (p.at, &p.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (pos(1, 1), &ProblemKind::NoServers { id: "a".into(), direction: "incoming" }),
            (pos(10, 8), &ProblemKind::PortZero),
        ]
    );
    let text = provider("a", r#"["a.example"]"#).replace("port = 587", "port = 70000");
    let found = problems(&text);
    assert_eq!(found[0].at, pos(15, 8));
    assert!(
        matches!(&found[0].kind, ProblemKind::Syntax(m) if m.contains("70000") || m.contains("range")),
        "{found:?}"
    );
}

#[test]
fn duplicate_domains_name_both_positions() {
    let text = provider("a", r#"["a.example", "shared.example"]"#)
        + &provider("b", r#"["shared.example"]"#);
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, ProblemKind::DuplicateDomain("shared.example".into()));
    assert_eq!(found[0].at, pos(22, 12));
    assert_eq!(found[0].first, Some(pos(6, 25)));
    let message = Catalogue::parse(&text, "p.toml").unwrap_err().to_string();
    assert_eq!(
        message,
        "p.toml:22:12: duplicate domain \"shared.example\" (first defined at p.toml:6:25)"
    );
}

#[test]
fn duplicate_ids_and_mx_patterns_name_both_positions() {
    let a =
        provider("a", r#"["a.example"]"#).replace("domains", "mx = [\"mx.a.example\"]\ndomains");
    let b =
        provider("a", r#"["b.example"]"#).replace("domains", "mx = [\"mx.a.example\"]\ndomains");
    let found = problems(&(a + &b));
    let kinds: Vec<_> = found.iter().map(|p| (&p.kind, p.at, p.first)).collect();
    assert_eq!(
        kinds,
        vec![
            (&ProblemKind::DuplicateId("a".into()), pos(19, 6), Some(pos(2, 6))),
            (&ProblemKind::DuplicateMxPattern("mx.a.example".into()), pos(23, 7), Some(pos(6, 7))),
        ]
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text = provider("Bad Id", r#"["Upper.example", "ok.example", "bücher.example"]"#)
        .replace("protocol = \"imap\"", "protocol = \"smtp\"")
        .replace("username", "x")
        .replace("port = 587", "port = 587\nusername = \"%EMAILADRESS%\"");
    let found = problems(&text);
    let kinds: Vec<String> = found.iter().map(|p| p.kind.to_string()).collect();
    assert!(kinds.iter().any(|k| k.contains("invalid provider id")), "{kinds:?}");
    assert!(
        kinds.iter().any(|k| k.contains("Upper.example") && k.contains("lowercase")),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|k| k.contains("xn--bcher-kva.example")), "{kinds:?}");
    assert!(kinds.iter().any(|k| k.contains("protocol smtp is not allowed")), "{kinds:?}");
    assert!(kinds.iter().any(|k| k.contains("%EMAILADRESS%")), "{kinds:?}");
    assert!(found.windows(2).all(|w| w[0].at <= w[1].at), "problems are in file order");
}

#[test]
fn io_errors_name_the_file() {
    let error = Catalogue::load_file(Path::new("/nonexistent/providers.toml")).unwrap_err();
    assert!(matches!(error, CatalogueError::Io { .. }));
    assert!(error.to_string().contains("/nonexistent/providers.toml"));
}

#[test]
fn empty_text_is_an_empty_catalogue() {
    let catalogue = Catalogue::parse("", "empty.toml").unwrap();
    assert!(catalogue.entries().is_empty());
    assert_eq!(catalogue.domain_count(), 0);
    assert!(catalogue.lookup("gmail.com").is_none());
}

#[test]
fn plaintext_servers_must_come_after_encrypted_ones() {
    let text = provider("a", r#"["a.example"]"#).replace(
        "[[provider.outgoing]]",
        "[[provider.incoming]]\nprotocol = \"imap\"\nhost = \"imap.a.example\"\nport = 143\nsecurity = \"plain\"\n[[provider.outgoing]]",
    );
    assert!(Catalogue::parse(&text, "t").is_ok(), "plaintext last is allowed");
    let text = text
        .replace("security = \"tls\"", "security = \"plain\"")
        .replace("port = 143\nsecurity = \"plain\"", "port = 143\nsecurity = \"starttls\"");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, ProblemKind::PlaintextFirst { host: "imap.a.example".into() });
    assert_eq!(found[0].at.line, 7);
}

#[test]
fn gateways_are_parsed_matched_and_checked() {
    let gateways = "\n[[gateway]]\nname = \"Filter Co\"\nkind = \"filter\"\nmx = [\"*.filter.example\"]\n\n[[gateway]]\nname = \"Hop\"\nkind = \"forwarding\"\nmx = [\"mx*.hop.example\"]\n";
    let text = format!("{}{gateways}", provider("a", r#"["a.example"]"#));
    let catalogue = Catalogue::parse(&text, "test.toml").unwrap();
    let found = catalogue.match_gateway("in-1.filter.example.").unwrap();
    assert_eq!(
        (found.gateway.name.as_str(), found.gateway.kind),
        ("Filter Co", GatewayKind::Filter)
    );
    let hop = catalogue.match_gateway("mx2.hop.example").unwrap();
    assert_eq!(hop.gateway.kind, GatewayKind::Forwarding);
    assert!(catalogue.match_gateway("filter.example").is_none());
    assert!(catalogue.match_mx_host("in-1.filter.example").is_none());

    // No MX pattern, an unknown kind, a pattern a provider already uses: each reported.
    let with_mx = provider("a", r#"["a.example"]"#).replacen(
        "[[provider.incoming]]",
        "mx = [\"mx.a.example\"]\n[[provider.incoming]]",
        1,
    );
    let bad = "[[gateway]]\nname = \"Empty\"\nkind = \"filter\"\nmx = []\n[[gateway]]\nname = \"Odd\"\nkind = \"relay\"\nmx = [\"x.example\"]\n[[gateway]]\nname = \"Dup\"\nkind = \"filter\"\nmx = [\"mx.a.example\"]\n";
    let kinds: Vec<String> =
        problems(&format!("{with_mx}{bad}")).into_iter().map(|p| p.kind.to_string()).collect();
    assert!(
        kinds.iter().any(|k| k.contains("a gateway needs at least one MX pattern")),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|k| k.contains("unknown variant `relay`")), "{kinds:?}");
    assert!(kinds.iter().any(|k| k.contains("duplicate MX pattern \"mx.a.example\"")), "{kinds:?}");
}

#[test]
fn an_unsupported_provider_needs_no_servers_but_a_note() {
    let with_note = "[[provider]]\nid = \"sealed\"\nname = \"Sealed\"\nnylas = \"imap\"\nauth = \"unsupported\"\ndomains = [\"sealed.example\"]\nnotes = [\"Only Sealed's own app reads this mail.\"]\n";
    let catalogue = Catalogue::parse(with_note, "test.toml").unwrap();
    let entry = catalogue.lookup("sealed.example").unwrap().entry;
    assert_eq!(entry.auth, AuthHint::Unsupported);
    assert!(entry.incoming.is_empty());

    let without_note =
        with_note.replace("notes = [\"Only Sealed's own app reads this mail.\"]\n", "");
    let found = problems(&without_note);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(matches!(found[0].kind, ProblemKind::UnsupportedWithoutNote(ref id) if id == "sealed"));
}

#[test]
fn steps_before_login_are_read_ordered_and_implied_by_app_passwords() {
    let text = provider("steps", "[\"steps.example\"]")
        .replace(
            "auth = \"password\"",
            "auth = \"app-password\"\nrequires = [{ step = \"two-factor\" }, { step = \"enable-imap\", url = \"https://steps.example/imap\" }]\ndocumentation = \"https://steps.example/help\"\napp_password_url = \"https://steps.example/app-passwords\"",
        );
    let catalogue = Catalogue::parse(&text, "test.toml").unwrap();
    let entry = catalogue.lookup("steps.example").unwrap().entry;
    let steps: Vec<(&str, Option<&str>)> =
        entry.requires.iter().map(|r| (r.step.as_str(), r.url.as_deref())).collect();
    assert_eq!(
        steps,
        [
            ("enable-imap", Some("https://steps.example/imap")),
            ("two-factor", Some("https://steps.example/help")),
            ("app-password", Some("https://steps.example/app-passwords")),
        ],
        "in the order a user takes them, the app-password step implied, URLs filled in"
    );
    let email = EmailAddress::parse("ann@steps.example").unwrap();
    assert_eq!(entry.detection(&email, Source::Catalogue, String::new()).requires, entry.requires);

    let unknown = provider("bad", "[\"bad.example\"]").replace(
        "auth = \"password\"",
        "auth = \"password\"\nrequires = [{ step = \"sacrifice-a-goat\" }]",
    );
    let found = problems(&unknown);
    assert_eq!(found.len(), 1, "{found:?}");
}
