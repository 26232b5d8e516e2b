//! Who signed in at Google or Microsoft: the OpenID Connect ID token that the token endpoint
//! returned. It came straight from the token endpoint over TLS, so, as OpenID Connect Core
//! §3.1.3.7 allows, the channel vouches for its origin and the claims are checked without the
//! signature: `iss`, `aud` (our client id) and `exp`, then the address.
//!
//! - Google: `email`, only with `email_verified = true`, and outside Gmail only with `hd` (the
//!   Workspace domain) equal to its domain
//!   (<https://developers.google.com/identity/openid-connect/openid-connect#an-id-tokens-payload>).
//! - Microsoft: `email` only when the optional claim `xms_edov` (the email's domain is verified
//!   for the tenant) is true; otherwise the user principal name from Microsoft Graph `/me`.
//!   Never `preferred_username` alone: it is mutable, and a tenant's admin can set it to any
//!   address (<https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference>,
//!   <https://learn.microsoft.com/en-us/entra/identity-platform/optional-claims-reference>).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use nativeauth::EmailAddress;
use serde_json::Value;

use crate::oauth_provider::OAuthProvider;

/// Clock skew allowed on `exp`.
const LEEWAY_SECS: u64 = 60;
/// The largest Graph answer read.
const GRAPH_LIMIT: usize = 64 * 1024;

/// Who signed in.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// The signed-in address.
    pub(crate) email: EmailAddress,
    /// Microsoft's tenant id (`tid`).
    pub(crate) tenant: Option<String>,
}

/// Why the sign-in's identity is not usable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum IdentityError {
    /// The token endpoint returned no ID token (the `openid` scope was not granted).
    #[error("no ID token")]
    Missing,
    /// Not a JWT with a JSON payload.
    #[error("the ID token is malformed")]
    Malformed,
    /// Issued by someone else.
    #[error("the ID token's issuer is not the provider")]
    Issuer,
    /// Issued for another client.
    #[error("the ID token is for another client")]
    Audience,
    /// Past its `exp`.
    #[error("the ID token has expired")]
    Expired,
    /// No address the provider vouches for.
    #[error("the provider does not vouch for the signed-in address")]
    Unverified,
    /// Microsoft Graph did not say who signed in.
    #[error("Microsoft Graph did not answer: {0}")]
    Graph(String),
}

/// What a registration expects of its ID tokens.
pub(crate) struct Expected<'a> {
    pub(crate) provider: OAuthProvider,
    pub(crate) client_id: &'a str,
    /// The issuer; Microsoft's may hold `{tenantid}`, standing for the token's `tid`.
    pub(crate) issuer: &'a str,
    /// Microsoft's configured tenant (`common`, `organizations`, `consumers` or an id).
    pub(crate) tenant: &'a str,
    /// Microsoft Graph's base URL.
    pub(crate) graph_url: &'a str,
}

/// The payload of a JWT (not its signature: see the module's documentation).
pub(crate) fn claims(id_token: &str) -> Result<Value, IdentityError> {
    let mut parts = id_token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdentityError::Malformed);
    };
    let engine = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(payload).map_err(|_| IdentityError::Malformed)?;
    let claims: Value = serde_json::from_slice(&bytes).map_err(|_| IdentityError::Malformed)?;
    if !claims.is_object() {
        return Err(IdentityError::Malformed);
    }
    Ok(claims)
}

fn is_true(value: &Value) -> bool {
    value.as_bool() == Some(true) || value.as_str() == Some("true")
}

/// Checks the claims against `expected` (issuer, audience, expiry); the address comes next.
pub(crate) fn check_claims(
    claims: &Value,
    expected: &Expected<'_>,
    now: u64,
) -> Result<(), IdentityError> {
    let issuer = claims["iss"].as_str().ok_or(IdentityError::Issuer)?;
    let issuer_ok = match expected.provider {
        OAuthProvider::Google => {
            issuer == expected.issuer
                // Google documents both spellings.
                || (expected.issuer == GOOGLE_ISSUER && issuer == "accounts.google.com")
        }
        OAuthProvider::Microsoft => {
            let tid = claims["tid"].as_str().unwrap_or_default();
            let specific = !matches!(expected.tenant, "common" | "organizations" | "consumers");
            !tid.is_empty()
                && (!specific || tid == expected.tenant)
                && issuer == expected.issuer.replace("{tenantid}", tid)
        }
    };
    if !issuer_ok {
        return Err(IdentityError::Issuer);
    }
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == expected.client_id,
        // Several audiences: ours among them, and we are the authorized party.
        Value::Array(auds) => {
            auds.iter().any(|a| a.as_str() == Some(expected.client_id))
                && claims["azp"].as_str() == Some(expected.client_id)
        }
        _ => false,
    };
    if !audience_ok {
        return Err(IdentityError::Audience);
    }
    let expires = claims["exp"].as_u64().ok_or(IdentityError::Expired)?;
    if expires.saturating_add(LEEWAY_SECS) < now {
        return Err(IdentityError::Expired);
    }
    Ok(())
}

/// Google's issuer.
pub(crate) const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// Microsoft's issuer template.
pub(crate) const MICROSOFT_ISSUER: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
/// Microsoft Graph.
pub(crate) const GRAPH_URL: &str = "https://graph.microsoft.com";

