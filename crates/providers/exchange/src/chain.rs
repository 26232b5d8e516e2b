//! The POX autodiscover chain, in the order Microsoft documents, with the rules for where
//! credentials may go.
//!
//! Candidates for a domain `d`:
//! 1. `POST https://d/autodiscover/autodiscover.xml`
//! 2. `POST https://autodiscover.d/autodiscover/autodiscover.xml`
//! 3. `GET http://autodiscover.d/autodiscover/autodiscover.xml`, unauthenticated, used only for
//!    a 301/302 to an https URL, which is then POSTed to
//! 4. `_autodiscover._tcp.d` SRV records on port 443 → `POST https://<target>/autodiscover/autodiscover.xml`
//!
//! Rules on every hop: https (but for step 3's GET), at most [`MAX_REDIRECTS`] redirects in all
//! (HTTP redirects, `redirectUrl`, `redirectAddr`), no URL or address twice, never a public
//! suffix nor `autodiscover.<public suffix>`, never a parent domain. With credentials, also:
//! the host must be in the user's registrable domain or on the allowlist (Microsoft's own
//! autodiscover hosts plus the operator's); otherwise the chain stops *before* sending them and
//! reports the target, so the app can ask the user.

use std::collections::HashSet;

use base64::Engine as _;
use nativeauth_core::plugin::{
    DiscoveryContext, FetchError, FetchRequest, has_registrable_domain, registrable_domain,
};
use nativeauth_core::secrecy::{ExposeSecret, SecretString};
use nativeauth_core::{EmailAddress, Outcome, SourceError, Url};
use reqwest::StatusCode;
use reqwest::header::HeaderValue;

use crate::pox::{AutodiscoverSettings, PoxResponse, parse_pox};

/// Redirects allowed in one chain, all kinds together.
pub const MAX_REDIRECTS: usize = 10;

/// Microsoft's own autodiscover hosts, to which credentials may be sent after a redirect.
pub const MICROSOFT_AUTODISCOVER_HOSTS: [&str; 3] =
    ["autodiscover-s.outlook.com", "autodiscover.outlook.com", "outlook.office365.com"];

const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// Credentials for an authenticated autodiscover (HTTP Basic).
#[derive(Clone)]
pub struct AutodiscoverCredentials {
    /// The login name (often the address, sometimes `DOMAIN\user`).
    pub username: String,
    /// The password.
    pub password: SecretString,
}

impl std::fmt::Debug for AutodiscoverCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutodiscoverCredentials")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

/// What the chain found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AutodiscoverOutcome {
    /// Settings.
    Settings {
        /// The settings.
        settings: AutodiscoverSettings,
        /// The endpoint that answered.
        endpoint: Url,
        /// The address the settings are for (after any `redirectAddr`).
        address: String,
        /// Whether the endpoint was reached through SRV (DNS without DNSSEC).
        via_srv: bool,
        /// Redirects followed.
        redirects: usize,
    },
    /// Without credentials: an endpoint of the user's domain answered 401 — Exchange lives
    /// there and wants the user to sign in.
    AuthRequired {
        /// The endpoint.
        endpoint: Url,
    },
    /// With credentials: the chain leads to a host the rules do not allow credentials to go to;
    /// nothing was sent there. Ask the user before continuing.
    NeedsConfirmation {
        /// The target that was not contacted.
        target: Url,
        /// Why it needs confirmation.
        reason: String,
    },
    /// No endpoint answered.
    NotFound,
}

/// Why the chain failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AutodiscoverError {
    /// More than [`MAX_REDIRECTS`] redirects.
    #[error("autodiscover: more than {MAX_REDIRECTS} redirects (last: {last})")]
    TooManyRedirects {
        /// The redirect that was not followed.
        last: String,
    },
    /// A URL or address seen before.
    #[error("autodiscover: redirect loop at {target}")]
    Loop {
        /// The repeated URL or address.
        target: String,
    },
    /// A redirect to plain http.
    #[error("autodiscover: refusing the plain-http redirect to {url}")]
    Insecure {
        /// The http URL.
        url: String,
    },
    /// A target that is never contacted (public suffixes, `autodiscover.<public suffix>`).
    #[error("autodiscover: refusing {target}: {reason}")]
    Forbidden {
        /// The target.
        target: String,
        /// Why.
        reason: String,
    },
    /// A `redirectAddr` that is not an address.
    #[error("autodiscover: redirectAddr {0:?} is not a valid address")]
    BadRedirectAddress(String),
    /// The server answered with an autodiscover error.
    #[error("autodiscover error {code}: {message}")]
    Server {
        /// `ErrorCode`.
        code: String,
        /// `Message`.
        message: String,
    },
    /// With credentials: the endpoint refused them (401/403).
    #[error("autodiscover at {endpoint} refused the credentials")]
    Unauthorized {
        /// The endpoint.
        endpoint: String,
    },
}

