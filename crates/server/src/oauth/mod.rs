//! Sign in with Google and Microsoft: the OAuth 2.0 authorization code flow with PKCE (S256)
//! and `state` (RFC 6749, RFC 7636), on the `oauth2` crate, for the refresh token the connect
//! API needs (v2 `gmail` / `office365` settings, the v3 custom-auth body).
//!
//! The start of a flow travels with the browser: the PKCE verifier, the address and the app's
//! `state` are sealed into a cookie bound to the OAuth `state` ([`crate::oauth_flow`]), for ten
//! minutes (`SameSite=Lax`: the provider's redirect back is a cross-site navigation), so any
//! server of a fleet can finish it. Tokens never leave the server; the refresh token goes into `Credentials` and is
//! dropped after the API call. Who signed in is read from the ID token ([`crate::identity`]),
//! never assumed from the typed address: `login_hint`, `hd` and `domain_hint` are only hints.
//!
//! What the requests carry, from the providers' documentation:
//! - Google (<https://developers.google.com/identity/protocols/oauth2/web-server>):
//!   `access_type=offline` and `prompt=consent` for a refresh token on every consent,
//!   `login_hint`, and `hd` with the Workspace domain when the address is not `@gmail.com`
//!   (<https://developers.google.com/identity/openid-connect/openid-connect#hd-param>). Mail
//!   scopes: <https://developers.google.com/gmail/api/auth/scopes>.
//! - Microsoft identity platform
//!   (<https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow>):
//!   the `offline_access` scope for a refresh token
//!   (<https://learn.microsoft.com/en-us/entra/identity-platform/scopes-oidc#offline_access>),
//!   `login_hint`, `domain_hint` for a tenant's own domain, the tenant in the endpoint path
//!   (`common` by default). Mail scopes: Microsoft Graph's
//!   (<https://learn.microsoft.com/en-us/graph/permissions-reference>).
//! - Nylas scopes (`email.read_only`, …) are mapped as the Nylas scope tables pair them with
//!   provider scopes (<https://developer.nylas.com/docs/v2/developer-guide-v2/authentication/authentication-scopes>).

use std::collections::HashMap;

use nativeauth::EmailAddress;
use nativeauth::connect::Credentials;
use nativeauth::secrecy::{ExposeSecret, SecretString};
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardErrorResponse, StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::ServerSetupError;
use crate::config::{OAuthConfig, Secrets, Settings};
use crate::cookies::Start;
use crate::identity::{
    Expected, GOOGLE_ISSUER, GRAPH_URL, Identity, IdentityError, MICROSOFT_ISSUER,
};
use crate::oauth_flow::{FlowSeal, Pending};
pub(crate) use crate::oauth_provider::OAuthProvider;

mod registration;
mod token;

use registration::{Registration, registration};
use token::{TokenClient, error_code};

/// The cookie holding the flow's id.
pub(crate) const FLOW_COOKIE: &str = "nativeauth_oauth";
/// A token response larger than this is refused.
const TOKEN_RESPONSE_LIMIT: usize = 64 * 1024;

/// The OpenID Connect field of a token response.
#[derive(Clone, Deserialize, Serialize)]
struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl std::fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // It names the user: kept out of any log.
        f.write_str("IdTokenField([REDACTED])")
    }
}

impl ExtraTokenFields for IdTokenField {}

type Tokens = StandardTokenResponse<IdTokenField, BasicTokenType>;

