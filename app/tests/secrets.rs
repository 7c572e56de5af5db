//! Service tests for the secret lifecycle, on SQLite and PostgreSQL: issuing, rotation with
//! caps of 0, 1 and 3, revocation, expiry with an injected clock, verification, "last used"
//! batching, 50 concurrent rotations, and no plaintext anywhere in the database.

mod common;

use common::{app_err, input};
use sqlx::Row;

use app::audit::service as audit;
use app::audit::AuditFilter;
use app::clients::kind::ClientType;
use app::clients::service as clients;
use app::error::AppError;
use app::infra::db::{now_ms, Db};
use app::infra::RequestMeta;
use app::infra::SingleUse;
use app::secrets::service::{self as secrets, Grace, Policy};
use app::secrets::verify;
use app::secrets::{IssuedSecretOnce, SecretState};

fn meta() -> RequestMeta {
    RequestMeta::default()
}

fn policy(max_rotated: u32) -> Policy {
    Policy {
        max_rotated,
        default_grace_secs: None,
        unused_days: 7,
    }
}

/// A client-credentials client and the plaintext of its first secret.
async fn worker(db: &Db, name: &str) -> (String, String) {
    let (c, s) = clients::create_issuing(
        db,
        "root",
        &meta(),
        &input(name, ClientType::ClientCredentials),
    )
    .await
    .unwrap();
    (c.client_id, s.expect("a first secret").secret)
}

async fn rotate(db: &Db, cap: u32, client_id: &str) -> IssuedSecretOnce {
    secrets::rotate(
        db,
        policy(cap),
        "root",
        &meta(),
        client_id,
        Grace::UntilRevoked,
    )
    .await
    .unwrap()
}

async fn works(db: &Db, client_id: &str, secret: &str) -> bool {
    verify::verify(db, client_id, secret, now_ms())
        .await
        .unwrap()
        .is_some()
}

/// Every audit action about the client, oldest first (all of them, not one page).
async fn actions(db: &Db, client_id: &str) -> Vec<String> {
    sqlx::query("SELECT action FROM audit_events WHERE target = $1 ORDER BY id")
        .bind(client_id.to_string())
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("action"))
        .collect()
}

on_both!(
    confidential_clients_get_a_first_secret_and_public_ones_never,
    |db| {
        for kind in ClientType::ALL {
            let (c, s) = clients::create_issuing(db, "root", &meta(), &input(kind.as_str(), kind))
                .await
                .unwrap();
            let v = secrets::overview(db, policy(1), &c.client_id)
                .await
                .unwrap();
            if kind.has_secret() {
                let s = s.expect("confidential clients get a secret at once");
                assert_eq!(s.client_id, c.client_id);
                assert!(s.secret.starts_with("clavis_cs_"));
                assert!(s.secret.ends_with(&s.hint));
                assert_eq!(v.current.as_ref().unwrap().hint, s.hint);
                assert!(works(db, &c.client_id, &s.secret).await);
                assert_eq!(
                    actions(db, &c.client_id).await,
                    ["client.created", "secret.created"]
                );
            } else {
                assert!(s.is_none());
                assert!(!v.has_secret && v.current.is_none());
                let e = app_err(
                    secrets::rotate(
                        db,
                        policy(1),
                        "root",
                        &meta(),
                        &c.client_id,
                        Grace::UntilRevoked,
                    )
                    .await,
                );
                assert!(
                    matches!(&e, AppError::Validation { message, .. } if message.contains("Public clients never have a secret")),
                    "{e:?}"
                );
                assert!(secrets::overview(db, policy(1), &c.client_id)
                    .await
                    .unwrap()
                    .current
                    .is_none());
            }
        }
    }
);

