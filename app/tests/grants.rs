//! Service tests of people's sessions and grants under concurrency, on SQLite and PostgreSQL:
//! a password reset or a disable that races sign-ins leaves no session behind, a code is issued
//! only from a session that still exists, and two refreshes with one token at the same moment
//! (two tabs, a retry) keep the grant, while a later reuse still ends it.

mod common;

use std::sync::Arc;

use app::accounts::password::PasswordHasher;
use app::infra::db::Db;
use app::infra::settings::Settings;
use app::infra::RequestMeta;
use app::oauth::authorize::{AuthorizeRequest, Prompt};
use app::oauth::grant::{self, Issue};
use app::oauth::refresh;
use app::people::service as people;
use app::people::session;
use app::people::PersonInput;
use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::Row;

const PW: &str = "a long enough password";
const VERIFIER: &str = "a-verifier-of-forty-three-characters-or-more-000";

fn meta() -> RequestMeta {
    RequestMeta::default()
}

fn request() -> AuthorizeRequest {
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(VERIFIER.as_bytes()));
    AuthorizeRequest {
        client_id: "c1".into(),
        redirect_uri: "https://app.example/cb".into(),
        scopes: vec!["openid".into(), "offline_access".into()],
        state: None,
        code_challenge: challenge,
        nonce: None,
        prompt: Prompt::default(),
        max_age: None,
    }
}

async fn add_person(db: &Db, hasher: &PasswordHasher) -> i64 {
    let input = PersonInput {
        username: "ada".into(),
        display_name: "Ada".into(),
        email: String::new(),
        password: PW.into(),
    };
    people::create(db, hasher, "admin", &meta(), &input)
        .await
        .unwrap()
        .id
}

