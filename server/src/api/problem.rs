//! Errors of the admin API: `application/problem+json` (RFC 9457), with `type`, `title`,
//! `status` and `detail`, plus a per-field `errors` map for bad input. Never an internal detail:
//! a server fault answers with the request id, and its cause goes to the log only.

use std::collections::BTreeMap;

use app::error::AppError;
use app::infra::edge;
use app::infra::SvcError;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

/// For the OpenAPI document: what every operation may answer when the caller may not call it.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Denied {
    /// No token, or one that is expired, not for this API, or of a disabled client.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Details),
    /// The token's scope does not allow this operation.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Details),
}

/// For the OpenAPI document: the client, secret or application in the path does not exist.
#[derive(IntoResponses)]
#[response(status = 404, content_type = "application/problem+json")]
#[allow(dead_code)]
pub struct Missing(Details);

/// An error answer of the API (boxed: it travels in every `Err`).
#[derive(Debug, Clone)]
pub struct Problem(Box<Details>);

/// A problem, as the body of every error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct Details {
    /// `urn:clavis:problem:` and the kind, such as `validation` or `already-applied`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Bad input: the message for each field, by the field's name in the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, String>>,
    /// `already-applied`: the path of what the first request made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `already-applied` for a rotation: the id of the secret the first request made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_id: Option<i64>,
    #[serde(skip)]
    www_authenticate: Option<String>,
    #[serde(skip)]
    retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, Problem>;

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem(Box::new(Details {
            kind: format!("urn:clavis:problem:{kind}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: None,
            resource: None,
            secret_id: None,
            www_authenticate: None,
            retry_after: None,
        }))
    }

    /// Bad input in one field (named as in the request).
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut p = Problem::new(
            StatusCode::BAD_REQUEST,
            "validation",
            "Invalid input",
            &message,
        );
        p.0.errors = Some(BTreeMap::from([(field.to_string(), message)]));
        p
    }

    /// The same problem with the field `from` of `errors` named `to` (for an operation whose
    /// body names a field otherwise than the client operations do).
    pub fn renamed(mut self, from: &str, to: &str) -> Self {
        if let Some(errors) = self.0.errors.as_mut() {
            if let Some(message) = errors.remove(from) {
                errors.insert(to.to_string(), message);
            }
        }
        self
    }

    /// A body or query that could not be read at all.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    /// No usable token (RFC 6750 §3): 401 with `WWW-Authenticate: Bearer`, plus
    /// `error="invalid_token"` when a token was sent.
    pub fn unauthorized(token_sent: bool) -> Self {
        let mut p = Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            if token_sent {
                "The access token is invalid, expired, or its client is disabled or deleted."
            } else {
                "Send an access token from POST /oauth2/token as `Authorization: Bearer <token>`."
            },
        );
        p.0.www_authenticate = Some(if token_sent {
            r#"Bearer realm="clavis", error="invalid_token""#.to_string()
        } else {
            r#"Bearer realm="clavis""#.to_string()
        });
        p
    }

    /// A valid token without a scope this operation needs: 403 `insufficient_scope`.
    pub fn insufficient_scope(any_of: &[&str]) -> Self {
        let scopes = any_of.join(" ");
        let mut p = Problem::new(
            StatusCode::FORBIDDEN,
            "insufficient-scope",
            "Insufficient scope",
            format!(
                "This operation needs a token with scope {}.",
                any_of.join(" or ")
            ),
        );
        p.0.www_authenticate = Some(format!(
            r#"Bearer realm="clavis", error="insufficient_scope", scope="{scopes}""#
        ));
        p
    }

    pub fn not_found(what: &str) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("{what} was not found."),
        )
    }

    /// A service error, turned into what the caller may see (see `edge::to_app_error`).
    pub fn from_svc(e: SvcError, request_id: Option<&str>) -> Self {
        Problem::from(edge::to_app_error(e, request_id))
    }
}

/// The API's name of a field that the console's rules name; a preset's `clients.N.scopes`
/// becomes `clients.N.scope`.
fn api_field(console: &str) -> String {
    let (prefix, name) = console
        .rsplit_once('.')
        .map_or(("", console), |(p, n)| (p, n));
    let name = match name {
        "name" => "client_name",
        "client_type" => "type",
        "scopes" => "scope",
        "application" => "application_id",
        other => other,
    };
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The API's path (and a rotation's secret id) for the console's page of what a change made:
/// `/clients/X`, `/clients/X#secret-N`, `/clients?application=N`.
fn api_resource(href: &str) -> (String, Option<i64>) {
    let (path, fragment) = href.split_once('#').unwrap_or((href, ""));
    if let Some(app) = path.strip_prefix("/clients?application=") {
        return (format!("/api/v1/applications/{app}"), None);
    }
    match fragment
        .strip_prefix("secret-")
        .and_then(|n| n.parse().ok())
    {
        Some(id) => (format!("/api/v1{path}/secrets"), Some(id)),
        None => (format!("/api/v1{path}"), None),
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = e.to_string();
        match e {
            AppError::Validation { field, message } => Problem::field(&api_field(&field), message),
            AppError::NotFound(what) => Problem::not_found(&what),
            AppError::Conflict(_) => Problem::new(status, "conflict", "Conflict", detail),
            AppError::AlreadyApplied { href } => {
                let mut p = Problem::new(
                    status,
                    "already-applied",
                    "Already applied",
                    "A request with this Idempotency-Key and this body was already applied; nothing \
                     was changed now. A secret it made was in the first answer only.",
                );
                let (resource, secret_id) = api_resource(&href);
                p.0.resource = Some(resource);
                p.0.secret_id = secret_id;
                p
            }
            AppError::KeyReused => Problem::new(
                status,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                detail,
            ),
            AppError::PreconditionFailed => {
                Problem::new(status, "precondition-failed", "Precondition failed", detail)
            }
            AppError::Throttled { retry_after_secs } => {
                let mut p = Problem::new(status, "throttled", "Too many requests", detail);
                p.0.retry_after = Some(retry_after_secs);
                p
            }
            AppError::Unauthorized | AppError::BadCredentials => Problem::unauthorized(true),
            AppError::Forbidden | AppError::CrossSite => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
            }
            AppError::Internal { .. } | AppError::Transport(_) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server-error",
                "Server error",
                detail,
            ),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let Problem(details) = self;
        let status =
            StatusCode::from_u16(details.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&details).unwrap_or_default();
        let mut res = (status, body).into_response();
        let headers = res.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(v) = details
            .www_authenticate
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            headers.insert(WWW_AUTHENTICATE, v);
        }
        if let Some(secs) = details.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