on_both!(
    rotation_keeps_the_old_secret_valid_up_to_the_cap_of_one,
    |db| {
        let (id, first) = worker(db, "Billing").await;
        let second = rotate(db, 1, &id).await.secret;
        assert!(
            works(db, &id, &first).await,
            "the rotated secret stays valid"
        );
        assert!(works(db, &id, &second).await);
        let third = rotate(db, 1, &id).await.secret;
        assert!(
            !works(db, &id, &first).await,
            "the oldest rotated one went past the cap"
        );
        assert!(works(db, &id, &second).await && works(db, &id, &third).await);
        let v = secrets::overview(db, policy(1), &id).await.unwrap();
        assert!(third.ends_with(&v.current.unwrap().hint));
        let states: Vec<_> = v
            .previous
            .iter()
            .map(|m| (m.state, m.revoked_reason.clone()))
            .collect();
        assert_eq!(
            states,
            [
                (SecretState::Rotated, None),
                (SecretState::Revoked, Some("rotation limit".to_string()))
            ]
        );
        assert!(second.ends_with(&v.previous[0].hint));
        assert!(first.ends_with(&v.previous[1].hint));
        assert_eq!(
            actions(db, &id).await,
            [
                "client.created",
                "secret.created",
                "secret.rotated",
                "secret.rotated",
                "secret.auto_revoked"
            ]
        );
    }
);

on_both!(a_cap_of_zero_revokes_the_old_secret_at_once, |db| {
    let (id, first) = worker(db, "Zero").await;
    let second = rotate(db, 0, &id).await.secret;
    assert!(!works(db, &id, &first).await);
    assert!(works(db, &id, &second).await);
    let v = secrets::overview(db, policy(0), &id).await.unwrap();
    assert_eq!(v.previous.len(), 1);
    assert_eq!(v.previous[0].state, SecretState::Revoked);
});

on_both!(a_cap_of_three_keeps_the_three_newest, |db| {
    let (id, first) = worker(db, "Three").await;
    let mut all = vec![first];
    for _ in 0..4 {
        all.push(rotate(db, 3, &id).await.secret);
    }
    // all[4] is current, all[1..4] are rotated, all[0] went past the cap.
    assert!(!works(db, &id, &all[0]).await);
    for s in &all[1..] {
        assert!(works(db, &id, s).await);
    }
    let v = secrets::overview(db, policy(3), &id).await.unwrap();
    let rotated = v
        .previous
        .iter()
        .filter(|m| m.state == SecretState::Rotated)
        .count();
    assert_eq!(rotated, 3);
    // Lowering the cap takes effect at the next rotation.
    all.push(rotate(db, 1, &id).await.secret);
    for s in &all[..4] {
        assert!(!works(db, &id, s).await);
    }
    assert!(works(db, &id, &all[4]).await && works(db, &id, &all[5]).await);
});

on_both!(revoke_one_and_revoke_all_take_effect_at_once, |db| {
    let (id, first) = worker(db, "Revoke").await;
    let second = rotate(db, 3, &id).await.secret;
    let third = rotate(db, 3, &id).await.secret;
    let v = secrets::overview(db, policy(3), &id).await.unwrap();
    let newest_rotated = v.previous[0].id;
    assert!(second.ends_with(&v.previous[0].hint));
    secrets::revoke(db, "sam", &meta(), &id, newest_rotated)
        .await
        .unwrap();
    assert!(
        !works(db, &id, &second).await,
        "revoked: refused on the very next check"
    );
    assert!(works(db, &id, &first).await);
    // Revoking twice, or the current secret, is refused and changes nothing.
    let e = app_err(secrets::revoke(db, "sam", &meta(), &id, newest_rotated).await);
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    let current = v.current.unwrap().id;
    let e = app_err(secrets::revoke(db, "sam", &meta(), &id, current).await);
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    assert!(works(db, &id, &third).await);
    assert_eq!(
        secrets::revoke_all_rotated(db, "sam", &meta(), &id)
            .await
            .unwrap(),
        1
    );
    assert!(!works(db, &id, &first).await);
    assert!(
        works(db, &id, &third).await,
        "the current secret keeps working"
    );
    assert_eq!(
        secrets::revoke_all_rotated(db, "sam", &meta(), &id)
            .await
            .unwrap(),
        0
    );
    let a = actions(db, &id).await;
    assert_eq!(a.iter().filter(|a| *a == "secret.revoked").count(), 2);
});

