//! Mail servers: protocol, host, port, transport security, username and login methods.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{EmailAddress, Placeholder, UsernameTemplate};

/// The protocol a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// IMAP4rev1 / IMAP4rev2 (incoming).
    Imap,
    /// POP3 (incoming).
    Pop3,
    /// SMTP submission (outgoing).
    Smtp,
}

impl Protocol {
    /// Whether this protocol receives mail (IMAP, POP3) rather than sends it.
    pub const fn is_incoming(self) -> bool {
        matches!(self, Self::Imap | Self::Pop3)
    }

    /// The lowercase name used in JSON and the catalogue.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Imap => "imap",
            Self::Pop3 => "pop3",
            Self::Smtp => "smtp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (autoconfig `SSL`; [`Security::for_typed_port`] names the
    /// ports). Preferred (RFC 8314).
    Tls,
    /// A plaintext connection upgraded with STARTTLS.
    #[serde(rename = "starttls")]
    StartTls,
    /// No encryption at all. Never the preferred answer: plaintext is listed after every
    /// encrypted server, since it exposes the password on the network.
    Plain,
}

impl Security {
    /// The lowercase name used in JSON and the catalogue.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::StartTls => "starttls",
            Self::Plain => "plain",
        }
    }

    /// Whether credentials sent over this connection are encrypted.
    pub const fn is_encrypted(self) -> bool {
        !matches!(self, Self::Plain)
    }

    /// The encryption a server the user typed uses on `port`: TLS from the first byte on the
    /// implicit-TLS ports (IMAPS 993, POP3S 995, SMTPS 465; RFC 8314), STARTTLS on any other.
    /// Never plaintext: a typed server must encrypt.
    pub const fn for_typed_port(port: u16) -> Self {
        if matches!(port, 993 | 995 | 465) { Self::Tls } else { Self::StartTls }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A way of logging in, with the names autoconfig uses (lowercased).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// The password is sent as is, protected only by the connection (`password-cleartext`,
    /// autoconfig alias `plain`).
    PasswordCleartext,
    /// A challenge-response mechanism such as CRAM-MD5 (`password-encrypted`, alias `secure`).
    PasswordEncrypted,
    /// OAuth 2.0 bearer tokens (XOAUTH2 / OAUTHBEARER).
    #[serde(rename = "oauth2")]
    OAuth2,
    /// NTLM.
    Ntlm,
    /// Kerberos / GSSAPI.
    Gssapi,
    /// The server trusts the client's IP address.
    ClientIpAddress,
    /// A TLS client certificate.
    TlsClientCert,
    /// No authentication.
    None,
}

impl AuthMethod {
    /// Whether the method signs in with the account's password (sent as is or hashed).
    pub const fn is_password(self) -> bool {
        matches!(self, Self::PasswordCleartext | Self::PasswordEncrypted)
    }

    /// The kebab-case name used in JSON and the catalogue.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PasswordCleartext => "password-cleartext",
            Self::PasswordEncrypted => "password-encrypted",
            Self::OAuth2 => "oauth2",
            Self::Ntlm => "ntlm",
            Self::Gssapi => "gssapi",
            Self::ClientIpAddress => "client-ip-address",
            Self::TlsClientCert => "tls-client-cert",
            Self::None => "none",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One server a mail client can use.
///
/// `host` is concrete (host placeholders are rendered when a detection is made, since they
/// depend only on the domain); `username` stays a template, rendered per address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Server {
    /// What the server speaks.
    pub protocol: Protocol,
    /// Host name, lowercase, without a trailing dot.
    pub host: String,
    /// TCP port, 1–65535.
    pub port: u16,
    /// Transport security.
    pub security: Security,
    /// The login name, as a template.
    pub username: UsernameTemplate,
    /// Accepted login methods, in the provider's order of preference.
    pub auth: Vec<AuthMethod>,
}

impl Server {
    /// `host:port`, for display and trace targets.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// A server as a provider states it (in the catalogue or an autoconfig file): like [`Server`],
/// but the host may contain `%EMAILDOMAIN%` (hosting companies that serve `mail.<your domain>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerSpec {
    /// What the server speaks.
    pub protocol: Protocol,
    /// Host name, possibly with `%EMAILDOMAIN%`.
    pub host: String,
    /// Port, 1–65535.
    pub port: u16,
    /// Transport security.
    pub security: Security,
    /// Login name template.
    pub username: UsernameTemplate,
    /// Login methods, preferred first.
    pub auth: Vec<AuthMethod>,
}

impl ServerSpec {
    /// The concrete server for `email` (host placeholders filled in, lowercased).
    pub fn to_server(&self, email: &EmailAddress) -> Server {
        Server {
            protocol: self.protocol,
            host: Placeholder::render_all(&self.host, email).to_ascii_lowercase(),
            port: self.port,
            security: self.security,
            username: self.username.clone(),
            auth: self.auth.clone(),
        }
    }
}
