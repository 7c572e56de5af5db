//! The `clavis` server: the axum router around the Leptos app, operations endpoints
//! (`/healthz`, `/metrics`), and start-up (migrations, first admin, keys, shutdown).
//! Beside it: `config` (the file and `CLAVIS_*`), `layers` (middleware), `assets`, the OAuth
//! HTTP edge (`oauth`, `authorize`, `logout`), the admin REST API (`api/`); the CLI is
//! `main.rs`.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod api;
pub mod assets;
pub mod authorize;
pub mod config;
mod config_keys;
mod layers;
pub mod logout;
pub mod oauth;
pub mod webhooks;

use std::time::Duration;

use app::accounts::service::{self as accounts, Bootstrap};
use app::infra::csp;
use app::infra::db::{now_ms, Db};
use app::infra::seal::Kek;
use app::infra::state::AppState;
use app::infra::{once, session, RequestMeta};
use app::oauth::keys;
use app::secrets::one_time_page;
use app::secrets::service as secrets;
use app::{shell, App};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use secrecy::ExposeSecret;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::layers::{
    catch_panics, check_host, drop_client_request_id, record_metrics, server_fn_error_status,
    strict_transport,
};
use tower_http::services::fs::ServeFileSystemResponseBody;

pub use crate::layers::MAX_BODY_BYTES;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Connect(String),
    #[error("database migration failed, nothing was started: {0}")]
    Migrate(String),
    #[error("cannot create the first administrator: {0}")]
    Bootstrap(String),
    #[error("cannot listen on {addr}: {message}")]
    Listen { addr: String, message: String },
    #[error("{0}")]
    Other(String),
}

/// Site files (the WASM bundle and CSS) and names; overridable with the usual `LEPTOS_*`
/// variables that cargo-leptos sets.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "clavis"))
        .site_root(var("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(config.listen)
        // Hashed names when cargo-leptos wrote their hashes next to this binary (release).
        .hash_files(app::infra::assets::hash_file("hash.txt").is_some_and(|p| p.exists()))
        .build()
}

/// Connects and migrates. Any failure stops the start.
pub async fn open_database(config: &Config) -> Result<Db, StartError> {
    let db = Db::connect(config.database_url.expose_secret())
        .await
        .map_err(|e| StartError::Connect(e.to_string()))?;
    db.migrate()
        .await
        .map_err(|e| StartError::Migrate(e.to_string()))?;
    Ok(db)
}

/// Creates the first administrator when there are no accounts. Returns what was done.
pub async fn bootstrap_admin(state: &AppState) -> Result<Bootstrap, StartError> {
    let from_env = match (
        std::env::var("CLAVIS_ADMIN_USERNAME"),
        std::env::var("CLAVIS_ADMIN_PASSWORD"),
    ) {
        (Ok(u), Ok(p)) => Some((u, p)),
        _ => None,
    };
    accounts::bootstrap(&state.db, &state.passwords, from_env)
        .await
        .map_err(|e| StartError::Bootstrap(e.to_string()))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.db.pool).await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// `GET /metrics`. With `metrics_token` set, only for `Authorization: Bearer <token>`.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.settings.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        if !presented.is_some_and(|t| expected.matches(t)) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"clavis metrics\"")],
                "a bearer token is required\n",
            )
                .into_response();
        }
    }
    // The state of the secrets, read now: the database is shared by every replica.
    match app::attention::service::gauges(&state.db, &state.settings).await {
        Ok(g) => state.metrics.set_secrets(&g),
        Err(e) => tracing::warn!(error = %e, "metrics: could not read the state of the secrets"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let ctx_state = state.clone();
    let context = move || {
        provide_context(ctx_state.clone());
        csp::provide_request_nonce();
    };
    let options = state.leptos_options.clone();
    let fallback_options = options.clone();
    let hashed = state.leptos_options.hash_files;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(oauth::routes())
        .nest(app::oauth::access::API_PATH, api::router())
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, move |_| shell(fallback_options.clone())))
        // Server functions are registered by `leptos_routes_with_context`, with the state in context.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            one_time_page::middleware,
        ))
        .layer(assets::compression())
        // The bundle, after the compression layer: it comes precompressed (or, in a debug
        // build, is too large to compress on every request).
        .nest_service(
            &format!("/{}", state.leptos_options.site_pkg_dir),
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    move |res: &Response<ServeFileSystemResponseBody>| {
                        Some(assets::pkg_cache_rule(hashed, res.status()))
                    },
                ))
                .service(assets::pkg_dir(
                    &state.leptos_options.site_root,
                    &state.leptos_options.site_pkg_dir,
                )),
        )
        .layer(catch_panics())
        .layer(middleware::from_fn(server_fn_error_status))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(assets::revalidate_by_default())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // `same-origin`, not `no-referrer`: with `no-referrer` a browser sends `Origin: null` on
        // every POST, which the same-origin check must refuse, and no `Referer`, which a form
        // posted without JavaScript needs to come back to its page with the error. Other sites
        // get no referrer either way.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(middleware::from_fn(csp::middleware))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            strict_transport,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            let path = req
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str)
                .unwrap_or(req.uri().path());
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %path)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn(drop_client_request_id))
        .layer(middleware::from_fn_with_state(state.clone(), check_host))
        .with_state(state)
}

