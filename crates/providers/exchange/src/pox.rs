//! The pure parser of Exchange POX autodiscover responses (`autodiscover.xml`).

use nativeauth_core::plugin::xml::{self, Element, XmlError};
use nativeauth_core::{AuthMethod, Protocol, Security, Server, UsernameTemplate};

/// One `Protocol` entry of a POX settings response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutodiscoverProtocol {
    /// `Type`: EXCH, EXPR, EXHTTP, WEB, IMAP, POP3, SMTP (kept as sent, uppercased).
    pub kind: String,
    /// `Server`.
    pub server: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `SSL` (`on`/`off`; absent means on).
    pub ssl: Option<bool>,
    /// `Encryption` (`SSL`, `TLS`, `None`, `Auto`).
    pub encryption: Option<String>,
    /// `SPA` (secure password authentication).
    pub spa: Option<bool>,
    /// `LoginName`.
    pub login_name: Option<String>,
    /// `DomainRequired`.
    pub domain_required: Option<bool>,
    /// `AuthPackage`.
    pub auth_package: Option<String>,
    /// `ASUrl`.
    pub as_url: Option<String>,
    /// `EwsUrl`.
    pub ews_url: Option<String>,
}

/// The settings of a POX response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutodiscoverSettings {
    /// `User/AutoDiscoverSMTPAddress`.
    pub smtp_address: Option<String>,
    /// `User/DisplayName`.
    pub display_name: Option<String>,
    /// Every `Account/Protocol`, in document order.
    pub protocols: Vec<AutodiscoverProtocol>,
}

impl AutodiscoverSettings {
    /// The EWS URL: EXPR's first (the external endpoint), then EXCH's, then EXHTTP's. Other
    /// protocol types carry none.
    pub fn ews_url(&self) -> Option<&str> {
        ["EXPR", "EXCH", "EXHTTP"]
            .iter()
            .find_map(|kind| self.protocol(kind).and_then(|p| p.ews_url.as_deref()))
    }

    /// The Exchange ActiveSync host: the host of the EWS URL (EAS is served by the same
    /// front end), else EXPR's server.
    pub fn eas_host(&self) -> Option<String> {
        self.ews_url()
            .and_then(|url| reqwest::Url::parse(url).ok())
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
            .or_else(|| self.protocol("EXPR").and_then(|p| p.server.clone()))
    }

    /// The login name the server asks for (`LoginName` of EXPR, EXCH or EXHTTP, else of any
    /// protocol), when it names one.
    pub fn login_name(&self) -> Option<&str> {
        ["EXPR", "EXCH", "EXHTTP"]
            .iter()
            .find_map(|kind| self.protocol(kind).and_then(|p| p.login_name.as_deref()))
            .or_else(|| self.protocols.iter().find_map(|p| p.login_name.as_deref()))
            .map(str::trim)
            .filter(|login| !login.is_empty())
    }

    /// The first protocol of a type (case-insensitive).
    pub fn protocol(&self, kind: &str) -> Option<&AutodiscoverProtocol> {
        self.protocols.iter().find(|p| p.kind.eq_ignore_ascii_case(kind))
    }

    /// IMAP, POP3 and SMTP servers the response announces (incoming first).
    pub fn mail_servers(&self) -> (Vec<Server>, Vec<Server>) {
        let mut incoming = Vec::new();
        let mut outgoing = Vec::new();
        for p in &self.protocols {
            let (protocol, tls_port) = match p.kind.as_str() {
                "IMAP" => (Protocol::Imap, 993),
                "POP3" => (Protocol::Pop3, 995),
                "SMTP" => (Protocol::Smtp, 465),
                _ => continue,
            };
            let Some(host) = p.server.as_deref().filter(|h| !h.is_empty()) else { continue };
            let ssl = p.ssl.unwrap_or(true);
            let security = match p.encryption.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("tls") => Security::StartTls,
                Some("ssl") => Security::Tls,
                Some("none") => Security::Plain,
                _ if !ssl => Security::Plain,
                _ => {
                    if p.port.is_none_or(|port| port == tls_port) {
                        Security::Tls
                    } else {
                        Security::StartTls
                    }
                }
            };
            let server = Server {
                protocol,
                host: host.to_ascii_lowercase(),
                port: p.port.unwrap_or(tls_port),
                security,
                username: p
                    .login_name
                    .as_deref()
                    .map_or_else(UsernameTemplate::email_address, UsernameTemplate::new),
                auth: vec![if p.spa == Some(true) {
                    AuthMethod::PasswordEncrypted
                } else {
                    AuthMethod::PasswordCleartext
                }],
            };
            if protocol.is_incoming() {
                incoming.push(server);
            } else {
                outgoing.push(server);
            }
        }
        incoming.sort_by_key(|s| !s.security.is_encrypted());
        outgoing.sort_by_key(|s| !s.security.is_encrypted());
        (incoming, outgoing)
    }
}

/// What a POX response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoxResponse {
    /// `Action` = `settings`.
    Settings(AutodiscoverSettings),
    /// `Action` = `redirectAddr`: start again with this address.
    RedirectAddr(String),
    /// `Action` = `redirectUrl`: ask this autodiscover URL next.
    RedirectUrl(String),
    /// `Response/Error`.
    Error {
        /// `ErrorCode`.
        code: Option<String>,
        /// `Message`.
        message: Option<String>,
    },
}

