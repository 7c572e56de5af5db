//! Client list and search with 100 000 clients on SQLite: `cargo bench -p server --bench clients`.
//!
//! Seeds 100k clients, then times the queries behind `/clients` (first page by name, a name
//! search, a type filter, page two newest-first) and the whole rendered page through the
//! router. Reports p50 and p95 in milliseconds and, because shared machines are noisy, each p50
//! as a ratio to a `SELECT 1` round trip measured in the same run. Target: p95 ≤ 10 ms.

use std::time::{Duration, Instant};

use app::accounts::service as accounts;
use app::accounts::Role;
use app::clients::kind::ClientType;
use app::clients::search;
use app::clients::{ClientQuery, ClientSort};
use app::infra::db::Db;
use app::infra::settings::Settings;
use app::infra::state::AppState;
use app::infra::RequestMeta;
use app::signin::service as signin;
use axum::body::Body;
use axum::http::{header, Request};
use tower::ServiceExt;

const N: usize = 100_000;
const RUNS: usize = 300;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure<F, Fut>(mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..20 {
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

async fn seed(db: &Db) {
    let words = [
        "orders", "billing", "search", "portal", "export", "ledger", "mobile", "admin", "worker",
        "gateway",
    ];
    let now = app::infra::db::now_ms();
    let mut tx = db.pool.begin().await.unwrap();
    for chunk in (0..N).collect::<Vec<_>>().chunks(500) {
        let mut sql = String::from(
            "INSERT INTO clients (client_id, name, name_key, client_type, redirect_uris, scopes, enabled, \
             created_at, created_by, updated_at, updated_by) VALUES ",
        );
        for (j, i) in chunk.iter().enumerate() {
            let kind = ClientType::ALL[i % 3];
            let name = format!("{} {} {:06}", words[i % 10], words[(i / 10) % 10], i);
            let (redirects, scopes) = match kind {
                ClientType::ClientCredentials => ("", "jobs:run"),
                _ => ("https://app.example.com/cb", ""),
            };
            if j > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('{:032x}', '{name}', '{name}', '{}', '{redirects}', '{scopes}', {}, {}, 'bench', {}, 'bench')",
                i,
                kind.as_str(),
                i64::from(i % 17 != 0),
                now - (N - i) as i64,
                now
            ));
        }
        sqlx::query(&sql).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&db.pool).await.unwrap();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!(
            "sqlite://{}",
            dir.path().join("bench.db").display()
        ))
        .await
        .unwrap();
        db.migrate().await.unwrap();
        let t = Instant::now();
        seed(&db).await;
        println!("seeded {N} clients in {:.1} s", t.elapsed().as_secs_f64());

        let options = leptos::config::LeptosOptions::builder()
            .output_name("clavis")
            .build();
        let settings = Settings {
            issuer_origin: "http://bench.test".into(),
            ..Settings::default()
        };
        let state = AppState::new(options, db.clone(), settings).unwrap();
        let pw = "benchmark password";
        accounts::create(
            &db,
            &state.passwords,
            "bench",
            &RequestMeta::default(),
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
            &RequestMeta::default(),
            "bench",
            pw,
        )
        .await
        .unwrap();
        let cookie = format!("clavis_session={}", token.expose());
        let router = server::router(state);

        let baseline = measure(|| async {
            sqlx::query("SELECT 1").execute(&db.pool).await.unwrap();
        })
        .await;
        let base_p50 = percentile(&baseline, 0.5);
        println!(
            "{:<34} {:>8} {:>8} {:>12}",
            "operation (page of 50)", "p50 ms", "p95 ms", "p50/SELECT 1"
        );
        println!(
            "{:<34} {:>8.3} {:>8.3} {:>12}",
            "baseline: SELECT 1",
            base_p50,
            percentile(&baseline, 0.95),
            "1.0"
        );

        let second_page = search::list(
            &db,
            &ClientQuery {
                sort: ClientSort::Newest,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .next;
        let cases: Vec<(&str, ClientQuery)> = vec![
            ("first page by name", ClientQuery::default()),
            (
                "search name prefix 'ledger'",
                ClientQuery {
                    q: Some("ledger".into()),
                    ..Default::default()
                },
            ),
            (
                "search exact client id",
                ClientQuery {
                    q: Some(format!("{:032x}", 54_321)),
                    ..Default::default()
                },
            ),
            (
                "filter type + disabled",
                ClientQuery {
                    client_type: Some(ClientType::PublicPkce),
                    enabled: Some(false),
                    ..Default::default()
                },
            ),
            (
                "newest first, page 2",
                ClientQuery {
                    sort: ClientSort::Newest,
                    after: second_page,
                    ..Default::default()
                },
            ),
        ];
        for (label, q) in &cases {
            let times = measure(|| async {
                let page = search::list(&db, q).await.unwrap();
                assert!(!page.clients.is_empty());
            })
            .await;
            let p50 = percentile(&times, 0.5);
            println!(
                "{label:<34} {p50:>8.3} {:>8.3} {:>12.1}",
                percentile(&times, 0.95),
                p50 / base_p50
            );
        }
        for (label, path) in [
            ("rendered /clients", "/clients"),
            ("rendered /clients?q=ledger", "/clients?q=ledger"),
        ] {
            let times = measure(|| async {
                let req = Request::get(path)
                    .header(header::HOST, "bench.test")
                    .header(header::ACCEPT, "text/html")
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap();
                let res = router.clone().oneshot(req).await.unwrap();
                assert!(res.status().is_success());
                let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await
                    .unwrap();
                assert!(body.len() > 10_000);
            })
            .await;
            let p50 = percentile(&times, 0.5);
            println!(
                "{label:<34} {p50:>8.3} {:>8.3} {:>12.1}",
                percentile(&times, 0.95),
                p50 / base_p50
            );
        }
    });
}
