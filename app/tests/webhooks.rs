//! Service tests of webhooks, on SQLite and PostgreSQL, with the store's clock moved forward:
//! expiry notices given once per threshold and then `secret.expired` once; notices missed
//! while the server was down; the outbox written in the change's transaction only; endpoint
//! rules (fields, addresses, the secret sealed and shown once).

mod common;

use common::{app_err, input};
use secrecy::ExposeSecret;
use sqlx::Row;

use app::clients::kind::ClientType;
use app::clients::service as clients;
use app::clients::ClientInput;
use app::error::AppError;
use app::infra::db::Db;
use app::infra::seal::Kek;
use app::infra::RequestMeta;
use app::webhooks::outbox::{emit_client, notify_expiry};
use app::webhooks::service as webhooks;
use app::webhooks::EndpointInput;
use app::webhooks::EventType;

fn meta() -> RequestMeta {
    RequestMeta::default()
}

async fn endpoint(db: &Db, kek: &Kek, events: &[&str]) -> String {
    let input = EndpointInput {
        url: "http://127.0.0.1:9/hook".into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        enabled: true,
        ..Default::default()
    };
    let (e, secret) = webhooks::create(db, Some(kek), true, "root", &meta(), &input)
        .await
        .unwrap();
    assert!(secret.expose_secret().starts_with("whsec_"));
    e.id
}

/// The events in the outbox, oldest first: (type, notice_seconds).
async fn outbox(db: &Db) -> Vec<(String, Option<i64>)> {
    let rows = sqlx::query("SELECT type, payload FROM webhook_events ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let payload: serde_json::Value =
                serde_json::from_str(&r.get::<String, _>("payload")).unwrap();
            (r.get("type"), payload["data"]["notice_seconds"].as_i64())
        })
        .collect()
}

fn three_minutes(name: &str) -> ClientInput {
    ClientInput {
        secret_lifetime: "180".into(),
        ..input(name, ClientType::ClientCredentials)
    }
}

on_both!(
    expiry_notices_come_once_per_threshold_then_expired_once,
    |db| {
        let kek = Kek::generate();
        endpoint(db, &kek, &["secret.expiring", "secret.expired"]).await;
        clients::create_issuing(db, "root", &meta(), &three_minutes("Short-lived"))
            .await
            .unwrap();
        let notices = [120, 60];
        assert_eq!(
            notify_expiry(db, &notices, db.now()).await.unwrap(),
            0,
            "three minutes left: no notice yet"
        );
        db.clock.advance(61_000);
        assert_eq!(notify_expiry(db, &notices, db.now()).await.unwrap(), 1);
        assert_eq!(
            notify_expiry(db, &notices, db.now()).await.unwrap(),
            0,
            "the same notice twice"
        );
        db.clock.advance(60_000);
        assert_eq!(notify_expiry(db, &notices, db.now()).await.unwrap(), 1);
        db.clock.advance(60_000);
        assert_eq!(notify_expiry(db, &notices, db.now()).await.unwrap(), 1);
        db.clock.advance(60_000);
        assert_eq!(
            notify_expiry(db, &notices, db.now()).await.unwrap(),
            0,
            "expired is said once"
        );
        let want = [
            ("secret.expiring", Some(120)),
            ("secret.expiring", Some(60)),
            ("secret.expired", None),
        ];
        let got = outbox(db).await;
        assert_eq!(got, want.map(|(t, n)| (t.to_string(), n)));
    }
);

