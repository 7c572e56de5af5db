//! Service tests for accounts, sign-in, sessions and the audit log, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::app_err;

use app::accounts::password::PasswordHasher;
use app::accounts::service::{self as accounts, Bootstrap};
use app::accounts::Role;
use app::audit::service as audit;
use app::audit::AuditFilter;
use app::error::AppError;
use app::infra::db::Db;
use app::infra::metrics::Metrics;
use app::infra::settings::Settings;
use app::infra::{session, RequestMeta, SvcError};
use app::signin::service as signin;
use sqlx::Row;

const PW: &str = "correct horse battery";
const PW2: &str = "another long password";

fn meta(ip: &str) -> RequestMeta {
    RequestMeta {
        ip: Some(ip.into()),
        request_id: Some("test-req".into()),
        ..Default::default()
    }
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

struct Kit {
    hasher: PasswordHasher,
    metrics: Metrics,
    settings: Settings,
}

impl Kit {
    async fn sign_in(
        &self,
        db: &Db,
        meta: &RequestMeta,
        username: &str,
        password: &str,
    ) -> Result<(session::SessionToken, session::SessionAccount), SvcError> {
        signin::sign_in(
            db,
            &self.settings,
            &self.hasher,
            &self.metrics,
            meta,
            username,
            password,
        )
        .await
    }
}

fn kit() -> Kit {
    Kit {
        hasher: PasswordHasher::new().unwrap(),
        metrics: Metrics::new(),
        settings: Settings::default(),
    }
}

async fn admin(db: &Db, k: &Kit, name: &str) -> i64 {
    accounts::create(
        db,
        &k.hasher,
        "test",
        &meta("127.0.0.1"),
        name,
        PW,
        Role::Admin,
    )
    .await
    .unwrap()
    .id
}

on_both!(create_and_list, |db| {
    let k = kit();
    let a = accounts::create(
        db,
        &k.hasher,
        "root",
        &meta("10.0.0.1"),
        "  Alice ",
        PW,
        Role::Support,
    )
    .await
    .unwrap();
    assert_eq!(a.username, "alice");
    assert_eq!(a.role, Role::Support);
    assert!(!a.disabled);
    let list = accounts::list(db).await.unwrap();
    assert_eq!(list.len(), 1);
    let stored: String = sqlx::query("SELECT password_hash FROM accounts")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    assert!(stored.starts_with("$argon2id$"), "argon2id hash expected");
    assert!(!stored.contains(PW));
    let page = audit::query(db, &AuditFilter::default()).await.unwrap();
    assert_eq!(page.entries.len(), 1);
    let e = &page.entries[0];
    assert_eq!(
        (e.actor.as_str(), e.action.as_str(), e.target.as_deref()),
        ("root", "account.created", Some("alice"))
    );
    assert_eq!(e.ip.as_deref(), Some("10.0.0.1"));
});

on_both!(bad_input_changes_nothing, |db| {
    let k = kit();
    let m = meta("127.0.0.1");
    let long_pw = "p".repeat(129);
    let cases: Vec<(String, &str, &str)> = vec![
        ("".into(), PW, "username"),
        ("   ".into(), PW, "username"),
        ("x".repeat(65), PW, "username"),
        ("bad name".into(), PW, "username"),
        ("bob".into(), "short", "password"),
        ("bob".into(), &long_pw, "password"),
    ];
    for (user, pw, field) in &cases {
        let e = app_err(accounts::create(db, &k.hasher, "t", &m, user, pw, Role::Admin).await);
        assert!(e.field_message(field).is_some(), "{user:?}/{pw:?} → {e:?}");
    }
    admin(db, &k, "bob").await;
    let dup = app_err(accounts::create(db, &k.hasher, "t", &m, "BOB", PW, Role::Support).await);
    assert!(dup
        .field_message("username")
        .unwrap()
        .contains("already exists"));
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM accounts").await, 1);
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM audit_events").await,
        1,
        "only the one real creation is audited"
    );
});