impl From<AutodiscoverError> for SourceError {
    fn from(error: AutodiscoverError) -> Self {
        match error {
            AutodiscoverError::Forbidden { target, reason } => Self::Refused { target, reason },
            AutodiscoverError::Insecure { url } => {
                Self::Refused { target: url, reason: "plain-http redirect".into() }
            }
            other => Self::protocol("autodiscover", other),
        }
    }
}

/// Who may receive credentials.
#[derive(Debug, Clone, Default)]
pub struct CredentialRules {
    /// Hosts besides the user's registrable domain and Microsoft's autodiscover hosts (exact
    /// names, or `*.suffix`).
    pub allowed_hosts: Vec<String>,
}

impl CredentialRules {
    fn allows(&self, host: &str, user_base: &str) -> bool {
        let host = host.to_ascii_lowercase();
        registrable_domain(&host) == user_base
            || MICROSOFT_AUTODISCOVER_HOSTS.contains(&host.as_str())
            || self.allowed_hosts.iter().any(|allowed| match allowed.strip_prefix("*.") {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => allowed.eq_ignore_ascii_case(&host),
            })
    }
}

/// One candidate endpoint.
struct Candidate {
    url: Url,
    /// Step 3: the unauthenticated GET whose only use is a redirect to https.
    redirect_only: bool,
    via_srv: bool,
}

/// The request body, with the address escaped.
fn request_body(address: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>{}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>",
        nativeauth_core::plugin::xml::escape(address)
    )
    .into_bytes()
}

/// Why a host must never be contacted, if it must not.
fn forbidden_host(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if !has_registrable_domain(&host) {
        return Some(format!("{host} is a public suffix"));
    }
    if let Some(rest) = host.strip_prefix("autodiscover.") {
        if !has_registrable_domain(rest) {
            return Some(format!("{host} is autodiscover.<public suffix>"));
        }
    }
    None
}

/// The POX endpoint path on every candidate host.
const ENDPOINT_PATH: &str = "/autodiscover/autodiscover.xml";

async fn candidates(ctx: &DiscoveryContext, domain: &str) -> Vec<Candidate> {
    let ports = ctx.config().url_ports();
    let mut list = Vec::new();
    let autodiscover_host = format!("autodiscover.{domain}");
    for (host, https, redirect_only) in [
        (domain, true, false),
        (autodiscover_host.as_str(), true, false),
        (autodiscover_host.as_str(), false, true),
    ] {
        if let Some(url) = ports.url(host, ENDPOINT_PATH, https) {
            list.push(Candidate { url, redirect_only, via_srv: false });
        }
    }
    if let Ok(records) = ctx.srv(&format!("_autodiscover._tcp.{domain}")).await {
        for record in records.into_iter().filter(|r| r.port == 443 && !r.target.is_empty()) {
            if let Some(url) = ports.url(&record.target, ENDPOINT_PATH, true) {
                list.push(Candidate { url, redirect_only: false, via_srv: true });
            }
        }
    }
    list
}

/// The chain's state.
struct Chain<'a> {
    ctx: &'a DiscoveryContext,
    credentials: Option<&'a AutodiscoverCredentials>,
    rules: &'a CredentialRules,
    user_base: String,
    redirects: usize,
    seen_urls: HashSet<Url>,
    seen_addresses: HashSet<String>,
    auth_required: Option<Url>,
}

/// What one endpoint said.
enum Hop {
    Done(AutodiscoverOutcome),
    Next(Url),
    Restart(String),
    Skip,
}

