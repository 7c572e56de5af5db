//! The HTTP edge of signing people in to apps: `GET`/`POST /oauth2/authorize` with its sign-in
//! and consent pages, `GET /oauth2/userinfo`, `GET /oauth2/logout` (RP-initiated logout) and
//! the pages' stylesheet. The decisions are `app::oauth::flow`; this file reads the request
//! (query or form, cookies, the CSRF token) and writes the answer (a page, or a 303).
//!
//! Every answer is `no-store` and cannot be framed. The pages' forms carry a CSRF token that
//! must equal the one in a `SameSite=Lax` cookie (double submit), and a `POST` from another
//! origin is refused.

use app::infra::edge::no_store_headers;
use app::infra::hosts;
use app::infra::session::{self as app_session, cookie_value};
use app::infra::state::AppState;
use app::infra::RequestMeta;
use app::oauth::flow::{self, Action, FlowContext, Step, OWN_FIELDS};
use app::oauth::limits::FailureLimiter;
use app::oauth::{pages, userinfo};
use app::people::session;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cookie::SameSite;
use sha2::Digest;
use subtle::ConstantTimeEq;

/// Largest authorization request body read (a form with the request and a password).
const MAX_FORM: usize = 16 * 1024;

const CSRF_COOKIE: &str = "clavis_csrf";
const SECURE_CSRF_COOKIE: &str = "__Host-clavis_csrf";

fn csrf_name(state: &AppState) -> &'static str {
    if state.settings.cookie_secure {
        SECURE_CSRF_COOKIE
    } else {
        CSRF_COOKIE
    }
}

/// The page's CSRF token: the cookie's, when it has one that looks right, else a new one
/// (then `Some` cookie to set).
pub(crate) fn csrf_token(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    // Only a token this server made is kept; any other cookie is replaced, never adopted.
    if let Some(v) = cookie_value(headers, csrf_name(state))
        .filter(|v| app::infra::csrf::verify(&state.settings, v))
    {
        return (v, None);
    }
    let token = app::infra::csrf::issue(&state.settings);
    // Lax, not Strict: an app sends the person here from its own site, and a Strict cookie
    // would not come along, so each arrival would replace it and break the forms of other
    // tabs. Cross-site POSTs still carry no Lax cookie.
    let cookie = app_session::cookie(
        &state.settings,
        csrf_name(state),
        &token,
        SameSite::Lax,
        None,
    );
    (token, Some(cookie))
}

/// Whether a form from Clavis's own page is genuine: same origin, the cookie a token this
/// server made, and the CSRF field equal to it.
pub(crate) fn csrf_ok(state: &AppState, headers: &HeaderMap, sent: &str) -> bool {
    let origin_ok = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            hosts::is_allowed_origin(&state.settings, origin, host)
        }
    };
    let cookie = cookie_value(headers, csrf_name(state)).unwrap_or_default();
    origin_ok
        && app::infra::csrf::verify(&state.settings, &cookie)
        && bool::from(cookie.as_bytes().ct_eq(sent.as_bytes()))
}

/// The `form-action` sources of a page whose form ends in a redirect to `redirect_uri`
/// (browsers check the redirect against it too).
pub(crate) fn form_action(redirect_uri: &str) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {
            format!("'self' {}", u.origin().ascii_serialization())
        }
        Ok(u) => format!("'self' {}:", u.scheme()),
        Err(_) => "'self'".to_string(),
    }
}

pub(crate) fn html(status: StatusCode, body: String, form_action_src: &str) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
         form-action {form_action_src}; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    no_store_headers(h);
    res
}

pub(crate) fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    no_store_headers(res.headers_mut());
    res
}

pub(crate) fn meta(headers: &HeaderMap, ip: String) -> RequestMeta {
    RequestMeta {
        ip: Some(ip),
        request_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        once: None,
    }
}

pub(crate) fn peer_ip(req: &Request) -> String {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

pub(crate) fn server_error() -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::error("Something went wrong at Clavis. Try again in a moment."),
        "'none'",
    )
}

/// The request's parameters: the form of a `POST` (at most `MAX_FORM` bytes), else the query.
pub(crate) async fn params(
    parts: &axum::http::request::Parts,
    body: axum::body::Body,
) -> Result<Vec<(String, String)>, Response> {
    let raw: Vec<u8> = if parts.method == Method::POST {
        match axum::body::to_bytes(body, MAX_FORM).await {
            Ok(b) => b.to_vec(),
            Err(_) => {
                return Err(html(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    pages::error("The request is too large."),
                    "'none'",
                ))
            }
        }
    } else {
        parts.uri.query().unwrap_or("").as_bytes().to_vec()
    };
    Ok(url::form_urlencoded::parse(&raw).into_owned().collect())
}

/// Requests to the authorization endpoint allowed per person session, and per address, in
/// each window of `LIMIT_WINDOW_MS`: far more than a person signing in to their apps makes,
/// far fewer than a page that loops `prompt=none` to fill the codes table.
pub const MAX_PER_SESSION: u32 = 30;
pub const MAX_PER_ADDRESS: u32 = 300;
const LIMIT_WINDOW_MS: i64 = 60_000;