on_both!(
    expired_secrets_never_match_even_before_the_task_runs,
    |db| {
        let (id, first) = worker(db, "Expiring").await;
        let second = secrets::rotate(db, policy(3), "root", &meta(), &id, Grace::For(60))
            .await
            .unwrap()
            .secret;
        let now = now_ms();
        let check = |at: i64, s: String| {
            let id = id.clone();
            async move { verify::verify(db, &id, &s, at).await.unwrap().is_some() }
        };
        assert!(
            check(now + 30_000, first.clone()).await,
            "within the grace period"
        );
        assert!(
            !check(now + 61_000, first.clone()).await,
            "past it, before the task ran"
        );
        assert!(
            check(now + 61_000, second.clone()).await,
            "the current secret never expires"
        );
        // Nothing is due yet at `now`; a minute later the task marks it expired, once.
        assert_eq!(secrets::expire_due(db, now).await.unwrap(), 0);
        assert_eq!(secrets::expire_due(db, now + 61_000).await.unwrap(), 1);
        assert_eq!(secrets::expire_due(db, now + 62_000).await.unwrap(), 0);
        let v = secrets::overview(db, policy(3), &id).await.unwrap();
        assert_eq!(v.previous[0].state, SecretState::Expired);
        assert_eq!(v.previous[0].revoked_reason.as_deref(), Some("expired"));
        assert!(!works(db, &id, &first).await);
        let a = actions(db, &id).await;
        assert_eq!(a.last().map(String::as_str), Some("secret.expired"));
        // An expired secret cannot be revoked again.
        let e = app_err(secrets::revoke(db, "root", &meta(), &id, v.previous[0].id).await);
        assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    }
);

on_both!(verification_fails_alike_for_every_wrong_case, |db| {
    let (id, secret) = worker(db, "Verify").await;
    let (other_id, other_secret) = worker(db, "Other").await;
    let ok = verify::verify(db, &id, &secret, now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ok.client_id, id);
    assert_eq!(ok.client_type, ClientType::ClientCredentials);
    assert_eq!(ok.scopes, ["read", "write"]);
    let mut tampered = secret.clone().into_bytes();
    tampered[20] = if tampered[20] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).unwrap();
    // An unknown id reads the client whose id sorts next (or the first one), so that it costs
    // the same as a known one: that client's own secret must not open it.
    let first_secret = if id < other_id {
        &secret
    } else {
        &other_secret
    };
    let cases = [
        (
            id[..31].to_string(),
            secret.clone(),
            "unknown id sorting just before",
        ),
        (
            "f".repeat(33),
            first_secret.clone(),
            "unknown id sorting after all",
        ),
        (id.clone(), other_secret.clone(), "another client's secret"),
        (
            other_id.clone(),
            secret.clone(),
            "the secret under another id",
        ),
        ("0".repeat(32), secret.clone(), "unknown client"),
        (id.clone(), tampered, "checksum mismatch"),
        (id.clone(), secret[..40].to_string(), "truncated"),
        (id.clone(), String::new(), "empty"),
        (String::new(), secret.clone(), "empty id"),
        (id.clone(), format!("{secret} "), "trailing space"),
    ];
    for (cid, s, why) in cases {
        assert_eq!(
            verify::verify(db, &cid, &s, now_ms()).await.unwrap(),
            None,
            "{why}"
        );
    }
    // A disabled client is refused with its right secret, and accepted again once enabled.
    clients::set_enabled(db, "root", &meta(), &id, false)
        .await
        .unwrap();
    assert!(!works(db, &id, &secret).await);
    clients::set_enabled(db, "root", &meta(), &id, true)
        .await
        .unwrap();
    assert!(works(db, &id, &secret).await);
    // A deleted client takes its secrets with it.
    clients::delete(db, "root", &meta(), &other_id, "Other")
        .await
        .unwrap();
    assert!(!works(db, &other_id, &other_secret).await);
});

