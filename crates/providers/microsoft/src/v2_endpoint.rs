//! Microsoft 365's v2 autodiscover endpoint (`autodiscover.json`): the pure parser of its answer.

use serde::Deserialize;

/// Why an `autodiscover.json` answer could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an autodiscover.json answer: {0}")]
pub struct V2Error(String);

/// The Microsoft 365 v2 endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct V2Endpoint {
    /// The protocol asked for (`EWS`, `ActiveSync`).
    #[serde(rename = "Protocol")]
    pub protocol: String,
    /// Its URL.
    #[serde(rename = "Url")]
    pub url: String,
}

/// Parses the answer of `autodiscover.json?Email=…&Protocol=EWS`.
///
/// ```
/// use nativeauth_microsoft::parse_v2_json;
///
/// let endpoint = parse_v2_json(r#"{"Protocol":"EWS","Url":"https://outlook.office365.com/EWS/Exchange.asmx"}"#)?;
/// assert_eq!(endpoint.url, "https://outlook.office365.com/EWS/Exchange.asmx");
/// # Ok::<(), nativeauth_microsoft::V2Error>(())
/// ```
///
/// # Errors
/// [`V2Error`] when the text is not that answer (error objects such as
/// `{"ErrorCode": …, "ErrorMessage": …}` included).
pub fn parse_v2_json(text: &str) -> Result<V2Endpoint, V2Error> {
    #[derive(Deserialize)]
    struct ErrorAnswer {
        #[serde(rename = "ErrorCode")]
        code: String,
        #[serde(rename = "ErrorMessage", default)]
        message: String,
    }
    if let Ok(error) = serde_json::from_str::<ErrorAnswer>(text) {
        return Err(V2Error(format!("{}: {}", error.code, error.message)));
    }
    let endpoint: V2Endpoint = serde_json::from_str(text).map_err(|e| {
        V2Error(format!(
            "line {} column {}: {}",
            e.line(),
            e.column(),
            match e.classify() {
                serde_json::error::Category::Data => "Protocol or Url missing",
                _ => "not JSON",
            }
        ))
    })?;
    if !endpoint.url.starts_with("https://") {
        return Err(V2Error("the URL is not https".into()));
    }
    Ok(endpoint)
}