type Client = oauth2::Client<
    BasicErrorResponse,
    Tokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Why a flow did not end with credentials. Each has a message for the user.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OAuthError {
    /// The provider is not configured on this server.
    #[error("this sign-in is not configured")]
    NotConfigured,
    /// The user declined at the provider (`error=access_denied`).
    #[error("consent was declined")]
    Denied,
    /// The provider answered with another error.
    #[error("the provider answered {0}")]
    Provider(String),
    /// No flow for this browser, or one that expired.
    #[error("no sign-in in progress for this browser")]
    NoFlow,
    /// The `state` does not open the browser's flow (another flow's cookie, or forged).
    #[error("the state does not match")]
    StateMismatch,
    /// The code was refused (`invalid_grant`: expired, used, or not this client's).
    #[error("the authorization code was refused")]
    InvalidGrant,
    /// The provider issued no refresh token.
    #[error("no refresh token was issued")]
    NoRefreshToken,
    /// The token endpoint could not be reached or answered garbage.
    #[error("the token endpoint failed: {0}")]
    Exchange(String),
    /// The flow could not be sealed (no randomness).
    #[error("the flow could not be kept")]
    Seal,
    /// Who signed in could not be established.
    #[error("the signed-in identity cannot be used: {0}")]
    Identity(#[from] IdentityError),
}

/// The result of a finished flow.
pub(crate) struct Finished {
    pub(crate) provider: OAuthProvider,
    /// The address the user typed.
    pub(crate) typed: EmailAddress,
    /// Who signed in at the provider.
    pub(crate) identity: Identity,
    pub(crate) credentials: Credentials,
    /// What the page's start kept: the app's `state`, the pinned address.
    pub(crate) start: Start,
    /// The page's language when the flow started.
    pub(crate) lang: Option<String>,
}

/// The server's OAuth flows.
pub(crate) struct OAuth {
    google: Option<Registration>,
    microsoft: Option<Registration>,
    seal: FlowSeal,
}

impl OAuth {
    /// The flows configured in `file`, with their secrets.
    pub(crate) fn new(
        file: &Settings,
        secrets: &Secrets,
        key: &[u8; 32],
    ) -> Result<Self, ServerSetupError> {
        let configured = |provider, config: &Option<OAuthConfig>, secret| {
            let each =
                |c| registration(provider, c, secret, &file.scopes, file.allow_loopback_http);
            config.as_ref().map(each).transpose()
        };
        let google =
            configured(OAuthProvider::Google, &file.oauth_google, &secrets.google_client_secret)?;
        let microsoft = configured(
            OAuthProvider::Microsoft,
            &file.oauth_microsoft,
            &secrets.microsoft_client_secret,
        )?;
        Ok(Self { google, microsoft, seal: FlowSeal::new(key) })
    }

    fn registration(&self, provider: OAuthProvider) -> Option<&Registration> {
        match provider {
            OAuthProvider::Google => self.google.as_ref(),
            OAuthProvider::Microsoft => self.microsoft.as_ref(),
        }
    }

    /// Whether this server runs `provider`'s flow.
    pub(crate) fn is_configured(&self, provider: OAuthProvider) -> bool {
        self.registration(provider).is_some()
    }

    /// Starts a flow: the provider's authorization URL, and the sealed flow for the browser's
    /// cookie. `domain_hint` is the organisation's domain when the address is not a consumer
    /// one.
    pub(crate) fn start(
        &self,
        provider: OAuthProvider,
        email: &EmailAddress,
        domain_hint: Option<&str>,
        start: Start,
        lang: &str,
    ) -> Result<(String, String), OAuthError> {
        let registration = self.registration(provider).ok_or(OAuthError::NotConfigured)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = registration
            .client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .add_scopes(registration.scopes.iter().cloned().map(Scope::new))
            .add_extra_param("login_hint", email.as_str());
        request = match provider {
            OAuthProvider::Google => {
                let request = request
                    .add_extra_param("access_type", "offline")
                    .add_extra_param("prompt", "consent");
                match domain_hint {
                    Some(domain) => request.add_extra_param("hd", domain),
                    None => request,
                }
            }
            OAuthProvider::Microsoft => {
                // The optional claims that vouch for the address (also to be set among the app
                // registration's optional claims).
                let request = request
                    .add_extra_param("claims", r#"{"id_token":{"email":null,"xms_edov":null}}"#);
                match domain_hint {
                    Some(domain) => request.add_extra_param("domain_hint", domain),
                    None => request,
                }
            }
        };
        let (url, csrf) = request.url();
        let flow = Pending {
            provider,
            email: email.clone(),
            verifier: SecretString::from(verifier.into_secret()),
            start,
            lang: Some(lang.to_owned()),
        };
        let cookie = self.seal.seal(&flow, csrf.secret()).ok_or(OAuthError::Seal)?;
        Ok((url.to_string(), cookie))
    }

    /// Finishes the flow sealed in the browser's cookie with the provider's redirect: opens it
    /// with the returned `state` (another flow's cookie does not open), exchanges the code with
    /// the PKCE verifier, and returns the credentials. A failure keeps the flow's address, when
    /// there was a flow, so that the page can show it again.
    pub(crate) async fn finish(
        &self,
        cookie: Option<&str>,
        query: &HashMap<String, String>,
        http: &reqwest::Client,
    ) -> Result<Finished, (OAuthError, Option<EmailAddress>)> {
        let cookie = cookie.ok_or((OAuthError::NoFlow, None))?;
        let state = query.get("state").map(String::as_str).unwrap_or_default();
        let flow = self.seal.open(cookie, state).ok_or((OAuthError::StateMismatch, None))?;
        let email = flow.email.clone();
        self.exchange(flow, query, http).await.map_err(|error| (error, Some(email)))
    }

    async fn exchange(
        &self,
        flow: Pending,
        query: &HashMap<String, String>,
        http: &reqwest::Client,
    ) -> Result<Finished, OAuthError> {
        if let Some(error) = query.get("error") {
            return Err(if error == "access_denied" {
                OAuthError::Denied
            } else {
                OAuthError::Provider(error.chars().take(64).collect())
            });
        }
        let code = query.get("code").ok_or(OAuthError::Provider("no code".into()))?;
        let registration = self.registration(flow.provider).ok_or(OAuthError::NotConfigured)?;
        let verifier = PkceCodeVerifier::new(flow.verifier.expose_secret().to_owned());
        let client = TokenClient(http.clone());
        let tokens = registration
            .client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .set_pkce_verifier(verifier)
            .request_async(&client)
            .await
            .map_err(|error| match error {
                RequestTokenError::ServerResponse(response)
                    if *response.error() == BasicErrorResponseType::InvalidGrant =>
                {
                    OAuthError::InvalidGrant
                }
                RequestTokenError::ServerResponse(response) => {
                    OAuthError::Exchange(error_code(&response))
                }
                other => OAuthError::Exchange(other.to_string()),
            })?;
        let expected = Expected {
            provider: flow.provider,
            client_id: &registration.client_id,
            issuer: &registration.issuer,
            tenant: &registration.tenant,
            graph_url: &registration.graph_url,
        };
        let identity = crate::identity::signed_in(
            tokens.extra_fields().id_token.as_deref(),
            tokens.access_token().secret(),
            &expected,
            http,
        )
        .await?;
        let refresh = tokens.refresh_token().ok_or(OAuthError::NoRefreshToken)?;
        let redirect_uri = match flow.provider {
            // Microsoft's settings carry the redirect URI the token was issued for.
            OAuthProvider::Microsoft => Some(registration.redirect_uri.clone()),
            OAuthProvider::Google => None,
        };
        let credentials = Credentials::oauth(
            registration.client_id.clone(),
            registration.client_secret.expose_secret().to_owned(),
            refresh.secret().to_owned(),
            redirect_uri,
        );
        Ok(Finished {
            provider: flow.provider,
            typed: flow.email,
            identity,
            credentials,
            start: flow.start,
            lang: flow.lang,
        })
    }
}
