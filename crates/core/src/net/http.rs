//! The guarded HTTP client every fetch of a user-derived URL goes through.
//!
//! * Host names are resolved by our own hickory resolver, and every address is checked by the
//!   [`AddressPolicy`] *before* any connection; reqwest connects to exactly the addresses that
//!   were checked (no second lookup, so DNS rebinding cannot slip in).
//! * IP-literal hosts (`127.1`, `0x7f.0.0.1`, `2130706433`, `[::ffff:127.0.0.1]` — the URL
//!   parser normalises them all) are checked on every hop.
//! * Redirects are followed by our own policy: a hop limit, loop detection, the guard on every
//!   hop, and no plain http unless allowed (then the answer is marked as not https end to end).
//! * Proxy environment variables are ignored; every request has a timeout; bodies are capped
//!   while streaming.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderValue, LOCATION};
use reqwest::{StatusCode, Url};
#[cfg(test)]
use rustls::pki_types::CertificateDer;

use super::dns::Dns;
use super::error::SetupError;
use super::tls::{self, BodyError};
use crate::address_policy::{AddressPolicy, GuardError};
use crate::config::DEFAULT_HTTP_TIMEOUT;

/// Default number of redirects followed.
pub(crate) const DEFAULT_MAX_REDIRECTS: usize = 5;

/// Why a fetch failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The address guard refused the target (before any connection).
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// A plain-http URL where only https is allowed.
    #[error("{url}: plain http is not allowed here")]
    InsecureScheme {
        /// The URL.
        url: String,
    },
    /// More redirects than allowed.
    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects {
        /// The last URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// A redirect back to a URL already visited.
    #[error("{url}: redirect loop")]
    RedirectLoop {
        /// The repeated URL.
        url: String,
    },
    /// A redirect without a usable `Location`.
    #[error("{url}: redirect without a valid Location")]
    BadRedirect {
        /// The redirecting URL.
        url: String,
    },
    /// No answer in time.
    #[error("{url}: timed out")]
    Timeout {
        /// The URL.
        url: String,
    },
    /// The host name does not resolve.
    #[error("{url}: the host name does not resolve")]
    NoAddress {
        /// The URL.
        url: String,
    },
    /// Connecting, TLS or the exchange failed.
    #[error("{url}: {reason}")]
    Failed {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The body is larger than allowed.
    #[error("{url}: the body exceeds {limit} bytes")]
    BodyTooLarge {
        /// The URL.
        url: String,
        /// The cap.
        limit: usize,
    },
}

impl FetchError {
    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }
}

/// What a fetch brought back.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL that answered (after redirects).
    pub url: Url,
    /// Its status.
    pub status: StatusCode,
    /// The body (capped; empty for a redirect that was not followed).
    pub body: Vec<u8>,
    /// Whether every hop was https.
    pub https_end_to_end: bool,
    /// How many redirects were followed.
    pub redirects: usize,
    /// For a redirect that was not followed: where it points (resolved against the URL).
    pub location: Option<Url>,
    /// Every `WWW-Authenticate` challenge of the answer (a 401 says how to sign in).
    pub www_authenticate: Vec<String>,
}

/// Settings of the guarded client.
#[derive(Debug, Clone)]
pub(crate) struct FetchOptions {
    /// Timeout of one request. Default: 5 s.
    pub timeout: Duration,
    /// Body cap. Default: 1 MiB.
    pub body_limit: usize,
    /// Redirects followed. Default: 5.
    pub max_redirects: usize,
    /// Which special addresses may be reached. Default: none.
    pub policy: AddressPolicy,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_HTTP_TIMEOUT,
            body_limit: tls::DEFAULT_BODY_LIMIT,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            policy: AddressPolicy::strict(),
        }
    }
}

