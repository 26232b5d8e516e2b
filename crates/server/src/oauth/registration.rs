//! One provider's registration: the client built from the configuration, its endpoints and
//! issuer, and the provider scopes the Nylas scopes map to.

use super::*;

/// One provider's registration.
pub(super) struct Registration {
    pub(super) client: Client,
    pub(super) client_id: String,
    pub(super) client_secret: SecretString,
    pub(super) redirect_uri: String,
    /// The ID token's expected issuer (Microsoft's with `{tenantid}`).
    pub(super) issuer: String,
    /// Microsoft's configured tenant.
    pub(super) tenant: String,
    /// Microsoft Graph's base URL.
    pub(super) graph_url: String,
    /// The scopes every authorization asks for (from the app's Nylas scopes, mapped once).
    pub(super) scopes: Vec<String>,
}

pub(super) fn registration(
    provider: OAuthProvider,
    config: &OAuthConfig,
    secret: &crate::config::Secret,
    nylas_scopes: &str,
    allow_http: bool,
) -> Result<Registration, ServerSetupError> {
    let field = match provider {
        OAuthProvider::Google => "oauth_google",
        OAuthProvider::Microsoft => "oauth_microsoft",
    };
    if secret.is_empty() {
        return Err(ServerSetupError::MissingSecret(match provider {
            OAuthProvider::Google => {
                secret.why_empty("GOOGLE_CLIENT_SECRET", "google_client_secret")
            }
            OAuthProvider::Microsoft => {
                secret.why_empty("MICROSOFT_CLIENT_SECRET", "microsoft_client_secret")
            }
        }));
    }
    let secret = secret.secret_string();
    let tenant = config.tenant.as_deref().unwrap_or("common");
    let (authorize, token) = match provider {
        OAuthProvider::Google => (
            "https://accounts.google.com/o/oauth2/v2/auth".to_owned(),
            "https://oauth2.googleapis.com/token".to_owned(),
        ),
        OAuthProvider::Microsoft => (
            format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"),
            format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
        ),
    };
    let authorize = config.authorize_url.clone().unwrap_or(authorize);
    let token = config.token_url.clone().unwrap_or(token);
    let graph_url = config.graph_url.clone().unwrap_or_else(|| GRAPH_URL.to_owned());
    let issuer = config.issuer.clone().unwrap_or_else(|| {
        match provider {
            OAuthProvider::Google => GOOGLE_ISSUER,
            OAuthProvider::Microsoft => MICROSOFT_ISSUER,
        }
        .to_owned()
    });
    for url in [&authorize, &token, &config.redirect_uri, &graph_url] {
        if crate::urls::usable_url(url, allow_http).is_none() {
            return Err(ServerSetupError::Url { field, url: url.clone() });
        }
    }
    let bad = |url: &String| ServerSetupError::Url { field, url: url.clone() };
    let client = oauth2::Client::<
        BasicErrorResponse,
        Tokens,
        BasicTokenIntrospectionResponse,
        StandardRevocableToken,
        BasicRevocationErrorResponse,
    >::new(ClientId::new(config.client_id.clone()))
    .set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()))
    .set_auth_uri(AuthUrl::new(authorize.clone()).map_err(|_| bad(&authorize))?)
    .set_token_uri(TokenUrl::new(token.clone()).map_err(|_| bad(&token))?)
    .set_redirect_uri(
        RedirectUrl::new(config.redirect_uri.clone()).map_err(|_| bad(&config.redirect_uri))?,
    );
    Ok(Registration {
        client,
        client_id: config.client_id.clone(),
        client_secret: secret.clone(),
        redirect_uri: config.redirect_uri.clone(),
        issuer,
        tenant: tenant.to_owned(),
        graph_url,
        scopes: provider_scopes(provider, nylas_scopes),
    })
}

/// The provider scopes for the app's Nylas scopes (comma-separated), identity scopes first.
fn provider_scopes(provider: OAuthProvider, nylas_scopes: &str) -> Vec<String> {
    let mut scopes: Vec<String> = match provider {
        OAuthProvider::Google => vec!["openid".into(), "email".into(), "profile".into()],
        // User.Read: Graph's `/me`, for the user principal name when the ID token does not
        // vouch for an address.
        OAuthProvider::Microsoft => vec![
            "openid".into(),
            "email".into(),
            "profile".into(),
            "offline_access".into(),
            "https://graph.microsoft.com/User.Read".into(),
        ],
    };
    for nylas in nylas_scopes.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let mapped: &[&str] = match (provider, nylas) {
            (OAuthProvider::Google, "email") => &["https://mail.google.com/"],
            (OAuthProvider::Google, "email.modify") => &["gmail.modify"],
            (OAuthProvider::Google, "email.read_only") => &["gmail.readonly"],
            (OAuthProvider::Google, "email.send") => &["gmail.send"],
            (OAuthProvider::Google, "email.folders_and_labels") => &["gmail.labels"],
            (OAuthProvider::Google, "email.metadata") => &["gmail.metadata"],
            (OAuthProvider::Google, "email.drafts") => &["gmail.compose"],
            (OAuthProvider::Google, "calendar") => &["calendar"],
            (OAuthProvider::Google, "calendar.read_only") => &["calendar.readonly"],
            (OAuthProvider::Google, "contacts") => &["contacts"],
            (OAuthProvider::Google, "contacts.read_only") => &["contacts.readonly"],
            (OAuthProvider::Microsoft, "email") => &["Mail.ReadWrite", "Mail.Send"],
            (
                OAuthProvider::Microsoft,
                "email.modify" | "email.folders_and_labels" | "email.drafts",
            ) => &["Mail.ReadWrite"],
            (OAuthProvider::Microsoft, "email.read_only") => &["Mail.Read"],
            (OAuthProvider::Microsoft, "email.send") => &["Mail.Send"],
            (OAuthProvider::Microsoft, "email.metadata") => &["Mail.ReadBasic"],
            (OAuthProvider::Microsoft, "calendar") => &["Calendars.ReadWrite"],
            (OAuthProvider::Microsoft, "calendar.read_only") => &["Calendars.Read"],
            (OAuthProvider::Microsoft, "contacts") => &["Contacts.ReadWrite"],
            (OAuthProvider::Microsoft, "contacts.read_only") => &["Contacts.Read"],
            _ => {
                tracing::warn!(
                    scope = nylas,
                    provider = provider.as_str(),
                    "no provider scope for this Nylas scope"
                );
                &[]
            }
        };
        for scope in mapped {
            let full = match provider {
                OAuthProvider::Google if !scope.starts_with("https://") => {
                    format!("https://www.googleapis.com/auth/{scope}")
                }
                OAuthProvider::Microsoft => format!("https://graph.microsoft.com/{scope}"),
                _ => (*scope).to_owned(),
            };
            if !scopes.contains(&full) {
                scopes.push(full);
            }
        }
    }
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nylas_scopes_map_to_each_providers_scopes() {
        let google = provider_scopes(OAuthProvider::Google, "email.read_only,email.send");
        assert_eq!(
            google,
            [
                "openid",
                "email",
                "profile",
                "https://www.googleapis.com/auth/gmail.readonly",
                "https://www.googleapis.com/auth/gmail.send"
            ]
        );
        let microsoft = provider_scopes(OAuthProvider::Microsoft, "email, email.modify,bogus");
        assert_eq!(
            microsoft,
            [
                "openid",
                "email",
                "profile",
                "offline_access",
                "https://graph.microsoft.com/User.Read",
                "https://graph.microsoft.com/Mail.ReadWrite",
                "https://graph.microsoft.com/Mail.Send"
            ]
        );
    }
}