/// Why a response could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AutodiscoverParseError {
    /// Not XML.
    #[error("the response is not XML: {0}")]
    Xml(#[from] XmlError),
    /// A SOAP response (`autodiscover.svc`), which this client does not speak.
    #[error(
        "a SOAP autodiscover response (autodiscover.svc) is not supported; POX (autodiscover.xml) is"
    )]
    Soap,
    /// XML with another root element.
    #[error("the root element is <{0}>, not <Autodiscover>")]
    UnexpectedRoot(String),
    /// No `Response` element.
    #[error("no <Response> element")]
    NoResponse,
    /// An `Action` this client does not know, or none with nothing to act on.
    #[error("unknown or missing Action {0:?}")]
    UnknownAction(String),
    /// A redirect without its target.
    #[error("Action {0} without a target")]
    MissingRedirectTarget(&'static str),
}

/// Parses a POX autodiscover response.
///
/// Namespaces are ignored and element names matched case-insensitively, as real servers vary
/// both. When `Action` is missing, a `RedirectUrl` or `RedirectAddr` element still counts.
///
/// ```
/// use nativeauth_exchange::{PoxResponse, parse_pox};
///
/// let xml = r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
///   <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
///     <Account><Action>redirectAddr</Action><RedirectAddr>jane@corp.example</RedirectAddr></Account>
///   </Response></Autodiscover>"#;
/// assert_eq!(parse_pox(xml)?, PoxResponse::RedirectAddr("jane@corp.example".into()));
/// # Ok::<(), nativeauth_exchange::AutodiscoverParseError>(())
/// ```
///
/// # Errors
/// [`AutodiscoverParseError`] for non-XML, SOAP, foreign roots and unusable responses.
pub fn parse_pox(text: &str) -> Result<PoxResponse, AutodiscoverParseError> {
    let root = xml::parse(text.trim_start())?;
    if root.is("Envelope") {
        return Err(AutodiscoverParseError::Soap);
    }
    if !root.is("Autodiscover") {
        return Err(AutodiscoverParseError::UnexpectedRoot(root.name));
    }
    let response = root.child("Response").ok_or(AutodiscoverParseError::NoResponse)?;
    if let Some(error) = response.child("Error").or_else(|| root.child("Error")) {
        return Ok(PoxResponse::Error {
            code: error.child_text("ErrorCode").map(str::to_owned),
            message: error.child_text("Message").map(str::to_owned),
        });
    }
    let account = response.child("Account");
    let action = account.and_then(|a| a.child_text("Action")).unwrap_or_default();
    let find =
        |name: &str| account.and_then(|a| a.child_text(name)).or_else(|| response.child_text(name));
    match action.to_ascii_lowercase().as_str() {
        "settings" => Ok(PoxResponse::Settings(settings(response, account))),
        "redirectaddr" => find("RedirectAddr")
            .map(|a| PoxResponse::RedirectAddr(a.to_owned()))
            .ok_or(AutodiscoverParseError::MissingRedirectTarget("redirectAddr")),
        "redirecturl" => find("RedirectUrl")
            .map(|u| PoxResponse::RedirectUrl(u.to_owned()))
            .ok_or(AutodiscoverParseError::MissingRedirectTarget("redirectUrl")),
        "" => {
            if let Some(url) = find("RedirectUrl") {
                Ok(PoxResponse::RedirectUrl(url.to_owned()))
            } else if let Some(address) = find("RedirectAddr") {
                Ok(PoxResponse::RedirectAddr(address.to_owned()))
            } else if account.is_some_and(|a| a.child("Protocol").is_some()) {
                Ok(PoxResponse::Settings(settings(response, account)))
            } else {
                Err(AutodiscoverParseError::UnknownAction(String::new()))
            }
        }
        _ => Err(AutodiscoverParseError::UnknownAction(action.to_owned())),
    }
}

fn settings(response: &Element, account: Option<&Element>) -> AutodiscoverSettings {
    let user = response.child("User");
    AutodiscoverSettings {
        smtp_address: user.and_then(|u| u.child_text("AutoDiscoverSMTPAddress")).map(str::to_owned),
        display_name: user.and_then(|u| u.child_text("DisplayName")).map(str::to_owned),
        protocols: account
            .map(|a| a.children_named("Protocol").map(protocol).collect())
            .unwrap_or_default(),
    }
}

fn protocol(element: &Element) -> AutodiscoverProtocol {
    let text = |name: &str| element.child_text(name).map(str::to_owned);
    let flag = |name: &str| element.child_text(name).map(|v| !v.eq_ignore_ascii_case("off"));
    AutodiscoverProtocol {
        kind: text("Type").unwrap_or_default().to_ascii_uppercase(),
        server: text("Server"),
        port: element.child_text("Port").and_then(|p| p.parse().ok()).filter(|&p| p > 0),
        ssl: flag("SSL"),
        encryption: text("Encryption"),
        spa: flag("SPA"),
        login_name: text("LoginName"),
        domain_required: flag("DomainRequired"),
        auth_package: text("AuthPackage"),
        as_url: text("ASUrl"),
        ews_url: text("EwsUrl"),
    }
}
