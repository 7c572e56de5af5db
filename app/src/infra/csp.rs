//! The Content-Security-Policy of every answer.
//!
//! A console page gets a policy with the nonce Leptos put on its inline hydration and resource
//! scripts (a fresh one per answer): scripts only from this origin or with that nonce, the
//! WebAssembly compile (`'wasm-unsafe-eval'`), fetches only to this origin, and no framing.
//! Every other answer (JSON, the no-JavaScript one-time page, files) gets `STATIC`, which
//! allows no script at all.

use http::header::CONTENT_SECURITY_POLICY;
use http::HeaderValue;

/// For answers that are not console pages.
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

/// Called while the shell renders: gives the answer the page policy with this render's nonce.
pub fn set_for_page() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(v) = HeaderValue::from_str(&page(&nonce)) {
        res.insert_header(CONTENT_SECURITY_POLICY, v);
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
