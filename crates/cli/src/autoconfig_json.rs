//! `--parse-autoconfig`: what a saved autoconfig file yields, as JSON.

use nativeauth::EmailAddress;
use nativeauth::model::ServerSpec;
use nativeauth::sources::autoconfig::AutoconfigDocument;
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
