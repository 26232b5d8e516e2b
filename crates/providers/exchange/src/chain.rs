//! The POX autodiscover chain, in the order Microsoft documents, with the rules for where
//! credentials may go.
//!
//! Candidates for a domain `d`:
//! 1. `POST https://d/autodiscover/autodiscover.xml`
//! 2. `POST https://autodiscover.d/autodiscover/autodiscover.xml`
//! 3. `GET http://autodiscover.d/autodiscover/autodiscover.xml`, unauthenticated, used only for
//!    a 301/302 to an https URL, which is then POSTed to: Microsoft's *HTTP redirect method* for
//!    Exchange run by a hosting company. One hop only: a redirect to http, a loop, or a second
//!    redirect after it ends the step (each in the trace). When that hop's https target, outside
//!    the domain, answers 401 with an Exchange challenge, the domain's Exchange is hosted there:
//!    an *unverified* answer naming the host (anyone on the path could have sent the redirect),
//!    to which credentials go only after the user's consent.
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
    DiscoveryContext, FetchError, FetchRequest, has_registrable_domain, is_host_name,
    registrable_domain, same_registrable_domain,
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
        /// Whether the answer can be used without asking the user: it came over https on
        /// every hop from `autodiscover.<domain>` or an SRV target inside the domain, and the
        /// endpoint is inside the domain or one of Microsoft's autodiscover hosts. Anything
        /// from the bare domain (usually the company website), through plain http, or from
        /// outside the domain is not.
        verified: bool,
    },
    /// Without credentials: an endpoint of the user's domain answered 401 with a challenge
    /// Exchange uses (Basic, NTLM, Negotiate, or Bearer with an `authorization_uri`) —
    /// Exchange lives there and wants the user to sign in.
    AuthRequired {
        /// The endpoint.
        endpoint: Url,
        /// The authentication schemes it offered.
        schemes: Vec<String>,
        /// Whether the evidence can be trusted, by the same rule as for settings.
        verified: bool,
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
    /// The deadline passed before the chain finished.
    #[error("autodiscover: the deadline passed")]
    Timeout,
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
        registrable_domain(&host.to_ascii_lowercase()) == user_base || self.allowlisted(host)
    }

    /// Microsoft's autodiscover hosts and the operator's allowlist.
    fn allowlisted(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        MICROSOFT_AUTODISCOVER_HOSTS.contains(&host.as_str())
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
    /// Whether answers that start here may be trusted (before the hops are known):
    /// `https://autodiscover.<domain>`, or an SRV target inside the domain over https.
    trusted_start: bool,
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
    for (host, https, redirect_only, trusted_start) in [
        (domain, true, false, false),
        (autodiscover_host.as_str(), true, false, true),
        (autodiscover_host.as_str(), false, true, false),
    ] {
        if let Some(url) = ports.url(host, ENDPOINT_PATH, https) {
            list.push(Candidate { url, redirect_only, via_srv: false, trusted_start });
        }
    }
    if let Ok(records) = ctx.srv(&format!("_autodiscover._tcp.{domain}")).await {
        for record in records.into_iter().filter(|r| r.port == 443 && !r.target.is_empty()) {
            let inside = same_registrable_domain(&record.target, domain);
            if let Some(url) = ports.url(&record.target, ENDPOINT_PATH, true) {
                list.push(Candidate {
                    url,
                    redirect_only: false,
                    via_srv: true,
                    trusted_start: inside,
                });
            }
        }
    }
    list
}