on_both!(
    last_used_is_recorded_in_batches_and_only_moves_forward,
    |db| {
        let (id, secret) = worker(db, "Usage").await;
        let v = verify::verify(db, &id, &secret, now_ms())
            .await
            .unwrap()
            .unwrap();
        let recorder = app::usage::recorder::UsageRecorder::default();
        recorder.record(v.secret_id, 2_000);
        recorder.record(v.secret_id, 3_000);
        recorder.record(v.secret_id, 1_000);
        assert_eq!(
            secrets::overview(db, policy(1), &id)
                .await
                .unwrap()
                .current
                .unwrap()
                .last_used_at,
            None,
            "nothing written before a flush"
        );
        assert_eq!(recorder.flush(db).await.unwrap(), 1, "one write per secret");
        assert_eq!(
            secrets::overview(db, policy(1), &id)
                .await
                .unwrap()
                .current
                .unwrap()
                .last_used_at,
            Some(3_000)
        );
        assert_eq!(recorder.flush(db).await.unwrap(), 0);
        recorder.record(v.secret_id, 2_500);
        recorder.flush(db).await.unwrap();
        assert_eq!(
            secrets::overview(db, policy(1), &id)
                .await
                .unwrap()
                .current
                .unwrap()
                .last_used_at,
            Some(3_000),
            "never backwards"
        );
        // The "safe to revoke" hint follows use: unused since rotation means safe.
        rotate(db, 1, &id).await;
        let m = secrets::overview(db, policy(1), &id)
            .await
            .unwrap()
            .previous[0]
            .clone();
        assert!(
            m.safe_to_revoke,
            "last used (3 s after 1970) is before the rotation"
        );
        recorder.record(v.secret_id, now_ms() + 1_000);
        recorder.flush(db).await.unwrap();
        let m = secrets::overview(db, policy(1), &id)
            .await
            .unwrap()
            .previous[0]
            .clone();
        assert!(!m.safe_to_revoke, "used after its rotation");
    }
);

on_both!(
    fifty_concurrent_rotations_leave_one_current_and_at_most_the_cap,
    |db| {
        let (id, first) = worker(db, "Busy").await;
        let cap = 3;
        let retries_before = db.retries();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (db, id) = (db.clone(), id.clone());
                tokio::spawn(async move {
                    secrets::rotate(
                        &db,
                        policy(cap),
                        "root",
                        &RequestMeta::default(),
                        &id,
                        Grace::UntilRevoked,
                    )
                    .await
                })
            })
            .collect();
        let mut issued = vec![first];
        for t in tasks {
            let r = t.await.unwrap();
            // No "database is locked", no serialization failure: every rotation succeeds.
            issued.push(
                r.unwrap_or_else(|e| panic!("a rotation failed: {e:?}"))
                    .secret,
            );
        }
        assert_eq!(
            db.retries(),
            retries_before,
            "rotations queue on the client's row lock; none conflicts and runs again"
        );
        let rows = sqlx::query(
        "SELECT s.state, COUNT(*) AS n FROM client_secrets s JOIN clients c ON c.id = s.client_pk \
         WHERE c.client_id = $1 GROUP BY s.state ORDER BY s.state",
    )
    .bind(id.clone())
    .fetch_all(&db.pool)
    .await
    .unwrap();
        let counts: Vec<(String, i64)> =
            rows.iter().map(|r| (r.get("state"), r.get("n"))).collect();
        assert_eq!(
            counts,
            [
                ("current".to_string(), 1),
                ("revoked".to_string(), 51 - 1 - cap as i64),
                ("rotated".to_string(), cap as i64)
            ]
        );
        let valid = {
            let mut n = 0;
            for s in &issued {
                n += usize::from(works(db, &id, s).await);
            }
            n
        };
        assert_eq!(valid, 1 + cap as usize);
        let a = actions(db, &id).await;
        assert_eq!(a.iter().filter(|a| *a == "secret.rotated").count(), 50);
        assert_eq!(
            a.iter().filter(|a| *a == "secret.auto_revoked").count(),
            50 - cap as usize
        );
    }
);