/// Resolves with our resolver and refuses special addresses before reqwest connects.
struct GuardedResolver {
    dns: Dns,
    policy: AddressPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let dns = self.dns.clone();
        let policy = self.policy.clone();
        // Taken now, while the request is polled in its run's task.
        let memo = super::memo::run_dns();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let ips = match memo {
                Some(memo) => memo.get_or_run(&host, || dns.ips(&host)).await,
                None => dns.ips(&host).await,
            };
            let ips = ips.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            if ips.is_empty() {
                return Err(Box::new(NoAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            for ip in &ips {
                policy.check(&host, *ip).map_err(|e| {
                    tracing::debug!(%host, %ip, "address guard refused");
                    Box::new(e) as Box<dyn std::error::Error + Send + Sync>
                })?;
            }
            // Port 0: the connector fills in the URL's port.
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the host name does not resolve")]
struct NoAddress;

/// The HTTP client for user-derived URLs. Cheap to clone.
#[derive(Clone)]
pub struct GuardedHttp {
    client: reqwest::Client,
    options: Arc<FetchOptions>,
}

impl std::fmt::Debug for GuardedHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedHttp").field("options", &self.options).finish_non_exhaustive()
    }
}

/// A request: GET, or POST with a body.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// The first URL.
    pub url: Url,
    /// `Some((content type, body))` for a POST.
    pub post: Option<(&'static str, Vec<u8>)>,
    /// Whether plain-http URLs (first or redirected to) may be fetched.
    pub allow_http: bool,
    /// Whether to follow redirects (by the rules above) or return them to the caller.
    pub follow_redirects: bool,
    /// An `Authorization` header value, marked sensitive so that no log shows it.
    pub authorization: Option<HeaderValue>,
}

impl FetchRequest {
    /// A GET that follows redirects, https only.
    pub fn get(url: Url) -> Self {
        Self { url, post: None, allow_http: false, follow_redirects: true, authorization: None }
    }

    /// A POST of `body` with this content type, https only, redirects returned to the caller.
    pub fn post(url: Url, content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            url,
            post: Some((content_type, body)),
            allow_http: false,
            follow_redirects: false,
            authorization: None,
        }
    }

    /// Allows plain http.
    #[must_use]
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Returns redirects to the caller instead of following them.
    #[must_use]
    pub fn without_following_redirects(mut self) -> Self {
        self.follow_redirects = false;
        self
    }

    /// Sends this `Authorization` header (marked sensitive).
    #[must_use]
    pub fn authorization(mut self, mut value: HeaderValue) -> Self {
        value.set_sensitive(true);
        self.authorization = Some(value);
        self
    }
}

impl GuardedHttp {
    /// Builds the client, trusting `extra_roots` besides the system's.
    #[cfg(test)]
    pub(crate) fn new(
        dns: Dns,
        options: FetchOptions,
        extra_roots: Vec<CertificateDer<'static>>,
    ) -> Result<Self, SetupError> {
        Self::with_tls(dns, options, tls::tls_config(extra_roots)?)
    }

