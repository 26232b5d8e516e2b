//! The built-in catalogue against the two reference databases, kept in the testkit's data
//! (`crates/testkit/data`, copies of the shared reference data, each with its licence): every domain of the Thunderbird ISPDB (`ispdb/*.xml`, its `<domain>` elements)
//! and of Delta Chat's provider database (`provider-db/*.md`, the `domains` of the YAML front
//! matter) must be known to the catalogue, but for the exclusions below, each with its reason;
//! and no domain the provider database marks `BROKEN` (signing in with a password does not work)
//! may be offered with a password or an app password.
//!
//! `scripts/provider_db_import.py` prints the same comparison in detail (and the server
//! differences), and TOML for what is missing.
#![allow(clippy::print_stdout, clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use nativeauth::providers::catalogue::{CatalogueChoice, builtin};
use nativeauth::{AuthHint, Discovery, DiscoveryConfig, EmailAddress};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/testkit/data");

/// Provider-database domains deliberately not in the catalogue (the same list, by file, as
/// `SKIPPED` in `scripts/provider_db_import.py`).
const EXCLUDED: &[(&str, &str)] = &[
    // Test-only, local, or not reachable from the internet.
    ("example.com", "provider-db's own test fixture, not a provider"),
    ("example.org", "provider-db's own test fixture, not a provider"),
    ("example.net", "provider-db's own test fixture, not a provider"),
    ("mail2tor.com", "servers are Tor hidden services (.onion), reachable only through Tor"),
    ("yggmail", "mesh-network pseudo-domain served by an app on the user's own device"),
    ("testrun.org", "Delta Chat's test server"),
    ("nine.testrun.org", "Delta Chat's chatmail test/default relay"),
    ("*.hermes.radio", "HF-radio mail network: no servers, TLS not checked"),
    ("*.aco-connexion.org", "HF-radio mail network (hermes.radio): no servers, TLS not checked"),
    // Chatmail relays: accounts are made by Delta Chat and only its end-to-end encrypted
    // messages are relayed, so they are no mailbox for a general mail app.
    ("mehl.cloud", "chatmail relay"),
    ("daleth.cafe", "chatmail relay"),
    // No server in the provider database and none confirmed by a second source (each lead
    // is named); discovery still asks the domain's autoconfig, SRV and guesses online.
    ("five.chat", "publishes its own autoconfig; the provider database dropped its servers for it"),
    ("i3.net", "publishes its own autoconfig (a provider-database pull request says so)"),
    ("espiv.net", "not confirmed: only the former K-9 Mail list (mail.espiv.net)"),
    ("kolst.com", "not confirmed: no server facts found"),
    ("kontent.com", "not confirmed: a web-hosting company; its help names hosts but no ports"),
    ("sonic.net", "not confirmed: Sonic's wiki says IMAP is free but the stored copy lacks hosts"),
    ("vfemail.net", "not confirmed: VFEmail lists ports 993/465, hosts only from users' configs"),
    ("firemail.de", "not confirmed: no server facts (and IMAP on paid plans only)"),
    ("firemail.at", "not confirmed: no server facts (and IMAP on paid plans only)"),
];

/// Every entry of the provider database, read once for all the tests of this file.
fn provider_db() -> &'static [ProviderDbEntry] {
    static ENTRIES: std::sync::OnceLock<Vec<ProviderDbEntry>> = std::sync::OnceLock::new();
    ENTRIES.get_or_init(|| {
        files(&format!("{DATA}/provider-db"), "md").iter().map(|p| read_provider_db(p)).collect()
    })
}

/// One provider-database file: its domains and whether password login is `BROKEN`.
struct ProviderDbEntry {
    file: String,
    domains: Vec<String>,
    broken: bool,
    /// Whether the file tells users something to do before they sign in (a non-empty
    /// `before_login_hint`, or the status `PREPARATION`).
    has_steps: bool,
}

/// The files of `dir` ending in `extension`, sorted; fails clearly when the data is missing.
fn files(dir: &str, extension: &str) -> Vec<PathBuf> {
    let path = Path::new(dir);
    let entries = fs::read_dir(path).unwrap_or_else(|error| {
        panic!(
            "reference data missing: cannot read {} ({error}); this test needs the shared data \
             directory (ispdb/ and provider-db/) in crates/testkit/data",
            path.display()
        )
    });
    let mut found: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    found.sort();
    assert!(
        !found.is_empty(),
        "reference data missing: no *.{extension} files in {}",
        path.display()
    );
    found
}