async fn sessions_of(db: &Db, person_id: i64) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM person_sessions WHERE person_id = $1")
        .bind(person_id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// Signs "ada" in with `password`, for the authorization request `fingerprint`.
async fn sign_in(
    db: &Db,
    settings: &Settings,
    hasher: &PasswordHasher,
    password: &str,
    fingerprint: &str,
) -> (session::PersonToken, session::SignedIn) {
    session::sign_in(db, settings, hasher, &meta(), "ada", password, fingerprint)
        .await
        .unwrap()
}

fn issue() -> Issue {
    Issue {
        refresh_token: grant::random_token(),
        access_jti: grant::random_token(),
        access_expires_at: app::infra::db::now_ms() + 3_600_000,
    }
}

on_both!(sign_ins_racing_a_password_reset_leave_no_session, |db| {
    let hasher = Arc::new(PasswordHasher::new().unwrap());
    let settings = Arc::new(Settings {
        // The sign-ins below are all one person from one address: no throttling here.
        login_max_failures_per_account: 0,
        login_max_failures_per_ip: 0,
        ..Settings::default()
    });
    let id = add_person(db, &hasher).await;
    let fp = request().fingerprint();
    // Sign-ins with the old password start before the reset and go on while it runs; each
    // one's password check may finish before the reset commits and its session insert after.
    let mut tasks = Vec::new();
    for i in 0..24u64 {
        let (db, hasher, settings, fp) = (db.clone(), hasher.clone(), settings.clone(), fp.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(i * 4)).await;
            session::sign_in(&db, &settings, &hasher, &meta(), "ada", PW, &fp)
                .await
                .ok()
                .map(|(t, _)| t.expose().to_string())
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    people::reset_password(db, &hasher, "admin", &meta(), id, "another long password")
        .await
        .unwrap();
    let mut opened = Vec::new();
    for t in tasks {
        opened.extend(t.await.unwrap());
    }
    // However the race went, no session with the old password is alive after the reset.
    assert_eq!(
        sessions_of(db, id).await,
        0,
        "{} sign-ins got a session",
        opened.len()
    );
    for token in &opened {
        assert!(session::lookup(db, &settings, token)
            .await
            .unwrap()
            .is_none());
    }
    // The new password still works.
    let (t, _) = sign_in(db, &settings, &hasher, "another long password", &fp).await;
    assert!(session::lookup(db, &settings, t.expose())
        .await
        .unwrap()
        .is_some());
});

on_both!(a_code_needs_a_session_that_still_exists, |db| {
    let hasher = PasswordHasher::new().unwrap();
    let settings = Settings::default();
    let id = add_person(db, &hasher).await;
    let req = request();
    let (token, person) = sign_in(db, &settings, &hasher, PW, &req.fingerprint()).await;
    let code = grant::issue_code(db, &settings, &req, &person, token.expose())
        .await
        .unwrap();
    assert!(code.is_some());
    // A reset ends the session; the person read before it gets no code from it.
    people::reset_password(db, &hasher, "admin", &meta(), id, "another long password")
        .await
        .unwrap();
    let code = grant::issue_code(db, &settings, &req, &person, token.expose())
        .await
        .unwrap();
    assert_eq!(code, None);
    let codes: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM authorization_codes WHERE used_at IS NULL")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(codes, 0);
    // An idle session gives none either.
    let (token, person) = sign_in(db, &settings, &hasher, "another long password", "").await;
    sqlx::query("UPDATE person_sessions SET last_seen_at = $1")
        .bind(app::infra::db::now_ms() - settings.person_session_idle_timeout_secs * 1000 - 1)
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(session::lookup(db, &settings, token.expose())
        .await
        .unwrap()
        .is_none());
    let code = grant::issue_code(db, &settings, &req, &person, token.expose())
        .await
        .unwrap();
    assert_eq!(code, None);
});

on_both!(parallel_refreshes_with_one_token_keep_the_grant, |db| {
    let hasher = PasswordHasher::new().unwrap();
    let settings = Settings::default();
    add_person(db, &hasher).await;
    let req = request();
    let (token, person) = sign_in(db, &settings, &hasher, PW, "").await;
    let code = grant::issue_code(db, &settings, &req, &person, token.expose())
        .await
        .unwrap()
        .unwrap();
    let first = issue();
    grant::redeem_code(
        db,
        &meta(),
        "c1",
        &code,
        &req.redirect_uri,
        VERIFIER,
        &first,
    )
    .await
    .unwrap()
    .unwrap();
    let reuse_ms = settings.refresh_token_reuse_interval_secs * 1000;
    assert!(reuse_ms > 0, "the default allows parallel refreshes");
    // Two refreshes with the same token at once: both get new tokens, and the grant lives.
    let (a, b) = (issue(), issue());
    let m = meta();
    let (ra, rb) = tokio::join!(
        refresh::rotate_refresh(db, &m, "c1", &first.refresh_token, &a, reuse_ms),
        refresh::rotate_refresh(db, &m, "c1", &first.refresh_token, &b, reuse_ms),
    );
    assert!(ra.unwrap().is_ok() && rb.unwrap().is_ok());
    let audited = |action: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_events WHERE action = $1")
            .bind(action)
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    assert_eq!(audited("refresh.parallel_reuse").await, 1);
    // Once only: a third use, even this soon, is theft, and the family ends, both new
    // tokens with it.
    let r = refresh::rotate_refresh(db, &m, "c1", &first.refresh_token, &issue(), reuse_ms)
        .await
        .unwrap();
    assert_eq!(r, Err("The refresh token was used already."));
    assert_eq!(audited("refresh.reuse_detected").await, 1);
    for next in [&a, &b] {
        let r = refresh::rotate_refresh(db, &m, "c1", &next.refresh_token, &issue(), reuse_ms)
            .await
            .unwrap();
        assert!(r.is_err(), "{r:?}");
    }
});

on_both!(revoking_a_person_finds_their_tokens_by_index, |db| {
    // Disabling a person or resetting a password finds their tokens and codes by person_id.
    for (table, index) in [
        ("refresh_tokens", "refresh_tokens_person"),
        ("authorization_codes", "authorization_codes_person"),
    ] {
        match db.engine {
            // SQLite's planner says which index the query of `grant::revoke_person` uses.
            app::infra::db::Engine::Sqlite => {
                let rows = sqlx::query(&format!(
                    "EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE person_id = 1"
                ))
                .fetch_all(&db.pool)
                .await
                .unwrap();
                let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>("detail")).collect();
                assert!(plan.iter().any(|d| d.contains(index)), "{table}: {plan:?}");
            }
            // PostgreSQL plans tiny tables as scans whatever their indexes: check it exists.
            app::infra::db::Engine::Postgres => {
                let found: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_indexes WHERE tablename = $1 AND indexname = $2 \
                     AND indexdef LIKE '%(person_id)'",
                )
                .bind(table)
                .bind(index)
                .fetch_one(&db.pool)
                .await
                .unwrap();
                assert_eq!(found, 1, "{index}");
            }
        }
    }
});
