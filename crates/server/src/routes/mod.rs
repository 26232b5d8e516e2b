//! The HTTP routes, one module per family: the page, the JSON API, the form for browsers
//! without JavaScript, OAuth, the page's assets, and operations. Each checks the request (CSRF,
//! origin, rate limits), calls [`crate::flow`], and answers as HTML or JSON.

pub(crate) mod api;
pub(crate) mod assets;
mod exchange;
mod extract;
pub(crate) mod form;
pub(crate) mod oauth;
pub(crate) mod ops;
pub(crate) mod page;
mod responses;
mod sign_in;
