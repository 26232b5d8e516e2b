//! What the login page collected from the user (or from the app's own OAuth flow).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// The user's credentials. Every secret is a [`SecretString`]: redacted in `Debug`, never in
/// `Display`, errors or traces, and zeroed when dropped.
///
/// ```
/// # use nativeauth_core as nativeauth;
/// use nativeauth::connect::Credentials;
///
/// let creds = Credentials::password("hunter2");
/// assert!(!format!("{creds:?}").contains("hunter2"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A password (or app password), for IMAP, Exchange, Yahoo, AOL, iCloud, Outlook.com.
    Password {
        /// The password.
        password: SecretString,
        /// A login name other than the one the detection's template gives (for example a
        /// separate IMAP username).
        username: Option<String>,
        /// A separate login for the SMTP server, when it differs from the IMAP one.
        smtp: Option<SmtpLogin>,
    },
    /// OAuth material from the app's own sign-in flow, for Gmail and Microsoft 365.
    OAuth(OAuthCredentials),
}

/// The SMTP login of an account whose outgoing server takes other credentials than its
/// incoming one.
#[derive(Clone)]
pub struct SmtpLogin {
    /// The SMTP login name (`None`: the detection's template).
    pub username: Option<String>,
    /// The SMTP password.
    pub password: SecretString,
}

impl fmt::Debug for SmtpLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpLogin")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

/// OAuth client data and the user's refresh token.
#[derive(Clone)]
pub struct OAuthCredentials {
    /// The OAuth client id of the app registered with Google or Microsoft.
    pub client_id: String,
    /// That app's client secret.
    pub client_secret: SecretString,
    /// The user's refresh token.
    pub refresh_token: SecretString,
    /// The redirect URI registered with Microsoft (required for Microsoft 365 in v2).
    pub redirect_uri: Option<String>,
    /// v3 only: which of the connector's provider applications issued the refresh token,
    /// when it has several.
    pub credential_id: Option<String>,
}

impl Credentials {
    /// A password, with the username taken from the detection.
    pub fn password(password: impl Into<String>) -> Self {
        Self::Password { password: SecretString::from(password.into()), username: None, smtp: None }
    }

    /// A password with an explicit username.
    pub fn password_with_username(
        password: impl Into<String>,
        username: impl Into<String>,
    ) -> Self {
        Self::Password {
            password: SecretString::from(password.into()),
            username: Some(username.into()),
            smtp: None,
        }
    }

    /// With a separate SMTP login (a password credential only; other kinds are unchanged).
    #[must_use]
    pub fn with_smtp_login(
        mut self,
        username: Option<String>,
        password: impl Into<String>,
    ) -> Self {
        if let Self::Password { smtp, .. } = &mut self {
            *smtp = Some(SmtpLogin { username, password: SecretString::from(password.into()) });
        }
        self
    }

    /// OAuth client data and a refresh token.
    pub fn oauth(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
        redirect_uri: Option<String>,
    ) -> Self {
        Self::OAuth(OAuthCredentials {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            refresh_token: SecretString::from(refresh_token.into()),
            redirect_uri,
            credential_id: None,
        })
    }

    /// What kind of credentials these are, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Password { .. } => "a password",
            Self::OAuth(_) => "OAuth credentials",
        }
    }

    pub(crate) fn is_blank(secret: &SecretString) -> bool {
        secret.expose_secret().trim().is_empty()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password { username, smtp, .. } => f
                .debug_struct("Password")
                .field("password", &"[REDACTED]")
                .field("username", username)
                .field("smtp", smtp)
                .finish(),
            Self::OAuth(oauth) => oauth.fmt(f),
        }
    }
}

impl fmt::Debug for OAuthCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("refresh_token", &"[REDACTED]")
            .field("redirect_uri", &self.redirect_uri)
            .field("credential_id", &self.credential_id)
            .finish()
    }
}
