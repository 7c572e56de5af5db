//! The edge of every server function: find the state, check that the request came from this
//! site, find the session and check the role, and turn service errors into safe answers with
//! the right HTTP status. Also the `no-store` headers of every answer that carries a plaintext,
//! for server functions and axum handlers alike.

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use http::header::{ACCEPT, CACHE_CONTROL, HOST, ORIGIN, PRAGMA, REFERER, RETRY_AFTER};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::hosts;
use super::session::{self, SessionAccount};
use super::settings::Settings;
use super::state::AppState;
use super::{RequestMeta, SvcError, SvcResult};
use crate::accounts::Role;
use crate::error::AppError;

/// The headers of an answer that carries a plaintext: no cache, shared or private, may keep it.
pub const NO_STORE: [(HeaderName, HeaderValue); 2] = [
    (CACHE_CONTROL, HeaderValue::from_static("no-store")),
    (PRAGMA, HeaderValue::from_static("no-cache")),
];

/// Marks an axum answer with `NO_STORE`.
pub fn no_store_headers(headers: &mut HeaderMap) {
    for (name, value) in NO_STORE {
        headers.insert(name, value);
    }
}

/// Marks the answer of the running server function with `NO_STORE`.
pub fn no_store() {
    if let Some(res) = use_context::<ResponseOptions>() {
        for (name, value) in NO_STORE {
            res.insert_header(name, value);
        }
    }
}

pub fn request_meta(parts: &Parts) -> RequestMeta {
    RequestMeta {
        ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip().to_string()),
        request_id: parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        once: None,
    }
}

/// `meta` with the single-use key of a form whose change must not be made twice (see
/// `infra::once`): the form's token, sent by `actor`, for `content` (the form's other
/// arguments). A missing or malformed token is bad input.
pub fn with_form_token(
    meta: RequestMeta,
    actor: &str,
    form_token: &str,
    content: &impl serde::Serialize,
) -> SvcResult<RequestMeta> {
    if !crate::ui::form_token::is_form_token(form_token) {
        return Err(AppError::validation(
            "form",
            "This form is incomplete or out of date. Reload the page and send it again.",
        )
        .into());
    }
    Ok(RequestMeta {
        once: Some(super::SingleUse::form(actor, form_token, content)),
        ..meta
    })
}

fn parts() -> SvcResult<Parts> {
    use_context::<Parts>()
        .ok_or_else(|| SvcError::Internal("request parts missing from context".into()))
}

pub fn state() -> SvcResult<AppState> {
    use_context::<AppState>()
        .ok_or_else(|| SvcError::Internal("AppState missing from context".into()))
}

/// True when `Origin` (or, failing that, `Referer`) names this site: either the configured
/// issuer origin or the origin of the `Host` the request was sent to. A request with neither
/// header is refused: every browser sends `Origin` on a POST.
pub fn is_same_origin(parts: &Parts, settings: &Settings) -> bool {
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let origin = match header(ORIGIN) {
        Some(o) if o != "null" => o.to_string(),
        Some(_) => return false,
        None => match header(REFERER).and_then(|r| url::Url::parse(r).ok()) {
            Some(u) => u.origin().ascii_serialization(),
            None => return false,
        },
    };
    hosts::is_allowed_origin(settings, &origin, header(HOST))
}