/// A YAML scalar as written: without quotes and a trailing comment.
fn scalar(text: &str) -> String {
    let text = match text.find(" #") {
        Some(comment) => &text[..comment],
        None => text,
    };
    text.trim().trim_matches(['"', '\'']).trim().to_ascii_lowercase()
}

/// The `domains` and `status` of a provider-database file's front matter (between the first
/// two `---` lines). The files are simple: `domains:` is followed by `- domain` lines (or,
/// allowed here too, an inline `[a, b]` list), and every other key starts a line of its own.
fn read_provider_db(path: &Path) -> ProviderDbEntry {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().map(str::trim), Some("---"), "{}: no front matter", path.display());
    let mut domains = Vec::new();
    let mut status = None;
    let mut hint = false;
    let mut in_domains = false;
    for line in lines {
        let trimmed = line.trim();
        if trimmed == "---" {
            break;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if in_domains {
            if let Some(item) = trimmed.strip_prefix("- ") {
                domains.push(scalar(item));
                continue;
            }
            in_domains = false;
        }
        if let Some(value) = trimmed.strip_prefix("domains:") {
            let value = value.trim();
            if let Some(inline) = value.strip_prefix('[') {
                domains.extend(inline.trim_end_matches(']').split(',').map(scalar));
            } else {
                in_domains = true;
            }
        } else if let Some(value) = trimmed.strip_prefix("status:") {
            status = Some(scalar(value));
        } else if let Some(value) = trimmed.strip_prefix("before_login_hint:") {
            // A block scalar (`|` or `>`) carries its text on the following lines.
            hint = !scalar(value).is_empty();
        }
    }
    domains.retain(|d| !d.is_empty());
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(!domains.is_empty(), "{file}: no domains read");
    let status = status.unwrap_or_else(|| panic!("{file}: no status read"));
    let has_steps = hint || status == "preparation";
    ProviderDbEntry { file, domains, broken: status == "broken", has_steps }
}

/// Every `<domain>` element of an ISPDB file (outside comments).
fn read_ispdb(path: &Path) -> Vec<String> {
    let mut text = fs::read_to_string(path).unwrap();
    while let Some(start) = text.find("<!--") {
        let end = text[start..].find("-->").map_or(text.len(), |e| start + e + 3);
        text.replace_range(start..end, "");
    }
    let mut domains = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<domain>") {
        rest = &rest[start + "<domain>".len()..];
        let end = rest
            .find("</domain>")
            .unwrap_or_else(|| panic!("{}: unclosed <domain>", path.display()));
        domains.push(rest[..end].trim().to_ascii_lowercase());
        rest = &rest[end..];
    }
    domains
}

/// The catalogue entry's id and auth for `domain`; a wildcard `*.x` is asked as a subdomain.
fn lookup(domain: &str) -> Option<(&'static str, AuthHint)> {
    let asked = match domain.strip_prefix("*.") {
        Some(parent) => format!("subdomain.{parent}"),
        None => domain.to_owned(),
    };
    builtin().lookup(&asked).map(|m| (m.entry.id.as_str(), m.entry.auth))
}

fn excluded(domain: &str) -> bool {
    EXCLUDED.iter().any(|(d, _)| *d == domain)
}