on_both!(sign_in_and_session, |db| {
    let k = kit();
    admin(db, &k, "carol").await;
    let (token, who) = k.sign_in(db, &meta("10.1.1.1"), "Carol", PW).await.unwrap();
    assert_eq!(who.username, "carol");
    let found = session::lookup(db, &k.settings, token.expose())
        .await
        .unwrap()
        .expect("session");
    assert_eq!(found.role, Role::Admin);
    // Only the hash of the token is stored.
    let stored: String = sqlx::query("SELECT token_hash FROM sessions")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    assert_ne!(stored, token.expose());
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.sign_in'"
        )
        .await,
        1
    );
    signin::sign_out(db, &meta("10.1.1.1"), token.expose(), &found)
        .await
        .unwrap();
    assert!(session::lookup(db, &k.settings, token.expose())
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.sign_out'"
        )
        .await,
        1
    );
});

on_both!(failures_look_the_same, |db| {
    let k = kit();
    admin(db, &k, "dave").await;
    let m = meta("10.2.2.2");
    let wrong = app_err(k.sign_in(db, &m, "dave", "not the password").await);
    let unknown = app_err(k.sign_in(db, &m, "nobody", PW).await);
    assert_eq!(wrong, AppError::BadCredentials);
    assert_eq!(unknown, AppError::BadCredentials);
    assert_eq!(wrong.to_string(), unknown.to_string());
    let failures = audit::query(
        db,
        &AuditFilter {
            action: Some("auth.sign_in_failed".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let actors: Vec<_> = failures.entries.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, ["nobody", "dave"]);
    assert_eq!(k.metrics.sign_in_failures.get(), 2);
});

on_both!(throttling_per_account_and_ip, |db| {
    let mut k = kit();
    k.settings.login_max_failures_per_account = 3;
    k.settings.login_max_failures_per_ip = 5;
    admin(db, &k, "erin").await;
    let m = meta("10.3.3.3");
    for _ in 0..3 {
        let e = app_err(k.sign_in(db, &m, "erin", "wrong password!").await);
        assert_eq!(e, AppError::BadCredentials);
    }
    // Even the right password is refused while throttled, and the refusal says how long to wait.
    match app_err(k.sign_in(db, &m, "erin", PW).await) {
        AppError::Throttled { retry_after_secs } => {
            assert!(
                retry_after_secs > 0 && retry_after_secs <= 900,
                "{retry_after_secs}"
            )
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    // An unknown name is throttled exactly like a real one.
    let m2 = meta("10.4.4.4");
    for _ in 0..3 {
        app_err(k.sign_in(db, &m2, "ghost", "wrong password!").await);
    }
    assert!(matches!(
        app_err(k.sign_in(db, &m2, "ghost", PW).await),
        AppError::Throttled { .. }
    ));
    // Per IP: five failures over different names lock the IP out, for other names too.
    let m3 = meta("10.5.5.5");
    for i in 0..5 {
        app_err(
            k.sign_in(db, &m3, &format!("user{i}"), "wrong password!")
                .await,
        );
    }
    assert!(matches!(
        app_err(k.sign_in(db, &m3, "someone", "x").await),
        AppError::Throttled { .. }
    ));
    assert!(k.metrics.sign_in_throttled.get() >= 3);
});

on_both!(parallel_attempts_cannot_outrun_the_limit, |db| {
    let mut k = kit();
    k.settings.login_max_failures_per_account = 5;
    admin(db, &k, "gail").await;
    let m = meta("10.7.7.7");
    let k = &k;
    let m = &m;
    let retries_before = db.retries();
    let attempts =
        (0..48).map(|_| async move { k.sign_in(db, m, "gail", "wrong password!").await });
    let results = futures::future::join_all(attempts).await;
    let (mut evaluated, mut throttled) = (0, 0);
    for r in results {
        match app_err(r) {
            AppError::BadCredentials => evaluated += 1,
            AppError::Throttled { .. } => throttled += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        (evaluated, throttled),
        (5, 43),
        "at most the limit is evaluated"
    );
    assert_eq!(
        db.retries(),
        retries_before,
        "parallel attempts queue on one lock; none conflicts and runs again"
    );
    let failed = scalar(
        db,
        "SELECT COUNT(*) FROM audit_events WHERE actor = 'gail' AND action = 'auth.sign_in_failed'",
    )
    .await;
    assert_eq!(
        failed, 5,
        "each evaluated attempt is one completed audit row"
    );
    let open = scalar(
        db,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.sign_in_attempt'",
    )
    .await;
    assert_eq!(open, 0, "no attempt is left open");
});

on_both!(success_resets_the_account_count, |db| {
    let mut k = kit();
    k.settings.login_max_failures_per_account = 3;
    admin(db, &k, "fred").await;
    let m = meta("10.6.6.6");
    for _ in 0..2 {
        app_err(k.sign_in(db, &m, "fred", "wrong password!").await);
    }
    k.sign_in(db, &m, "fred", PW).await.unwrap();
    for _ in 0..2 {
        let e = app_err(k.sign_in(db, &m, "fred", "wrong password!").await);
        assert_eq!(e, AppError::BadCredentials);
    }
    k.sign_in(db, &m, "fred", PW).await.unwrap();
});

on_both!(last_admin_is_protected, |db| {
    let k = kit();
    let m = meta("127.0.0.1");
    let first = admin(db, &k, "gina").await;
    let e = app_err(accounts::change_role(db, "gina", &m, first, Role::Support).await);
    assert!(
        matches!(&e, AppError::Conflict(msg) if msg.contains("last active administrator")),
        "{e:?}"
    );
    let e = app_err(accounts::set_disabled(db, "gina", &m, first, true).await);
    assert!(matches!(e, AppError::Conflict(_)));
    // A disabled second admin does not count as active.
    let second = admin(db, &k, "hank").await;
    accounts::set_disabled(db, "gina", &m, second, true)
        .await
        .unwrap();
    assert!(matches!(
        app_err(accounts::change_role(db, "gina", &m, first, Role::Support).await),
        AppError::Conflict(_)
    ));
    accounts::set_disabled(db, "gina", &m, second, false)
        .await
        .unwrap();
    let demoted = accounts::change_role(db, "hank", &m, first, Role::Support)
        .await
        .unwrap();
    assert_eq!(demoted.role, Role::Support);
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM accounts WHERE role = 'admin' AND disabled = 0"
        )
        .await,
        1
    );
    let actions: Vec<String> = audit::query(db, &AuditFilter::default())
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions[0], "account.role_changed");
    assert!(
        actions.contains(&"account.disabled".to_string())
            && actions.contains(&"account.enabled".to_string())
    );
});

on_both!(disable_and_reset_end_sessions, |db| {
    let k = kit();
    let m = meta("127.0.0.1");
    admin(db, &k, "ivy").await;
    let id = accounts::create(db, &k.hasher, "ivy", &m, "jack", PW, Role::Support)
        .await
        .unwrap()
        .id;
    let (t1, _) = k.sign_in(db, &m, "jack", PW).await.unwrap();
    accounts::set_disabled(db, "ivy", &m, id, true)
        .await
        .unwrap();
    assert!(session::lookup(db, &k.settings, t1.expose())
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        app_err(k.sign_in(db, &m, "jack", PW).await),
        AppError::BadCredentials,
        "a disabled account is refused with the same message"
    );
    accounts::set_disabled(db, "ivy", &m, id, false)
        .await
        .unwrap();
    let (t2, _) = k.sign_in(db, &m, "jack", PW).await.unwrap();
    assert!(
        app_err(accounts::reset_password(db, &k.hasher, "ivy", &m, id, "short").await)
            .field_message("password")
            .is_some()
    );
    accounts::reset_password(db, &k.hasher, "ivy", &m, id, PW2)
        .await
        .unwrap();
    assert!(session::lookup(db, &k.settings, t2.expose())
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        app_err(k.sign_in(db, &m, "jack", PW).await),
        AppError::BadCredentials
    );
    k.sign_in(db, &m, "jack", PW2).await.unwrap();
    let missing = app_err(accounts::set_disabled(db, "ivy", &m, 9999, true).await);
    assert!(matches!(missing, AppError::NotFound(_)));
});

on_both!(session_timeouts, |db| {
    let k = kit();
    let m = meta("127.0.0.1");
    admin(db, &k, "kate").await;
    let (idle, _) = k.sign_in(db, &m, "kate", PW).await.unwrap();
    let (absolute, _) = k.sign_in(db, &m, "kate", PW).await.unwrap();
    let (fresh, _) = k.sign_in(db, &m, "kate", PW).await.unwrap();
    let hash = |t: &str| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(t.as_bytes()))
    };
    let now = app::infra::db::now_ms();
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now - (k.settings.session_idle_timeout_secs + 1) * 1000)
        .bind(hash(idle.expose()))
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET expires_at = $1 WHERE token_hash = $2")
        .bind(now - 1)
        .bind(hash(absolute.expose()))
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(
        session::lookup(db, &k.settings, idle.expose())
            .await
            .unwrap()
            .is_none(),
        "idle timeout"
    );
    assert!(
        session::lookup(db, &k.settings, absolute.expose())
            .await
            .unwrap()
            .is_none(),
        "absolute timeout"
    );
    assert!(session::lookup(db, &k.settings, fresh.expose())
        .await
        .unwrap()
        .is_some());
    assert_eq!(session::purge_expired(db, &k.settings).await.unwrap(), 2);
    assert!(session::lookup(db, &k.settings, "not-a-token")
        .await
        .unwrap()
        .is_none());
});

