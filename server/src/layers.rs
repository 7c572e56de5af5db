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

/// Refuses a request whose `Host`, or the authority of its URI (HTTP/2's `:authority`, or an
/// absolute-form request line), names a host this server does not answer for (see
/// `app::infra::hosts`). Both are checked when both are there. A request with neither
/// (HTTP/1.0, or a test) passes: browsers always send one, so it cannot carry a rebinding
/// attack.
pub(crate) async fn check_host(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let header_host = req
        .headers()
        .get(header::HOST)
        .map(|v| v.to_str().ok().and_then(hosts::host_name));
    let authority = req.uri().authority().map(|a| hosts::host_name(a.host()));
    let refused = |h: &Option<Option<String>>| match h {
        Some(Some(name)) => !hosts::is_allowed(&state.settings, name),
        Some(None) => true,
        None => false,
    };
    if refused(&authority) {
        return refused_host();
    }
    match header_host {
        Some(Some(name)) if hosts::is_allowed(&state.settings, &name) => next.run(req).await,
        None => next.run(req).await,
        Some(_) => refused_host(),
    }
}

fn refused_host() -> Response {
    (
        StatusCode::BAD_REQUEST,
        "This server does not answer for that host name. Add it to allowed_hosts if it should.\n",
    )
        .into_response()
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

/// Answers a request whose handler panicked: a plain 500 that says nothing about the cause
/// (as problem+json, which the API documents and every other caller can read), instead of a
/// dropped connection. The panic itself is in the log (the panic hook writes it); the request's
/// transaction, if any, was dropped and so rolled back.
pub(crate) fn catch_panics(
) -> tower_http::catch_panic::CatchPanicLayer<fn(Box<dyn std::any::Any + Send + 'static>) -> Response>
{
    fn answer(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
        tracing::error!("a request handler panicked; answered 500");
        let body = serde_json::json!({
            "type": "urn:clavis:problem:internal",
            "title": "Internal error",
            "status": 500,
            "detail": "The server could not finish this request. Try again; if it keeps failing, \
                       tell the administrator the time of the request.",
        });
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
    tower_http::catch_panic::CatchPanicLayer::custom(answer as fn(_) -> Response)
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use axum::Router;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_gets_a_500_problem_and_the_server_goes_on() {
        async fn boom() -> &'static str {
            panic!("a bug")
        }
        let router = Router::new()
            .route("/boom", get(boom))
            .route("/ok", get(|| async { "fine" }))
            .layer(catch_panics());
        let res = router
            .clone()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(p["status"], 500);
        assert!(!String::from_utf8_lossy(&body).contains("a bug"));
        let res = router
            .oneshot(Request::get("/ok").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
}
