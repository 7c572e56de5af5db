//! Server-only half of the app: state, the database, the services that hold every rule, and the
//! edge helpers that every server function calls (authorize, check origin, map errors).

pub mod accounts;
pub mod audit;
pub mod clients;
pub mod db;
pub mod edge;
pub mod metrics;
pub mod oauth;
pub mod one_time_page;
pub mod secrets;
pub mod session;
pub mod sqlite_read;

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

pub use db::{now_ms, Db};
pub use edge::{authorize, edge, RequestMeta};

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

/// Settings the app needs at run time; built by the server from its configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The public origin (scheme://host[:port]) that mutating requests must come from.
    pub issuer_origin: String,
    /// Adds `Secure` (and the `__Host-` name) to the session cookie; on when the issuer is https.
    pub cookie_secure: bool,
    pub session_idle_timeout_secs: i64,
    pub session_absolute_timeout_secs: i64,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_ip: u32,
    pub login_failure_window_secs: i64,
    /// How many rotated secrets a client keeps; a rotation revokes the oldest beyond this.
    pub max_rotated_secrets: u32,
    /// Default grace period of a rotated secret; `None` keeps it until revoked.
    pub rotated_secret_ttl_secs: Option<i64>,
    /// A rotated secret unused for this many days is marked "safe to revoke".
    pub rotated_secret_unused_days: i64,
    /// The issuer (`iss` of access tokens and base of the metadata URLs), without a trailing `/`.
    pub issuer: String,
    pub access_token_ttl_secs: i64,
    /// `aud` of every access token, when set.
    pub access_token_audience: Option<String>,
    pub token_max_failures_per_client: u32,
    pub token_max_failures_per_ip: u32,
    pub token_failure_window_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            issuer_origin: "http://localhost:3000".into(),
            cookie_secure: false,
            session_idle_timeout_secs: 30 * 60,
            session_absolute_timeout_secs: 12 * 60 * 60,
            login_max_failures_per_account: 5,
            login_max_failures_per_ip: 50,
            login_failure_window_secs: 15 * 60,
            max_rotated_secrets: 1,
            rotated_secret_ttl_secs: None,
            rotated_secret_unused_days: 7,
            issuer: "http://localhost:3000".into(),
            access_token_ttl_secs: 3600,
            access_token_audience: None,
            token_max_failures_per_client: 10,
            token_max_failures_per_ip: 100,
            token_failure_window_secs: 60,
        }
    }
}

/// Everything a request handler or server function needs, provided to Leptos rendering and to
/// the server-function handler alike.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub settings: Arc<Settings>,
    pub metrics: Arc<metrics::Metrics>,
    pub passwords: Arc<accounts::PasswordHasher>,
    /// "Last used" marks of client secrets, written to the database in batches.
    pub secret_usage: Arc<secrets::UsageRecorder>,
    pub token_policy: Arc<oauth::TokenPolicy>,
    /// The newest signing key, refreshed from the database every few seconds.
    pub signing_keys: Arc<oauth::KeyRing>,
    pub token_limiter: Arc<oauth::FailureLimiter>,
    /// Failed client authentications, written to the audit log in batches.
    pub token_failures: Arc<oauth::FailureLog>,
    /// The metadata document's `scopes_supported`, read at most every few seconds.
    pub token_scopes: Arc<oauth::ScopesCache>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, settings: Settings) -> SvcResult<Self> {
        let token_policy = Arc::new(oauth::TokenPolicy::from(&settings));
        Ok(AppState {
            token_policy,
            signing_keys: Arc::new(oauth::KeyRing::default()),
            token_limiter: Arc::new(oauth::FailureLimiter::default()),
            token_failures: Arc::new(oauth::FailureLog::default()),
            token_scopes: Arc::new(oauth::ScopesCache::default()),
            leptos_options,
            db,
            settings: Arc::new(settings),
            metrics: Arc::new(metrics::Metrics::new()),
            passwords: Arc::new(accounts::PasswordHasher::new()?),
            secret_usage: Arc::new(secrets::UsageRecorder::default()),
        })
    }
}
