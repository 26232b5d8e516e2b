//! The secrets, from the environment or set in code, each knowing where it came from.

use nativeauth::secrecy::{ExposeSecret, SecretString};

/// Where a secret came from, for an error that says what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Read from the environment (`present`: the variable was set, perhaps empty).
    Env { present: bool },
    /// Set in code (`given`: a setter was called, perhaps with an empty value).
    Code { given: bool },
}

/// One secret and where it came from. `Debug` shows neither value nor length.
#[derive(Clone)]
pub(crate) struct Secret {
    value: SecretString,
    origin: Origin,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_empty() { "[empty]" } else { "[REDACTED]" })
    }
}

impl Default for Secret {
    fn default() -> Self {
        Self { value: SecretString::from(String::new()), origin: Origin::Code { given: false } }
    }
}

impl Secret {
    fn from_env(name: &str) -> Self {
        let value = std::env::var(name).ok();
        Self {
            origin: Origin::Env { present: value.is_some() },
            value: SecretString::from(value.unwrap_or_default()),
        }
    }

    fn given(value: SecretString) -> Self {
        Self { value, origin: Origin::Code { given: true } }
    }

    /// The value.
    pub(crate) fn expose_secret(&self) -> &str {
        self.value.expose_secret()
    }

    /// The value as a `SecretString`.
    pub(crate) fn secret_string(&self) -> &SecretString {
        &self.value
    }

    /// Whether the value is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.value.expose_secret().is_empty()
    }

    /// Why this secret is unusable while empty, naming the variable or the builder's setter
    /// (`field`) that sets it: "NATIVEAUTH_APP_SECRET is set but empty".
    pub(crate) fn why_empty(&self, variable: &str, field: &str) -> String {
        match self.origin {
            Origin::Env { present: true } => format!("{variable} is set but empty"),
            Origin::Env { present: false } => format!("{variable} is not set"),
            Origin::Code { given: true } => {
                format!("the secret given to Secrets::builder().{field}(…) is empty")
            }
            Origin::Code { given: false } => format!(
                "Secrets::builder().{field}(…) was not called (or set {variable} and use \
                 Secrets::from_env())"
            ),
        }
    }
}

/// The server's secrets: from the environment ([`Secrets::from_env`]) or set in code
/// ([`Secrets::builder`]). `Debug` shows none of them. Which are required depends on the
/// settings (the app secret always; the client secret with v2, the API key with v3, the
/// callback secret with a `callback_url`); a missing one is refused by
/// [`router`](crate::router) with the variable or the setter to use.
///
/// ```
/// let secrets = nativeauth_server::Secrets::builder()
///     .client_secret(std::env::var("NYLAS_CLIENT_SECRET").unwrap_or_default())
///     .app_secret("an app secret of at least 32 bytes, random in production")
///     .build();
/// # let _ = secrets;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub(crate) client_secret: Secret,
    pub(crate) api_key: Secret,
    pub(crate) callback_secret: Secret,
    /// `None`: not given (random per process).
    pub(crate) root_key: Option<Secret>,
    pub(crate) app_secret: Secret,
    pub(crate) google_client_secret: Secret,
    pub(crate) microsoft_client_secret: Secret,
    pub(crate) metrics_token: Secret,
}

impl Secrets {
    /// Reads `NYLAS_CLIENT_SECRET`, `NYLAS_API_KEY`, `NATIVEAUTH_CALLBACK_SECRET`,
    /// `NATIVEAUTH_APP_SECRET`, `NATIVEAUTH_KEY` (or the older `NATIVEAUTH_COOKIE_KEY`),
    /// `GOOGLE_CLIENT_SECRET`, `MICROSOFT_CLIENT_SECRET` and `NATIVEAUTH_METRICS_TOKEN`. A
    /// missing one is empty, and refused where it is needed, by name.
    pub fn from_env() -> Self {
        let nonempty = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            root_key: nonempty(nativeauth::keys::RootKey::ENV_VAR)
                .or_else(|| nonempty(nativeauth::keys::RootKey::LEGACY_ENV_VAR))
                .map(|key| Secret {
                    value: SecretString::from(key),
                    origin: Origin::Env { present: true },
                }),
            app_secret: Secret::from_env("NATIVEAUTH_APP_SECRET"),
            client_secret: Secret::from_env("NYLAS_CLIENT_SECRET"),
            api_key: Secret::from_env("NYLAS_API_KEY"),
            callback_secret: Secret::from_env("NATIVEAUTH_CALLBACK_SECRET"),
            google_client_secret: Secret::from_env("GOOGLE_CLIENT_SECRET"),
            microsoft_client_secret: Secret::from_env("MICROSOFT_CLIENT_SECRET"),
            metrics_token: Secret::from_env("NATIVEAUTH_METRICS_TOKEN"),
        }
    }

    /// Secrets set in code, none set yet.
    pub fn builder() -> SecretsBuilder {
        SecretsBuilder(Self::default())
    }

    /// A builder that starts from these secrets (to replace some of them).
    pub fn to_builder(&self) -> SecretsBuilder {
        SecretsBuilder(self.clone())
    }
}

/// Sets [`Secrets`] in code; each setter takes a `String`, a `&str` or a `SecretString`.
#[derive(Debug, Clone)]
#[must_use]
pub struct SecretsBuilder(Secrets);

impl SecretsBuilder {
    /// The v2 client secret (needed with v2).
    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.0.client_secret = Secret::given(secret.into());
        self
    }

    /// The v3 API key (needed with v3).
    pub fn api_key(mut self, secret: impl Into<SecretString>) -> Self {
        self.0.api_key = Secret::given(secret.into());
        self
    }

    /// The key the callback is signed with (needed with a `callback_url`).
    pub fn callback_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.0.callback_secret = Secret::given(secret.into());
        self
    }

    /// The root key every other key is derived from (at least 32 bytes). Not given: a random
    /// one per process, so cookies and codes do not survive a restart; a fleet (`redis_url`)
    /// refuses to start without it.
    pub fn root_key(mut self, secret: impl Into<SecretString>) -> Self {
        self.0.root_key = Some(Secret::given(secret.into()));
        self
    }

    /// The app's secret: the bearer token of `POST /api/exchange` and the key of signed start
    /// links (always needed; at least 32 bytes outside the sandbox).
    pub fn app_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.0.app_secret = Secret::given(secret.into());
        self
    }

    /// Google's OAuth client secret (needed with `oauth_google`).
    pub fn google_client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.0.google_client_secret = Secret::given(secret.into());
        self
    }

    /// Microsoft's OAuth client secret (needed with `oauth_microsoft`).
    pub fn microsoft_client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.0.microsoft_client_secret = Secret::given(secret.into());
        self
    }

    /// The bearer token `/metrics` asks for; empty or not given: none.
    pub fn metrics_token(mut self, secret: impl Into<SecretString>) -> Self {
        self.0.metrics_token = Secret::given(secret.into());
        self
    }

    /// The secrets.
    pub fn build(self) -> Secrets {
        self.0
    }
}
