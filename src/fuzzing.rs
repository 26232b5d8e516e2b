//! Entry points shared by the fuzz targets (`fuzz/`) and the corpus regression test: each
//! feeds arbitrary bytes to one parser and checks invariants that must hold for any input.
//! Not part of the supported API.

pub use nativeauth_core::fuzzing::email;

#[cfg(feature = "catalogue")]
use nativeauth_catalogue::Catalogue;

#[cfg(feature = "imap")]
fn sample_email() -> Option<nativeauth_core::EmailAddress> {
    nativeauth_core::EmailAddress::parse("fuzz.user@example.com").ok()
}

/// The autoconfig parser: never panics; servers render for an address.
#[cfg(feature = "imap")]
pub fn autoconfig(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(doc) = nativeauth_imap::autoconfig::parse_autoconfig(&text) {
        if let Some(email) = sample_email() {
            for spec in doc.incoming.iter().chain(&doc.outgoing) {
                let server = spec.to_server(&email);
                assert!(server.port > 0);
                let _ = server.username.render(&email);
            }
        }
    }
}

/// The autodiscover parsers (POX XML and Microsoft 365's v2 JSON): never panic.
pub fn autodiscover(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    #[cfg(feature = "exchange")]
    if let Ok(nativeauth_exchange::PoxResponse::Settings(settings)) =
        nativeauth_exchange::parse_pox(&text)
    {
        let _ = settings.ews_url();
        let _ = settings.eas_host();
        let _ = settings.mail_servers();
    }
    #[cfg(feature = "microsoft")]
    if let Ok(endpoint) = nativeauth_microsoft::parse_v2_json(&text) {
        assert!(endpoint.url.starts_with("https://"));
    }
    let _ = text;
}

/// The catalogue loader: never panics; every problem has a position inside the text.
#[cfg(feature = "catalogue")]
pub fn catalogue(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Catalogue::parse(text, "fuzz.toml") {
        Ok(catalogue) => {
            for entry in catalogue.entries() {
                for domain in &entry.domains {
                    assert!(
                        catalogue.lookup(domain.trim_start_matches("*.")).is_some()
                            || domain.starts_with("*.")
                    );
                }
            }
            let _ = catalogue.match_mx_host("mx.example.com");
        }
        Err(error) => {
            let lines = text.lines().count().max(1) + 1;
            for problem in error.problems() {
                assert!(
                    problem.at.line >= 1 && problem.at.line <= lines,
                    "{problem:?} in {lines} lines"
                );
            }
        }
    }
}