/// The authentication schemes of a `WWW-Authenticate` answer that Exchange uses: Basic, NTLM,
/// Negotiate, and Bearer when it names an `authorization_uri` (Microsoft 365's hybrid
/// modern authentication). A website's login wall (cookies, forms, custom schemes) offers
/// none of these on its autodiscover path.
pub(crate) fn exchange_schemes(challenges: &[String]) -> Vec<String> {
    let mut schemes = Vec::new();
    for value in challenges {
        for piece in value.split(',') {
            let piece = piece.trim();
            let token = piece.split([' ', '=']).next().unwrap_or_default();
            // A parameter (`realm="x"`) is not a scheme: schemes stand alone or before a space.
            if piece.as_bytes().get(token.len()) == Some(&b'=') {
                continue;
            }
            let scheme = match token.to_ascii_lowercase().as_str() {
                "basic" => "Basic",
                "ntlm" => "NTLM",
                "negotiate" => "Negotiate",
                "bearer" if value.to_ascii_lowercase().contains("authorization_uri") => "Bearer",
                _ => continue,
            };
            if !schemes.iter().any(|s| s == scheme) {
                schemes.push(scheme.to_owned());
            }
        }
    }
    schemes
}

/// The chain's state.
struct Chain<'a> {
    ctx: &'a DiscoveryContext,
    credentials: Option<&'a AutodiscoverCredentials>,
    rules: &'a CredentialRules,
    user_base: String,
    redirects: usize,
    /// Endpoints already asked, with the address they were asked about.
    seen: HashSet<(Url, String)>,
    seen_addresses: HashSet<String>,
    /// The best answer that did not end the chain (unverified settings, evidence, a refusal),
    /// and the first error of a candidate that failed.
    held: Option<(u8, AutodiscoverOutcome)>,
    unauthorized: Option<AutodiscoverError>,
    first_error: Option<AutodiscoverError>,
}

/// What one endpoint said.
enum Hop {
    /// An answer; `final_answer` when nothing later can beat it.
    Answer(AutodiscoverOutcome),
    Next(Url),
    Restart(String),
    /// This candidate ends here (nothing, or a failure already recorded in the trace).
    End,
}

/// How a hop is reached: the candidate's trust so far, and whether every hop was https.
#[derive(Clone, Copy)]
struct Path {
    trusted_start: bool,
    https_so_far: bool,
    via_srv: bool,
    /// The hop after step 3's plain-http redirect (the hosted-Exchange redirect method).
    after_http_redirect: bool,
}