/// How often rotated secrets past their grace period are marked expired. They stop matching
/// at once anyway; this only brings the stored state and the audit log up to date.
const EXPIRY_INTERVAL: Duration = Duration::from_secs(30);
/// How often "last used" marks and daily counts are written.
const USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// How often the newest signing key is read again (to pick up `clavis keys rotate`).
const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(2);

/// Writes the "last used" marks and the aggregated token failures.
async fn flush_batches(state: &AppState) {
    if let Err(e) = state.secret_usage.flush(&state.db).await {
        tracing::warn!(error = %e, "could not record when secrets were last used");
    }
    if let Err(e) = state.token_failures.flush(&state.db).await {
        tracing::warn!(error = %e, "could not record failed client authentications");
    }
}

/// Removes dead sessions, expires rotated secrets, writes "last used" marks and starts the
/// webhook tasks (ending with the process).
pub fn spawn_housekeeping(state: AppState) {
    webhooks::spawn(&state);
    every(Duration::from_secs(600), &state, |st| async move {
        if let Err(e) = session::purge_expired(&st.db, &st.settings).await {
            tracing::warn!(error = %e, "could not purge expired sessions");
        }
        if let Err(e) = once::purge(&st.db, now_ms()).await {
            tracing::warn!(error = %e, "could not forget old single-use form tokens");
        }
        if let Err(e) = app::oauth::introspect::prune(&st.db, now_ms()).await {
            tracing::warn!(error = %e, "could not forget expired revoked tokens");
        }
        if let Err(e) = app::oauth::grant::prune(&st.db, now_ms()).await {
            tracing::warn!(error = %e, "could not forget expired codes and refresh tokens");
        }
        if let Err(e) = app::people::session::purge_expired(&st.db, now_ms()).await {
            tracing::warn!(error = %e, "could not purge expired sessions of people");
        }
        if let Err(e) = app::usage::service::prune(&st.db, st.db.now()).await {
            tracing::warn!(error = %e, "could not forget daily counts older than 90 days");
        }
    });
    every(EXPIRY_INTERVAL, &state, |st| async move {
        match secrets::expire_due(&st.db, now_ms()).await {
            Ok(0) => {}
            // Only a count: never a secret, a hash or a hint in the log.
            Ok(n) => tracing::info!(
                count = n,
                "grace periods ended; rotated secrets marked expired"
            ),
            Err(e) => tracing::warn!(error = %e, "could not expire rotated secrets"),
        }
    });
    every(KEY_RELOAD_INTERVAL, &state, |st| async move {
        if let Err(e) = st.signing_keys.reload(&st.db).await {
            tracing::warn!(error = %e, "could not reload the signing key");
        }
    });
    every(USAGE_FLUSH_INTERVAL, &state, |st| async move {
        flush_batches(&st).await;
    });
}

/// Runs `job` now and then every `period`, until the process ends. A job that fails only logs.
fn every<F, Fut>(period: Duration, state: &AppState, job: F)
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            job(state.clone()).await;
        }
    });
}

/// Creates the first signing key if there is none, and loads the newest.
pub async fn prepare_signing(state: &AppState) -> Result<(), StartError> {
    let kek = state.settings.key_encryption_key.as_ref();
    if let Some(kek) = kek {
        let sealed = keys::seal_unsealed(&state.db, kek).await.map_err(|e| {
            StartError::Other(format!(
                "the key in key_encryption_key_file does not open the signing keys: {e}"
            ))
        })?;
        if sealed > 0 {
            tracing::info!(count = sealed, "sealed signing keys stored in the clear");
        }
    }
    keys::ensure_signing_key(&state.db, kek)
        .await
        .map_err(|e| StartError::Other(format!("cannot create a signing key: {e}")))?;
    state
        .signing_keys
        .reload(&state.db)
        .await
        .map_err(|e| StartError::Other(format!("cannot load the signing key: {e}")))
}

