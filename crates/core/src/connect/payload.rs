//! The request bodies: v2 `POST /connect/authorize` and v3 `POST /v3/connect/custom`.

use secrecy::SecretString;
use serde::Serialize;

use super::consent::Consent;
use super::credentials::Credentials;
use super::error::PayloadError;
use super::scope::Scopes;
use super::settings::{
    self, ProviderSettings, check_plaintext, check_trust, expose, password_credentials, preferred,
    warn_foreign,
};
use crate::model::{Detection, EmailAddress, NylasProvider, Protocol};

/// A validated `POST /connect/authorize` body (Nylas v2).
///
/// Everything is checked when it is built, before any request: the name, the client id, the
/// credentials against the provider, the servers, the scopes. `Debug` shows no secret;
/// serialising it (for the request body) does, so never log its JSON.
///
/// ```
/// # use nativeauth_core as nativeauth;
/// use nativeauth::connect::{AuthorizeRequest, Credentials};
/// use nativeauth::{EmailAddress, Detection};
/// # fn detection() -> Detection { unimplemented!() }
/// # fn demo(detection: &Detection) -> Result<(), Box<dyn std::error::Error>> {
/// let email = EmailAddress::parse("carol@yahoo.com")?;
/// let request = AuthorizeRequest::new(
///     "my-client-id", "Carol", &email, detection,
///     &Credentials::password("app password"), "email.read_only,email.send".parse()?,
/// )?;
/// assert!(!format!("{request:?}").contains("app password"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct AuthorizeRequest {
    client_id: String,
    name: String,
    email_address: String,
    provider: NylasProvider,
    settings: ProviderSettings,
    scopes: Scopes,
    #[serde(skip_serializing_if = "Option::is_none")]
    reauth_account_id: Option<String>,
    #[serde(skip)]
    warnings: Vec<String>,
}

impl AuthorizeRequest {
    /// Builds and validates the body, for a verified detection with encrypted servers.
    ///
    /// # Errors
    /// [`PayloadError`] for an empty client id or name, credentials that do not fit the
    /// detected provider, a missing server or a bad port; [`PayloadError::Unverified`] and
    /// [`PayloadError::Plaintext`] unless the caller consents ([`AuthorizeRequest::with_consent`]);
    /// [`PayloadError::OAuthRequired`] for a password to Outlook.com or Hotmail.
    pub fn new(
        client_id: &str,
        name: &str,
        email: &EmailAddress,
        detection: &Detection,
        credentials: &Credentials,
        scopes: Scopes,
    ) -> Result<Self, PayloadError> {
        Self::with_consent(client_id, name, email, detection, credentials, scopes, Consent::none())
    }

    /// As [`AuthorizeRequest::new`], with what the caller consented to: an unverified
    /// detection the user confirmed, or plaintext servers (`ssl_required` false).
    ///
    /// # Errors
    /// As for [`AuthorizeRequest::new`], less what `consent` allows.
    pub fn with_consent(
        client_id: &str,
        name: &str,
        email: &EmailAddress,
        detection: &Detection,
        credentials: &Credentials,
        scopes: Scopes,
        consent: Consent,
    ) -> Result<Self, PayloadError> {
        let client_id = non_empty(client_id, "client id")?;
        let name = non_empty(name, "name")?;
        let built = settings::build(detection, email, credentials, consent)?;
        Ok(Self {
            client_id,
            name,
            email_address: email.as_str().to_owned(),
            provider: built.provider,
            settings: built.settings,
            scopes,
            reauth_account_id: None,
            warnings: built.warnings,
        })
    }