/// Runs the chain for `email`. Without credentials (what `discover` does) nothing secret is
/// sent and a 401 is reported as evidence; with credentials they go only where the rules allow.
///
/// # Errors
/// [`AutodiscoverError`] for loops, too many redirects, insecure or forbidden targets, server
/// errors and refused credentials.
pub async fn run_autodiscover(
    ctx: &DiscoveryContext,
    email: &EmailAddress,
    credentials: Option<&AutodiscoverCredentials>,
    rules: &CredentialRules,
) -> Result<AutodiscoverOutcome, AutodiscoverError> {
    let mut chain = Chain {
        ctx,
        credentials,
        rules,
        user_base: registrable_domain(email.domain()).to_owned(),
        redirects: 0,
        seen_urls: HashSet::new(),
        seen_addresses: HashSet::from([email.as_str().to_ascii_lowercase()]),
        auth_required: None,
    };
    let mut address = email.clone();
    'restart: loop {
        let domain = address.domain().to_owned();
        if let Some(reason) = forbidden_host(&domain) {
            return Err(AutodiscoverError::Forbidden { target: domain, reason });
        }
        for candidate in candidates(ctx, &domain).await {
            let mut url = candidate.url;
            let mut redirect_only = candidate.redirect_only;
            loop {
                match chain.hop(&url, &address, redirect_only, candidate.via_srv).await? {
                    Hop::Done(outcome) => return Ok(outcome),
                    Hop::Skip => break,
                    Hop::Next(next) => {
                        chain.count_redirect(&next)?;
                        url = next;
                        redirect_only = false;
                    }
                    Hop::Restart(new_address) => {
                        let parsed = EmailAddress::parse(&new_address).map_err(|_| {
                            AutodiscoverError::BadRedirectAddress(new_address.clone())
                        })?;
                        if !chain.seen_addresses.insert(parsed.as_str().to_ascii_lowercase()) {
                            return Err(AutodiscoverError::Loop { target: new_address });
                        }
                        chain.redirects += 1;
                        if chain.redirects > MAX_REDIRECTS {
                            return Err(AutodiscoverError::TooManyRedirects { last: new_address });
                        }
                        address = parsed;
                        continue 'restart;
                    }
                }
            }
        }
        return Ok(match chain.auth_required {
            Some(endpoint) => AutodiscoverOutcome::AuthRequired { endpoint },
            None => AutodiscoverOutcome::NotFound,
        });
    }
}

