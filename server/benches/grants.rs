//! Benchmark of the token endpoint's grants for apps that people sign in to, next to the
//! client-credentials grant as the baseline, through the whole router (form parsing, client
//! authentication, the grant's transaction, signing) on a SQLite file:
//!
//! - `client_credentials`: a machine client (the baseline);
//! - `authorization_code`: a confidential PKCE client exchanging a fresh code (the codes are
//!   made before each round, outside the timing, as the authorization endpoint would);
//! - `refresh_token`: the same client refreshing, each request with the token the previous one
//!   returned (rotation);
//! - `RS256 signature alone`: one ID token's signature (2048-bit RSA, jwt-simple as the server
//!   uses it), outside the router: how much of a grant's time is that signature.
//!
//! The cases interleave in each round, so a slow spell of the machine falls on all of them;
//! each figure is the median of the rounds, and the ratios to client credentials are what to
//! compare between runs and machines.
//!
//! Run: `cargo bench -p server --features app/ssr --bench grants`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Instant;

use app::clients::service as clients;
use app::clients::ClientInput;
use app::infra::db::Db;
use app::infra::seal::Kek;
use app::infra::settings::Settings;
use app::infra::state::AppState;
use app::infra::RequestMeta;
use app::oauth::authorize::{AuthorizeRequest, Prompt};
use app::oauth::grant;
use app::people::service as people;
use app::people::PersonInput;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::{Extension, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http_body_util::BodyExt;
use tower::ServiceExt;

const ROUNDS: usize = 7;
const CALLS: usize = 300;
const CB: &str = "https://app.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn post(router: &Router, basic: &str, form: String) -> serde_json::Value {
    let req = Request::post("/oauth2/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::AUTHORIZATION, basic)
        .body(Body::from(form))
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Requests per second of `CALLS` sequential calls of `f`.
macro_rules! rate {
    ($body:expr) => {{
        let start = Instant::now();
        for _ in 0..CALLS {
            $body;
        }
        CALLS as f64 / start.elapsed().as_secs_f64()
    }};
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let settings = Settings {
            issuer_origin: "https://auth.bench".into(),
            issuer: "https://auth.bench".into(),
            token_max_failures_per_client: 1_000_000,
            token_max_failures_per_ip: 1_000_000,
            key_encryption_key: Some(Kek::generate()),
            ..Settings::default()
        };
        let options = leptos::config::LeptosOptions::builder()
            .output_name("clavis")
            .build();
        let state = AppState::new(options, db, settings).unwrap();
        server::prepare_signing(&state).await.unwrap();
        let router = server::router(state.clone()).layer(Extension(ConnectInfo(
            SocketAddr::from(([127, 0, 0, 1], 5000)),
        )));
        let meta = RequestMeta::default();
        let make = |kind: &str| ClientInput {
            name: format!("bench {kind}"),
            client_type: kind.into(),
            redirect_uris: if kind == "client_credentials" {
                String::new()
            } else {
                CB.into()
            },
            scopes: if kind == "client_credentials" {
                "reports:read".into()
            } else {
                String::new()
            },
            ..Default::default()
        };
        let (worker, s) = clients::create_issuing(&state.db, "b", &meta, &make("client_credentials"))
            .await
            .unwrap();
        let worker_auth = basic(&worker.client_id, &s.unwrap().secret);
        let (app, s) = clients::create_issuing(&state.db, "b", &meta, &make("confidential_pkce"))
            .await
            .unwrap();
        let app_auth = basic(&app.client_id, &s.unwrap().secret);
        people::create(
            &state.db,
            &state.passwords,
            "b",
            &meta,
            &PersonInput {
                username: "bench".into(),
                display_name: "Bench Person".into(),
                email: "bench@example.com".into(),
                password: "bench password 123".into(),
            },
        )
        .await
        .unwrap();
        let req = AuthorizeRequest {
            client_id: app.client_id.clone(),
            redirect_uri: CB.into(),
            scopes: vec![
                "openid".into(),
                "profile".into(),
                "email".into(),
                "offline_access".into(),
            ],
            state: None,
            code_challenge: CHALLENGE.into(),
            nonce: Some("n".into()),
            prompt: Prompt::default(),
            max_age: None,
        };
        // Codes come from a person's session, as at the authorization endpoint.
        let (session, signed_in) = app::people::session::sign_in(
            &state.db,
            &state.settings,
            &state.passwords,
            &meta,
            "bench",
            "bench password 123",
            "",
        )
        .await
        .unwrap();
        let issue = || {
            grant::issue_code(
                &state.db,
                &state.settings,
                &req,
                &signed_in,
                session.expose(),
            )
        };
        let first_code = issue().await.unwrap().unwrap();
        let exchange = |code: &str| {
            format!(
                "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
                enc(code),
                enc(CB)
            )
        };
        let mut refresh = post(&router, &app_auth, exchange(&first_code)).await["refresh_token"]
            .as_str()
            .unwrap()
            .to_string();

        let rsa = jwt_simple::prelude::RS256KeyPair::generate(2048).unwrap();
        let (mut cc, mut code, mut rt_, mut sig) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let mut codes = Vec::with_capacity(CALLS);
            for _ in 0..CALLS {
                codes.push(issue().await.unwrap().unwrap());
            }
            cc.push(rate!(
                post(&router, &worker_auth, "grant_type=client_credentials".into()).await
            ));
            let mut codes = codes.into_iter();
            code.push(rate!(
                post(&router, &app_auth, exchange(&codes.next().unwrap())).await
            ));
            rt_.push(rate!({
                let t = post(
                    &router,
                    &app_auth,
                    format!("grant_type=refresh_token&refresh_token={}", enc(&refresh)),
                )
                .await;
                refresh = t["refresh_token"].as_str().unwrap().to_string();
            }));
            sig.push(rate!({
                use jwt_simple::prelude::*;
                let claims = Claims::create(Duration::from_mins(5)).with_subject("p_bench");
                std::hint::black_box(rsa.sign(claims).unwrap());
            }));
        }
        let ratios = |v: &[f64]| median(v.iter().zip(&cc).map(|(x, b)| x / b).collect());
        println!("grant                 requests/s (median of {ROUNDS} rounds of {CALLS})   ratio to client_credentials");
        println!("client_credentials     {:>8.0}", median(cc.clone()));
        println!(
            "authorization_code     {:>8.0}   {:.2}",
            median(code.clone()),
            ratios(&code)
        );
        println!(
            "refresh_token          {:>8.0}   {:.2}",
            median(rt_.clone()),
            ratios(&rt_)
        );
        println!(
            "RS256 signature alone  {:>8.0}   {:.2}",
            median(sig.clone()),
            ratios(&sig)
        );
    });
}
