//! Reading requests of the admin API: JSON bodies (only `application/json`, unknown fields
//! refused) and query strings, each failure a problem that says what was wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::header::CONTENT_TYPE;
use http::request::Parts;
use http::StatusCode;
use serde::de::DeserializeOwned;

use super::problem::Problem;

/// The request's `Idempotency-Key` header (IETF draft httpapi-idempotency-key-header), if any:
/// `meta` then carries it as the change's single-use key, scoped to `actor`, with `content`
/// (the operation and its body) as the fingerprint. A malformed key is bad input.
pub fn idempotency_key(
    meta: app::infra::RequestMeta,
    headers: &http::HeaderMap,
    actor: &str,
    content: &impl serde::Serialize,
) -> Result<app::infra::RequestMeta, Problem> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(meta);
    };
    let key = raw.to_str().unwrap_or_default().trim();
    // A structured-field string is quoted; a bare token is taken as it is.
    let key = key
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .unwrap_or(key);
    if key.is_empty()
        || key.len() > 255
        || !key.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"')
    {
        return Err(Problem::field(
            "Idempotency-Key",
            "Give an Idempotency-Key of 1 to 255 visible ASCII characters, such as a UUID.",
        ));
    }
    Ok(app::infra::RequestMeta {
        once: Some(app::infra::SingleUse::api(actor, key, content)),
        ..meta
    })
}

/// A JSON body. An empty body reads as `T::default()` when `T` allows it (see `OptionalBody`).
pub struct Body<T>(pub T);

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Request too large",
                "The request body is larger than the server accepts.",
            )
        } else {
            Problem::bad_request("The request body could not be read.")
        }
    })
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(bytes)
        .map_err(|e| Problem::bad_request(format!("The JSON body is not valid here: {e}.")))
}

fn unsupported() -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Unsupported media type",
        "Send the body as application/json.",
    )
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        if !is_json(&req) {
            return Err(unsupported());
        }
        let bytes = read(req, state).await?;
        parse(&bytes).map(Body)
    }
}

/// A JSON body that may be left out: no body at all reads as `T::default()`.
pub struct OptionalBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let json = is_json(&req);
        let has_type = req.headers().contains_key(CONTENT_TYPE);
        let bytes = read(req, state).await?;
        if bytes.is_empty() && !json {
            return Ok(OptionalBody(T::default()));
        }
        if !json && has_type {
            return Err(unsupported());
        }
        parse(&bytes).map(OptionalBody)
    }
}

/// A query string; unknown parameters are refused.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let raw = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(raw)
            .map(Query)
            .map_err(|e| Problem::bad_request(format!("The query is not valid here: {e}.")))
    }
}

/// Path parameters. One that does not parse (a secret id that is not a number, a preset that
/// does not exist) names nothing here: a 404 problem that says which part did not fit.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| {
                Problem::new(
                    StatusCode::NOT_FOUND,
                    "not-found",
                    "Not found",
                    format!("Nothing is found at this path: {}.", e.body_text()),
                )
            })
    }
}
