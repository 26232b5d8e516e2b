//! The pure Mozilla autoconfig parser (`config-v1.1.xml`): text in, servers out.

use nativeauth_core::plugin::xml::{self, Element, XmlError};
use nativeauth_core::plugin::{Placeholder, ServerSpec};
use nativeauth_core::{AuthMethod, EmailAddress, Protocol, Security, UsernameTemplate};

/// What an autoconfig document says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoconfigDocument {
    /// The `emailProvider id` (not always a domain, not unique across files).
    pub provider_id: Option<String>,
    /// The `<domain>` entries, lowercased.
    pub domains: Vec<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `displayShortName`.
    pub short_name: Option<String>,
    /// Usable incoming servers (IMAP, POP3): encrypted before plaintext, IMAP before POP3,
    /// otherwise in document order (the provider's preference).
    pub incoming: Vec<ServerSpec>,
    /// Usable outgoing (SMTP) servers, encrypted before plaintext.
    pub outgoing: Vec<ServerSpec>,
    /// Server entries that were skipped, and why.
    pub skipped: Vec<SkippedServer>,
    /// The first `documentation url`.
    pub documentation: Option<String>,
}

/// A server entry that was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedServer {
    /// The `type` attribute (`exchange`, `ews`, …).
    pub kind: String,
    /// Why it was skipped.
    pub reason: String,
}

impl AutoconfigDocument {
    /// Whether it has what a mail client needs: an IMAP server and an SMTP server.
    pub fn has_imap_and_smtp(&self) -> bool {
        self.incoming.iter().any(|s| s.protocol == Protocol::Imap) && !self.outgoing.is_empty()
    }

    /// The best display name.
    pub fn name(&self) -> Option<&str> {
        self.display_name.as_deref().or(self.short_name.as_deref())
    }

    /// Whether the document lists `domain` (case-insensitive).
    pub fn lists_domain(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// Every server host, rendered for `email`.
    pub fn hosts(&self, email: &EmailAddress) -> Vec<String> {
        self.incoming
            .iter()
            .chain(&self.outgoing)
            .map(|s| Placeholder::render_all(&s.host, email).to_ascii_lowercase())
            .collect()
    }
}

/// Why a document is not a usable autoconfig file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AutoconfigError {
    /// Not XML.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// XML, but its root is not `clientConfig`.
    #[error("the root element is <{0}>, not <clientConfig>")]
    UnexpectedRoot(String),
    /// No `emailProvider` element.
    #[error("no <emailProvider> element")]
    NoProvider,
    /// An `emailProvider` without a single usable server.
    #[error("no usable server ({} entries skipped)", skipped.len())]
    NoServers {
        /// What was skipped, and why.
        skipped: Vec<SkippedServer>,
    },
}

