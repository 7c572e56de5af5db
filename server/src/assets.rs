//! Serving the site's files and compressing answers.
//!
//! - `/pkg/…` (the WebAssembly, its JavaScript and the stylesheet) comes from the site folder,
//!   precompressed: `cargo leptos build --release --precompress` writes `.br` and `.gz` next to
//!   each file, and the one the browser accepts is sent. Hashed names (release builds) are kept
//!   for a year (`immutable`); unhashed ones (development) are revalidated every time.
//! - Other answers are compressed on the fly, except those marked `no-store`: those carry a
//!   plaintext secret or token, and compressing a secret next to text the requester chose
//!   (a name, a scope) would let a network observer guess it from the sizes (BREACH). Pages
//!   hold no secret: only hints, and form tokens that guard nothing but a repeat.
//! - Pages and other answers without a cache rule of their own get `no-cache`.

use std::path::Path;

use axum::http::{header, HeaderValue, Response, StatusCode};
use tower_http::compression::predicate::{And, DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// Files whose names change with their content may be kept for a year.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `/pkg`: the site's bundle, served precompressed when the browser accepts it.
pub fn pkg_dir(site_root: &str, pkg_dir: &str) -> ServeDir {
    ServeDir::new(Path::new(site_root).join(pkg_dir))
        .precompressed_br()
        .precompressed_gzip()
}

/// The cache rule of a `/pkg` answer: a year for a file found under a hashed name, none for
/// anything else (an unhashed name, or a file not found).
pub fn pkg_cache_rule(hashed: bool, status: StatusCode) -> HeaderValue {
    let found = status.is_success() || status == StatusCode::NOT_MODIFIED;
    HeaderValue::from_static(if hashed && found {
        IMMUTABLE
    } else {
        "no-cache"
    })
}

/// Compresses what may be compressed (see the module comment).
#[derive(Clone, Copy)]
pub struct NotNoStore;

impl Predicate for NotNoStore {
    fn should_compress<B>(&self, response: &Response<B>) -> bool
    where
        B: http_body::Body,
    {
        !response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"))
    }
}

pub fn compression() -> CompressionLayer<And<DefaultPredicate, NotNoStore>> {
    // A middle quality: on-the-fly brotli at its best level takes far longer than the page.
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Precise(4))
        .compress_when(DefaultPredicate::new().and(NotNoStore))
}

/// `no-cache` for every answer that has no rule of its own.
pub fn revalidate_by_default() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_found_hashed_files_are_kept() {
        assert_eq!(pkg_cache_rule(true, StatusCode::OK), IMMUTABLE);
        assert_eq!(pkg_cache_rule(true, StatusCode::NOT_MODIFIED), IMMUTABLE);
        assert_eq!(pkg_cache_rule(true, StatusCode::NOT_FOUND), "no-cache");
        assert_eq!(pkg_cache_rule(false, StatusCode::OK), "no-cache");
    }
}