    /// Builds the client with a TLS configuration made elsewhere (so that the system's roots
    /// are loaded once); its ALPN is set to `http/1.1`.
    ///
    /// # Errors
    /// [`SetupError::HttpClient`] when the client cannot be set up.
    pub(crate) fn with_tls(
        dns: Dns,
        options: FetchOptions,
        mut tls: rustls::ClientConfig,
    ) -> Result<Self, SetupError> {
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let resolver = GuardedResolver { dns, policy: options.policy.clone() };
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(resolver)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(concat!("nativeauth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SetupError::HttpClient)?;
        Ok(Self { client, options: Arc::new(options) })
    }

    /// Fetches a URL, following redirects by the rules above. Statuses other than redirects
    /// are returned as they are (the caller decides what a 404 means).
    ///
    /// # Errors
    /// [`FetchError`]: the guard, the scheme rule, redirect limits and loops, timeouts,
    /// connection and TLS failures, oversized bodies.
    pub async fn fetch(&self, request: &FetchRequest) -> Result<Fetched, FetchError> {
        let mut url = request.url.clone();
        let mut seen = HashSet::new();
        let mut https_end_to_end = true;
        for redirects in 0..=self.options.max_redirects {
            if !seen.insert(url.clone()) {
                return Err(FetchError::RedirectLoop { url: url.to_string() });
            }
            self.check_url(&url, request.allow_http)?;
            https_end_to_end &= url.scheme() == "https";
            let builder = match &request.post {
                Some((content_type, body)) => self
                    .client
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, HeaderValue::from_static(content_type))
                    .body(body.clone()),
                None => self.client.get(url.clone()),
            };
            let builder = match &request.authorization {
                Some(value) => builder.header(reqwest::header::AUTHORIZATION, value.clone()),
                None => builder,
            };
            tracing::debug!(%url, "fetch");
            let response = builder.send().await.map_err(|e| send_error(&url, &e))?;
            let status = response.status();
            let www_authenticate: Vec<String> = response
                .headers()
                .get_all(reqwest::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .map(|value| value.chars().take(1024).collect())
                .take(16)
                .collect();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|location| url.join(location).ok())
                    .ok_or_else(|| FetchError::BadRedirect { url: url.to_string() })?;
                if !request.follow_redirects {
                    return Ok(Fetched {
                        url,
                        status,
                        body: Vec::new(),
                        https_end_to_end,
                        redirects,
                        location: Some(next),
                        www_authenticate,
                    });
                }
                tracing::debug!(from = %url, to = %next, "redirect");
                url = next;
                let _ = redirects;
                continue;
            }
            let body = tls::read_body_capped(response, self.options.body_limit).await.map_err(
                |e| match e {
                    BodyError::TooLarge { limit } => {
                        FetchError::BodyTooLarge { url: url.to_string(), limit }
                    }
                    other => FetchError::Failed { url: url.to_string(), reason: other.to_string() },
                },
            )?;
            return Ok(Fetched {
                url,
                status,
                body,
                https_end_to_end,
                redirects,
                location: None,
                www_authenticate,
            });
        }
        Err(FetchError::TooManyRedirects {
            url: url.to_string(),
            limit: self.options.max_redirects,
        })
    }

    /// The per-hop checks: scheme, and the guard for IP-literal hosts (named hosts are checked
    /// by the resolver).
    fn check_url(&self, url: &Url, allow_http: bool) -> Result<(), FetchError> {
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            _ => return Err(FetchError::InsecureScheme { url: url.to_string() }),
        }
        let host = url.host_str().unwrap_or_default();
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.options.policy.check(host, ip.into())?,
            Some(url::Host::Ipv6(ip)) => self.options.policy.check(host, ip.into())?,
            Some(url::Host::Domain(_)) => {}
            None => {
                return Err(FetchError::Failed { url: url.to_string(), reason: "no host".into() });
            }
        }
        Ok(())
    }
}

/// Maps a reqwest send error, finding our guard or DNS errors in its source chain.
fn send_error(url: &Url, error: &reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(guard) = cause.downcast_ref::<GuardError>() {
            return FetchError::Guard(guard.clone());
        }
        if cause.downcast_ref::<NoAddress>().is_some() {
            return FetchError::NoAddress { url: url.to_string() };
        }
        if let Some(dns) = cause.downcast_ref::<super::dns::DnsError>() {
            if dns.is_timeout() {
                return FetchError::Timeout { url: url.to_string() };
            }
            return FetchError::Failed { url: url.to_string(), reason: dns.to_string() };
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return FetchError::Timeout { url: url.to_string() };
    }
    let reason = match std::error::Error::source(error) {
        Some(cause) => format!("{}: {}", failure_kind(error), root_cause(cause)),
        None => failure_kind(error).to_owned(),
    };
    FetchError::Failed { url: url.to_string(), reason }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// What kind of failure a reqwest error is, without its URL.
fn failure_kind(error: &reqwest::Error) -> &'static str {
    if error.is_connect() {
        "connection failed"
    } else if error.is_request() {
        "request failed"
    } else if error.is_body() || error.is_decode() {
        "reading the response failed"
    } else {
        "HTTP failure"
    }
}