/// Parses a `config-v1.1.xml` document.
///
/// Tolerant as real files demand: element names in any case and with any namespace prefix,
/// `socketType` and `authentication` values in any case with their aliases (`TLS` = `SSL`,
/// `plain` = `password-cleartext`, `secure` = `password-encrypted`), unknown elements ignored,
/// invalid server entries skipped (and listed) rather than failing the file.
///
/// ```
/// use nativeauth_imap::autoconfig::parse_autoconfig;
///
/// let doc = parse_autoconfig(r#"<clientConfig version="1.1"><emailProvider id="example.com">
///   <domain>example.com</domain>
///   <incomingServer type="imap"><hostname>imap.example.com</hostname><port>993</port>
///     <socketType>SSL</socketType><username>%EMAILLOCALPART%</username>
///     <authentication>password-cleartext</authentication></incomingServer>
///   <outgoingServer type="smtp"><hostname>smtp.example.com</hostname><port>587</port>
///     <socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username></outgoingServer>
/// </emailProvider></clientConfig>"#)?;
/// assert!(doc.has_imap_and_smtp());
/// assert_eq!(doc.incoming[0].host, "imap.example.com");
/// # Ok::<(), nativeauth_imap::autoconfig::AutoconfigError>(())
/// ```
///
/// # Errors
/// [`AutoconfigError`] when the text is not XML, not an autoconfig document, or has no usable
/// server.
pub fn parse_autoconfig(text: &str) -> Result<AutoconfigDocument, AutoconfigError> {
    let root = xml::parse(text)?;
    if !root.is("clientConfig") {
        return Err(AutoconfigError::UnexpectedRoot(root.name));
    }
    let provider = root.child("emailProvider").ok_or(AutoconfigError::NoProvider)?;
    let mut doc = AutoconfigDocument {
        provider_id: provider.attribute("id").map(str::to_owned),
        domains: provider
            .children_named("domain")
            .map(|d| d.text.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect(),
        display_name: provider.child_text("displayName").map(str::to_owned),
        short_name: provider.child_text("displayShortName").map(str::to_owned),
        documentation: provider
            .children_named("documentation")
            .find_map(|d| d.attribute("url"))
            .map(str::to_owned),
        ..AutoconfigDocument::default()
    };
    for entry in provider.children_named("incomingServer") {
        match server(entry, Direction::Incoming) {
            Ok(spec) => doc.incoming.push(spec),
            Err(skipped) => doc.skipped.push(skipped),
        }
    }
    for entry in provider.children_named("outgoingServer") {
        match server(entry, Direction::Outgoing) {
            Ok(spec) => doc.outgoing.push(spec),
            Err(skipped) => doc.skipped.push(skipped),
        }
    }
    // Stable sorts keep the provider's order within each group.
    doc.incoming.sort_by_key(|s| (!s.security.is_encrypted(), s.protocol != Protocol::Imap));
    doc.outgoing.sort_by_key(|s| !s.security.is_encrypted());
    if doc.incoming.is_empty() && doc.outgoing.is_empty() {
        return Err(AutoconfigError::NoServers { skipped: doc.skipped });
    }
    Ok(doc)
}

#[derive(Clone, Copy)]
enum Direction {
    Incoming,
    Outgoing,
}

fn server(entry: &Element, direction: Direction) -> Result<ServerSpec, SkippedServer> {
    let kind = entry.attribute("type").unwrap_or_default().trim().to_ascii_lowercase();
    let skip = |reason: String| SkippedServer { kind: kind.clone(), reason };
    let protocol = match (direction, kind.as_str()) {
        (Direction::Incoming, "imap") => Protocol::Imap,
        (Direction::Incoming, "pop3") => Protocol::Pop3,
        (Direction::Outgoing, "smtp") => Protocol::Smtp,
        _ => return Err(skip(format!("server type {kind:?} is not supported"))),
    };
    let host = entry.child_text("hostname").ok_or_else(|| skip("no hostname".into()))?;
    let host = host.to_ascii_lowercase().replace("%emaildomain%", Placeholder::EmailDomain.token());
    if let Some(problem) = host_problem(&host) {
        return Err(skip(format!("hostname {host:?}: {problem}")));
    }
    let port_text = entry.child_text("port").ok_or_else(|| skip("no port".into()))?;
    let port = match port_text.parse::<u16>() {
        Ok(port) if port > 0 => port,
        _ => return Err(skip(format!("port {port_text:?} is not 1-65535"))),
    };
    let socket = entry.child_text("socketType").unwrap_or("plain");
    let security = match socket.to_ascii_lowercase().as_str() {
        "ssl" | "tls" => Security::Tls,
        "starttls" => Security::StartTls,
        "plain" => Security::Plain,
        other => return Err(skip(format!("socketType {other:?} is unknown"))),
    };
    let username = entry.child_text("username").map_or_else(UsernameTemplate::email_address, |u| {
        // A known data bug: `%EMAILADDRESS` without its closing '%'.
        if u == "%EMAILADDRESS" {
            UsernameTemplate::email_address()
        } else {
            UsernameTemplate::new(u)
        }
    });
    let mut auth = Vec::new();
    for method in entry.children_named("authentication").filter_map(|a| auth_method(a.text.trim()))
    {
        if !auth.contains(&method) {
            auth.push(method);
        }
    }
    if auth.is_empty() {
        auth.push(AuthMethod::PasswordCleartext);
    }
    Ok(ServerSpec { protocol, host, port, security, username, auth })
}

fn auth_method(value: &str) -> Option<AuthMethod> {
    Some(match value.to_ascii_lowercase().as_str() {
        "password-cleartext" | "plain" => AuthMethod::PasswordCleartext,
        "password-encrypted" | "secure" => AuthMethod::PasswordEncrypted,
        "oauth2" => AuthMethod::OAuth2,
        "ntlm" => AuthMethod::Ntlm,
        "gssapi" => AuthMethod::Gssapi,
        "client-ip-address" => AuthMethod::ClientIpAddress,
        "tls-client-cert" => AuthMethod::TlsClientCert,
        "none" => AuthMethod::None,
        _ => return None,
    })
}

/// A host name must be a plausible DNS name once `%EMAILDOMAIN%` is filled in: letters,
/// digits, '-', '_' and dots, no empty label, no other placeholder.
fn host_problem(host: &str) -> Option<&'static str> {
    if Placeholder::find_unknown(host, &[Placeholder::EmailDomain]).is_some() {
        return Some("only %EMAILDOMAIN% may appear in a host name");
    }
    let sample = host.replace(Placeholder::EmailDomain.token(), "example.com");
    let sample = sample.strip_suffix('.').unwrap_or(&sample);
    if sample.len() > 253 || sample.split('.').any(|label| label.is_empty() || label.len() > 63) {
        return Some("not a valid host name");
    }
    if !sample.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_') {
        return Some("not a valid host name");
    }
    None
}
