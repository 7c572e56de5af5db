//! `AppState`: everything a request handler or server function needs, provided to Leptos
//! rendering and to the server-function handler alike (see `server::router`).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::db::Db;
use super::metrics::Metrics;
use super::settings::Settings;
use super::SvcResult;
use crate::accounts::password::PasswordHasher;
use crate::oauth::keys::KeyRing;
use crate::oauth::limits::{FailureLimiter, FailureLog};
use crate::oauth::metadata::ScopesCache;
use crate::usage::recorder::UsageRecorder;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The stylesheet's path, hashed in release builds (for pages rendered outside Leptos).
    pub stylesheet: Arc<str>,
    /// The page-chunk loader of a split build, which the shell preloads.
    pub split_loader: Option<Arc<str>>,
    pub db: Db,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    pub passwords: Arc<PasswordHasher>,
    /// "Last used" marks of client secrets, written to the database in batches.
    pub secret_usage: Arc<UsageRecorder>,
    /// The newest signing key, refreshed from the database every few seconds.
    pub signing_keys: Arc<KeyRing>,
    pub token_limiter: Arc<FailureLimiter>,
    /// Requests to the authorization endpoint, per person session and per address: codes
    /// and consents are writes, and a page looping `prompt=none` must not fill the tables.
    #[from_ref(skip)]
    pub authorize_limiter: Arc<FailureLimiter>,
    /// Failed client authentications, written to the audit log in batches.
    pub token_failures: Arc<FailureLog>,
    /// The metadata document's `scopes_supported`, read at most every few seconds.
    pub token_scopes: Arc<ScopesCache>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, settings: Settings) -> SvcResult<Self> {
        let signing_keys = Arc::new(
            KeyRing::new(settings.key_encryption_key.clone())
                .with_token_ttl(settings.access_token_ttl_secs)
                .with_hint_ttl(settings.session_absolute_timeout_secs),
        );
        Ok(AppState {
            stylesheet: super::assets::stylesheet_href(&leptos_options).into(),
            split_loader: super::assets::split_loader_href(&leptos_options).map(Into::into),
            leptos_options,
            db,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::new()),
            passwords: Arc::new(PasswordHasher::new()?),
            secret_usage: Arc::new(UsageRecorder::default()),
            signing_keys,
            token_limiter: Arc::new(FailureLimiter::default()),
            authorize_limiter: Arc::new(FailureLimiter::default()),
            token_failures: Arc::new(FailureLog::default()),
            token_scopes: Arc::new(ScopesCache::default()),
        })
    }
}