/// Runs the chain for `email`. Without credentials (what `discover` does) nothing secret is
/// sent and a 401 challenge is reported as evidence; with credentials they go only where the
/// rules allow.
///
/// Candidates follow Microsoft's documented order (the domain, `autodiscover.<domain>`, the
/// http redirect, then SRV). A candidate's failure — a loop, a refused redirect, an `<Error>`,
/// a refusal — ends that candidate, not the chain; evidence already found is kept. Verified
/// settings end the chain at once; anything less is held while the remaining candidates are
/// asked, so that the website at the bare domain never outranks `autodiscover.<domain>`.
///
/// # Errors
/// When no candidate answered: the first candidate's failure (loop, too many redirects,
/// insecure or forbidden target, server error), or refused credentials.
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
        seen: HashSet::new(),
        seen_addresses: HashSet::from([email.as_str().to_ascii_lowercase()]),
        held: None,
        unauthorized: None,
        first_error: None,
    };
    let mut address = email.clone();
    // Whether the endpoint that sent us to the current address could be trusted.
    let mut inherited_trust = true;
    'restart: loop {
        let domain = address.domain().to_owned();
        if let Some(reason) = forbidden_host(&domain) {
            chain.fail(AutodiscoverError::Forbidden { target: domain, reason });
            break;
        }
        for candidate in candidates(ctx, &domain).await {
            let mut url = candidate.url;
            let mut redirect_only = candidate.redirect_only;
            let mut path = Path {
                trusted_start: candidate.trusted_start && inherited_trust,
                https_so_far: !candidate.redirect_only,
                via_srv: candidate.via_srv,
                after_http_redirect: false,
            };
            loop {
                match chain.hop(&url, &address, redirect_only, path).await {
                    Hop::Answer(outcome) => {
                        if chain.offer(outcome) {
                            return Ok(chain
                                .held
                                .take()
                                .map_or(AutodiscoverOutcome::NotFound, |(_, o)| o));
                        }
                        break;
                    }
                    Hop::End => break,
                    Hop::Next(next) => {
                        // The http redirect method allows one hop: a second one, to yet
                        // another place, is not followed.
                        if path.after_http_redirect {
                            ctx.timer("autodiscover", next.as_str()).finish(
                                Outcome::Error,
                                "not followed: a second redirect after the domain's plain-http \
                                 redirect",
                            );
                            chain.fail(AutodiscoverError::Forbidden {
                                target: next.to_string(),
                                reason: "a second redirect after a plain-http redirect".into(),
                            });
                            break;
                        }
                        if let Err(error) = chain.count_redirect(&next, &address) {
                            ctx.timer("autodiscover", next.as_str())
                                .finish(Outcome::Error, &format!("not followed: {error}"));
                            chain.fail(error);
                            break;
                        }
                        path.after_http_redirect = redirect_only;
                        path.https_so_far &= next.scheme() == "https";
                        url = next;
                        redirect_only = false;
                    }
                    Hop::Restart(new_address) => {
                        if path.after_http_redirect {
                            ctx.timer("autodiscover", &new_address).finish(
                                Outcome::Error,
                                "not followed: a redirectAddr after the domain's plain-http \
                                 redirect",
                            );
                            chain.fail(AutodiscoverError::Forbidden {
                                target: new_address,
                                reason: "a second redirect after a plain-http redirect".into(),
                            });
                            break;
                        }
                        let Ok(parsed) = EmailAddress::parse(&new_address) else {
                            chain.fail(AutodiscoverError::BadRedirectAddress(new_address));
                            break;
                        };
                        if !chain.seen_addresses.insert(parsed.as_str().to_ascii_lowercase()) {
                            chain.fail(AutodiscoverError::Loop { target: new_address });
                            break;
                        }
                        chain.redirects += 1;
                        if chain.redirects > MAX_REDIRECTS {
                            chain.fail(AutodiscoverError::TooManyRedirects { last: new_address });
                            break;
                        }
                        inherited_trust = path.trusted_start && path.https_so_far;
                        address = parsed;
                        continue 'restart;
                    }
                }
            }
        }
        break;
    }
    chain.finish()
}

