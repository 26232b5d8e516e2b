//! The provider-specific `settings` object of the authorize payload.
//!
//! Its shape depends only on the Nylas provider value of the detection, so it is built here
//! once for every provider plugin (a plugin decides the provider value, not the wire format).

use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, Serializer};

use super::consent::Consent;
use super::credentials::{Credentials, OAuthCredentials};
use super::error::PayloadError;
use crate::domain::registrable_domain;
use crate::model::{Detection, EmailAddress, NylasProvider, Protocol, Server, Trust};

/// Serialises a secret for the wire body. The only place a secret is exposed in
/// serialisation; `Debug` of these types stays redacted.
pub(crate) fn expose<S: Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// Settings for `provider: imap`: all nine fields.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ImapSettings {
    /// IMAP host.
    pub imap_host: String,
    /// IMAP port.
    pub imap_port: u16,
    /// IMAP login.
    pub imap_username: String,
    /// IMAP password.
    #[serde(serialize_with = "expose")]
    pub imap_password: SecretString,
    /// SMTP host.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: u16,
    /// SMTP login.
    pub smtp_username: String,
    /// SMTP password.
    #[serde(serialize_with = "expose")]
    pub smtp_password: SecretString,
    /// Whether TLS is required; false only when the provider offers nothing but plaintext and
    /// the caller allowed it ([`Consent::allow_plaintext`]).
    pub ssl_required: bool,
}

/// Settings for `provider: gmail`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct GoogleSettings {
    /// The app's Google OAuth client id.
    pub google_client_id: String,
    /// The app's Google OAuth client secret.
    #[serde(serialize_with = "expose")]
    pub google_client_secret: SecretString,
    /// The user's refresh token.
    #[serde(serialize_with = "expose")]
    pub google_refresh_token: SecretString,
}

/// Settings for `provider: office365`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MicrosoftSettings {
    /// The app's Microsoft OAuth client id.
    pub microsoft_client_id: String,
    /// The app's Microsoft OAuth client secret.
    #[serde(serialize_with = "expose")]
    pub microsoft_client_secret: SecretString,
    /// The user's refresh token.
    #[serde(serialize_with = "expose")]
    pub microsoft_refresh_token: SecretString,
    /// The redirect URI registered with Microsoft.
    pub redirect_uri: String,
}

/// Settings for `provider: exchange`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExchangeSettings {
    /// Login name.
    pub username: String,
    /// Password.
    #[serde(serialize_with = "expose")]
    pub password: SecretString,
    /// The Exchange ActiveSync host, a bare host name (not a URL), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_server_host: Option<String>,
}

/// Settings for `yahoo`, `aol`, `icloud`, `hotmail` and `outlook`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PasswordSettings {
    /// Password (usually an app password).
    #[serde(serialize_with = "expose")]
    pub password: SecretString,
    /// Login name, when it differs from the address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// The `settings` object, by provider.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub(crate) enum ProviderSettings {
    /// `imap`.
    Imap(ImapSettings),
    /// `gmail`.
    Google(GoogleSettings),
    /// `office365`.
    Microsoft(MicrosoftSettings),
    /// `exchange`.
    Exchange(ExchangeSettings),
    /// `yahoo`, `aol`, `icloud`, `hotmail`, `outlook`.
    Password(PasswordSettings),
}

/// Settings plus what the app should know about them.
#[derive(Debug, Clone)]
pub(crate) struct BuiltSettings {
    /// The provider value to send (Outlook.com and Hotmail sign in as Microsoft accounts).
    pub(crate) provider: NylasProvider,
    pub(crate) settings: ProviderSettings,
    pub(crate) warnings: Vec<String>,
}

/// Refuses an unverified detection unless the caller consented.
pub(crate) fn check_trust(detection: &Detection, consent: Consent) -> Result<(), PayloadError> {
    // Before trust: no consent makes a provider without mail access usable.
    if detection.auth_hint == crate::model::AuthHint::Unsupported {
        return Err(PayloadError::Unsupported { provider: detection.provider.name.clone() });
    }
    if detection.trust == Trust::Unverified && !consent.accepts_unverified() {
        return Err(PayloadError::Unverified {
            found_by: detection.source,
            evidence: detection.evidence.clone(),
        });
    }
    Ok(())
}