impl Chain<'_> {
    fn count_redirect(&mut self, next: &Url) -> Result<(), AutodiscoverError> {
        self.redirects += 1;
        if self.redirects > MAX_REDIRECTS {
            return Err(AutodiscoverError::TooManyRedirects { last: next.to_string() });
        }
        if self.seen_urls.contains(next) {
            return Err(AutodiscoverError::Loop { target: next.to_string() });
        }
        Ok(())
    }

    async fn hop(
        &mut self,
        url: &Url,
        address: &EmailAddress,
        redirect_only: bool,
        via_srv: bool,
    ) -> Result<Hop, AutodiscoverError> {
        let host = url.host_str().unwrap_or_default().to_owned();
        if let Some(reason) = forbidden_host(&host) {
            return Err(AutodiscoverError::Forbidden { target: url.to_string(), reason });
        }
        if url.scheme() != "https" && !redirect_only {
            return Err(AutodiscoverError::Insecure { url: url.to_string() });
        }
        if !self.seen_urls.insert(url.clone()) {
            // A candidate already reached through a redirect: nothing new to learn.
            return Ok(Hop::Skip);
        }
        // Credentials go only to allowed hosts (and never in the http GET).
        let authorization = match self.credentials {
            Some(creds) if !redirect_only => {
                if !self.rules.allows(&host, &self.user_base) {
                    let reason =
                        format!("{host} is outside {} and not on the allowlist", self.user_base);
                    self.ctx
                        .timer("autodiscover", url.as_str())
                        .finish(Outcome::Skipped, &format!("not sending credentials: {reason}"));
                    return Ok(Hop::Done(AutodiscoverOutcome::NeedsConfirmation {
                        target: url.clone(),
                        reason,
                    }));
                }
                Some(basic(creds))
            }
            _ => None,
        };
        let request = if redirect_only {
            FetchRequest::get(url.clone()).allow_http(true).without_following_redirects()
        } else {
            FetchRequest::post(url.clone(), CONTENT_TYPE, request_body(address.as_str()))
        };
        let request = match authorization {
            Some(value) => request.authorization(value),
            None => request,
        };
        let timer = self.ctx.timer("autodiscover", url.as_str());
        let http = match self.ctx.http(url.as_str()) {
            Ok(http) => http,
            Err(_) => return Ok(Hop::Skip),
        };
        let fetched = match http.fetch(&request).await {
            Ok(fetched) => fetched,
            Err(FetchError::NoAddress { .. }) => {
                timer.finish(Outcome::Nothing, "the host name does not resolve");
                return Ok(Hop::Skip);
            }
            Err(error) => {
                timer.fail(&error.into());
                return Ok(Hop::Skip);
            }
        };
        if let Some(location) = fetched.location {
            if location.scheme() != "https" {
                timer.finish(
                    Outcome::Error,
                    &format!("refusing the redirect to {location}: not https"),
                );
                if redirect_only {
                    return Ok(Hop::Skip);
                }
                return Err(AutodiscoverError::Insecure { url: location.to_string() });
            }
            timer.finish(
                Outcome::Nothing,
                &format!("HTTP {} to {location}", fetched.status.as_u16()),
            );
            return Ok(Hop::Next(location));
        }
        if redirect_only {
            timer.finish(
                Outcome::Nothing,
                &format!("HTTP {} (only a redirect to https is used)", fetched.status.as_u16()),
            );
            return Ok(Hop::Skip);
        }
        match fetched.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                if self.credentials.is_some() {
                    timer.finish(Outcome::Error, "credentials refused");
                    return Err(AutodiscoverError::Unauthorized { endpoint: url.to_string() });
                }
                timer.finish(
                    Outcome::Found,
                    "HTTP 401: an autodiscover endpoint that wants sign-in",
                );
                // Evidence of Exchange only when the endpoint is the user's own.
                if registrable_domain(&host) == self.user_base && self.auth_required.is_none() {
                    self.auth_required = Some(url.clone());
                }
                return Ok(Hop::Skip);
            }
            StatusCode::OK => {}
            other => {
                timer.finish(Outcome::Nothing, &format!("HTTP {}", other.as_u16()));
                return Ok(Hop::Skip);
            }
        }
        match parse_pox(&String::from_utf8_lossy(&fetched.body)) {
            Ok(PoxResponse::Settings(settings)) => {
                timer.finish(
                    Outcome::Found,
                    &format!("settings; EWS {}", settings.ews_url().unwrap_or("none")),
                );
                Ok(Hop::Done(AutodiscoverOutcome::Settings {
                    settings,
                    endpoint: url.clone(),
                    address: address.as_str().to_owned(),
                    via_srv,
                    redirects: self.redirects,
                }))
            }
            Ok(PoxResponse::RedirectUrl(next)) => {
                let next = Url::parse(&next)
                    .map_err(|_| AutodiscoverError::Insecure { url: next.clone() })?;
                timer.finish(Outcome::Nothing, &format!("redirectUrl {next}"));
                if next.scheme() != "https" {
                    return Err(AutodiscoverError::Insecure { url: next.to_string() });
                }
                Ok(Hop::Next(next))
            }
            Ok(PoxResponse::RedirectAddr(next)) => {
                timer.finish(Outcome::Nothing, &format!("redirectAddr {next}"));
                Ok(Hop::Restart(next))
            }
            Ok(PoxResponse::Error { code, message }) => {
                let code = code.unwrap_or_default();
                let message = message.unwrap_or_default();
                timer.finish(Outcome::Error, &format!("error {code}: {message}"));
                Err(AutodiscoverError::Server { code, message })
            }
            Err(error) => {
                timer.finish(Outcome::Nothing, &format!("not an autodiscover response: {error}"));
                Ok(Hop::Skip)
            }
        }
    }
}

fn basic(creds: &AutodiscoverCredentials) -> HeaderValue {
    let raw = format!("{}:{}", creds.username, creds.password.expose_secret());
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_suffixes_and_their_autodiscover_hosts_are_forbidden() {
        assert!(forbidden_host("co.uk").is_some());
        assert!(forbidden_host("autodiscover.co.uk").is_some());
        assert!(forbidden_host("autodiscover.com").is_some());
        assert!(forbidden_host("autodiscover.example.co.uk").is_none());
        assert!(forbidden_host("example.co.uk").is_none());
    }

    #[test]
    fn the_request_escapes_the_address() {
        let body = String::from_utf8(request_body("a&b<c>@example.com")).unwrap();
        assert!(body.contains("<EMailAddress>a&amp;b&lt;c&gt;@example.com</EMailAddress>"));
    }

    #[test]
    fn credential_rules() {
        let rules = CredentialRules {
            allowed_hosts: vec!["mail.partner.example".into(), "*.hosted.example".into()],
        };
        assert!(rules.allows("autodiscover.corp.example", "corp.example"));
        assert!(rules.allows("CORP.EXAMPLE", "corp.example"));
        assert!(rules.allows("autodiscover-s.outlook.com", "corp.example"));
        assert!(rules.allows("mail.partner.example", "corp.example"));
        assert!(rules.allows("x.hosted.example", "corp.example"));
        assert!(!rules.allows("hosted.example", "corp.example"));
        assert!(!rules.allows("corp.example.evil.test", "corp.example"));
        assert!(!rules.allows("evil.test", "corp.example"));
    }
}
