//! The page's script and styles (the brand colour's among them).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::app::App;

pub(super) fn asset(content_type: &'static str, body: impl Into<Body>) -> Response {
    let headers =
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=300")];
    (headers, body.into()).into_response()
}

/// `GET /static/app.css`.
pub(crate) async fn app_css() -> Response {
    asset("text/css; charset=utf-8", include_str!("../../assets/app.css"))
}

/// `GET /static/app.js`.
pub(crate) async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../../assets/app.js"))
}

/// `GET /static/brand.css`: the configured colour.
pub(crate) async fn brand_css(State(app): State<Arc<App>>) -> Response {
    asset("text/css; charset=utf-8", app.brand_css.clone())
}