/// Refuses plaintext servers unless the caller consented; warns when it did.
pub(crate) fn check_plaintext(
    servers: &[&Server],
    consent: Consent,
    warnings: &mut Vec<String>,
) -> Result<(), PayloadError> {
    for server in servers.iter().filter(|s| !s.security.is_encrypted()) {
        if !consent.allows_plaintext() {
            return Err(PayloadError::Plaintext {
                server: server.address(),
                protocol: server.protocol,
            });
        }
        warnings.push(format!(
            "{} offers only plaintext {}: ssl_required is false and the password will cross \
             the network unencrypted",
            server.address(),
            server.protocol
        ));
    }
    Ok(())
}

/// Warns about servers outside the user's registrable domain: the password goes to another
/// organisation's machines, which the user may not expect.
pub(crate) fn warn_foreign(email: &EmailAddress, hosts: &[&str], warnings: &mut Vec<String>) {
    let own = registrable_domain(email.domain());
    for host in hosts {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if registrable_domain(&host) != own {
            let warning = format!("{host} is outside {own}: the password goes to that server");
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
    }
}

pub(crate) fn build(
    detection: &Detection,
    email: &EmailAddress,
    credentials: &Credentials,
    consent: Consent,
) -> Result<BuiltSettings, PayloadError> {
    check_trust(detection, consent)?;
    let mut provider = detection.provider.nylas;
    let mut warnings = Vec::new();
    let settings = match provider {
        NylasProvider::Imap => {
            let (password, username) = password_credentials(provider, credentials)?;
            let imap = preferred(&detection.incoming, Protocol::Imap, provider)?;
            let smtp = preferred(&detection.outgoing, Protocol::Smtp, provider)?;
            check_plaintext(&[imap, smtp], consent, &mut warnings)?;
            warn_foreign(email, &[&imap.host, &smtp.host], &mut warnings);
            let ssl_required = imap.security.is_encrypted() && smtp.security.is_encrypted();
            let smtp_login = smtp_login(credentials)?;
            let (smtp_password, smtp_username) =
                smtp_login.map_or((password, username), |(p, u)| (p, u.or(username)));
            ProviderSettings::Imap(ImapSettings {
                imap_host: imap.host.clone(),
                imap_port: imap.port,
                imap_username: username.map_or_else(|| imap.username.render(email), str::to_owned),
                imap_password: password.clone(),
                smtp_host: smtp.host.clone(),
                smtp_port: smtp.port,
                smtp_username: smtp_username
                    .map_or_else(|| smtp.username.render(email), str::to_owned),
                smtp_password: smtp_password.clone(),
                ssl_required,
            })
        }
        NylasProvider::Gmail => {
            let oauth = oauth_credentials(provider, credentials)?;
            ProviderSettings::Google(GoogleSettings {
                google_client_id: oauth.client_id.clone(),
                google_client_secret: oauth.client_secret.clone(),
                google_refresh_token: oauth.refresh_token.clone(),
            })
        }
        NylasProvider::Office365 => microsoft_settings(provider, credentials)?,
        NylasProvider::Exchange => {
            let (password, username) = password_credentials(provider, credentials)?;
            let eas_host = detection.exchange.as_ref().and_then(|e| e.eas_host.as_deref());
            if let Some(host) = eas_host {
                warn_foreign(email, &[&bare_host(host)], &mut warnings);
            }
            ProviderSettings::Exchange(ExchangeSettings {
                username: username.map_or_else(|| exchange_login(detection, email), str::to_owned),
                password: password.clone(),
                exchange_server_host: eas_host.map(bare_host),
            })
        }
        // Microsoft turned password sign-in off for Outlook.com and Hotmail: their accounts
        // connect with a Microsoft refresh token, as Microsoft 365 does.
        NylasProvider::Hotmail | NylasProvider::Outlook => match credentials {
            Credentials::OAuth(_) => {
                provider = NylasProvider::Office365;
                microsoft_settings(provider, credentials)?
            }
            _ => return Err(PayloadError::OAuthRequired { provider }),
        },
        NylasProvider::Yahoo | NylasProvider::Aol | NylasProvider::Icloud => {
            let (password, username) = password_credentials(provider, credentials)?;
            ProviderSettings::Password(PasswordSettings {
                password: password.clone(),
                username: username.map(str::to_owned),
            })
        }
    };
    Ok(BuiltSettings { provider, settings, warnings })
}

/// The Exchange login: what autodiscover named (`LoginName`, or the mailbox a redirectAddr led
/// to), else the typed address.
pub(crate) fn exchange_login(detection: &Detection, email: &EmailAddress) -> String {
    detection
        .exchange
        .as_ref()
        .and_then(|e| e.login.clone())
        .unwrap_or_else(|| email.as_str().to_owned())
}

fn microsoft_settings(
    provider: NylasProvider,
    credentials: &Credentials,
) -> Result<ProviderSettings, PayloadError> {
    let oauth = oauth_credentials(provider, credentials)?;
    let redirect_uri = oauth
        .redirect_uri
        .clone()
        .filter(|uri| !uri.trim().is_empty())
        .ok_or(PayloadError::MissingRedirectUri { provider })?;
    Ok(ProviderSettings::Microsoft(MicrosoftSettings {
        microsoft_client_id: oauth.client_id.clone(),
        microsoft_client_secret: oauth.client_secret.clone(),
        microsoft_refresh_token: oauth.refresh_token.clone(),
        redirect_uri,
    }))
}

/// The password (checked non-empty) and the username override, or a typed error.
pub(crate) fn password_credentials(
    provider: NylasProvider,
    credentials: &Credentials,
) -> Result<(&SecretString, Option<&str>), PayloadError> {
    match credentials {
        Credentials::Password { password, username, .. } => {
            if Credentials::is_blank(password) {
                return Err(PayloadError::Empty { field: "password" });
            }
            let username = username.as_deref().map(str::trim).filter(|u| !u.is_empty());
            Ok((password, username))
        }
        other => Err(PayloadError::WrongCredentials {
            provider,
            needed: "a password",
            given: other.kind(),
        }),
    }
}

/// The separate SMTP login, if the credentials carry one (its password checked non-empty).
pub(crate) fn smtp_login(
    credentials: &Credentials,
) -> Result<Option<(&SecretString, Option<&str>)>, PayloadError> {
    let Credentials::Password { smtp: Some(smtp), .. } = credentials else { return Ok(None) };
    if Credentials::is_blank(&smtp.password) {
        return Err(PayloadError::Empty { field: "SMTP password" });
    }
    let username = smtp.username.as_deref().map(str::trim).filter(|u| !u.is_empty());
    Ok(Some((&smtp.password, username)))
}

/// The OAuth credentials (every field checked non-empty), or a typed error.
pub(crate) fn oauth_credentials(
    provider: NylasProvider,
    credentials: &Credentials,
) -> Result<&OAuthCredentials, PayloadError> {
    match credentials {
        Credentials::OAuth(oauth) => {
            if oauth.client_id.trim().is_empty() {
                return Err(PayloadError::Empty { field: "OAuth client id" });
            }
            if Credentials::is_blank(&oauth.client_secret) {
                return Err(PayloadError::Empty { field: "OAuth client secret" });
            }
            if Credentials::is_blank(&oauth.refresh_token) {
                return Err(PayloadError::Empty { field: "refresh token" });
            }
            Ok(oauth)
        }
        other => Err(PayloadError::WrongCredentials {
            provider,
            needed: "OAuth client data and a refresh token",
            given: other.kind(),
        }),
    }
}

/// The first encrypted server of `protocol`, else the first plaintext one (the caller checks
/// consent).
pub(crate) fn preferred(
    servers: &[Server],
    protocol: Protocol,
    provider: NylasProvider,
) -> Result<&Server, PayloadError> {
    let mut candidates = servers.iter().filter(|s| s.protocol == protocol);
    let server = servers
        .iter()
        .find(|s| s.protocol == protocol && s.security.is_encrypted())
        .or_else(|| candidates.next())
        .ok_or(PayloadError::NoServer { protocol, provider })?;
    if server.port == 0 {
        return Err(PayloadError::PortOutOfRange { host: server.host.clone(), port: server.port });
    }
    Ok(server)
}

/// `https://mail.example.com/Microsoft-Server-ActiveSync` → `mail.example.com`.
pub(crate) fn bare_host(host_or_url: &str) -> String {
    let without_scheme = host_or_url.split_once("://").map_or(host_or_url, |(_, rest)| rest);
    let authority = without_scheme.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    host.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::bare_host;

    #[test]
    fn exchange_hosts_are_bare() {
        assert_eq!(bare_host("mail.example.com"), "mail.example.com");
        assert_eq!(
            bare_host("https://Mail.Example.com/Microsoft-Server-ActiveSync"),
            "mail.example.com"
        );
        assert_eq!(bare_host("https://mail.example.com:443/EWS/Exchange.asmx"), "mail.example.com");
    }
}