/// Resolves on Ctrl-C or SIGTERM. The SIGTERM handler is installed when this is called, not
/// when the future is first polled: call it before the listener is bound, so that a SIGTERM
/// arriving right after the start (the port already accepts connections) is a graceful stop
/// rather than the default, which kills the process.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
        tracing::info!("shutdown requested; finishing open requests");
    }
}

/// `clavis serve`: migrate, make sure an admin exists, and serve until SIGTERM.
/// The key-encryption key from `key_encryption_key_file`. On the first start (no file, and no
/// sealed key in the database) it is made there, readable by its owner only. A missing file
/// while the database holds sealed keys, or a file that holds no key, stops the start.
pub async fn open_key_encryption_key(config: &Config, db: &Db) -> Result<Kek, StartError> {
    let path = std::path::Path::new(&config.key_encryption_key_file);
    let named = |what: String| {
        StartError::Other(format!(
            "key_encryption_key_file {}: {what}",
            path.display()
        ))
    };
    match std::fs::read_to_string(path) {
        Ok(text) => Kek::from_file_text(&text).map_err(|e| named(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let sealed = keys::any_sealed(db)
                .await
                .map_err(|e| StartError::Other(e.to_string()))?;
            if sealed {
                return Err(named(
                    "the file is missing, but the database holds signing keys sealed with it; restore it from its backup".into(),
                ));
            }
            let kek = Kek::generate();
            write_private_file(path, &kek.to_file_text())
                .map_err(|e| named(format!("cannot create it: {e}")))?;
            tracing::warn!(
                path = %path.display(),
                "first start: made the key-encryption key that seals the signing keys; back it up apart from the database"
            );
            Ok(kek)
        }
        Err(e) => Err(named(e.to_string())),
    }
}

/// Creates `path` (and its folder) with `text`, readable and writable by its owner only.
fn write_private_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Applies the storage flag `client_secrets_stored_as_one_way_hash` to the store: true erases
/// every sealed copy left from a time it was false (in one transaction, logged and audited
/// with the count); false keeps a sealed copy of each new secret, after checking that `kek`
/// opens the copies already stored.
pub async fn apply_secret_storage(db: Db, hashed_only: bool, kek: &Kek) -> Result<Db, StartError> {
    if hashed_only {
        let n = app::secrets::sealed::erase_all(&db, &RequestMeta::default())
            .await
            .map_err(|e| StartError::Other(format!("cannot erase the sealed secrets: {e}")))?;
        if n > 0 {
            tracing::warn!(
                count = n,
                "client_secrets_stored_as_one_way_hash is true: erased the sealed copies of client secrets; they are hash-only now"
            );
        }
        return Ok(db.sealing_secrets(None));
    }
    let opens = app::secrets::sealed::check_key(&db, kek)
        .await
        .map_err(|e| StartError::Other(e.to_string()))?;
    if !opens {
        return Err(StartError::Other(
            "the key in key_encryption_key_file does not open the sealed client secrets: \
             restore the key file these secrets were sealed with"
                .into(),
        ));
    }
    Ok(db.sealing_secrets(Some(kek.clone())))
}

pub async fn serve(config: Config) -> Result<(), StartError> {
    let db = open_database(&config).await?;
    let mut settings = config.settings();
    let kek = open_key_encryption_key(&config, &db).await?;
    let db = apply_secret_storage(db, settings.client_secrets_stored_as_one_way_hash, &kek)
        .await?
        .limiting_secret_lifetime(settings.secret_max_lifetime_secs);
    settings.key_encryption_key = Some(kek);
    let state = AppState::new(leptos_options(&config), db, settings)
        .map_err(|e| StartError::Other(e.to_string()))?;
    match bootstrap_admin(&state).await? {
        Bootstrap::Existing => {}
        Bootstrap::FromEnvironment(name) => {
            tracing::info!(username = %name, "first start: created the administrator named by CLAVIS_ADMIN_USERNAME");
        }
        Bootstrap::Generated(pw) => {
            // Printed exactly once, on the very first start, so the operator can sign in.
            tracing::warn!(
                "first start: created administrator `admin` with password {} (shown only now; sign in and change it)",
                pw.0
            );
        }
    }
    prepare_signing(&state).await?;
    spawn_housekeeping(state.clone());
    let shutdown = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartError::Listen {
            addr: config.listen.to_string(),
            message: e.to_string(),
        })?;
    tracing::info!(listen = %config.listen, issuer = %config.issuer, "Clavis is serving");
    let served = axum::serve(
        listener,
        router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|e| StartError::Other(e.to_string()));
    // The last "last used" marks and failure counts, so that a restart loses none.
    flush_batches(&state).await;
    served
}