on_both!(audit_filters_and_pages, |db| {
    let mut k = kit();
    k.settings.login_max_failures_per_account = 0;
    k.settings.login_max_failures_per_ip = 0;
    let m = meta("10.9.9.9");
    admin(db, &k, "lena").await; // 1 event: account.created
    for i in 0..119 {
        let who = if i % 2 == 0 { "mallory" } else { "nina" };
        app_err(
            k.sign_in(
                db,
                &RequestMeta {
                    ip: Some(format!("10.0.{i}.1")),
                    ..m.clone()
                },
                who,
                "nope nope nope",
            )
            .await,
        );
    }
    // 120 events in all: pages of 50, 50, 20, newest first.
    let p1 = audit::query(db, &AuditFilter::default()).await.unwrap();
    assert_eq!(p1.entries.len(), 50);
    assert!(p1.entries.windows(2).all(|w| w[0].id > w[1].id));
    let p2 = audit::query(
        db,
        &AuditFilter {
            before: p1.next_before,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(p2.entries.len(), 50);
    assert!(p2.entries[0].id < p1.entries[49].id);
    let p3 = audit::query(
        db,
        &AuditFilter {
            before: p2.next_before,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(p3.entries.len(), 20);
    assert_eq!(p3.next_before, None);
    assert_eq!(p3.entries.last().unwrap().action, "account.created");

    let by_actor = audit::query(
        db,
        &AuditFilter {
            actor: Some("Mallory".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(by_actor.entries.len(), 50);
    assert!(by_actor.entries.iter().all(|e| e.actor == "mallory"));
    let created = audit::query(
        db,
        &AuditFilter {
            action: Some("account.created".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(created.entries.len(), 1);
    let future = audit::query(
        db,
        &AuditFilter {
            from: Some(app::infra::db::now_ms() + 60_000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(future.entries.is_empty());
    let past = audit::query(
        db,
        &AuditFilter {
            to: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(past.entries.is_empty());
});

on_both!(no_password_reaches_the_audit_log_or_sessions, |db| {
    let k = kit();
    let m = meta("127.0.0.1");
    let id = admin(db, &k, "olga").await;
    app_err(k.sign_in(db, &m, "olga", "a typo in the password").await);
    k.sign_in(db, &m, "olga", PW).await.unwrap();
    accounts::reset_password(db, &k.hasher, "olga", &m, id, PW2)
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT actor, action, COALESCE(target, ''), COALESCE(detail, '') FROM audit_events",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(rows.len() >= 4);
    for r in rows {
        for i in 0..4 {
            let v: String = r.get(i);
            for secret in [PW, PW2, "a typo in the password", "$argon2"] {
                assert!(!v.contains(secret), "audit column holds {secret:?}: {v:?}");
            }
        }
    }
});

on_both!(bootstrap_first_admin, |db| {
    let k = kit();
    let Bootstrap::Generated(pw) = accounts::bootstrap(db, &k.hasher, None).await.unwrap() else {
        panic!("expected a generated password")
    };
    assert!(pw.0.len() >= 32);
    assert!(
        !format!("{pw:?}").contains(&pw.0),
        "Debug must hide the password"
    );
    k.sign_in(db, &meta("127.0.0.1"), "admin", &pw.0)
        .await
        .unwrap();
    assert_eq!(
        accounts::bootstrap(db, &k.hasher, None).await.unwrap(),
        Bootstrap::Existing
    );
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM accounts").await, 1);
    // Migrations are idempotent.
    db.migrate().await.unwrap();
});

on_both!(bootstrap_from_environment, |db| {
    let k = kit();
    let bad = accounts::bootstrap(db, &k.hasher, Some(("root".into(), "short".into()))).await;
    assert!(app_err(bad).field_message("password").is_some());
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM accounts").await,
        0,
        "nothing half-written"
    );
    let ok = accounts::bootstrap(db, &k.hasher, Some(("Root".into(), PW.into())))
        .await
        .unwrap();
    assert_eq!(ok, Bootstrap::FromEnvironment("root".into()));
});

#[tokio::test]
async fn sqlite_connections_use_wal_busy_timeout_and_foreign_keys() {
    let t = common::sqlite().await;
    // Several pooled connections, each set up by `after_connect`.
    for _ in 0..3 {
        let mut conn = t.pool.acquire().await.unwrap();
        let mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        let busy: i64 = sqlx::query("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        let fk: i64 = sqlx::query("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!((mode.as_str(), busy, fk), ("wal", 5000, 1));
    }
    // Foreign keys really are enforced: a session for a missing account is refused.
    let orphan = sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, expires_at) VALUES ('x', 999, 0, 0, 0)",
    )
    .execute(&t.pool)
    .await;
    assert!(orphan.is_err());
}

on_both!(
    console_sign_ins_racing_a_password_reset_leave_no_session,
    |db| {
        let k = std::sync::Arc::new(Kit {
            settings: Settings {
                // One account from one address, many times: no throttling here.
                login_max_failures_per_account: 0,
                login_max_failures_per_ip: 0,
                ..Settings::default()
            },
            ..kit()
        });
        let id = admin(db, &k, "carol").await;
        // Sign-ins with the old password start before the reset and go on while it runs: a
        // password check may finish before the reset commits, and its session insert after.
        let mut tasks = Vec::new();
        for i in 0..24u64 {
            let (db, k) = (db.clone(), k.clone());
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(i * 4)).await;
                k.sign_in(&db, &meta("10.1.1.1"), "carol", PW)
                    .await
                    .ok()
                    .map(|(t, _)| t.expose().to_string())
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        accounts::reset_password(db, &k.hasher, "root", &meta("10.9.9.9"), id, PW2)
            .await
            .unwrap();
        let mut opened = Vec::new();
        for t in tasks {
            opened.extend(t.await.unwrap());
        }
        let left = scalar(
            db,
            &format!("SELECT COUNT(*) FROM sessions WHERE account_id = {id}"),
        )
        .await;
        assert_eq!(left, 0, "{} sign-ins got a session", opened.len());
        for token in &opened {
            assert!(session::lookup(db, &k.settings, token)
                .await
                .unwrap()
                .is_none());
        }
        assert!(k.sign_in(db, &meta("10.1.1.1"), "carol", PW2).await.is_ok());
    }
);
