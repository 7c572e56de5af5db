//! The Content-Security-Policy of every answer.
//!
//! `middleware` makes a fresh nonce for each request and hands it to the render (through the
//! request's extensions; `provide_request_nonce` makes it the nonce Leptos puts on its inline
//! hydration and resource scripts). An HTML answer then gets `page(nonce)`: scripts only from
//! this origin or with that nonce, the WebAssembly compile (`'wasm-unsafe-eval'`), fetches only
//! to this origin, and no framing. Every other answer gets `STATIC`, which allows no script.
//! An answer that set its own policy keeps it.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use http::HeaderValue;

/// For answers that are not console pages, and for HTML pages without scripts.
pub const STATIC: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of a console page whose inline scripts carry `nonce`.
pub fn page(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         connect-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
    )
}

/// This request's nonce, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestNonce(pub String);

/// Makes the nonce, runs the request, and sets the policy (see the module comment).
pub async fn middleware(mut req: Request, next: Next) -> Response {
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
    req.extensions_mut().insert(RequestNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if headers.contains_key(CONTENT_SECURITY_POLICY) {
        return res;
    }
    let html = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let policy = if html {
        HeaderValue::from_str(&page(&nonce)).ok()
    } else {
        None
    };
    headers.insert(
        CONTENT_SECURITY_POLICY,
        policy.unwrap_or(HeaderValue::from_static(STATIC)),
    );
    res
}

/// For the render's context: makes this request's nonce the one Leptos puts on its scripts.
/// Call it after Leptos has provided the request's parts (in the additional context).
pub fn provide_request_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<RequestNonce>().cloned());
    if let Some(RequestNonce(n)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(n));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_policy_allows_inline_script_or_framing() {
        for p in [super::STATIC.to_string(), super::page("abc")] {
            assert!(
                !p.contains("unsafe-inline") && !p.contains("'unsafe-eval'"),
                "{p}"
            );
            assert!(p.contains("frame-ancestors 'none'"), "{p}");
        }
        assert!(super::page("abc").contains("'nonce-abc'"));
    }
}
