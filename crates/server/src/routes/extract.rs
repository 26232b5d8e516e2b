//! What the JSON API's routes take from a request before their own checks.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::responses::json_error;
use crate::app::App;
use crate::guard::{Caller, caller, is_json};

/// A call of the JSON API from a page: `Content-Type: application/json` (else 415: a form or
/// text body is what another site's page can post without asking), and not from another
/// site's page (else 403 `cross-site`). The body stays bytes: each route parses its own shape
/// after its own checks.
pub(crate) struct PageJson {
    /// The request's headers.
    pub(crate) headers: HeaderMap,
    /// The body, unparsed.
    pub(crate) body: Bytes,
    /// Who sent it: this server's page (or an allowed origin), or no browser at all.
    pub(crate) caller: Caller,
}

impl FromRequest<Arc<App>> for PageJson {
    type Rejection = Response;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, Response> {
        let headers = request.headers().clone();
        if !is_json(&headers) {
            return Err(json_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send Content-Type: application/json",
            ));
        }
        let caller = caller(app, &headers);
        if caller == Caller::CrossSite {
            return Err(json_error(
                StatusCode::FORBIDDEN,
                "cross-site",
                "cross-site requests are refused",
            ));
        }
        let body = Bytes::from_request(request, app).await.map_err(IntoResponse::into_response)?;
        Ok(Self { headers, body, caller })
    }
}