/// Runs the body of a server function: refuses cross-site requests, then maps any error to
/// a safe `AppError` and sets the HTTP status (plus `Retry-After` when throttled). Plain form
/// posts (no JavaScript) keep the redirect Leptos gives them, so that the page shows the error.
pub async fn edge<T, F>(body: F) -> Result<T, AppError>
where
    F: Future<Output = SvcResult<T>>,
{
    let parts = match parts() {
        Ok(p) => p,
        Err(e) => return Err(to_app_error(e, None)),
    };
    let meta = request_meta(&parts);
    let result = match state() {
        // Page loads (GET) render server functions in-process; only real calls are POSTs.
        Ok(st)
            if parts.method != http::Method::GET
                && parts.method != http::Method::HEAD
                && !is_same_origin(&parts, &st.settings) =>
        {
            Err(SvcError::App(AppError::CrossSite))
        }
        Ok(_) => body.await,
        Err(e) => Err(e),
    };
    result.map_err(|e| {
        let err = match to_app_error(e, meta.request_id.as_deref()) {
            // The console links to the page of what was made; the part after `#` (which
            // secret a rotation made) is for the API.
            AppError::AlreadyApplied { href } => AppError::AlreadyApplied {
                href: href.split('#').next().unwrap_or_default().to_string(),
            },
            other => other,
        };
        let plain_form = is_plain_form(&parts);
        if let Some(res) = use_context::<ResponseOptions>() {
            if !plain_form {
                res.set_status(
                    StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                );
            }
            if let AppError::Throttled { retry_after_secs } = &err {
                res.insert_header(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            if let (AppError::AlreadyApplied { href }, true) = (&err, plain_form) {
                if let Ok(v) = HeaderValue::from_str(href) {
                    res.insert_header(HeaderName::from_static(super::once::ANSWER_HEADER), v);
                }
            }
        }
        err
    })
}

/// True for a plain HTML form post (no JavaScript): the browser wants a page back.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

fn is_plain_form(parts: &Parts) -> bool {
    wants_html(&parts.headers)
}

/// Adds a `Set-Cookie` header to the answer of the running server function.
pub fn set_cookie(cookie: &str) {
    if let (Some(res), Ok(v)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(cookie),
    ) {
        res.append_header(http::header::SET_COOKIE, v);
    }
}

/// Redirects a plain form post to `path` after success. Calls made by the hydrated app get
/// their answer as data instead and navigate themselves.
pub fn redirect_plain_form(path: &str) {
    if use_context::<Parts>().is_some_and(|p| is_plain_form(&p)) {
        leptos_axum::redirect(path);
    }
}

/// Logs what must not reach the browser and returns what may.
pub fn to_app_error(e: SvcError, request_id: Option<&str>) -> AppError {
    match e {
        SvcError::App(a) => a,
        other => {
            let request_id = request_id.unwrap_or("none").to_string();
            tracing::error!(%request_id, error = %other, "request failed");
            AppError::Internal { request_id }
        }
    }
}

/// Finds the caller's session and checks the role. `None` means any signed-in role.
/// Every server function calls this itself, whatever the UI shows or hides.
pub async fn authorize(
    required: Option<Role>,
) -> SvcResult<(AppState, SessionAccount, RequestMeta)> {
    let account = current_session().await?.ok_or(AppError::Unauthorized)?;
    if let Some(role) = required {
        if account.role != role {
            return Err(AppError::Forbidden.into());
        }
    }
    Ok((state()?, account, meta()?))
}

/// The caller's session, if any, without failing. For pages that adapt to who is looking.
pub async fn current_session() -> SvcResult<Option<SessionAccount>> {
    let st = state()?;
    let parts = parts()?;
    match session::token_from_headers(&parts.headers, &st.settings) {
        Some(token) => session::lookup(&st.db, &st.settings, &token).await,
        None => Ok(None),
    }
}

pub fn meta() -> SvcResult<RequestMeta> {
    Ok(request_meta(&parts()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_reach_the_browser_as_a_request_id_only() {
        let e = to_app_error(
            SvcError::Db(sqlx::Error::Protocol(
                "relation \"accounts\" does not exist".into(),
            )),
            Some("req-42"),
        );
        assert_eq!(
            e,
            AppError::Internal {
                request_id: "req-42".into()
            }
        );
        let shown = e.to_string();
        assert!(shown.contains("req-42"), "{shown}");
        assert!(!shown.contains("relation"), "no internals: {shown}");
        assert_eq!(e.status(), 500);
        // Safe errors pass through unchanged.
        let safe = to_app_error(SvcError::App(AppError::Forbidden), Some("x"));
        assert_eq!(safe, AppError::Forbidden);
    }

    #[test]
    fn same_origin_rules() {
        let parts = |headers: &[(&str, &str)]| {
            let mut b = http::Request::post("/api/x");
            for (k, v) in headers {
                b = b.header(*k, *v);
            }
            b.body(()).map(|r| r.into_parts().0)
        };
        let issuer = Settings {
            issuer_origin: "https://clavis.example".into(),
            ..Settings::default()
        };
        let issuer = &issuer;
        let ok = [
            vec![("origin", "https://clavis.example")],
            vec![
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000"),
            ],
            vec![("referer", "https://clavis.example/accounts?x=1")],
        ];
        for h in ok {
            assert!(is_same_origin(&parts(&h).unwrap(), issuer), "{h:?}");
        }
        let refused = [
            vec![],
            vec![("origin", "null")],
            vec![
                ("origin", "https://evil.example"),
                ("host", "clavis.example"),
            ],
            vec![("origin", "https://clavis.example.evil.test")],
            vec![("referer", "https://evil.example/https://clavis.example")],
            vec![("referer", "not a url")],
            // A name pointed at the listener matches the request's own Host: still refused.
            vec![
                ("origin", "http://attacker.example:3000"),
                ("host", "attacker.example:3000"),
            ],
        ];
        for h in refused {
            assert!(!is_same_origin(&parts(&h).unwrap(), issuer), "{h:?}");
        }
    }
}
