//! The middleware of the router (see `router` in the crate root): statuses of server-function
//! errors, the Host check, HSTS, request ids and metrics.

use std::time::Instant;

use app::infra::hosts;
use app::infra::metrics::{method_label, RequestLabels};
use app::infra::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Largest request body accepted anywhere. Forms here are small; larger bodies are refused
/// before they are read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Errors raised before a server function's body runs (its arguments could not be read) leave
/// Leptos's default 500. This gives them the status their error type names.
pub(crate) async fn server_fn_error_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "error body unreadable").into_response()
        }
    };
    if let Ok(err) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Refuses a request whose `Host` names a host this server does not answer for (see
/// `app::infra::hosts`). A request without `Host` (HTTP/1.0, or a test) passes: browsers always
/// send one, so it cannot carry a rebinding attack.
pub(crate) async fn check_host(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .map(|v| v.to_str().ok().and_then(hosts::host_name));
    match host {
        Some(Some(name)) if hosts::is_allowed(&state.settings, &name) => next.run(req).await,
        None => next.run(req).await,
        Some(_) => (
            StatusCode::BAD_REQUEST,
            "This server does not answer for that host name. Add it to allowed_hosts if it should.\n",
        )
            .into_response(),
    }
}

/// Tells browsers to use https only, when the issuer is https (one year).
pub(crate) async fn strict_transport(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    if state.settings.cookie_secure {
        res.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// Drops a request id the client sent: ids are made here (see `router`), so that a log line
/// can never carry a value someone else chose.
pub(crate) async fn drop_client_request_id(mut req: Request, next: Next) -> Response {
    req.headers_mut().remove("x-request-id");
    next.run(req).await
}

/// Counts every request by method and status, and times it.
pub(crate) async fn record_metrics(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let method = method_label(req.method());
    let start = Instant::now();
    let res = next.run(req).await;
    state.metrics.latency.observe(start.elapsed().as_secs_f64());
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            status: res.status().as_u16(),
        })
        .inc();
    res
}
