//! Service tests of secrets over time, on SQLite and PostgreSQL, with the store's clock moved
//! forward instead of waiting: lifetimes at creation, rotation and for an authorizer; an expired
//! current secret refused; a policy change that shortens nothing; the Overview's groups and
//! pages; daily counts from two replicas adding up, and pruned after 90 days.

mod common;

use common::{app_err, input};
use sqlx::Row;

use app::attention::service as attention;
use app::attention::{Group, Reason};
use app::authorizers::service as authorizers;
use app::authorizers::AuthorizerInput;
use app::clients::kind::ClientType;
use app::clients::service as clients;
use app::clients::ClientInput;
use app::infra::db::Db;
use app::infra::settings::Settings;
use app::infra::RequestMeta;
use app::secrets::service::{self as secrets, Grace, Policy};
use app::secrets::verify;
use app::usage::recorder::UsageRecorder;
use app::usage::{day_of, service as usage, UseKind};

const DAY: i64 = 86_400_000;

fn meta() -> RequestMeta {
    RequestMeta::default()
}

fn policy() -> Policy {
    Policy {
        max_rotated: 3,
        default_grace_secs: None,
        unused_days: 7,
    }
}

/// Settings with a lifetime policy of `max` seconds and notices 7 days and 1 day ahead.
fn settings(max: Option<i64>) -> Settings {
    Settings {
        secret_max_lifetime_secs: max,
        secret_expiry_notice_secs: vec![7 * 86_400, 86_400],
        ..Settings::default()
    }
}

fn with_lifetime(name: &str, kind: ClientType, secs: &str) -> ClientInput {
    ClientInput {
        secret_lifetime: secs.into(),
        ..input(name, kind)
    }
}

/// Creates a client; returns its id, its first secret's plaintext and expiry.
async fn make(db: &Db, i: &ClientInput) -> (String, String, Option<i64>) {
    let (c, s) = clients::create_issuing(db, "root", &meta(), i)
        .await
        .unwrap();
    let s = s.expect("a first secret");
    (c.client_id, s.secret, s.expires_at)
}

async fn works(db: &Db, client_id: &str, secret: &str) -> bool {
    verify::verify(db, client_id, secret, db.now())
        .await
        .unwrap()
        .is_some()
}

async fn stored_expiry(db: &Db, client_id: &str, state: &str) -> Vec<Option<i64>> {
    sqlx::query(
        "SELECT s.expires_at FROM client_secrets s JOIN clients c ON c.id = s.client_pk \
         WHERE c.client_id = $1 AND s.state = $2 ORDER BY s.id",
    )
    .bind(client_id.to_string())
    .bind(state.to_string())
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("expires_at"))
    .collect()
}

/// Within a second of `want`: the store stamps its own `now`.
fn near(got: Option<i64>, want: i64) -> bool {
    got.is_some_and(|g| (g - want).abs() < 1000)
}