    /// Re-authenticates an existing account instead of creating one.
    ///
    /// # Errors
    /// [`PayloadError::Empty`] for an empty account id.
    pub fn reauthenticate(mut self, account_id: impl Into<String>) -> Result<Self, PayloadError> {
        self.reauth_account_id = Some(non_empty(&account_id.into(), "account id")?);
        Ok(self)
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The Nylas provider value.
    pub fn provider(&self) -> NylasProvider {
        self.provider
    }

    /// Things the app should tell the user: servers outside the user's domain, plaintext the
    /// caller allowed.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

fn non_empty(value: &str, field: &'static str) -> Result<String, PayloadError> {
    let value = value.trim();
    if value.is_empty() { Err(PayloadError::Empty { field }) } else { Ok(value.to_owned()) }
}

/// Serialises an optional secret for the wire body.
fn expose_optional<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => expose(secret, serializer),
        None => serializer.serialize_none(),
    }
}

/// The `provider` of a v3 custom-auth request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum V3Provider {
    /// Google (Gmail, Workspace).
    Google,
    /// Microsoft (Microsoft 365, Outlook.com, Hotmail).
    Microsoft,
    /// Any IMAP service.
    Imap,
    /// iCloud.
    Icloud,
    /// Yahoo.
    Yahoo,
    /// Exchange on-premises (EWS).
    Ews,
}

impl V3Provider {
    /// The v3 provider for a v2 one. AOL has no v3 connector of its own and goes through IMAP;
    /// Outlook.com and Hotmail go through Microsoft.
    pub fn from_nylas(provider: NylasProvider) -> Self {
        match provider {
            NylasProvider::Gmail => Self::Google,
            NylasProvider::Office365 | NylasProvider::Outlook | NylasProvider::Hotmail => {
                Self::Microsoft
            }
            NylasProvider::Icloud => Self::Icloud,
            NylasProvider::Yahoo => Self::Yahoo,
            NylasProvider::Exchange => Self::Ews,
            NylasProvider::Imap | NylasProvider::Aol => Self::Imap,
        }
    }
}

/// v3 settings, by provider.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub(crate) enum V3Settings {
    /// `google`, `microsoft` and `yahoo`: the user's refresh token.
    RefreshToken {
        /// The refresh token.
        #[serde(serialize_with = "expose")]
        refresh_token: SecretString,
        /// Which provider application of the connector issued it, when there are several.
        #[serde(skip_serializing_if = "Option::is_none")]
        credential_id: Option<String>,
    },
    /// `imap`.
    Imap {
        /// IMAP login.
        imap_username: String,
        /// IMAP password.
        #[serde(serialize_with = "expose")]
        imap_password: SecretString,
        /// IMAP host.
        imap_host: String,
        /// IMAP port.
        imap_port: u16,
        /// SMTP host.
        smtp_host: String,
        /// SMTP port.
        smtp_port: u16,
        /// The SMTP login, when it differs from the IMAP one.
        #[serde(skip_serializing_if = "Option::is_none")]
        smtp_username: Option<String>,
        /// The SMTP password, when it differs from the IMAP one.
        #[serde(skip_serializing_if = "Option::is_none", serialize_with = "expose_optional")]
        smtp_password: Option<SecretString>,
    },
    /// `icloud` (the iCloud address and an app-specific password) and `ews`: login and
    /// password.
    Password {
        /// Login name.
        username: String,
        /// Password (an app password for iCloud and Yahoo).
        #[serde(serialize_with = "expose")]
        password: SecretString,
        /// For `ews`: the Exchange host, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        exchange_server_host: Option<String>,
    },
}

/// A validated `POST /v3/connect/custom` body, built from the same detection and credentials
/// as the v2 payload, for apps migrating off v2.
#[derive(Debug, Clone, Serialize)]
pub struct CustomAuthRequest {
    provider: V3Provider,
    settings: V3Settings,
    #[serde(skip)]
    warnings: Vec<String>,
}

impl CustomAuthRequest {
    /// Builds and validates the body, for a verified detection with encrypted servers.
    ///
    /// # Errors
    /// [`PayloadError`] when the credentials do not fit (Google and Microsoft need OAuth
    /// credentials with a refresh token), a secret is empty, or a server is missing;
    /// [`PayloadError::Unverified`] and [`PayloadError::Plaintext`] unless the caller consents
    /// ([`CustomAuthRequest::with_consent`]).
    pub fn new(
        email: &EmailAddress,
        detection: &Detection,
        credentials: &Credentials,
    ) -> Result<Self, PayloadError> {
        Self::with_consent(email, detection, credentials, Consent::none())
    }