on_both!(no_plaintext_is_stored_anywhere, |db| {
    let (id, first) = worker(db, "Stored").await;
    let second = rotate(db, 1, &id).await.secret;
    secrets::revoke_all_rotated(db, "root", &meta(), &id)
        .await
        .unwrap();
    let mut dump = String::new();
    for table in ["client_secrets", "audit_events", "clients"] {
        for row in sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(&db.pool)
            .await
            .unwrap()
        {
            for i in 0..row.len() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                    dump.push_str(&text);
                    dump.push('\n');
                }
            }
        }
    }
    for s in [&first, &second] {
        assert!(!dump.contains(s.as_str()));
        // Not even the random part without its prefix.
        assert!(!dump.contains(&s[10..40]));
    }
    let hashes: Vec<String> = sqlx::query("SELECT hash FROM client_secrets")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("hash"))
        .collect();
    assert_eq!(hashes.len(), 2);
    assert!(hashes
        .iter()
        .all(|h| h.starts_with("sha256:") && h.len() == 71));
    // And the audit log holds no hash either.
    let audit_text: String = audit::query(db, &AuditFilter::default())
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.detail.unwrap_or_default()))
        .collect();
    for h in &hashes {
        assert!(!audit_text.contains(&h[7..]));
    }
});

on_both!(
    a_secret_expiring_while_it_is_revoked_ends_with_one_state_and_one_event,
    |db| {
        let (id, _) = worker(db, "Racing worker").await;
        for round in 0..20 {
            rotate(db, 100, &id).await;
            // The secret just rotated expires a moment from now; the expiry job, run with a clock
            // past that moment, races a person revoking it.
            let expires_at = now_ms() + 5_000;
            let secret_id: i64 = sqlx::query(
                "SELECT id FROM client_secrets WHERE state = 'rotated' ORDER BY id DESC LIMIT 1",
            )
            .fetch_one(&db.pool)
            .await
            .unwrap()
            .try_get("id")
            .unwrap();
            sqlx::query("UPDATE client_secrets SET expires_at = $1 WHERE id = $2")
                .bind(expires_at)
                .bind(secret_id)
                .execute(&db.pool)
                .await
                .unwrap();
            let m = meta();
            let (revoked, expired) = tokio::join!(
                secrets::revoke(db, "root", &m, &id, secret_id),
                secrets::expire_due(db, expires_at + 1),
            );
            expired.unwrap();
            let row =
                sqlx::query("SELECT hint, state, revoked_reason FROM client_secrets WHERE id = $1")
                    .bind(secret_id)
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
            let hint: String = row.try_get("hint").unwrap();
            let reason: Option<String> = row.try_get("revoked_reason").unwrap();
            let events: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action IN ('secret.revoked', 'secret.expired') \
             AND detail LIKE $1",
        )
        .bind(format!("secret …{hint}%"))
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
            assert_eq!(events, 1, "round {round}: one audit event");
            assert_eq!(row.try_get::<String, _>("state").unwrap(), "revoked");
            // The one event matches the one state.
            match revoked {
                Ok(()) => assert_eq!(reason.as_deref(), Some("revoked"), "round {round}"),
                Err(e) => {
                    assert_eq!(reason.as_deref(), Some("expired"), "round {round}");
                    assert!(matches!(app_err(Err::<(), _>(e)), AppError::Conflict(_)));
                }
            }
        }
    }
);

