//! The Overview with 100 000 clients and 200 000 secrets on SQLite:
//! `cargo bench -p server --features app/ssr --bench overview`.
//!
//! Seeds every client with a current secret and a rotated one, spread over all the groups
//! (expired, expiring, no expiry; rotated and in use, rotated and unused; idle, disabled while
//! in use), with daily counts for the secrets in use. Then times the queries behind the page
//! (every group's first page with its count, one group's eleventh page), the rendered
//! `/overview` and `GET /api/v1/attention` through the router. Reports p50 and p95 in
//! milliseconds and each p50 as a ratio to a `SELECT 1` measured in the same run, because
//! shared machines are noisy. Target: p95 ≤ 50 ms per page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use app::accounts::service as accounts;
use app::accounts::Role;
use app::attention::service as attention;
use app::attention::Group;
use app::clients::service as clients;
use app::clients::ClientInput;
use app::infra::db::Db;
use app::infra::seal::Kek;
use app::infra::settings::Settings;
use app::infra::state::AppState;
use app::infra::RequestMeta;
use app::signin::service as signin;
use app::usage::day_of;
use axum::body::Body;
use axum::http::{header, Request};
use base64::Engine;
use tower::ServiceExt;

const N: usize = 100_000;
const RUNS: usize = 200;
const DAY: i64 = 86_400_000;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure<F, Fut>(mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..10 {
        f().await; // warm up
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        f().await;
        times.push(t.elapsed());
    }
    times.sort();
    times
}

fn null_or(v: Option<i64>) -> String {
    v.map_or("NULL".into(), |v| v.to_string())
}