    /// As [`CustomAuthRequest::new`], with what the caller consented to.
    ///
    /// # Errors
    /// As for [`CustomAuthRequest::new`], less what `consent` allows.
    pub fn with_consent(
        email: &EmailAddress,
        detection: &Detection,
        credentials: &Credentials,
        consent: Consent,
    ) -> Result<Self, PayloadError> {
        check_trust(detection, consent)?;
        let mut warnings = Vec::new();
        let nylas = detection.provider.nylas;
        // Yahoo's v3 connector takes a refresh token; with an app password, Yahoo (like AOL)
        // goes through IMAP.
        let provider = match (V3Provider::from_nylas(nylas), credentials) {
            (V3Provider::Yahoo, Credentials::Password { .. }) => V3Provider::Imap,
            (provider, _) => provider,
        };
        let settings = match provider {
            V3Provider::Google | V3Provider::Microsoft | V3Provider::Yahoo => {
                let Credentials::OAuth(oauth) = credentials else {
                    return Err(PayloadError::WrongCredentials {
                        provider: nylas,
                        needed: "a refresh token",
                        given: credentials.kind(),
                    });
                };
                if Credentials::is_blank(&oauth.refresh_token) {
                    return Err(PayloadError::Empty { field: "refresh token" });
                }
                V3Settings::RefreshToken {
                    refresh_token: oauth.refresh_token.clone(),
                    credential_id: oauth.credential_id.clone(),
                }
            }
            V3Provider::Imap => {
                let (password, username) = password_credentials(nylas, credentials)?;
                let imap = preferred(&detection.incoming, Protocol::Imap, nylas)?;
                let smtp = preferred(&detection.outgoing, Protocol::Smtp, nylas)?;
                check_plaintext(&[imap, smtp], consent, &mut warnings)?;
                warn_foreign(email, &[&imap.host, &smtp.host], &mut warnings);
                let smtp_login = settings::smtp_login(credentials)?;
                V3Settings::Imap {
                    imap_username: username
                        .map_or_else(|| imap.username.render(email), str::to_owned),
                    imap_password: password.clone(),
                    imap_host: imap.host.clone(),
                    imap_port: imap.port,
                    smtp_host: smtp.host.clone(),
                    smtp_port: smtp.port,
                    smtp_username: smtp_login.map(|(_, user)| {
                        user.or(username).map_or_else(|| smtp.username.render(email), str::to_owned)
                    }),
                    smtp_password: smtp_login.map(|(password, _)| password.clone()),
                }
            }
            V3Provider::Icloud | V3Provider::Ews => {
                let (password, username) = password_credentials(nylas, credentials)?;
                let username = username.map_or_else(
                    || {
                        if provider == V3Provider::Ews {
                            return settings::exchange_login(detection, email);
                        }
                        // iCloud signs in with the whole iCloud address here (its IMAP server
                        // takes the local part, the v3 connector does not).
                        if provider == V3Provider::Icloud {
                            return email.as_str().to_owned();
                        }
                        // iCloud logs in with the local part; the detection's IMAP template says so.
                        detection
                            .incoming
                            .iter()
                            .find(|s| s.protocol == Protocol::Imap)
                            .map_or_else(
                                || email.as_str().to_owned(),
                                |imap| imap.username.render(email),
                            )
                    },
                    str::to_owned,
                );
                let exchange_server_host = match provider {
                    V3Provider::Ews => detection
                        .exchange
                        .as_ref()
                        .and_then(|e| e.eas_host.as_deref())
                        .map(settings::bare_host),
                    _ => None,
                };
                V3Settings::Password { username, password: password.clone(), exchange_server_host }
            }
        };
        Ok(Self { provider, settings, warnings })
    }

    /// The v3 provider.
    pub fn provider(&self) -> V3Provider {
        self.provider
    }

    /// Things the app should tell the user: servers outside the user's domain, plaintext the
    /// caller allowed.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