/// Seconds to wait, when this request's session or address has used up its requests;
/// otherwise counts the request against both.
fn over_limit(state: &AppState, ip: &str, token: Option<&str>) -> Option<u64> {
    let now = app::infra::db::now_ms();
    let limiter = &state.authorize_limiter;
    // An IPv6 host usually holds a whole /64: the address counts by that prefix.
    let address = match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.to_string(),
    };
    let ip_key = format!("authorize {}", FailureLimiter::ip_key(&address));
    // The session by a digest of its token: the limiter's keys are not secrets.
    let session_key = token.map(|t| {
        let digest = sha2::Sha256::digest(t.as_bytes());
        format!(
            "authorize session {}",
            URL_SAFE_NO_PAD.encode(&digest[..16])
        )
    });
    let blocked = limiter
        .blocked(&ip_key, MAX_PER_ADDRESS, LIMIT_WINDOW_MS, now)
        .or_else(|| {
            session_key
                .as_ref()
                .and_then(|k| limiter.blocked(k, MAX_PER_SESSION, LIMIT_WINDOW_MS, now))
        });
    if blocked.is_none() {
        limiter.fail(&ip_key, LIMIT_WINDOW_MS, now);
        if let Some(k) = &session_key {
            limiter.fail(k, LIMIT_WINDOW_MS, now);
        }
    }
    blocked
}

/// `GET` and `POST /oauth2/authorize`.
pub async fn authorize(State(state): State<AppState>, req: Request) -> Response {
    let ip = peer_ip(&req);
    let (parts, body) = req.into_parts();
    let all = match params(&parts, body).await {
        Ok(all) => all,
        Err(res) => return res,
    };
    let headers = parts.headers;
    let field = |name: &str| {
        all.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let own = parts.method == Method::POST && all.iter().any(|(k, _)| k == "clavis_action");
    let action = if own {
        if !csrf_ok(&state, &headers, &field("csrf")) {
            return html(
                StatusCode::FORBIDDEN,
                pages::error(
                    "This page was open too long or came from another site. Go back to the app and start again.",
                ),
                "'none'",
            );
        }
        match field("clavis_action").as_str() {
            "sign_in" => Action::SignIn {
                username: field("username"),
                password: field("password"),
            },
            "allow" => Action::Allow {
                subject: field("subject"),
            },
            "deny" => Action::Deny {
                subject: field("subject"),
            },
            _ => Action::None,
        }
    } else {
        Action::None
    };
    let pairs: Vec<(String, String)> = all
        .into_iter()
        .filter(|(k, _)| !OWN_FIELDS.contains(&k.as_str()))
        .collect();
    let token = session::token_from_headers(&headers, &state.settings);
    // Only requests that can write count: a session's (codes, consents) and Clavis's own
    // forms. A cross-site GET without the cookie (an image tag) cannot use up anyone's share.
    let counts = token.is_some() || own;
    let limited = if counts {
        over_limit(&state, &ip, token.as_deref())
    } else {
        None
    };
    if let Some(secs) = limited {
        let mut res = html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::error(&format!(
                "Too many sign-in requests came from here in a short time. Wait {secs} seconds, then go back to the app and try again."
            )),
            "'none'",
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return res;
    }
    let cx = FlowContext {
        db: &state.db,
        settings: &state.settings,
        hasher: &state.passwords,
    };
    let outcome =
        match flow::decide(&cx, &meta(&headers, ip), &pairs, token.as_deref(), action).await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "authorization endpoint failed");
                return server_error();
            }
        };
    let (csrf, csrf_cookie) = csrf_token(&state, &headers);
    let mut res = match outcome.step {
        Step::ErrorPage(why) => html(StatusCode::BAD_REQUEST, pages::error(why), "'none'"),
        Step::Redirect(uri) => see_other(&uri),
        Step::SignIn {
            req,
            client,
            username,
            error,
            retry_after,
        } => {
            let status = match (&error, retry_after) {
                (_, Some(_)) => StatusCode::TOO_MANY_REQUESTS,
                (Some(_), None) => StatusCode::BAD_REQUEST,
                (None, None) => StatusCode::OK,
            };
            let body = pages::sign_in(
                &req,
                &client,
                &pairs,
                &csrf,
                &username,
                error.as_ref().map(|(f, m)| (*f, m.as_str())),
            );
            let mut res = html(status, body, &form_action(&req.redirect_uri));
            if let Some(secs) = retry_after {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            res
        }
        Step::Consent {
            req,
            client,
            person,
        } => {
            let body = pages::consent(&req, &client, &pairs, &csrf, &person);
            html(StatusCode::OK, body, &form_action(&req.redirect_uri))
        }
    };
    let h = res.headers_mut();
    if let Some(t) = &outcome.session {
        if let Ok(v) = HeaderValue::from_str(&session::set_cookie(&state.settings, t)) {
            h.append(header::SET_COOKIE, v);
        }
    }
    if let Some(c) = csrf_cookie {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    res
}

/// `GET` and `POST /oauth2/userinfo` with `Authorization: Bearer <access token>`.
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let Some(token) = token else {
        return bearer_error(None);
    };
    match userinfo::userinfo(
        &state.db,
        &state.signing_keys,
        &state.settings.issuer,
        &token,
    )
    .await
    {
        Ok(Ok(info)) => {
            let mut res = axum::Json(info).into_response();
            no_store_headers(res.headers_mut());
            res
        }
        Ok(Err(userinfo::Refusal::InvalidToken)) => bearer_error(Some("invalid_token")),
        Ok(Err(userinfo::Refusal::InsufficientScope)) => {
            let mut res = bearer_error(None);
            *res.status_mut() = StatusCode::FORBIDDEN;
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"clavis\", error=\"insufficient_scope\", scope=\"openid\"",
                ),
            );
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "userinfo failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// 401 with the `WWW-Authenticate` of RFC 6750 §3.
fn bearer_error(error: Option<&str>) -> Response {
    let value = match error {
        Some(e) => format!("Bearer realm=\"clavis\", error=\"{e}\""),
        None => "Bearer realm=\"clavis\"".to_string(),
    };
    let mut res = StatusCode::UNAUTHORIZED.into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    no_store_headers(res.headers_mut());
    res
}

/// `GET /oauth2/sign-in.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        pages::CSS,
    )
        .into_response()
}
