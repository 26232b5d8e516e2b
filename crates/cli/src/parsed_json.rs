//! `--parse-autoconfig` and `--parse-autodiscover`: what a saved file yields, as JSON.

use nativeauth::EmailAddress;
use nativeauth::catalogue::ServerSpec;
use nativeauth::providers::exchange::PoxResponse;
use nativeauth::providers::imap::autoconfig::AutoconfigDocument;
use serde_json::{Value, json};

/// The document as JSON; hosts and usernames rendered when an address is given.
pub(crate) fn view(doc: &AutoconfigDocument, email: Option<&EmailAddress>) -> Value {
    let servers = |specs: &[ServerSpec]| -> Vec<Value> {
        specs
            .iter()
            .map(|spec| {
                let (host, username) = match email {
                    Some(email) => (spec.to_server(email).host, spec.username.render(email)),
                    None => (spec.host.clone(), spec.username.as_str().to_owned()),
                };
                json!({
                    "protocol": spec.protocol,
                    "host": host,
                    "port": spec.port,
                    "security": spec.security,
                    "username": username,
                    "auth": spec.auth,
                })
            })
            .collect()
    };
    json!({
        "provider_id": doc.provider_id,
        "name": doc.name(),
        "domains": doc.domains,
        "incoming": servers(&doc.incoming),
        "outgoing": servers(&doc.outgoing),
        "imap_and_smtp": doc.has_imap_and_smtp(),
        "skipped": doc.skipped.iter().map(|s| json!({"type": s.kind, "reason": s.reason})).collect::<Vec<_>>(),
        "documentation": doc.documentation,
    })
}

/// A POX autodiscover response as JSON; usernames rendered when an address is given.
pub(crate) fn autodiscover_view(response: &PoxResponse, email: Option<&EmailAddress>) -> Value {
    match response {
        PoxResponse::Settings(settings) => {
            let (incoming, outgoing) = settings.mail_servers();
            let servers = |list: &[nativeauth::Server]| -> Vec<Value> {
                list.iter()
                    .map(|s| {
                        json!({
                            "protocol": s.protocol,
                            "host": s.host,
                            "port": s.port,
                            "security": s.security,
                            "username": email.map_or_else(|| s.username.as_str().to_owned(), |e| s.username.render(e)),
                            "auth": s.auth,
                        })
                    })
                    .collect()
            };
            json!({
                "action": "settings",
                "smtp_address": settings.smtp_address,
                "display_name": settings.display_name,
                "exchange": { "ews_url": settings.ews_url(), "eas_host": settings.eas_host() },
                "protocols": settings.protocols.iter().map(|p| json!({
                    "type": p.kind, "server": p.server, "port": p.port, "ssl": p.ssl,
                    "encryption": p.encryption, "spa": p.spa, "login_name": p.login_name,
                    "domain_required": p.domain_required, "auth_package": p.auth_package,
                    "as_url": p.as_url, "ews_url": p.ews_url,
                })).collect::<Vec<_>>(),
                "incoming": servers(&incoming),
                "outgoing": servers(&outgoing),
            })
        }
        PoxResponse::RedirectAddr(address) => {
            json!({"action": "redirectAddr", "redirect_addr": address})
        }
        PoxResponse::RedirectUrl(url) => json!({"action": "redirectUrl", "redirect_url": url}),
        PoxResponse::Error { code, message } => {
            json!({"action": "error", "code": code, "message": message})
        }
    }
}