on_both!(
    notices_missed_while_down_give_the_nearest_one_only_and_none_after_expiry,
    |db| {
        let kek = Kek::generate();
        endpoint(db, &kek, &[]).await;
        clients::create_issuing(db, "root", &meta(), &three_minutes("Slept through"))
            .await
            .unwrap();
        clients::create_issuing(db, "root", &meta(), &three_minutes("Slept longer"))
            .await
            .unwrap();
        let before = outbox(db).await.len();
        // Down from the start until 50 s before the expiry: one notice (60 s), not two.
        db.clock.advance(130_000);
        assert_eq!(notify_expiry(db, &[120, 60], db.now()).await.unwrap(), 2);
        let got = outbox(db).await.split_off(before);
        assert_eq!(got, vec![("secret.expiring".to_string(), Some(60)); 2]);
        db.clock.advance(120_000);
        notify_expiry(db, &[120, 60], db.now()).await.unwrap();
        let types: Vec<String> = outbox(db)
            .await
            .split_off(before + 2)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(types, ["secret.expired", "secret.expired"]);
    }
);

on_both!(
    events_are_written_with_their_change_and_only_for_endpoints_that_want_them,
    |db| {
        let kek = Kek::generate();
        // Without an endpoint nothing is written at all.
        clients::create_issuing(
            db,
            "root",
            &meta(),
            &input("Unheard", ClientType::ClientCredentials),
        )
        .await
        .unwrap();
        assert!(outbox(db).await.is_empty());
        endpoint(db, &kek, &["client.created"]).await;
        let (heard, _) = clients::create_issuing(
            db,
            "root",
            &meta(),
            &input("Heard", ClientType::ClientCredentials),
        )
        .await
        .unwrap();
        // A change that rolls back after its event was written leaves no event.
        let failed: Result<(), _> = db
            .write(|conn| {
                let id = heard.client_id.clone();
                Box::pin(async move {
                    emit_client(conn, &meta(), 0, "root", EventType::ClientCreated, &id).await?;
                    Err(AppError::Conflict("rolled back".into()).into())
                })
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            outbox(db).await,
            [("client.created".to_string(), None)],
            "only the committed creation, and not its secret.created"
        );
        let deliveries: i64 = sqlx::query("SELECT COUNT(*) AS n FROM webhook_deliveries")
            .fetch_one(&db.pool)
            .await
            .unwrap()
            .get("n");
        assert_eq!(deliveries, 1);
    }
);

on_both!(
    endpoint_fields_and_addresses_are_checked_and_the_secret_is_sealed,
    |db| {
        let kek = Kek::generate();
        let bad = |url: &str, events: &[&str]| EndpointInput {
            url: url.into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            enabled: true,
            ..Default::default()
        };
        for (input, field) in [
            (bad("https://169.254.169.254/", &[]), "url"),
            (bad("http://10.0.0.1/", &[]), "url"),
            (
                bad("https://hooks.example.com/", &["secret.stolen"]),
                "events",
            ),
        ] {
            let e = app_err(webhooks::create(db, Some(&kek), false, "root", &meta(), &input).await);
            assert!(e.field_message(field).is_some(), "{input:?}: {e:?}");
        }
        let ok = bad("https://hooks.example.com/clavis", &["secret.rotated"]);
        let (e, secret) = webhooks::create(db, Some(&kek), false, "root", &meta(), &ok)
            .await
            .unwrap();
        assert_eq!(e.events, ["secret.rotated"]);
        let stored: String = sqlx::query("SELECT secret_sealed FROM webhook_endpoints")
            .fetch_one(&db.pool)
            .await
            .unwrap()
            .get("secret_sealed");
        assert!(
            !stored.contains(secret.expose_secret()),
            "the signing secret is stored sealed"
        );
        let audit: Vec<String> = sqlx::query("SELECT COALESCE(detail, '') AS d FROM audit_events")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("d"))
            .collect();
        assert!(audit.iter().all(|d| !d.contains(secret.expose_secret())));
        let (_, rotated) = webhooks::rotate_secret(db, Some(&kek), "root", &meta(), &e.id)
            .await
            .unwrap();
        assert_ne!(rotated.expose_secret(), secret.expose_secret());
        assert!(webhooks::get(db, &e.id)
            .await
            .unwrap()
            .previous_secret_until
            .is_some());
    }
);