on_both!(parallel_rotations_with_one_form_token_rotate_once, |db| {
    let (id, first) = worker(db, "Once").await;
    let once = RequestMeta {
        once: Some(SingleUse::form(
            "root",
            "0123456789abcdef0123456789abcdef",
            &(&id, "until_revoked"),
        )),
        ..meta()
    };
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (db, id, once) = (db.clone(), id.clone(), once.clone());
            tokio::spawn(async move {
                secrets::rotate(&db, policy(1), "root", &once, &id, Grace::UntilRevoked).await
            })
        })
        .collect();
    let (mut made, mut repeats) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => made += 1,
            r => match app_err(r) {
                AppError::AlreadyApplied { href } => {
                    assert!(
                        href.starts_with(&format!("/clients/{id}#secret-")),
                        "{href}"
                    );
                    repeats += 1;
                }
                other => panic!("unexpected {other:?}"),
            },
        }
    }
    assert_eq!((made, repeats), (1, 7));
    // With a cap of 1, a second rotation would have revoked the first secret.
    let v = verify::verify(db, &id, &first, now_ms()).await.unwrap();
    assert!(
        v.is_some(),
        "the secret from before the rotation still works"
    );
});

// Revoked access tokens (RFC 7009): listed once, seen at once, forgotten after their expiry.
on_both!(
    revoked_tokens_are_listed_once_and_pruned_after_expiry,
    |db| {
        use app::oauth::introspect;
        let now = now_ms();
        assert!(!introspect::is_revoked(db, "jti-1").await.unwrap());
        assert!(
            introspect::list_revoked(db, "jti-1", "c1", now + 60_000, &meta())
                .await
                .unwrap()
        );
        assert!(
            !introspect::list_revoked(db, "jti-1", "c1", now + 60_000, &meta())
                .await
                .unwrap(),
            "a second revocation changes nothing"
        );
        assert!(
            introspect::list_revoked(db, "jti-2", "c1", now + 120_000, &meta())
                .await
                .unwrap()
        );
        assert!(introspect::is_revoked(db, "jti-1").await.unwrap());
        assert_eq!(introspect::prune(db, now + 90_000).await.unwrap(), 1);
        assert!(!introspect::is_revoked(db, "jti-1").await.unwrap());
        assert!(introspect::is_revoked(db, "jti-2").await.unwrap());
        let events = audit::query(
            db,
            &AuditFilter {
                action: Some("token.revoked".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(events.entries.len(), 2);
        assert!(events.entries.iter().all(|e| e.actor == "client:c1"));
    }
);

/// The ids and readability of a client's valid secrets (current first).
async fn readable(db: &Db, client_id: &str) -> Vec<(i64, bool)> {
    let v = secrets::overview(db, policy(3), client_id).await.unwrap();
    v.current
        .iter()
        .chain(v.previous.iter())
        .filter(|m| matches!(m.state, SecretState::Current | SecretState::Rotated))
        .map(|m| (m.id, m.readable))
        .collect()
}

/// How many secrets keep a sealed copy.
async fn sealed_count(db: &Db) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM client_secrets WHERE sealed IS NOT NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get::<i64, _>("n")
}

/// Whether `plaintext` is anywhere in the `client_secrets` table.
async fn stored_anywhere(db: &Db, plaintext: &str) -> bool {
    let rows = sqlx::query("SELECT hash, hint, COALESCE(sealed, '') AS sealed FROM client_secrets")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    rows.iter().any(|r| {
        ["hash", "hint", "sealed"]
            .iter()
            .any(|c| r.get::<String, _>(*c).contains(plaintext))
    })
}

// The storage flag false: each new secret is its hash plus a sealed copy that an admin can
// reveal (audited); revoking or expiring erases the copy; the plaintext is never stored.
on_both!(with_the_flag_false_secrets_are_sealed_and_revealed, |db| {
    use app::infra::seal::Kek;
    use app::secrets::sealed;
    let kek = Kek::generate();
    let sealing = db.clone().sealing_secrets(Some(kek.clone()));
    let (id, first) = worker(&sealing, "Sealed").await;
    let [(first_id, true)] = readable(db, &id).await[..] else {
        panic!("the first secret is readable")
    };
    assert!(!stored_anywhere(db, &first).await, "never the plaintext");
    let shown = sealed::reveal(&sealing, "root", &meta(), &id, first_id, None)
        .await
        .unwrap();
    assert_eq!(shown.secret, first);
    assert!(
        works(db, &id, &first).await,
        "verification is still the hash"
    );

    // Rotated (with a grace period) and current: both readable. Expiry erases the copy.
    let second = secrets::rotate(&sealing, policy(3), "root", &meta(), &id, Grace::For(60))
        .await
        .unwrap();
    assert_eq!(readable(db, &id).await.len(), 2);
    assert_eq!(secrets::expire_due(db, now_ms() + 61_000).await.unwrap(), 1);
    let e = app_err(sealed::reveal(&sealing, "root", &meta(), &id, first_id, None).await);
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    let left = sealed_count(db).await;
    assert_eq!(left, 1, "only the current secret keeps a sealed copy");

    // Revoked: erased too.
    let third = rotate(&sealing, 3, &id).await;
    let v = readable(db, &id).await;
    let second_id = v[1].0;
    secrets::revoke(db, "root", &meta(), &id, second_id)
        .await
        .unwrap();
    let e = app_err(sealed::reveal(&sealing, "root", &meta(), &id, second_id, None).await);
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    let left = sealed_count(db).await;
    assert_eq!(left, 1, "the revoked secret's sealed copy is erased");
    for s in [&first, &second.secret, &third.secret] {
        assert!(!stored_anywhere(db, s).await);
    }
    // The key-encryption key must be the one that sealed them.
    assert!(sealed::check_key(db, &kek).await.unwrap());
    assert!(!sealed::check_key(db, &Kek::generate()).await.unwrap());
    let audited = audit::query(
        db,
        &AuditFilter {
            action: Some("secret.revealed".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(audited.entries.len(), 1);
    assert!(!format!("{:?}", audited.entries).contains(&first));
});

// Switching: false → true erases every sealed copy in one go (the secrets stay valid, as
// hashes); true → false leaves the existing secrets hash-only, and a rotation makes a
// readable one.
on_both!(switching_the_flag_both_ways, |db| {
    use app::infra::seal::Kek;
    use app::secrets::sealed;
    let kek = Kek::generate();
    let sealing = db.clone().sealing_secrets(Some(kek));
    let (a, a_secret) = worker(&sealing, "A").await;
    let (b, _) = worker(&sealing, "B").await;
    rotate(&sealing, 3, &b).await;
    assert_eq!(sealed::erase_all(db, &meta()).await.unwrap(), 3);
    assert_eq!(
        sealed::erase_all(db, &meta()).await.unwrap(),
        0,
        "nothing left"
    );
    assert!(readable(db, &a).await.iter().all(|(_, r)| !r));
    assert!(readable(db, &b).await.iter().all(|(_, r)| !r));
    assert!(works(db, &a, &a_secret).await);
    let (a_id, _) = readable(db, &a).await[0];
    let e = app_err(sealed::reveal(&sealing, "root", &meta(), &a, a_id, None).await);
    assert_eq!(e, AppError::Conflict(sealed::NOT_READABLE.into()));
    let events = audit::query(
        db,
        &AuditFilter {
            action: Some("secret.sealed_copies_erased".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(events.entries.len(), 1);
    assert!(events.entries[0]
        .detail
        .as_deref()
        .unwrap()
        .starts_with("3 "));

    // Back to false: the old secret stays hash-only; the rotated-in one is readable.
    let fresh = rotate(&sealing, 3, &a).await;
    let v = readable(db, &a).await;
    assert!(v[0].1, "the new current secret is readable");
    assert!(!v[1].1, "the old one stays hash-only");
    let shown = sealed::reveal(&sealing, "root", &meta(), &a, v[0].0, None)
        .await
        .unwrap();
    assert_eq!(shown.secret, fresh.secret);
});
