//! Shared server infrastructure (server only): what every domain's server side stands on.
//!
//! - `db`: the sqlx pool over SQLite or PostgreSQL, transactions, the SQL builder, the clock.
//! - `sqlite_read`: inline read-only SQLite connections for the token endpoint's hot read.
//! - `settings`: the run-time settings and their defaults (the one place the app's defaults
//!   live; the server adds those of its own keys).
//! - `state`: `AppState`, the state handed to Leptos rendering, server functions and handlers.
//! - `assets`: the (hashed) names of the site's files.
//! - `csp`: the Content-Security-Policy of pages (with the render's nonce) and other answers.
//! - `edge`: what every server function does first (same-origin check, session and role, error
//!   mapping) and the `no-store` headers of answers that carry a plaintext.
//! - `hosts`: the host names the server answers for, and the origins that may call it.
//! - `seal`: sealing secrets at rest under the key-encryption key.
//! - `session`: console sessions in the database, and their cookie.
//! - `metrics`: Prometheus counters.
//! - `once`: single-use keys, so that a re-sent form changes nothing.
//!
//! This file: the service error type, the request facts services record (`RequestMeta`), and
//! the single-use key of a request (`SingleUse`, how long keys are kept, `fingerprint`).

pub mod assets;
pub mod csp;
pub mod csrf;
pub mod db;
pub mod edge;
pub mod hosts;
pub mod metrics;
pub mod once;
pub mod seal;
pub mod session;
pub mod settings;
pub mod sqlite_read;
pub mod state;

use crate::error::AppError;

/// Errors inside the services. `App` errors are safe to show; `Db` and `Internal` are logged
/// and replaced by a request id at the edge.
#[derive(Debug, thiserror::Error)]
pub enum SvcError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("internal: {0}")]
    Internal(String),
}

pub type SvcResult<T> = Result<T, SvcError>;

/// Facts about the request that services record in the audit log.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// The single-use key of this change, when the request carries one (a form token). The
    /// service that makes the change records it in the change's transaction (`once::claim`).
    pub once: Option<SingleUse>,
}

/// How long a key is remembered. A form older than this could be sent again; browsers ask
/// before they re-send a form, and a month is longer than any tab stays open.
pub const KEEP_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// How long an API client's `Idempotency-Key` holds: a day, as the IETF draft suggests.
pub const API_KEEP_MS: i64 = 24 * 60 * 60 * 1000;

/// The single-use key of a request, and the fingerprint of what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleUse {
    /// Scoped to its kind and its actor, such as `form:root:<token>`.
    pub key: String,
    /// SHA-256 (hex) of the request's content.
    pub fingerprint: String,
    /// How long the key holds; after that the same key is a new request.
    pub keep_ms: i64,
    /// An API client's `Idempotency-Key` (a reuse with other content is 422), not a form's token.
    pub api: bool,
}

fn fingerprint(content: &impl serde::Serialize) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(content).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

impl SingleUse {
    /// The key of a console form sent by `actor`, for `content` (the form's arguments).
    pub fn form(actor: &str, token: &str, content: &impl serde::Serialize) -> Self {
        SingleUse {
            key: format!("form:{actor}:{token}"),
            fingerprint: fingerprint(content),
            keep_ms: KEEP_MS,
            api: false,
        }
    }

    /// The `Idempotency-Key` of an API call by `actor`, for `content` (the operation and its
    /// body). Held for `API_KEEP_MS`.
    pub fn api(actor: &str, key: &str, content: &impl serde::Serialize) -> Self {
        SingleUse {
            key: format!("api:{actor}:{key}"),
            fingerprint: fingerprint(content),
            keep_ms: API_KEEP_MS,
            api: true,
        }
    }
}
