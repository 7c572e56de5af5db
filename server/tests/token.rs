//! HTTP tests of the OAuth endpoints: `POST /oauth2/token` case by case (RFC 6749 §2.3.1,
//! §4.4, §5), the JWKS and metadata documents, and signing-key rotation. Tokens are verified
//! with an independent JWT library (jwt-simple) against the served JWKS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;

use app::clients::service as clients;
use app::clients::ClientInput;
use app::infra::db::Db;
use app::infra::seal::Kek;
use app::infra::settings::Settings;
use app::infra::state::AppState;
use app::infra::RequestMeta;
use app::oauth::limits::FailureLog;
use app::oauth::{keys, metadata};
use app::secrets::service::{self as secrets, Grace, Policy};
use app::usage::recorder::UsageRecorder;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::{Extension, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::create_client;
use http_body_util::BodyExt;
use jwt_simple::prelude::*;
use sqlx::Row;
use tower::ServiceExt;

const ISSUER: &str = "https://auth.clavis.test";

struct Harness {
    router: Router,
    state: AppState,
    /// A client-credentials client with scopes `reports:read reports:write`.
    worker: String,
    secret: String,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn settings() -> Settings {
    Settings {
        issuer_origin: ISSUER.into(),
        issuer: ISSUER.into(),
        access_token_ttl_secs: 900,
        access_token_audience: Some("https://api.clavis.test".into()),
        token_max_failures_per_client: 1000,
        token_max_failures_per_ip: 1000,
        key_encryption_key: Some(Kek::generate()),
        ..Settings::default()
    }
}

async fn harness_with(settings: Settings) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let options = leptos::config::LeptosOptions::builder()
        .output_name("clavis")
        .build();
    let state = AppState::new(options, db, settings).unwrap();
    server::prepare_signing(&state).await.unwrap();
    let (worker, secret) = make(&state, "Reports worker", "client_credentials").await;
    let router = server::router(state.clone()).layer(Extension(ConnectInfo(SocketAddr::from((
        [10, 0, 0, 8],
        5151,
    )))));
    Harness {
        router,
        state,
        worker,
        secret,
        _dir: dir,
    }
}

async fn harness() -> Harness {
    harness_with(settings()).await
}

/// Creates a client of `kind` and returns its id and first secret (empty for public clients).
async fn make(state: &AppState, name: &str, kind: &str) -> (String, String) {
    let input = ClientInput {
        name: name.into(),
        client_type: kind.into(),
        redirect_uris: if kind == "client_credentials" {
            String::new()
        } else {
            "https://a.example/cb".into()
        },
        scopes: if kind == "client_credentials" {
            "reports:read reports:write".into()
        } else {
            String::new()
        },
        ..Default::default()
    };
    let (c, s) = clients::create_issuing(&state.db, "test", &RequestMeta::default(), &input)
        .await
        .unwrap();
    (c.client_id, s.map(|s| s.secret).unwrap_or_default())
}

fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

impl Harness {
    /// The same server and state, reached from another address.
    fn at_ip(&self, ip: [u8; 4]) -> Harness {
        Harness {
            router: server::router(self.state.clone())
                .layer(Extension(ConnectInfo(SocketAddr::from((ip, 40000))))),
            state: self.state.clone(),
            worker: self.worker.clone(),
            secret: self.secret.clone(),
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn post(&self, body: &str, authorization: Option<&str>) -> Reply {
        let mut req = Request::post("/oauth2/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(a) = authorization {
            req = req.header(header::AUTHORIZATION, a);
        }
        self.send(req.body(Body::from(body.to_string())).unwrap())
            .await
    }

    async fn with_basic(&self, id: &str, secret: &str, body: &str) -> Reply {
        self.post(body, Some(&basic(id, secret))).await
    }

    async fn with_post(&self, id: &str, secret: &str, extra: &str) -> Reply {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        self.post(
            &format!(
                "grant_type=client_credentials&client_id={}&client_secret={}{extra}",
                enc(id),
                enc(secret)
            ),
            None,
        )
        .await
    }

    async fn jwks(&self) -> serde_json::Value {
        let r = self
            .send(
                Request::get("/.well-known/jwks.json")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        r.json()
    }

    /// Verifies `token` with the served JWKS for the configured audience and returns its claims.
    async fn verify(&self, token: &str) -> JWTClaims<serde_json::Value> {
        self.verify_for(token, "https://api.clavis.test").await
    }

    /// Verifies `token` with the served JWKS, requiring `aud` to be `audience`.
    async fn verify_for(&self, token: &str, audience: &str) -> JWTClaims<serde_json::Value> {
        let kid = Token::decode_metadata(token)
            .unwrap()
            .key_id()
            .unwrap()
            .to_string();
        let jwks = self.jwks().await;
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the kid is published");
        assert_eq!(
            (
                jwk["kty"].as_str(),
                jwk["crv"].as_str(),
                jwk["alg"].as_str()
            ),
            (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
        );
        let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
        let key = Ed25519PublicKey::from_bytes(&x).unwrap();
        let opts = VerificationOptions {
            allowed_issuers: Some(HashSet::from_strings(&[ISSUER])),
            allowed_audiences: Some(HashSet::from_strings(&[audience])),
            ..Default::default()
        };
        key.verify_token::<serde_json::Value>(token, Some(opts))
            .expect("the token verifies")
    }
}

fn token_of(r: &Reply) -> String {
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn basic_and_post_authentication_issue_verifiable_tokens() {
    let h = harness().await;
    for r in [
        h.with_basic(&h.worker, &h.secret, "grant_type=client_credentials")
            .await,
        h.with_post(&h.worker, &h.secret, "").await,
    ] {
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert_eq!(r.headers.get(header::PRAGMA).unwrap(), "no-cache");
        let body = r.json();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 900);
        assert_eq!(body["scope"], "reports:read reports:write");
        let claims = h.verify(body["access_token"].as_str().unwrap()).await;
        assert_eq!(claims.subject.as_deref(), Some(h.worker.as_str()));
        assert_eq!(claims.custom["client_id"], h.worker.as_str());
        assert_eq!(claims.custom["scope"], "reports:read reports:write");
        let (iat, exp) = (
            claims.issued_at.unwrap().as_secs(),
            claims.expires_at.unwrap().as_secs(),
        );
        assert_eq!(exp - iat, 900);
        assert!(claims.jwt_id.as_deref().is_some_and(|j| j.len() >= 16));
    }
    // Every token has its own jti.
    let a = token_of(&h.with_post(&h.worker, &h.secret, "").await);
    let b = token_of(&h.with_post(&h.worker, &h.secret, "").await);
    assert_ne!(h.verify(&a).await.jwt_id, h.verify(&b).await.jwt_id);
}

#[tokio::test]
async fn basic_credentials_are_form_decoded() {
    let h = harness().await;
    // Every character percent-encoded, as a client may do: still the same credentials.
    let pct = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let header = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", pct(&h.worker), pct(&h.secret)))
    );
    token_of(&h.post("grant_type=client_credentials", Some(&header)).await);
    // Ids with ':', '%', '+' and non-ASCII characters, encoded as §2.3.1 says: an unknown
    // client, so a clean invalid_client, never a server error or a parse error.
    for id in ["a:b", "50%", "a+b c", "clïent", "名前"] {
        let r = h
            .with_basic(id, &h.secret, "grant_type=client_credentials")
            .await;
        assert_eq!(
            (r.status, r.error()),
            (StatusCode::UNAUTHORIZED, "invalid_client".into()),
            "{id}"
        );
    }
    // Malformed Basic values fail like a wrong secret.
    for raw in [
        "Basic !!!",
        "Basic ",
        &format!("Basic {}", STANDARD.encode("no-colon")),
        &format!("Basic {}", STANDARD.encode([0xff, 0x3a, 0xfe])),
    ] {
        let r = h.post("grant_type=client_credentials", Some(raw)).await;
        assert_eq!(
            (r.status, r.error()),
            (StatusCode::UNAUTHORIZED, "invalid_client".into()),
            "{raw}"
        );
        assert!(r
            .headers
            .get(header::WWW_AUTHENTICATE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Basic realm="));
    }
}

#[tokio::test]
async fn malformed_requests_get_the_right_error() {
    let h = harness().await;
    let good = basic(&h.worker, &h.secret);
    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        (
            "missing grant_type",
            Request::post("/oauth2/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::AUTHORIZATION, &good)
                .body(Body::from("scope=reports:read"))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "unsupported grant",
            Request::post("/oauth2/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::AUTHORIZATION, &good)
                .body(Body::from("grant_type=password&username=a&password=b"))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            "both methods",
            Request::post("/oauth2/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::AUTHORIZATION, &good)
                .body(Body::from(format!(
                    "grant_type=client_credentials&client_id={}&client_secret={}",
                    h.worker, h.secret
                )))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "repeated parameter",
            Request::post("/oauth2/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::AUTHORIZATION, &good)
                .body(Body::from(
                    "grant_type=client_credentials&grant_type=client_credentials",
                ))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "JSON body",
            Request::post("/oauth2/token")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, &good)
                .body(Body::from("{\"grant_type\":\"client_credentials\"}"))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "no content type",
            Request::post("/oauth2/token")
                .header(header::AUTHORIZATION, &good)
                .body(Body::from("grant_type=client_credentials"))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "GET",
            Request::get("/oauth2/token?grant_type=client_credentials")
                .header(header::AUTHORIZATION, &good)
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
        ),
        (
            "oversized body",
            Request::post("/oauth2/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::AUTHORIZATION, &good)
                .body(Body::from(format!(
                    "grant_type=client_credentials&scope={}",
                    "a".repeat(10_000)
                )))
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
        ),
        (
            "no credentials",
            Request::post("/oauth2/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("grant_type=client_credentials"))
                .unwrap(),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
    ];
    for (why, req, status, error) in cases {
        let r = h.send(req).await;
        assert_eq!(
            (r.status, r.error().as_str()),
            (status, error),
            "{why}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            r.json()["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{why}"
        );
        assert_eq!(
            r.headers.get(header::CACHE_CONTROL).unwrap(),
            "no-store",
            "{why}"
        );
    }
    let r = h
        .send(Request::get("/oauth2/token").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.headers.get(header::ALLOW).unwrap(), "POST");
}

#[tokio::test]
async fn a_client_audience_replaces_the_configured_one() {
    let h = harness().await;
    let input = ClientInput {
        name: "Orders worker".into(),
        client_type: "client_credentials".into(),
        scopes: "orders:read".into(),
        audience: "https://orders.clavis.test".into(),
        ..Default::default()
    };
    let (c, s) = clients::create_issuing(&h.state.db, "test", &RequestMeta::default(), &input)
        .await
        .unwrap();
    let secret = s.unwrap().secret;
    let token = token_of(&h.with_post(&c.client_id, &secret, "").await);
    let claims = h.verify_for(&token, "https://orders.clavis.test").await;
    assert_eq!(
        claims.audiences.unwrap().into_string().unwrap(),
        "https://orders.clavis.test"
    );
    // A client without its own audience keeps the configured one.
    let token = token_of(&h.with_post(&h.worker, &h.secret, "").await);
    let claims = h.verify(&token).await;
    assert_eq!(
        claims.audiences.unwrap().into_string().unwrap(),
        "https://api.clavis.test"
    );
    // Clearing the client's audience takes effect on its next token.
    let cleared = ClientInput {
        audience: String::new(),
        ..input
    };
    clients::update(
        &h.state.db,
        "test",
        &RequestMeta::default(),
        &c.client_id,
        &cleared,
    )
    .await
    .unwrap();
    let token = token_of(&h.with_post(&c.client_id, &secret, "").await);
    h.verify(&token).await;
}

#[tokio::test]
async fn client_types_and_scopes() {
    let h = harness().await;
    let (spa, _) = make(&h.state, "Public SPA", "public_pkce").await;
    let (web, web_secret) = make(&h.state, "Web app", "confidential_pkce").await;
    // A public client has no secret, and this grant is not for it: it is told so, and is not
    // counted as a failed authentication.
    let r = h
        .post(
            &format!("grant_type=client_credentials&client_id={spa}"),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::BAD_REQUEST, "unauthorized_client".into())
    );
    // A wrong secret for it, an unknown id alone, and a confidential id alone still fail
    // authentication.
    for body in [
        format!("grant_type=client_credentials&client_id={spa}&client_secret=x"),
        "grant_type=client_credentials&client_id=0123456789abcdef0123456789abcdef".to_string(),
        format!("grant_type=client_credentials&client_id={web}"),
    ] {
        let r = h.post(&body, None).await;
        assert_eq!(
            (r.status, r.error()),
            (StatusCode::UNAUTHORIZED, "invalid_client".into()),
            "{body}"
        );
    }
    // A PKCE client that authenticates may not use this grant.
    let r = h
        .with_basic(&web, &web_secret, "grant_type=client_credentials")
        .await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::BAD_REQUEST, "unauthorized_client".into())
    );
    // Scopes: a subset is granted as asked, anything else is refused.
    let r = h
        .with_basic(
            &h.worker,
            &h.secret,
            "grant_type=client_credentials&scope=reports%3Aread",
        )
        .await;
    assert_eq!(r.json()["scope"], "reports:read");
    assert_eq!(
        h.verify(&token_of(&r)).await.custom["scope"],
        "reports:read"
    );
    for bad in ["reports%3Aadmin", "reports%3Aread+admin", "REPORTS%3AREAD"] {
        let r = h
            .with_basic(
                &h.worker,
                &h.secret,
                &format!("grant_type=client_credentials&scope={bad}"),
            )
            .await;
        assert_eq!(
            (r.status, r.error()),
            (StatusCode::BAD_REQUEST, "invalid_scope".into()),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn rotation_revocation_and_expiry_take_effect_on_the_next_request() {
    let h = harness().await;
    let policy = Policy {
        max_rotated: 2,
        default_grace_secs: None,
        unused_days: 7,
    };
    let m = RequestMeta::default();
    let second = secrets::rotate(
        &h.state.db,
        policy,
        "test",
        &m,
        &h.worker,
        Grace::UntilRevoked,
    )
    .await
    .unwrap()
    .secret;
    let third = secrets::rotate(&h.state.db, policy, "test", &m, &h.worker, Grace::For(3600))
        .await
        .unwrap()
        .secret;
    // The current and both rotated secrets work.
    for s in [&h.secret, &second, &third] {
        token_of(
            &h.with_basic(&h.worker, s, "grant_type=client_credentials")
                .await,
        );
    }
    // Revoking the oldest rotated secret: refused on the very next request.
    let v = secrets::overview(&h.state.db, policy, &h.worker)
        .await
        .unwrap();
    let first_id = v
        .previous
        .iter()
        .find(|p| h.secret.ends_with(&p.hint))
        .unwrap()
        .id;
    secrets::revoke(&h.state.db, "test", &m, &h.worker, first_id)
        .await
        .unwrap();
    let r = h
        .with_basic(&h.worker, &h.secret, "grant_type=client_credentials")
        .await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    // A rotated secret past its grace period fails, before the expiry task runs.
    sqlx::query("UPDATE client_secrets SET expires_at = $1 WHERE expires_at IS NOT NULL")
        .bind(app::infra::db::now_ms() - 1)
        .execute(&h.state.db.pool)
        .await
        .unwrap();
    let r = h
        .with_basic(&h.worker, &second, "grant_type=client_credentials")
        .await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    token_of(
        &h.with_basic(&h.worker, &third, "grant_type=client_credentials")
            .await,
    );
    // "Last used" is recorded in a batch, not by the request.
    let before = secrets::overview(&h.state.db, policy, &h.worker)
        .await
        .unwrap();
    assert_eq!(before.current.as_ref().unwrap().last_used_at, None);
    h.state.secret_usage.flush(&h.state.db).await.unwrap();
    let after = secrets::overview(&h.state.db, policy, &h.worker)
        .await
        .unwrap();
    assert!(after.current.unwrap().last_used_at.is_some());
}

#[tokio::test]
async fn every_authentication_failure_gets_the_same_bytes() {
    let h = harness().await;
    let (disabled, disabled_secret) = make(&h.state, "Disabled worker", "client_credentials").await;
    clients::set_enabled(
        &h.state.db,
        "test",
        &RequestMeta::default(),
        &disabled,
        false,
    )
    .await
    .unwrap();
    let (revoked, revoked_secret) = make(&h.state, "Revoked worker", "client_credentials").await;
    let policy = Policy {
        max_rotated: 0,
        default_grace_secs: None,
        unused_days: 7,
    };
    secrets::rotate(
        &h.state.db,
        policy,
        "test",
        &RequestMeta::default(),
        &revoked,
        Grace::UntilRevoked,
    )
    .await
    .unwrap();
    let other_secret = make(&h.state, "Other", "client_credentials").await.1;
    let mut malformed = h.secret.clone();
    malformed.pop();
    malformed.push(if h.secret.ends_with('A') { 'B' } else { 'A' });
    let cases = [
        (
            "unknown client",
            "0123456789abcdef0123456789abcdef".to_string(),
            h.secret.clone(),
        ),
        ("wrong secret", h.worker.clone(), other_secret),
        ("malformed secret", h.worker.clone(), malformed),
        (
            "not a secret at all",
            h.worker.clone(),
            "hunter2".to_string(),
        ),
        ("revoked secret", revoked, revoked_secret),
        ("disabled client", disabled, disabled_secret),
    ];
    for basic in [true, false] {
        let mut bodies = Vec::new();
        for (why, id, secret) in &cases {
            let r = if basic {
                h.with_basic(id, secret, "grant_type=client_credentials")
                    .await
            } else {
                h.with_post(id, secret, "").await
            };
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{why}");
            assert_eq!(
                r.headers.get(header::WWW_AUTHENTICATE).is_some(),
                basic,
                "{why}"
            );
            bodies.push((why, r.body));
        }
        for (why, b) in &bodies {
            assert_eq!(b, &bodies[0].1, "{why} differs from {}", bodies[0].0);
        }
    }
    // The failures reach the audit log as one row per client id (four ids here), with a count.
    let rows = h.state.token_failures.flush(&h.state.db).await.unwrap();
    assert_eq!(rows, 4);
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'token.auth_failed'")
            .fetch_one(&h.state.db.pool)
            .await
            .unwrap();
    assert_eq!(n, 4, "one row per client id, not one per request");
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'token.auth_failed' AND target = $1",
    )
    .bind(h.worker.clone())
    .fetch_one(&h.state.db.pool)
    .await
    .unwrap();
    assert!(
        detail.starts_with("6 failed client authentications"),
        "{detail}"
    );
}

#[tokio::test]
async fn repeated_failures_get_429_and_good_clients_are_not_slowed() {
    let h = harness_with(Settings {
        token_max_failures_per_client: 3,
        token_max_failures_per_ip: 1000,
        ..settings()
    })
    .await;
    let (other, other_secret) = make(&h.state, "Neighbour", "client_credentials").await;
    for _ in 0..3 {
        let r = h
            .with_basic(&h.worker, "wrong", "grant_type=client_credentials")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    for secret in ["wrong", h.secret.as_str()] {
        let r = h
            .with_basic(&h.worker, secret, "grant_type=client_credentials")
            .await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "blocked, even with the right secret"
        );
        let after: u64 = r
            .headers
            .get(header::RETRY_AFTER)
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&after), "{after}");
    }
    // The same client from another address, with its right secret, is served: failures from
    // one address never lock a client out.
    let elsewhere = h.at_ip([192, 0, 2, 50]);
    token_of(
        &elsewhere
            .with_basic(&h.worker, &h.secret, "grant_type=client_credentials")
            .await,
    );
    // Another client from the same address is served.
    for _ in 0..20 {
        token_of(
            &h.with_basic(&other, &other_secret, "grant_type=client_credentials")
                .await,
        );
    }
    let metrics = String::from_utf8(
        h.send(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .body,
    )
    .unwrap();
    assert!(
        metrics.contains("clavis_token_requests_total{outcome=\"invalid_client\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("clavis_token_requests_total{outcome=\"temporarily_unavailable\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("clavis_token_requests_total{outcome=\"issued\"} 21"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_address_over_its_limit_is_refused_and_other_addresses_are_not() {
    let h = harness_with(Settings {
        token_max_failures_per_client: 1000,
        token_max_failures_per_ip: 4,
        ..settings()
    })
    .await;
    let (other, other_secret) = make(&h.state, "Neighbour", "client_credentials").await;
    // Four failures spread over several client ids, all from one address.
    for id in [&h.worker, &other, &"f".repeat(32), &h.worker] {
        let r = h
            .with_basic(id, "wrong", "grant_type=client_credentials")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = h
        .with_basic(&other, &other_secret, "grant_type=client_credentials")
        .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address used up its own limit"
    );
    let elsewhere = h.at_ip([198, 51, 100, 7]);
    for (id, secret) in [(&h.worker, &h.secret), (&other, &other_secret)] {
        token_of(
            &elsewhere
                .with_basic(id, secret, "grant_type=client_credentials")
                .await,
        );
    }
}

#[tokio::test]
async fn batched_writes_survive_a_failed_flush_and_a_second_flush_waits_for_the_first() {
    let h = harness().await;
    let scalar = |sql: &'static str| {
        let db = h.state.db.clone();
        async move {
            sqlx::query(sql)
                .fetch_one(&db.pool)
                .await
                .unwrap()
                .try_get::<i64, _>(0)
                .unwrap()
        }
    };
    let log = FailureLog::default();
    log.add("client-a", "10.0.0.1");
    log.add("client-a", "10.0.0.1");
    log.add("client-b", "10.0.0.2");
    // A database without the audit table refuses the write: the counts are kept.
    let dir = tempfile::tempdir().unwrap();
    let broken = Db::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .unwrap();
    assert!(log.flush(&broken).await.is_err());
    assert_eq!(log.pending(), 3, "put back for the next flush");
    // Two flushes at once (a periodic one and the one at shutdown): the second returns only
    // once the rows of the first are committed.
    let failures = "SELECT COUNT(*) FROM audit_events WHERE action = 'token.auth_failed'";
    let (first, (second, seen)) = tokio::join!(log.flush(&h.state.db), async {
        let second = log.flush(&h.state.db).await;
        (second, scalar(failures).await)
    });
    assert_eq!(first.unwrap() + second.unwrap(), 2);
    assert_eq!(seen, 2, "the second flush waited for the first");
    assert_eq!(log.pending(), 0);

    let usage = UsageRecorder::default();
    let secret_id = scalar("SELECT MIN(id) FROM client_secrets").await;
    usage.record(secret_id, 1_234_000);
    // A failed write puts the mark back: the flushes below still write it.
    assert!(usage.flush(&broken).await.is_err());
    let (first, (second, seen)) = tokio::join!(usage.flush(&h.state.db), async {
        let second = usage.flush(&h.state.db).await;
        (
            second,
            scalar("SELECT COALESCE(MAX(last_used_at), 0) FROM client_secrets").await,
        )
    });
    assert_eq!(first.unwrap() + second.unwrap(), 1);
    assert_eq!(seen, 1_234_000, "the second flush waited for the first");
}

#[tokio::test]
async fn signing_keys_are_sealed_at_rest_and_keys_stored_in_the_clear_get_sealed() {
    let h = harness().await;
    let kek = h.state.settings.key_encryption_key.clone().unwrap();
    let stored = || async {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT kid, private_pkcs8 FROM signing_keys ORDER BY id")
                .fetch_all(&h.state.db.pool)
                .await
                .unwrap();
        rows
    };
    // One key per algorithm: Ed25519 for access tokens, RS256 for ID tokens.
    let rows = stored().await;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|(_, s)| s.starts_with("sealed:v1:")),
        "{rows:?}"
    );
    // Tokens are signed with it (the ring opened it), and a ring with another key cannot.
    token_of(
        &h.with_basic(&h.worker, &h.secret, "grant_type=client_credentials")
            .await,
    );
    let stranger = keys::KeyRing::new(Some(Kek::generate()));
    assert!(stranger.reload(&h.state.db).await.is_err());
    // A key stored in the clear (before sealing existed) is sealed at the next start.
    keys::rotate_signing_key(&h.state.db, None, &RequestMeta::default(), "test")
        .await
        .unwrap();
    let rows = stored().await;
    assert!(!rows[2].1.starts_with("sealed:"), "stored in the clear");
    assert!(!rows[3].1.starts_with("sealed:"), "stored in the clear");
    server::prepare_signing(&h.state).await.unwrap();
    let rows = stored().await;
    assert!(
        rows.iter().all(|(_, s)| s.starts_with("sealed:v1:")),
        "{rows:?}"
    );
    assert_eq!(keys::seal_unsealed(&h.state.db, &kek).await.unwrap(), 0);
    // Each sealed key is bound to its kid: swapped between rows, neither opens.
    sqlx::query("UPDATE signing_keys SET private_pkcs8 = $1 WHERE kid = $2")
        .bind(rows[1].1.clone())
        .bind(rows[0].0.clone())
        .execute(&h.state.db.pool)
        .await
        .unwrap();
    assert!(keys::seal_unsealed(&h.state.db, &kek).await.is_err());
}

#[tokio::test]
async fn metadata_and_key_rotation() {
    let h = harness().await;
    let r = h
        .send(
            Request::get("/.well-known/oauth-authorization-server")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(doc["token_endpoint"], format!("{ISSUER}/oauth2/token"));
    assert_eq!(doc["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    // `none` is for public PKCE clients, at the token endpoint only.
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        doc["scopes_supported"],
        serde_json::json!([
            "openid",
            "profile",
            "email",
            "offline_access",
            "reports:read",
            "reports:write"
        ])
    );
    // The scopes are read at most every few seconds: a new client's scope shows up on the
    // first read after that, not on every request.
    let billing = ClientInput {
        name: "Billing worker".into(),
        client_type: "client_credentials".into(),
        scopes: "billing:read".into(),
        ..Default::default()
    };
    create_client(&h.state.db, "test", &RequestMeta::default(), &billing)
        .await
        .unwrap();
    let cached = h.state.token_scopes.get(&h.state.db).await.unwrap();
    assert_eq!(*cached, ["reports:read", "reports:write"]);
    assert_eq!(
        *metadata::known_scopes(&h.state.db).await.unwrap(),
        ["billing:read", "reports:read", "reports:write"]
    );
    // No private key material is published.
    // One key per algorithm, public parts only.
    let jwks = h.jwks().await;
    let published = jwks["keys"].as_array().unwrap();
    let algs: Vec<&str> = published
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["RS256", "EdDSA"]);
    for k in published {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "{private} in {k}");
        }
    }

    let old = token_of(
        &h.with_basic(&h.worker, &h.secret, "grant_type=client_credentials")
            .await,
    );
    let old_kid = Token::decode_metadata(&old)
        .unwrap()
        .key_id()
        .unwrap()
        .to_string();
    let t0 = app::infra::db::now_ms();
    let kek = h.state.settings.key_encryption_key.as_ref();
    let new_kid = keys::rotate_signing_key_at(&h.state.db, kek, &RequestMeta::default(), "cli", t0)
        .await
        .unwrap();
    assert_ne!(old_kid, new_kid);
    // The new key is published at once, but signs only once every cached JWKS (60 s) has had
    // time to expire; until then the old key signs. At every moment the key that signs is
    // published.
    let ring = keys::KeyRing::new(kek.cloned());
    for (after_secs, signer) in [(0, &old_kid), (2, &old_kid), (59, &old_kid), (61, &new_kid)] {
        let at = t0 + after_secs * 1000;
        ring.reload_at(&h.state.db, at).await.unwrap();
        assert_eq!(
            &ring.current().unwrap().kid,
            signer,
            "{after_secs} s after the rotation"
        );
        let published = keys::jwks_at(&h.state.db, 900, at).await.unwrap();
        let kids: Vec<&str> = published["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert!(
            kids.contains(&new_kid.as_str()),
            "published from the start: {kids:?}"
        );
        assert!(kids.contains(&signer.as_str()), "{after_secs} s: {kids:?}");
    }
    let still_old = token_of(
        &h.with_basic(&h.worker, &h.secret, "grant_type=client_credentials")
            .await,
    );
    h.state.signing_keys.reload(&h.state.db).await.unwrap();
    assert_eq!(
        Token::decode_metadata(&still_old).unwrap().key_id(),
        Some(old_kid.as_str()),
        "right after the rotation the old key still signs"
    );
    h.state
        .signing_keys
        .reload_at(&h.state.db, t0 + 61_000)
        .await
        .unwrap();
    let new = token_of(
        &h.with_basic(&h.worker, &h.secret, "grant_type=client_credentials")
            .await,
    );
    assert_eq!(
        Token::decode_metadata(&new).unwrap().key_id(),
        Some(new_kid.as_str())
    );
    // Both keys are published, so old and new tokens verify.
    assert_eq!(h.jwks().await["keys"].as_array().unwrap().len(), 4);
    h.verify(&old).await;
    h.verify(&new).await;
    // Once every token of the old key has expired, it leaves the JWKS.
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NOT NULL")
        .bind(app::infra::db::now_ms() - 901_000)
        .execute(&h.state.db.pool)
        .await
        .unwrap();
    let keys = h.jwks().await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);
    assert!(keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kid"] == new_kid.as_str()));
}
