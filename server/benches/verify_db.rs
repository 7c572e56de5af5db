//! Benchmark of the whole secret check as the token endpoint runs it
//! (`app::secrets::verify::verify`: format check, one database read, SHA-256, constant-time
//! comparison) on a SQLite file with 1 000 clients, and of the same check reading through the
//! sqlx pool, as it did before the inline read (`app::infra::sqlite_read`). The pool is the
//! baseline, measured in the same rounds; the ratios are what to compare.
//!
//! Also prints how the failure cases compare: an unknown client id and a wrong secret for an
//! existing client should take the same time.
//!
//! Each figure is the median of 21 rounds of 2 000 calls, one call at a time; the rounds
//! interleave the cases and the two paths.
//!
//! Run: `cargo bench -p server --features app/ssr --bench verify_db`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use app::clients::service as clients;
use app::clients::ClientInput;
use app::infra::db::{now_ms, Db};
use app::infra::RequestMeta;
use app::secrets::format::SecretPlaintext;
use app::secrets::verify as secrets;

const ROUNDS: usize = 21;
const CALLS: u32 = 2_000;

/// One batch of `CALLS` checks, in µs per check.
async fn batch_us(db: &Db, id: &str, secret: &str, expect_ok: bool) -> f64 {
    let start = Instant::now();
    for _ in 0..CALLS {
        let v = secrets::verify(db, id, secret, now_ms()).await.unwrap();
        assert_eq!(v.is_some(), expect_ok);
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let inline = Db::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
            .await
            .unwrap();
        inline.migrate().await.unwrap();
        assert!(
            inline.reader.is_some(),
            "a SQLite file gets the inline reader"
        );
        let mut pool = inline.clone();
        pool.reader = None;
        let mut worker = (String::new(), String::new());
        for i in 0..1000 {
            let input = ClientInput {
                name: format!("Worker {i:04}"),
                client_type: "client_credentials".into(),
                scopes: "reports:read".into(),
                ..Default::default()
            };
            let (c, s) = clients::create_issuing(&inline, "bench", &RequestMeta::default(), &input)
                .await
                .unwrap();
            if i == 500 {
                worker = (c.client_id, s.unwrap().secret);
            }
        }
        let (id, secret) = worker;
        let wrong = SecretPlaintext::generate();
        let wrong = wrong.expose();
        let unknown = "0123456789abcdef0123456789abcdef";

        println!("median µs per check, {CALLS} calls x {ROUNDS} rounds, 1 000 clients");
        println!(
            "{:34} {:>10} {:>10} {:>8}",
            "case", "inline", "pool", "ratio"
        );
        let cases: [(&str, &str, &str, bool); 3] = [
            ("right secret", &id, &secret, true),
            ("wrong secret, existing client", &id, wrong, false),
            ("unknown client", unknown, wrong, false),
        ];
        // Rounds interleave every case and both paths, so that a slow moment of the machine
        // falls on all of them alike.
        let mut times = vec![(Vec::new(), Vec::new()); cases.len()];
        for _ in 0..ROUNDS {
            for (i, (_, id, secret, ok)) in cases.iter().enumerate() {
                times[i].0.push(batch_us(&inline, id, secret, *ok).await);
                times[i].1.push(batch_us(&pool, id, secret, *ok).await);
            }
        }
        let medians: Vec<(f64, f64)> = times
            .into_iter()
            .map(|(a, b)| (median(a), median(b)))
            .collect();
        for ((name, ..), (a, b)) in cases.iter().zip(&medians) {
            println!("{name:34} {a:10.1} {b:10.1} {:8.2}", a / b);
        }
        println!(
            "inline: unknown client / wrong secret = {:.2}",
            medians[2].0 / medians[1].0
        );
    });
}
