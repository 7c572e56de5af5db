//! The one error type that crosses the wire between server functions and the browser.
//!
//! Every variant carries only text that is safe to show to the person who caused it. Internal
//! details (SQL errors, I/O errors) are logged on the server under a request id, and only that
//! id travels to the browser so that a user can quote it.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No valid session. HTTP 401.
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// Signed in, but the role does not allow this. HTTP 403.
    #[error("Your role does not allow this action.")]
    Forbidden,
    /// The request came from another site. HTTP 403.
    #[error("This request did not come from the Clavis console and was refused.")]
    CrossSite,
    /// Bad input in one named field. HTTP 400. Nothing was changed.
    #[error("{message}")]
    Validation { field: String, message: String },
    /// The named thing does not exist. HTTP 404.
    #[error("{0} was not found.")]
    NotFound(String),
    /// The request conflicts with the current state (duplicate name, last admin). HTTP 409.
    #[error("{0}")]
    Conflict(String),
    /// This form (or request) was already sent and its change made; nothing was changed now.
    /// `href` is the page of what the first one made. HTTP 409.
    #[error("This was already done when the form was first sent. Any secret it made was shown in that first answer, once, and cannot be shown again.")]
    AlreadyApplied { href: String },
    /// An `Idempotency-Key` sent again with another request. HTTP 422. Nothing was changed.
    #[error("This Idempotency-Key was already used for a request with another body. Use a new key for a new request.")]
    KeyReused,
    /// The thing changed since the caller read it (a stale `If-Match`). HTTP 412.
    #[error("The client changed since you read it. Read it again, then send your change.")]
    PreconditionFailed,
    /// Too many attempts. HTTP 429 with `Retry-After`.
    #[error("Too many failed attempts. Try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: u64 },
    /// Wrong username or password. Deliberately says nothing about which. HTTP 401.
    #[error("The username or password is incorrect.")]
    BadCredentials,
    /// Something failed on the server. HTTP 500. The detail is in the server log.
    #[error(
        "Something went wrong on the server. Quote request id {request_id} when reporting it."
    )]
    Internal { request_id: String },
    /// The call did not reach the server or its answer could not be read.
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The message for `field`, if this error is about that field.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized | AppError::BadCredentials => 401,
            AppError::Forbidden | AppError::CrossSite => 403,
            AppError::Validation { .. } => 400,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) | AppError::AlreadyApplied { .. } => 409,
            AppError::PreconditionFailed => 412,
            AppError::KeyReused => 422,
            AppError::Throttled { .. } => 429,
            AppError::Internal { .. } | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not deserialize are bad input, not a server fault.
            ServerFnErrorErr::Args(msg) => {
                AppError::validation("form", format!("The form could not be read: {msg}"))
            }
            // The body limit cut the request short while it was read.
            ServerFnErrorErr::Deserialization(msg) if msg.contains("length limit") => {
                AppError::validation("form", "The request is too large.")
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}