on_both!(lifetimes_at_creation_rotation_and_for_an_authorizer, |db| {
    let db = db.clone().limiting_secret_lifetime(Some(3600));
    let t0 = db.now();
    // The policy's lifetime, or the client's own shorter one.
    let (a, _, a_exp) = make(&db, &input("A", ClientType::ClientCredentials)).await;
    assert!(near(a_exp, t0 + 3_600_000), "{a_exp:?}");
    assert_eq!(stored_expiry(&db, &a, "current").await, vec![a_exp]);
    let (_, _, b_exp) = make(
        &db,
        &with_lifetime("B", ClientType::ConfidentialPkce, "120"),
    )
    .await;
    assert!(near(b_exp, t0 + 120_000), "{b_exp:?}");

    // Rotation: a fresh lifetime for the new secret; the old one keeps its own end, which a
    // longer grace period does not extend.
    db.clock.advance(600_000);
    let new = secrets::rotate(&db, policy(), "root", &meta(), &a, Grace::For(7200))
        .await
        .unwrap();
    assert!(
        near(new.expires_at, db.now() + 3_600_000),
        "{:?}",
        new.expires_at
    );
    assert_eq!(stored_expiry(&db, &a, "rotated").await, vec![a_exp]);
    // A grace shorter than what is left ends the old secret first.
    db.clock.advance(1000);
    let again = secrets::rotate(&db, policy(), "root", &meta(), &a, Grace::For(60))
        .await
        .unwrap();
    let rotated = stored_expiry(&db, &a, "rotated").await;
    assert!(near(rotated[1], db.now() + 60_000), "{rotated:?}");
    assert!(again.expires_at > new.expires_at);

    // An authorizer's client.
    let gateway = AuthorizerInput {
        name: "Edge".into(),
        description: String::new(),
        audience: "orders-api".into(),
        namespace: String::new(),
        image: "registry.example/authorizer:1".into(),
    };
    let (_, secret) = authorizers::create(&db, "root", &meta(), &gateway, "http://localhost:3000")
        .await
        .unwrap();
    assert!(
        near(secret.expires_at, db.now() + 3_600_000),
        "{:?}",
        secret.expires_at
    );

    // Bad values name the field and change nothing.
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    for (bad, says) in [
        ("7200", "secret_max_lifetime"),
        ("-60", "at least 60 seconds"),
        ("a week", "whole number of seconds"),
    ] {
        let i = with_lifetime("Bad", ClientType::ClientCredentials, bad);
        let e = app_err(clients::create_issuing(&db, "root", &meta(), &i).await);
        let m = e.field_message("secret_lifetime").unwrap_or_default();
        assert!(m.contains(says), "{bad}: {m}");
    }
    let public = with_lifetime("SPA", ClientType::PublicPkce, "600");
    let e = app_err(clients::create_issuing(&db, "root", &meta(), &public).await);
    assert!(e.field_message("secret_lifetime").is_some());
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(before, after);

    // The maximum is lowered below a client's own lifetime: the client can still be edited with
    // its lifetime as it was (new secrets get the maximum), but not given a new one above it.
    let (own, ..) = make(
        &db,
        &with_lifetime("Own", ClientType::ClientCredentials, "3000"),
    )
    .await;
    let lowered = db.clone().limiting_secret_lifetime(Some(600));
    let renamed = ClientInput {
        name: "Own, renamed".into(),
        ..with_lifetime("Own", ClientType::ClientCredentials, "3000")
    };
    clients::update(&lowered, "root", &meta(), &own, &renamed)
        .await
        .unwrap();
    let next = secrets::rotate(
        &lowered,
        policy(),
        "root",
        &meta(),
        &own,
        Grace::UntilRevoked,
    )
    .await
    .unwrap();
    assert!(
        near(next.expires_at, lowered.now() + 600_000),
        "capped by the new maximum"
    );
    let raised = with_lifetime("Own", ClientType::ClientCredentials, "2000");
    let e = app_err(clients::update(&lowered, "root", &meta(), &own, &raised).await);
    assert!(e.field_message("secret_lifetime").is_some());
});