async fn seed(db: &Db, now: i64) {
    let mut tx = db.pool.begin().await.unwrap();
    for chunk in (0..N).collect::<Vec<_>>().chunks(500) {
        let mut c = String::from(
            "INSERT INTO clients (id, client_id, name, name_key, client_type, redirect_uris, scopes, enabled, \
             created_at, created_by, updated_at, updated_by, last_used_at) VALUES ",
        );
        let mut s = String::from(
            "INSERT INTO client_secrets (client_pk, hash, hint, state, created_at, created_by, \
             rotated_at, expires_at, last_used_at) VALUES ",
        );
        let mut u = String::new();
        for (j, &i) in chunk.iter().enumerate() {
            let pk = i as i64 + 1;
            let name = format!("worker {i:06}");
            // Idle: never used, or 100 days ago; the rest used within the hour.
            let used = match i % 5 {
                0 => None,
                1 => Some(now - 100 * DAY),
                _ => Some(now - 3_600_000),
            };
            let enabled = i64::from(i % 17 != 0);
            let sep = if j > 0 { "," } else { "" };
            c.push_str(&format!(
                "{sep}({pk}, '{i:032x}', '{name}', '{name}', 'client_credentials', '', 'jobs:run', {enabled}, \
                 {}, 'bench', {now}, 'bench', {})",
                now - 200 * DAY,
                null_or(used)
            ));
            // The current secret: expired, expiring within 30 days, no expiry, or later.
            let expires = match i % 10 {
                0 => Some(now - DAY),
                1 => Some(now + (1 + (i % 29) as i64) * DAY),
                2 => None,
                _ => Some(now + 60 * DAY),
            };
            // The rotated one: used in the last day, never since its rotation, or two days ago.
            let rotated_used = match i % 7 {
                0 => Some(now - 3_600_000),
                1 => None,
                _ => Some(now - 2 * DAY),
            };
            s.push_str(&format!(
                "{sep}({pk}, 'sha256:{i:064x}', '{:04}', 'current', {}, 'bench', NULL, {}, {}),\
                 ({pk}, 'sha256:{:064x}', '{:04}', 'rotated', {}, 'bench', {}, {}, {})",
                i % 10_000,
                now - 30 * DAY,
                null_or(expires),
                null_or(used),
                i + N,
                (i + 1) % 10_000,
                now - 90 * DAY,
                now - 3 * DAY,
                now + 30 * DAY,
                null_or(rotated_used)
            ));
            if i % 7 == 0 {
                // The rotated secret's ids are even: 2 * pk (see the insert order).
                u.push_str(&format!(
                    "{}({pk}, {}, 'client_credentials', {}, {})",
                    if u.is_empty() { "" } else { "," },
                    day_of(now),
                    2 * pk,
                    1 + i % 50
                ));
            }
        }
        sqlx::query(&c).execute(&mut *tx).await.unwrap();
        sqlx::query(&s).execute(&mut *tx).await.unwrap();
        if !u.is_empty() {
            sqlx::query(&format!(
                "INSERT INTO client_usage_daily (client_pk, day, kind, secret_id, count) VALUES {u}"
            ))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&db.pool).await.unwrap();
}

fn row(label: &str, times: &[Duration], base_p50: f64) -> f64 {
    let (p50, p95) = (percentile(times, 0.5), percentile(times, 0.95));
    println!("{label:<44} {p50:>8.3} {p95:>8.3} {:>12.1}", p50 / base_p50);
    p95
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        // CLAVIS_BENCH_KEEP=PATH keeps the seeded database there, to read query plans in it.
        let keep = std::env::var("CLAVIS_BENCH_KEEP").ok();
        let path = keep
            .clone()
            .unwrap_or_else(|| dir.path().join("bench.db").display().to_string());
        let db = Db::connect(&format!("sqlite://{path}")).await.unwrap();
        db.migrate().await.unwrap();
        let now = db.now();
        let t = Instant::now();
        seed(&db, now).await;
        println!(
            "seeded {N} clients and {} secrets in {:.1} s",
            2 * N,
            t.elapsed().as_secs_f64()
        );
        if keep.is_some() {
            println!("kept the database at {path}");
            return;
        }

        let options = leptos::config::LeptosOptions::builder()
            .output_name("clavis")
            .build();
        let settings = Settings {
            issuer_origin: "http://bench.test".into(),
            issuer: "http://bench.test".into(),
            key_encryption_key: Some(Kek::generate()),
            secret_max_lifetime_secs: Some(90 * 86_400),
            ..Settings::default()
        };
        let state = AppState::new(options, db.clone(), settings.clone()).unwrap();
        server::prepare_signing(&state).await.unwrap();
        let pw = "benchmark password";
        let meta = RequestMeta::default();
        accounts::create(
            &db,
            &state.passwords,
            "bench",
            &meta,
            "bench",
            pw,
            Role::Support,
        )
        .await
        .unwrap();
        let (token, _) = signin::sign_in(
            &db,
            &state.settings,
            &state.passwords,
            &state.metrics,
            &meta,
            "bench",
            pw,
        )
        .await
        .unwrap();
        let cookie = format!("clavis_session={}", token.expose());
        // A dashboard's client of the admin API, and its bearer token.
        let input = ClientInput {
            name: "Dashboard".into(),
            client_type: "client_credentials".into(),
            scopes: "clavis:support".into(),
            ..Default::default()
        };
        let (c, s) = clients::create_issuing(&db, "bench", &meta, &input)
            .await
            .unwrap();
        let router = server::router(state);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            c.client_id,
            s.unwrap().secret
        ));
        let req = Request::post("/oauth2/token")
            .header(header::HOST, "bench.test")
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(
                "grant_type=client_credentials&scope=clavis:support",
            ))
            .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let bearer = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string();

        let baseline = measure(|| async {
            sqlx::query("SELECT 1").execute(&db.pool).await.unwrap();
        })
        .await;
        let base_p50 = percentile(&baseline, 0.5);
        println!(
            "{:<44} {:>8} {:>8} {:>12}",
            "operation (pages of 20)", "p50 ms", "p95 ms", "p50/SELECT 1"
        );
        row("baseline: SELECT 1", &baseline, base_p50);

        let all = attention::attention(&db, &settings, None, None, None)
            .await
            .unwrap();
        for g in &all.groups {
            println!("  {:<20} {:>7} items", g.group.as_str(), g.count);
            assert!(
                g.count > 0,
                "{:?} is empty: the seed should fill every group",
                g.group
            );
        }
        let mut worst: f64 = 0.0;
        let times = measure(|| async {
            attention::attention(&db, &settings, None, None, None)
                .await
                .unwrap();
        })
        .await;
        worst = worst.max(row("every group: first page and count", &times, base_p50));
        let rules = attention::Rules::new(&settings, db.now());
        let mut idle_page_11 = String::new();
        for g in Group::ALL {
            let times = measure(|| async {
                attention::count(&db, g, &rules, Some(attention::COUNT_CAP))
                    .await
                    .unwrap();
            })
            .await;
            row(&format!("{}: count", g.as_str()), &times, base_p50);
            let times = measure(|| async {
                attention::attention(&db, &settings, Some(g), None, None)
                    .await
                    .unwrap();
            })
            .await;
            worst = worst.max(row(&format!("{}: page 1", g.as_str()), &times, base_p50));
            // The eleventh page, after walking the "more" links of the ten before it.
            let mut cursor: Option<String> = None;
            for _ in 0..10 {
                let a = attention::attention(&db, &settings, Some(g), cursor.as_deref(), None)
                    .await
                    .unwrap();
                cursor = a.groups[0].next.clone();
            }
            let times = measure(|| async {
                let a = attention::attention(&db, &settings, Some(g), cursor.as_deref(), None)
                    .await
                    .unwrap();
                assert_eq!(a.groups.len(), 1);
            })
            .await;
            worst = worst.max(row(&format!("{}: page 11", g.as_str()), &times, base_p50));
            if g == Group::IdleClients {
                idle_page_11 = format!(
                    "/api/v1/attention?group=idle_clients&cursor={}",
                    cursor.unwrap()
                );
            }
        }
        for (label, path, auth) in [
            ("rendered /overview", "/overview", None),
            ("GET /api/v1/attention", "/api/v1/attention", Some(&bearer)),
            (
                "GET /api/v1/attention?group=idle_clients, p.11",
                idle_page_11.as_str(),
                Some(&bearer),
            ),
        ] {
            let times = measure(|| async {
                let mut req = Request::get(path).header(header::HOST, "bench.test");
                req = match auth {
                    Some(b) => req.header(header::AUTHORIZATION, format!("Bearer {b}")),
                    None => req
                        .header(header::ACCEPT, "text/html")
                        .header(header::COOKIE, &cookie),
                };
                let res = router
                    .clone()
                    .oneshot(req.body(Body::empty()).unwrap())
                    .await
                    .unwrap();
                assert!(res.status().is_success(), "{path}: {}", res.status());
                let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await
                    .unwrap();
                assert!(body.len() > 2_000);
            })
            .await;
            worst = worst.max(row(label, &times, base_p50));
        }
        println!("worst p95: {worst:.1} ms (target ≤ 50 ms)");
    });
}
