//! Test databases: a fresh SQLite file per test, and a fresh PostgreSQL database per test when
//! `CLAVIS_TEST_POSTGRES_URL` names a server (the README's test command starts one). Built
//! without it, the PostgreSQL variants are ignored, and cargo counts them as such (see
//! `app/build.rs`). With `CLAVIS_TEST_REQUIRE_POSTGRES=1` a missing server fails the test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use app::clients::kind::ClientType;
use app::clients::{service, ClientInput, ClientView};
use app::error::AppError;
use app::infra::db::Db;
use app::infra::{RequestMeta, SvcError};

pub struct TestDb {
    pub db: Db,
    _dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let db = Db::connect(&url).await.expect("connect sqlite");
    db.migrate().await.expect("migrate sqlite");
    TestDb {
        db,
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Option<TestDb> {
    let Ok(base) = std::env::var("CLAVIS_TEST_POSTGRES_URL") else {
        if std::env::var("CLAVIS_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("CLAVIS_TEST_REQUIRE_POSTGRES=1 but CLAVIS_TEST_POSTGRES_URL is not set");
        }
        eprintln!("note: PostgreSQL variant skipped (CLAVIS_TEST_POSTGRES_URL not set)");
        return None;
    };
    let admin = Db::connect(&base)
        .await
        .expect("connect to the PostgreSQL test server");
    let name = format!("clavis_t_{}", uuid_like());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin.pool)
        .await
        .expect("create test database");
    admin.pool.close().await;
    let mut url = url::Url::parse(&base).expect("postgres url");
    url.set_path(&name);
    let db = Db::connect(url.as_str())
        .await
        .expect("connect test database");
    db.migrate().await.expect("migrate postgres");
    Some(TestDb { db, _dir: None })
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Defines `mod $name { sqlite(); postgres(); }`, running the same async body on both engines.
#[macro_export]
macro_rules! on_both {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($db: &app::infra::db::Db) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::common::sqlite().await;
                run(&t).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                clavis_no_test_postgres,
                ignore = "skipped: no CLAVIS_TEST_POSTGRES_URL when the tests were built"
            )]
            async fn postgres() {
                if let Some(t) = $crate::common::postgres().await {
                    run(&t).await;
                }
            }
        }
    };
}

/// The safe error a service call failed with; panics if it succeeded or failed otherwise.
pub fn app_err<T: std::fmt::Debug>(r: Result<T, SvcError>) -> AppError {
    match r {
        Err(SvcError::App(e)) => e,
        other => panic!("expected an AppError, got {other:?}"),
    }
}

/// A valid client of `kind` named `name`: redirect URIs for the PKCE types, scopes
/// `read write` for client credentials.
pub fn input(name: &str, kind: ClientType) -> ClientInput {
    ClientInput {
        name: name.into(),
        client_type: kind.as_str().into(),
        redirect_uris: if kind.uses_redirect_uris() {
            "https://app.example/cb".into()
        } else {
            String::new()
        },
        scopes: if kind == ClientType::ClientCredentials {
            "read write".into()
        } else {
            String::new()
        },
        ..Default::default()
    }
}

/// Creates a client whose first secret (if any) the test does not need.
pub async fn create_client(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    input: &ClientInput,
) -> Result<ClientView, SvcError> {
    Ok(service::create_issuing(db, actor, meta, input).await?.0)
}