on_both!(
    an_expired_secret_is_refused_and_the_client_page_says_so,
    |db| {
        let db = db.clone().limiting_secret_lifetime(Some(120));
        let (id, secret, _) = make(&db, &input("Worker", ClientType::ClientCredentials)).await;
        assert!(works(&db, &id, &secret).await);
        let view = secrets::overview(&db, policy(), &id).await.unwrap();
        assert!(!view.cannot_authenticate);
        assert_eq!(view.current.unwrap().days_left, Some(1));

        db.clock.advance(121_000);
        assert!(!works(&db, &id, &secret).await, "refused once expired");
        let view = secrets::overview(&db, policy(), &id).await.unwrap();
        assert!(view.cannot_authenticate);
        assert_eq!(view.current.unwrap().days_left, Some(0));
        // The admin API's tokens die with it.
        let sid: i64 = sqlx::query_scalar("SELECT id FROM client_secrets WHERE state = 'current'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert!(!verify::still_valid(&db, &id, sid, db.now()).await.unwrap());

        // A rotation fixes it.
        let new = secrets::rotate(&db, policy(), "root", &meta(), &id, Grace::UntilRevoked)
            .await
            .unwrap();
        assert!(works(&db, &id, &new.secret).await);
        assert!(
            !works(&db, &id, &secret).await,
            "the expired one stays dead"
        );
        assert!(
            !secrets::overview(&db, policy(), &id)
                .await
                .unwrap()
                .cannot_authenticate
        );
    }
);

on_both!(a_policy_change_shortens_no_secret, |db| {
    // Made without a policy: no expiry, and still none once a policy is set.
    let (old, old_secret, exp) = make(db, &input("Old", ClientType::ClientCredentials)).await;
    assert_eq!(exp, None);
    let strict = db.clone().limiting_secret_lifetime(Some(60));
    strict.clock.advance(3_600_000);
    assert!(works(&strict, &old, &old_secret).await);
    let a = attention::attention(&strict, &settings(Some(60)), None, None, None)
        .await
        .unwrap();
    let no_expiry = a
        .groups
        .iter()
        .find(|g| g.group == Group::NoExpiry)
        .unwrap();
    assert!(no_expiry.items.iter().any(|i| i.client_id == old));
    // Without a policy the group is empty: nothing is expected to expire.
    let a = attention::attention(&strict, &settings(None), None, None, None)
        .await
        .unwrap();
    assert_eq!(a.groups[5].count, 0);

    // Made under a long policy; a shorter one later leaves its end where it was.
    let long = db.clone().limiting_secret_lifetime(Some(86_400));
    let (id, secret, exp) = make(&long, &input("Long", ClientType::ClientCredentials)).await;
    let short = db.clone().limiting_secret_lifetime(Some(60));
    short.clock.advance(120_000);
    assert!(works(&short, &id, &secret).await);
    assert_eq!(stored_expiry(&short, &id, "current").await, vec![exp]);
    // The next secret follows the new policy.
    let rotated = secrets::rotate(&short, policy(), "root", &meta(), &old, Grace::UntilRevoked)
        .await
        .unwrap();
    assert!(near(rotated.expires_at, short.now() + 60_000));
});

/// The client ids of group `g`, each with its reason.
fn members(a: &app::attention::Attention, g: Group) -> Vec<(String, Reason)> {
    a.groups
        .iter()
        .find(|p| p.group == g)
        .unwrap()
        .items
        .iter()
        .map(|i| (i.client_name.clone(), i.reason))
        .collect()
}

async fn rotated_id(db: &Db, client_id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT s.id FROM client_secrets s JOIN clients c ON c.id = s.client_pk \
         WHERE c.client_id = $1 AND s.state = 'rotated'",
    )
    .bind(client_id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

on_both!(the_overview_puts_each_client_in_its_group, |db| {
    let s = settings(Some(30 * 86_400));
    let db = db
        .clone()
        .limiting_secret_lifetime(s.secret_max_lifetime_secs);
    let kind = ClientType::ClientCredentials;
    let (expired, ..) = make(&db, &with_lifetime("Expired", kind, "120")).await;
    db.clock.advance(200_000);
    make(&db, &with_lifetime("Expiring", kind, "259200")).await;
    make(&db, &input("Fine", kind)).await;
    let (in_use, ..) = make(&db, &input("InUse", kind)).await;
    let (unused, ..) = make(&db, &input("Unused", kind)).await;
    let (disabled, ..) = make(&db, &input("Disabled", kind)).await;
    clients::create_issuing(&db, "root", &meta(), &input("Spa", ClientType::PublicPkce))
        .await
        .unwrap();
    let (legacy, ..) = make(
        &db.clone().limiting_secret_lifetime(None),
        &input("Legacy", kind),
    )
    .await;
    // Unused was used before its rotation only: that says nothing about the deployment, so its
    // rotated secret is safe to revoke, not in use.
    let before = UsageRecorder::default();
    let unused_first: i64 = sqlx::query_scalar(
        "SELECT s.id FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = $1",
    )
    .bind(unused.clone())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    before.record(unused_first, db.now());
    before.flush(&db).await.unwrap();
    db.clock.advance(1000);
    for id in [&in_use, &unused] {
        secrets::rotate(&db, policy(), "root", &meta(), id, Grace::UntilRevoked)
            .await
            .unwrap();
    }
    // The old secret of InUse is still used; Disabled was used, then disabled.
    let recorder = UsageRecorder::default();
    db.clock.advance(1000);
    let now = db.now();
    let old = rotated_id(&db, &in_use).await;
    recorder.record(old, now);
    for _ in 0..3 {
        recorder.count(&in_use, UseKind::ClientCredentials, Some(old), now);
    }
    recorder.count(&disabled, UseKind::ClientCredentials, None, now);
    recorder.count(&legacy, UseKind::ClientCredentials, None, now);
    recorder.flush(&db).await.unwrap();
    clients::set_enabled(&db, "root", &meta(), &disabled, false)
        .await
        .unwrap();

    let a = attention::attention(&db, &s, None, None, None)
        .await
        .unwrap();
    let names = |g| {
        let mut m = members(&a, g);
        m.sort_by(|x, y| x.0.cmp(&y.0));
        m
    };
    assert_eq!(
        names(Group::CannotGetTokens),
        [
            ("Disabled".to_string(), Reason::DisabledInUse),
            ("Expired".into(), Reason::SecretExpired)
        ]
    );
    assert_eq!(
        names(Group::ExpiringSoon),
        [("Expiring".to_string(), Reason::Expiring)]
    );
    let expiring = &a.groups[1].items[0];
    assert_eq!(
        app::attention::days_left(expiring.expires_at.unwrap(), a.now),
        3
    );
    assert_eq!(
        names(Group::RotatedInUse),
        [("InUse".to_string(), Reason::RotatedInUse)]
    );
    assert_eq!(a.groups[2].items[0].requests_7d, Some(3));
    assert_eq!(
        names(Group::SafeToRevoke),
        [("Unused".to_string(), Reason::UnusedRotated)]
    );
    let idle = names(Group::IdleClients);
    assert!(
        idle.contains(&("Spa".to_string(), Reason::NeverUsed)),
        "{idle:?}"
    );
    assert!(
        !idle.iter().any(|(n, _)| n == "Legacy" || n == "Disabled"),
        "{idle:?}"
    );
    assert_eq!(
        names(Group::NoExpiry),
        [("Legacy".to_string(), Reason::NoExpiry)]
    );
    assert_eq!(a.urgent_count(), 3);
    assert_eq!(attention::urgent_count(&db, &s).await.unwrap(), 3);
    assert!(!a.groups[0].items.iter().any(|i| i.client_id == legacy));
    let _ = expired;

    // 90 days on, Legacy is idle too, with its last use.
    db.clock.advance(91 * DAY);
    let later = attention::attention(&db, &s, Some(Group::IdleClients), None, None)
        .await
        .unwrap();
    assert!(members(&later, Group::IdleClients).contains(&("Legacy".to_string(), Reason::Unused)));

    // Pages of one group: every item once, in order; a bad cursor is a field error.
    let all = later.groups[0].count;
    assert!(all >= 3, "{all}");
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let p = attention::attention(&db, &s, Some(Group::IdleClients), after.as_deref(), Some(2))
            .await
            .unwrap();
        let page = &p.groups[0];
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|i| i.client_id.clone()));
        match &page.next {
            Some(n) => after = Some(n.clone()),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, all);
    seen.dedup();
    assert_eq!(seen.len() as i64, all);
    for bad in ["x", "-1"] {
        let e =
            app_err(attention::attention(&db, &s, Some(Group::IdleClients), Some(bad), None).await);
        assert!(e.field_message("cursor").is_some(), "{bad}");
    }
    let e = app_err(attention::attention(&db, &s, None, None, Some(0)).await);
    assert!(e.field_message("limit").is_some());
});