impl Chain<'_> {
    fn count_redirect(
        &mut self,
        next: &Url,
        address: &EmailAddress,
    ) -> Result<(), AutodiscoverError> {
        self.redirects += 1;
        if self.redirects > MAX_REDIRECTS {
            return Err(AutodiscoverError::TooManyRedirects { last: next.to_string() });
        }
        if self.seen.contains(&(next.clone(), address.as_str().to_owned())) {
            return Err(AutodiscoverError::Loop { target: next.to_string() });
        }
        Ok(())
    }

    /// Remembers a candidate's failure; the chain goes on with the next candidate.
    fn fail(&mut self, error: AutodiscoverError) {
        tracing::debug!(%error, "autodiscover candidate failed");
        if matches!(error, AutodiscoverError::Unauthorized { .. }) {
            self.unauthorized.get_or_insert(error);
        } else {
            self.first_error.get_or_insert(error);
        }
    }

    /// Holds `outcome` if it beats what is held; `true` when it cannot be beaten (verified
    /// settings), so the chain can stop.
    fn offer(&mut self, outcome: AutodiscoverOutcome) -> bool {
        // Lower is better: verified settings, a confirmation to ask for, verified evidence,
        // unverified settings, unverified evidence.
        let rank = match &outcome {
            AutodiscoverOutcome::Settings { verified: true, .. } => 0,
            AutodiscoverOutcome::NeedsConfirmation { .. } => 1,
            AutodiscoverOutcome::AuthRequired { verified: true, .. } => 2,
            AutodiscoverOutcome::Settings { .. } => 3,
            AutodiscoverOutcome::AuthRequired { .. } => 4,
            AutodiscoverOutcome::NotFound => return false,
        };
        if self.held.as_ref().is_none_or(|(held, _)| rank < *held) {
            self.held = Some((rank, outcome));
        }
        rank == 0
    }

    fn finish(self) -> Result<AutodiscoverOutcome, AutodiscoverError> {
        if let Some((_, outcome)) = self.held {
            return Ok(outcome);
        }
        match self.unauthorized.or(self.first_error) {
            Some(error) => Err(error),
            None => Ok(AutodiscoverOutcome::NotFound),
        }
    }

    /// Whether an answer from `url` reached by `path` may be trusted.
    fn verified(&self, url: &Url, path: Path) -> bool {
        let host = url.host_str().unwrap_or_default();
        path.trusted_start
            && path.https_so_far
            && url.scheme() == "https"
            && (registrable_domain(host) == self.user_base
                || MICROSOFT_AUTODISCOVER_HOSTS.contains(&host))
    }

    async fn hop(
        &mut self,
        url: &Url,
        address: &EmailAddress,
        redirect_only: bool,
        path: Path,
    ) -> Hop {
        let host = url.host_str().unwrap_or_default().to_owned();
        let timer = self.ctx.timer("autodiscover", url.as_str());
        if url.domain().is_some_and(|domain| !is_host_name(domain)) {
            timer.finish(Outcome::Error, "not a valid host name: skipped");
            return Hop::End;
        }
        if let Some(reason) = forbidden_host(&host) {
            timer.finish(Outcome::Error, &format!("refused: {reason}"));
            self.fail(AutodiscoverError::Forbidden { target: url.to_string(), reason });
            return Hop::End;
        }
        if url.scheme() != "https" && !redirect_only {
            timer.finish(Outcome::Error, "refused: not https");
            self.fail(AutodiscoverError::Insecure { url: url.to_string() });
            return Hop::End;
        }
        if !self.seen.insert((url.clone(), address.as_str().to_owned())) {
            // Asked already about this address (a candidate also reached by a redirect).
            drop(timer);
            return Hop::End;
        }
        // Credentials go only to allowed hosts (and never in the http GET).
        let authorization = match self.credentials {
            Some(creds) if !redirect_only => {
                let refusal = if !self.rules.allows(&host, &self.user_base) {
                    Some(format!("{host} is outside {} and not on the allowlist", self.user_base))
                } else if !path.https_so_far && !self.rules.allowlisted(&host) {
                    // Anyone on the network could have forged that redirect, for instance to a
                    // forgotten subdomain they took over.
                    Some(format!("{host} was reached through a plain-http redirect"))
                } else {
                    None
                };
                if let Some(reason) = refusal {
                    timer.finish(Outcome::Skipped, &format!("not sending credentials: {reason}"));
                    return Hop::Answer(AutodiscoverOutcome::NeedsConfirmation {
                        target: url.clone(),
                        reason,
                    });
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
        let fetched = match self.ctx.send(&request).await {
            Ok(fetched) => fetched,
            Err(FetchError::NoAddress { .. }) => {
                timer.finish(Outcome::Nothing, "the host name does not resolve");
                return Hop::End;
            }
            Err(error) => {
                timer.fail(&error.into());
                return Hop::End;
            }
        };
        let status = fetched.status.as_u16();
        if let Some(location) = fetched.location {
            if location.scheme() != "https" {
                timer.finish(
                    Outcome::Error,
                    &format!("HTTP {status}: refusing the redirect to {location}: not https"),
                );
                if !redirect_only {
                    self.fail(AutodiscoverError::Insecure { url: location.to_string() });
                }
                return Hop::End;
            }
            timer.finish(Outcome::Nothing, &format!("HTTP {status} to {location}"));
            return Hop::Next(location);
        }
        if redirect_only {
            timer.finish(
                Outcome::Nothing,
                &format!("HTTP {status} (only a redirect to https is used)"),
            );
            return Hop::End;
        }
        match fetched.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if self.credentials.is_some() => {
                timer.finish(Outcome::Error, &format!("HTTP {status}: credentials refused"));
                self.fail(AutodiscoverError::Unauthorized { endpoint: url.to_string() });
                return Hop::End;
            }
            StatusCode::UNAUTHORIZED => {
                let schemes = exchange_schemes(&fetched.www_authenticate);
                if schemes.is_empty() {
                    timer.finish(
                        Outcome::Nothing,
                        "HTTP 401 without an Exchange challenge: not Exchange",
                    );
                    return Hop::End;
                }
                // The hosted-Exchange redirect method: the domain's own http autodiscover named
                // this host. Unverified: the redirect came over plain http.
                if registrable_domain(&host) != self.user_base && path.after_http_redirect {
                    timer.finish(
                        Outcome::Found,
                        &format!(
                            "HTTP 401 ({}): Exchange hosted at {host}, named by the domain's \
                             plain-http autodiscover redirect (unverified)",
                            schemes.join(", ")
                        ),
                    );
                    return Hop::Answer(AutodiscoverOutcome::AuthRequired {
                        endpoint: url.clone(),
                        schemes,
                        verified: false,
                    });
                }
                // Evidence of Exchange only when the endpoint is the user's own.
                if registrable_domain(&host) != self.user_base {
                    timer.finish(
                        Outcome::Nothing,
                        &format!("HTTP 401 ({}) outside the user's domain", schemes.join(", ")),
                    );
                    return Hop::End;
                }
                let verified = self.verified(url, path);
                timer.finish(
                    Outcome::Found,
                    &format!(
                        "HTTP 401 ({}): an autodiscover endpoint that wants sign-in",
                        schemes.join(", ")
                    ),
                );
                return Hop::Answer(AutodiscoverOutcome::AuthRequired {
                    endpoint: url.clone(),
                    schemes,
                    verified,
                });
            }
            StatusCode::OK => {}
            _ => {
                timer.finish(Outcome::Nothing, &format!("HTTP {status}"));
                return Hop::End;
            }
        }
        match parse_pox(&String::from_utf8_lossy(&fetched.body)) {
            Ok(PoxResponse::Settings(settings)) => {
                timer.finish(
                    Outcome::Found,
                    &format!("settings; EWS {}", settings.ews_url().unwrap_or("none")),
                );
                Hop::Answer(AutodiscoverOutcome::Settings {
                    settings,
                    endpoint: url.clone(),
                    address: address.as_str().to_owned(),
                    via_srv: path.via_srv,
                    redirects: self.redirects,
                    verified: self.verified(url, path),
                })
            }
            Ok(PoxResponse::RedirectUrl(next)) => match Url::parse(&next) {
                Ok(next) if next.scheme() == "https" => {
                    timer.finish(Outcome::Nothing, &format!("redirectUrl {next}"));
                    Hop::Next(next)
                }
                _ => {
                    timer
                        .finish(Outcome::Error, &format!("refusing redirectUrl {next}: not https"));
                    self.fail(AutodiscoverError::Insecure { url: next });
                    Hop::End
                }
            },
            Ok(PoxResponse::RedirectAddr(next)) => {
                timer.finish(Outcome::Nothing, &format!("redirectAddr {next}"));
                Hop::Restart(next)
            }
            Ok(PoxResponse::Error { code, message }) => {
                let code = code.unwrap_or_default();
                let message = message.unwrap_or_default();
                timer.finish(Outcome::Error, &format!("error {code}: {message}"));
                self.fail(AutodiscoverError::Server { code, message });
                Hop::End
            }
            Err(error) => {
                timer.finish(Outcome::Nothing, &format!("not an autodiscover response: {error}"));
                Hop::End
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
