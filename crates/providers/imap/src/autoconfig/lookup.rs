//! Looking up autoconfig documents: the candidate URLs of a domain, and one fetch with its
//! trace step.

use nativeauth_core::plugin::{DiscoveryContext, FetchError, is_host_name};
use nativeauth_core::{EmailAddress, Outcome, SourceError, Url, UrlPorts};
use reqwest::StatusCode;

use super::parse::{AutoconfigDocument, parse_autoconfig};

/// `https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>` (or `http`).
pub fn subdomain_url(
    domain: &str,
    email: &EmailAddress,
    https: bool,
    ports: UrlPorts,
) -> Option<Url> {
    let url = ports.url(&format!("autoconfig.{domain}"), "/mail/config-v1.1.xml", https)?;
    Some(with_address(url, email))
}

/// `https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=<address>`.
pub fn well_known_url(
    domain: &str,
    email: &EmailAddress,
    https: bool,
    ports: UrlPorts,
) -> Option<Url> {
    let url = ports.url(domain, "/.well-known/autoconfig/mail/config-v1.1.xml", https)?;
    Some(with_address(url, email))
}

/// The ISPDB URL of a domain: the base URL with the domain appended as one path segment
/// (never the address). `None` unless `domain` is a valid host name, so that nothing from DNS
/// can turn into another host or path (`Url::join` would read `\/` as `//`).
pub fn ispdb_url(base: &Url, domain: &str) -> Option<Url> {
    if !is_host_name(domain) {
        return None;
    }
    let mut url = base.clone();
    url.path_segments_mut().ok()?.pop_if_empty().push(domain.trim_end_matches('.'));
    Some(url)
}

fn with_address(mut url: Url, email: &EmailAddress) -> Url {
    url.query_pairs_mut().append_pair("emailaddress", email.as_str());
    url
}

/// An autoconfig document found at a URL.
#[derive(Debug, Clone)]
pub struct FoundConfig {
    /// The parsed document.
    pub document: AutoconfigDocument,
    /// Where it was finally served from.
    pub url: Url,
    /// Whether every hop was https.
    pub https_end_to_end: bool,
}

/// Fetches and parses one autoconfig URL, recording a trace step under `source`.
///
/// "Nothing here" — a 404, a host that does not resolve, a body that is not autoconfig — is
/// `Ok(None)`. Timeouts, refused targets and network failures are errors.
///
/// # Errors
/// [`SourceError`] as described.
pub async fn fetch_config(
    ctx: &DiscoveryContext,
    source: &str,
    url: &Url,
    allow_http: bool,
) -> Result<Option<FoundConfig>, SourceError> {
    let timer = ctx.timer(source, url.as_str());
    let fetched = match ctx.fetch(url, allow_http).await {
        Ok(fetched) => fetched,
        Err(FetchError::NoAddress { .. }) => {
            timer.finish(Outcome::Nothing, "the host name does not resolve");
            return Ok(None);
        }
        Err(error) => {
            // A guard refusal stays one (`SourceError::is_refused`): the report must show it.
            let error = SourceError::from(error);
            timer.fail(&error);
            return Err(error);
        }
    };
    if fetched.status == StatusCode::NOT_FOUND || fetched.status == StatusCode::GONE {
        timer.finish(Outcome::Nothing, &format!("HTTP {}", fetched.status.as_u16()));
        return Ok(None);
    }
    if fetched.status != StatusCode::OK {
        timer.finish(Outcome::Error, &format!("HTTP {}", fetched.status));
        return Err(SourceError::Status { url: url.to_string(), status: fetched.status.as_u16() });
    }
    let text = String::from_utf8_lossy(&fetched.body);
    match parse_autoconfig(&text) {
        Ok(document) => {
            let via = if fetched.https_end_to_end { "https" } else { "plain http" };
            let detail = format!(
                "{} incoming, {} outgoing server(s) over {via}{}",
                document.incoming.len(),
                document.outgoing.len(),
                if fetched.redirects > 0 {
                    format!(" after {} redirect(s)", fetched.redirects)
                } else {
                    String::new()
                }
            );
            timer.finish(Outcome::Found, &detail);
            Ok(Some(FoundConfig {
                document,
                url: fetched.url,
                https_end_to_end: fetched.https_end_to_end,
            }))
        }
        Err(error) => {
            timer.finish(Outcome::Nothing, &format!("not a usable autoconfig file: {error}"));
            Ok(None)
        }
    }
}