on_both!(daily_counts_from_two_replicas_add_up_and_are_pruned, |db| {
    let (id, ..) = make(db, &input("Worker", ClientType::ClientCredentials)).await;
    secrets::rotate(db, policy(), "root", &meta(), &id, Grace::UntilRevoked)
        .await
        .unwrap();
    let old = rotated_id(db, &id).await;
    let current: i64 = sqlx::query_scalar("SELECT id FROM client_secrets WHERE state = 'current'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    // Two replicas, each with its own recorder, writing at the same time.
    let (a, b) = (UsageRecorder::default(), UsageRecorder::default());
    let now = db.now();
    for _ in 0..17 {
        a.count(&id, UseKind::ClientCredentials, Some(old), now);
        b.count(&id, UseKind::ClientCredentials, Some(current), now);
    }
    for _ in 0..3 {
        b.count(&id, UseKind::ClientCredentials, Some(current), now - DAY);
        a.count(&id, UseKind::Introspection, Some(old), now);
    }
    let (fa, fb) = tokio::join!(a.flush(db), b.flush(db));
    fa.unwrap();
    fb.unwrap();
    // The same again from one replica: counts add to the stored rows.
    for _ in 0..5 {
        a.count(&id, UseKind::ClientCredentials, Some(current), now);
    }
    a.flush(db).await.unwrap();

    let v = usage::daily(db, &id, now).await.unwrap();
    assert_eq!(v.days.len(), 30);
    let today = v.days.last().unwrap();
    assert_eq!(today.day, day_of(now));
    assert_eq!(today.counts, [17 + 17 + 5, 0, 0, 3]);
    assert_eq!(today.rotations, 1);
    assert_eq!(v.days[28].counts[0], 3);
    // Each secret's share of the week: 20 of 45 requests with the old secret.
    let view = secrets::overview(db, policy(), &id).await.unwrap();
    assert_eq!(view.current.as_ref().unwrap().share_pct, Some(56));
    assert_eq!(view.previous[0].share_pct, Some(44));
    // The client's own last use.
    assert_eq!(clients::get(db, &id).await.unwrap().last_used_at, Some(now));

    // After 90 days the counts go; newer ones stay.
    a.count(&id, UseKind::ClientCredentials, None, now + 80 * DAY);
    a.flush(db).await.unwrap();
    let gone = usage::prune(db, now + 91 * DAY).await.unwrap();
    assert_eq!(gone, 4, "today's three rows and yesterday's");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM client_usage_daily")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(left, 1);
});

on_both!(acting_on_a_page_makes_no_item_skip_the_next_one, |db| {
    let s = settings(None);
    let mut rotated = Vec::new();
    for i in 0..5 {
        let (id, ..) = make(db, &input(&format!("W{i}"), ClientType::ClientCredentials)).await;
        secrets::rotate(db, policy(), "root", &meta(), &id, Grace::UntilRevoked)
            .await
            .unwrap();
        rotated.push(id);
        db.clock.advance(1000);
    }
    let first = attention::attention(db, &s, Some(Group::SafeToRevoke), None, Some(2))
        .await
        .unwrap();
    let page = &first.groups[0];
    assert_eq!(page.count, 5);
    let names: Vec<&str> = page.items.iter().map(|i| i.client_name.as_str()).collect();
    assert_eq!(names, ["W0", "W1"], "oldest rotation first");
    // Both are revoked from the page; the next page still starts with the third.
    for i in &page.items {
        secrets::revoke(db, "support", &meta(), &i.client_id, i.secret_id.unwrap())
            .await
            .unwrap();
    }
    let next = attention::attention(
        db,
        &s,
        Some(Group::SafeToRevoke),
        page.next.as_deref(),
        Some(2),
    )
    .await
    .unwrap();
    let names: Vec<&str> = next.groups[0]
        .items
        .iter()
        .map(|i| i.client_name.as_str())
        .collect();
    assert_eq!(names, ["W2", "W3"]);
    assert_eq!(next.groups[0].count, 3);
});

on_both!(
    a_revoked_current_secret_cannot_get_tokens_and_counts_stop_at_the_cap,
    |db| {
        let s = settings(Some(90 * 86_400));
        let (leaked, ..) = make(db, &input("Leaked", ClientType::ClientCredentials)).await;
        // What a leak report does to a current secret (nothing in the console revokes one), twice:
        // the client is listed once, for its latest revocation.
        for at in [db.now(), db.now() + 1] {
            sqlx::query(
            "UPDATE client_secrets SET state = 'revoked', revoked_at = $1 WHERE state = 'current' \
             AND client_pk = (SELECT id FROM clients WHERE client_id = $2)",
        )
        .bind(at)
        .bind(leaked.clone())
        .execute(&db.pool)
        .await
        .unwrap();
            sqlx::query(
            "INSERT INTO client_secrets (client_pk, hash, hint, state, created_at, created_by) \
             SELECT id, 'sha256:00', 'abcd', 'current', $1, 'root' FROM clients WHERE client_id = $2",
        )
        .bind(at)
        .bind(leaked.clone())
        .execute(&db.pool)
        .await
        .unwrap();
        }
        sqlx::query(
            "UPDATE client_secrets SET state = 'revoked', revoked_at = $1 WHERE state = 'current' \
         AND client_pk = (SELECT id FROM clients WHERE client_id = $2)",
        )
        .bind(db.now() + 2)
        .bind(leaked.clone())
        .execute(&db.pool)
        .await
        .unwrap();
        let a = attention::attention(db, &s, Some(Group::CannotGetTokens), None, None)
            .await
            .unwrap();
        assert_eq!(
            members(&a, Group::CannotGetTokens),
            [("Leaked".to_string(), Reason::NoSecret)]
        );
        assert_eq!((a.groups[0].count, a.groups[0].count_capped), (1, false));

        // 1001 idle apps: the page counts to 1000 and says there are more; the gauge is exact.
        let now = db.now();
        let rows: Vec<String> = (0..1001)
        .map(|i| {
            format!(
                "('idle{i:05}', 'idle {i:05}', 'idle {i:05}', 'public_pkce', '', '', 1, {now}, 'root', {now}, 'root')"
            )
        })
        .collect();
        sqlx::query(&format!(
        "INSERT INTO clients (client_id, name, name_key, client_type, redirect_uris, scopes, enabled, \
         created_at, created_by, updated_at, updated_by) VALUES {}",
        rows.join(",")
    ))
    .execute(&db.pool)
    .await
    .unwrap();
        let a = attention::attention(db, &s, Some(Group::IdleClients), None, None)
            .await
            .unwrap();
        assert_eq!(
            (a.groups[0].count, a.groups[0].count_capped),
            (attention::COUNT_CAP, true)
        );
        let gauges = attention::gauges(db, &s).await.unwrap();
        assert_eq!(gauges.idle_clients, 1002);
    }
);
