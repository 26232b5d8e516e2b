//! The token endpoint's HTTP: a bounded reqwest call for the `oauth2` crate, and the
//! provider's error code when it refuses.

use super::*;

/// The provider's error code (at most 64 characters), for the log.
pub(super) fn error_code(response: &StandardErrorResponse<BasicErrorResponseType>) -> String {
    response.error().as_ref().chars().take(64).collect()
}

/// Why the token request failed on the way.
#[derive(Debug, thiserror::Error)]
pub(super) enum TokenHttpError {
    #[error("token endpoint unreachable")]
    Send(#[source] reqwest::Error),
    #[error("token response larger than {TOKEN_RESPONSE_LIMIT} bytes")]
    TooLarge,
    #[error("invalid token response")]
    Response(#[source] oauth2::http::Error),
}

/// The server's outbound client as `oauth2`'s HTTP client. A named type with a boxed `Send`
/// future: a closure's future is not `Send` for every lifetime, which axum handlers need.
pub(super) struct TokenClient(pub(super) reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for TokenClient {
    type Error = TokenHttpError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<oauth2::HttpResponse, TokenHttpError>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(token_request(&self.0, request))
    }
}

/// The token request over the server's outbound client (its TLS roots, timeout, no
/// redirects), the response bounded in size.
pub(super) async fn token_request(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, TokenHttpError> {
    let (parts, body) = request.into_parts();
    let mut response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(TokenHttpError::Send)?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(TokenHttpError::Send)? {
        if body.len() + chunk.len() > TOKEN_RESPONSE_LIMIT {
            return Err(TokenHttpError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let mut built = oauth2::http::Response::builder()
        .status(status)
        .body(body)
        .map_err(TokenHttpError::Response)?;
    *built.headers_mut() = headers;
    Ok(built)
}