#[test]
fn every_reference_domain_is_known_and_broken_logins_are_not_offered() {
    let mut problems = Vec::new();

    let providers = provider_db();
    let mut pdb_domains = BTreeSet::new();
    let (mut pdb_known, mut broken_checked) = (0, 0);
    for provider in providers {
        for domain in &provider.domains {
            if !pdb_domains.insert(domain.clone()) {
                continue;
            }
            let found = lookup(domain);
            match found {
                Some(_) => pdb_known += 1,
                None if excluded(domain) => {}
                None => problems.push(format!(
                    "provider-db {}: {domain} is unknown to providers.toml",
                    provider.file
                )),
            }
            if provider.broken {
                broken_checked += 1;
                if let Some((id, auth @ (AuthHint::Password | AuthHint::AppPassword))) = found {
                    problems.push(format!(
                        "provider-db {}: {domain} is BROKEN for passwords, but entry `{id}` \
                         offers auth = \"{}\"",
                        provider.file,
                        auth.as_str()
                    ));
                }
            }
        }
    }

    let mut ispdb_domains = BTreeSet::new();
    let ispdb_files = files(&format!("{DATA}/ispdb"), "xml");
    for path in &ispdb_files {
        for domain in read_ispdb(path) {
            if lookup(&domain).is_none() && !ispdb_domains.contains(&domain) {
                let file = path.file_name().unwrap().to_string_lossy();
                problems.push(format!("ISPDB {file}: {domain} is unknown to providers.toml"));
            }
            ispdb_domains.insert(domain);
        }
    }
    let ispdb_known = ispdb_domains.iter().filter(|d| lookup(d).is_some()).count();

    // An exclusion must still be needed: it names a provider-database domain the catalogue
    // does not know.
    for (domain, reason) in EXCLUDED {
        if !pdb_domains.contains(*domain) {
            problems.push(format!("exclusion {domain} ({reason}) is not in the provider database"));
        } else if let Some((id, _)) = lookup(domain) {
            problems.push(format!("exclusion {domain} ({reason}) is known now (entry `{id}`)"));
        }
    }

    println!(
        "ISPDB: {} files, domains known {ispdb_known} / {}",
        ispdb_files.len(),
        ispdb_domains.len()
    );
    println!(
        "provider-database: {} files, domains known {pdb_known} / {} ({} excluded with a \
         reason), {broken_checked} BROKEN domains checked",
        providers.len(),
        pdb_domains.len(),
        EXCLUDED.len()
    );
    assert!(ispdb_domains.len() >= 900, "only {} ISPDB domains read", ispdb_domains.len());
    assert!(pdb_domains.len() >= 500, "only {} provider-database domains read", pdb_domains.len());
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// Provider-database entries whose hint before login is no step at the provider: nothing to
/// switch on or create, so `requires` stays empty.
const HINT_IS_NO_STEP: &[(&str, &str)] =
    &[("wkpb.de", "the hint only says which existing school login to use")];

/// Every domain for which the provider database tells users to do something before signing in
/// gets, from an offline `discover` of an address there, the steps (`requires`, on the answer
/// or an alternative); or, for a provider apps cannot use, `auth = "unsupported"` with a note
/// saying why; or `auth = "oauth2"`, where the user signs in on the provider's own page and the
/// database's steps (which are for passwords) do not apply.
#[tokio::test]
async fn every_domain_with_a_step_before_login_shows_it_offline() {
    let discovery = Discovery::new(
        DiscoveryConfig::builder().offline(true).provider_options(CatalogueChoice::Builtin).build(),
    )
    .unwrap();
    let providers = provider_db();
    let (mut checked, mut with_steps, mut unsupported, mut oauth) = (0, 0, 0, 0);
    let mut problems = Vec::new();
    for provider in providers.iter().filter(|p| p.has_steps) {
        for domain in &provider.domains {
            if excluded(domain) || HINT_IS_NO_STEP.iter().any(|(d, _)| d == domain) {
                continue;
            }
            let asked = match domain.strip_prefix("*.") {
                Some(parent) => format!("someone@subdomain.{parent}"),
                None => format!("someone@{domain}"),
            };
            let email = EmailAddress::parse(&asked).unwrap();
            let report = discovery.discover(&email).await;
            let json = serde_json::to_value(report.to_json()).unwrap();
            checked += 1;
            let steps = json["requires"].as_array().map_or(0, Vec::len)
                + json["alternatives"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|alt| alt["requires"].as_array().map_or(0, Vec::len))
                    .sum::<usize>();
            let notes = json["notes"].as_array().map_or(0, Vec::len);
            if steps > 0 {
                with_steps += 1;
            } else if json["auth"] == "unsupported" && notes > 0 {
                unsupported += 1;
            } else if json["auth"] == "oauth2" {
                oauth += 1;
            } else {
                problems.push(format!(
                    "provider-db {}: discover {asked} shows no step (auth {})",
                    provider.file, json["auth"]
                ));
            }
        }
    }
    println!(
        "domains with a step before login: {checked} checked, {with_steps} show their steps, \
         {unsupported} unsupported with a reason, {oauth} sign in with the provider's page"
    );
    assert!(checked >= 139, "only {checked} domains with a step read");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