/// Who signed in, from the ID token (and for Microsoft, when the token does not vouch for an
/// address, from Graph with `access_token`).
pub(crate) async fn signed_in(
    id_token: Option<&str>,
    access_token: &str,
    expected: &Expected<'_>,
    http: &reqwest::Client,
) -> Result<Identity, IdentityError> {
    let claims = claims(id_token.ok_or(IdentityError::Missing)?)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    check_claims(&claims, expected, now)?;
    let parse = |text: &str| EmailAddress::parse(text).map_err(|_| IdentityError::Unverified);
    match expected.provider {
        OAuthProvider::Google => {
            let email = claims["email"].as_str().ok_or(IdentityError::Unverified)?;
            if !is_true(&claims["email_verified"]) {
                return Err(IdentityError::Unverified);
            }
            let email = parse(email)?;
            // An address outside Gmail is Google's to vouch for only in a Workspace that owns
            // its domain (`hd`): a consumer account can be registered on anyone's address, and
            // `email_verified` says only that it was proven once.
            let consumer = matches!(email.domain(), "gmail.com" | "googlemail.com");
            if !consumer && claims["hd"].as_str() != Some(email.domain()) {
                return Err(IdentityError::Unverified);
            }
            Ok(Identity { email, tenant: None })
        }
        OAuthProvider::Microsoft => {
            let tenant = claims["tid"].as_str().map(str::to_owned);
            let email = match claims["email"].as_str() {
                Some(email) if is_true(&claims["xms_edov"]) => email.to_owned(),
                _ => user_principal_name(http, expected.graph_url, access_token).await?,
            };
            Ok(Identity { email: parse(&email)?, tenant })
        }
    }
}

/// The user principal name from Microsoft Graph `/v1.0/me`.
async fn user_principal_name(
    http: &reqwest::Client,
    graph_url: &str,
    access_token: &str,
) -> Result<String, IdentityError> {
    let url = format!("{}/v1.0/me?$select=userPrincipalName", graph_url.trim_end_matches('/'));
    let graph = |e: reqwest::Error| IdentityError::Graph(e.without_url().to_string());
    let mut response = http.get(url).bearer_auth(access_token).send().await.map_err(graph)?;
    if !response.status().is_success() {
        return Err(IdentityError::Graph(format!("status {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(graph)? {
        if body.len() + chunk.len() > GRAPH_LIMIT {
            return Err(IdentityError::Graph("answer too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    let me: Value =
        serde_json::from_slice(&body).map_err(|_| IdentityError::Graph("not JSON".into()))?;
    me["userPrincipalName"]
        .as_str()
        .filter(|upn| !upn.is_empty())
        .map(str::to_owned)
        .ok_or(IdentityError::Unverified)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn expected(provider: OAuthProvider, tenant: &'static str) -> Expected<'static> {
        Expected {
            provider,
            client_id: "client-1",
            issuer: match provider {
                OAuthProvider::Google => GOOGLE_ISSUER,
                OAuthProvider::Microsoft => MICROSOFT_ISSUER,
            },
            tenant,
            graph_url: GRAPH_URL,
        }
    }

    #[test]
    fn issuer_audience_and_expiry_are_checked() {
        let google = expected(OAuthProvider::Google, "common");
        let ok = json!({ "iss": "https://accounts.google.com", "aud": "client-1", "exp": 1000 });
        assert_eq!(check_claims(&ok, &google, 900), Ok(()));
        let short = json!({ "iss": "accounts.google.com", "aud": "client-1", "exp": 1000 });
        assert_eq!(check_claims(&short, &google, 900), Ok(()));
        let evil = json!({ "iss": "https://evil.example", "aud": "client-1", "exp": 1000 });
        assert_eq!(check_claims(&evil, &google, 900), Err(IdentityError::Issuer));
        let other = json!({ "iss": GOOGLE_ISSUER, "aud": "client-2", "exp": 1000 });
        assert_eq!(check_claims(&other, &google, 900), Err(IdentityError::Audience));
        let many = json!({ "iss": GOOGLE_ISSUER, "aud": ["client-2", "client-1"], "azp": "client-2", "exp": 1000 });
        assert_eq!(check_claims(&many, &google, 900), Err(IdentityError::Audience));
        assert_eq!(check_claims(&ok, &google, 1061), Err(IdentityError::Expired));
        let no_exp = json!({ "iss": GOOGLE_ISSUER, "aud": "client-1" });
        assert_eq!(check_claims(&no_exp, &google, 0), Err(IdentityError::Expired));

        let microsoft = expected(OAuthProvider::Microsoft, "common");
        let tenant = json!({ "iss": "https://login.microsoftonline.com/t-1/v2.0", "tid": "t-1", "aud": "client-1", "exp": 1000 });
        assert_eq!(check_claims(&tenant, &microsoft, 900), Ok(()));
        let mismatched = json!({ "iss": "https://login.microsoftonline.com/t-2/v2.0", "tid": "t-1", "aud": "client-1", "exp": 1000 });
        assert_eq!(check_claims(&mismatched, &microsoft, 900), Err(IdentityError::Issuer));
        let pinned = expected(OAuthProvider::Microsoft, "t-9");
        assert_eq!(check_claims(&tenant, &pinned, 900), Err(IdentityError::Issuer));
    }

    #[test]
    fn malformed_tokens_are_refused_without_panicking() {
        for token in ["", "a.b", "a.b.c.d", "a.!!!.c", "a.bnVsbA.c", "a.W10.c"] {
            assert!(claims(token).is_err(), "{token}");
        }
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"{\"a\":1}");
        assert_eq!(claims(&format!("h.{payload}.s")).unwrap()["a"], 1);
    }
}
