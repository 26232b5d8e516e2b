//! Mail servers from DNS SRV records (RFC 6186, with RFC 8314's implicit TLS preferred).

use nativeauth_core::plugin::DiscoveryContext;
use nativeauth_core::{AuthMethod, Protocol, Security, Server, SourceError, UsernameTemplate};

/// The SRV services looked up, in order of preference within each direction.
const SERVICES: [(&str, Protocol, Security); 6] = [
    ("_imaps._tcp", Protocol::Imap, Security::Tls),
    ("_imap._tcp", Protocol::Imap, Security::StartTls),
    ("_pop3s._tcp", Protocol::Pop3, Security::Tls),
    ("_pop3._tcp", Protocol::Pop3, Security::StartTls),
    ("_submissions._tcp", Protocol::Smtp, Security::Tls),
    ("_submission._tcp", Protocol::Smtp, Security::StartTls),
];

/// Servers announced by SRV records of `domain`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SrvServers {
    /// IMAP (implicit TLS first), then POP3.
    pub incoming: Vec<Server>,
    /// Submission (implicit TLS first).
    pub outgoing: Vec<Server>,
}

/// Looks up every mail SRV service of `domain`, all six at once (one round trip's wait, not
/// six). A target of `.` ("not offered") and port 0 are skipped. SRV answers are DNS-only, so
/// whatever they yield is unverified.
///
/// # Errors
/// [`SourceError`] when every lookup failed (a partial failure still returns what was found).
pub async fn srv_servers(ctx: &DiscoveryContext, domain: &str) -> Result<SrvServers, SourceError> {
    let mut found = SrvServers::default();
    let mut errors = Vec::new();
    let names: Vec<String> =
        SERVICES.iter().map(|(service, _, _)| format!("{service}.{domain}")).collect();
    // Answers keep the services' order, so the preference order holds.
    let answers = futures_util::future::join_all(names.iter().map(|name| ctx.srv(name))).await;
    for ((_, protocol, security), answer) in SERVICES.into_iter().zip(answers) {
        let records = match answer {
            Ok(records) => records,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        for record in records.into_iter().filter(|r| !r.target.is_empty() && r.port != 0) {
            let server = Server {
                protocol,
                host: record.target,
                port: record.port,
                security,
                // RFC 6186 §3: the user name is the full address unless configured otherwise.
                username: UsernameTemplate::email_address(),
                auth: vec![AuthMethod::PasswordCleartext],
            };
            if protocol.is_incoming() {
                found.incoming.push(server);
            } else {
                found.outgoing.push(server);
            }
        }
    }
    if errors.len() == SERVICES.len() {
        return Err(errors.remove(0));
    }
    Ok(found)
}
