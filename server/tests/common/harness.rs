//! The harness of the HTTP tests of the admin API and the OAuth endpoints: the whole router
//! on a fresh SQLite database, with the server's log captured, and a leak scan when it is
//! dropped (see `Drop for Harness`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use app::clients::service as clients;
use app::clients::ClientInput;
use app::infra::db::Db;
use app::infra::seal::Kek;
use app::infra::settings::Settings;
use app::infra::state::AppState;
use app::infra::RequestMeta;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::{Extension, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const ISSUER: &str = "https://auth.clavis.test";

pub struct Harness {
    pub router: Router,
    pub state: AppState,
    /// Every answer the test got (`no-store`, body) and every plaintext secret it met, for the
    /// leak scan when the harness is dropped.
    /// (`no-store`, a reveal, body) of every answer.
    answers: Mutex<Vec<(bool, bool, String)>>,
    secrets: Mutex<Vec<String>>,
    log: LogBuffer,
    _log_guard: tracing::subscriber::DefaultGuard,
    dir: tempfile::TempDir,
}

/// Everything the server logged during one test, at every level.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every `client_secret` and `refresh_token` string anywhere in `v`.
fn plaintexts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::String(s) if k == "client_secret" || k == "refresh_token" => {
                        out.push(s.clone())
                    }
                    _ => plaintexts(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| plaintexts(v, out)),
        _ => {}
    }
}

/// The leak scan of every test here: each plaintext secret the API handed out is in exactly
/// one answer besides reveals (which exist to show it again, with the storage flag false),
/// those answers are `no-store`, and no secret (handed out or made for the test) is in
/// the database files or in anything the server logged.
impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let answers = self.answers.lock().unwrap();
        let secrets = self.secrets.lock().unwrap();
        let log = String::from_utf8_lossy(&self.log.0.lock().unwrap()).into_owned();
        assert!(!log.is_empty(), "the server's log was captured");
        let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                (path.display().to_string(), std::fs::read(&path).unwrap())
            })
            .collect();
        for secret in secrets.iter() {
            let holding: Vec<&(bool, bool, String)> = answers
                .iter()
                .filter(|(_, _, b)| b.contains(secret))
                .collect();
            let made_in = holding.iter().filter(|(_, reveal, _)| !reveal).count();
            assert!(made_in <= 1, "a secret is in {made_in} answers");
            assert!(
                holding.iter().all(|(no_store, _, _)| *no_store),
                "an answer with a secret may be stored"
            );
            assert!(
                !log.contains(secret.as_str()),
                "a secret is in the server log"
            );
            for (name, bytes) in &files {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "a secret is in {name}"
                );
            }
        }
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Asserts a problem+json answer with `status` and a `type` ending in `kind`.
    pub fn problem(&self, status: StatusCode, kind: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header(header::CONTENT_TYPE),
            "application/problem+json"
        );
        let p = self.json();
        assert_eq!(p["type"], format!("urn:clavis:problem:{kind}"), "{p}");
        assert_eq!(p["status"], status.as_u16());
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(p["detail"].as_str().is_some_and(|t| !t.is_empty()));
        p
    }
}

pub async fn harness() -> Harness {
    harness_storing(true).await
}

/// A harness whose store follows `client_secrets_stored_as_one_way_hash` = `hashed_only`.
pub async fn harness_storing(hashed_only: bool) -> Harness {
    harness_with(hashed_only, None).await
}

/// A harness with `secret_max_lifetime` = `max_lifetime` (seconds).
pub async fn harness_with(hashed_only: bool, max_lifetime: Option<i64>) -> Harness {
    let log = LogBuffer::default();
    let writer = log.clone();
    let _log_guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let kek = Kek::generate();
    let db = server::apply_secret_storage(db, hashed_only, &kek)
        .await
        .unwrap()
        .limiting_secret_lifetime(max_lifetime);
    let settings = Settings {
        secret_max_lifetime_secs: max_lifetime,
        issuer_origin: ISSUER.into(),
        issuer: ISSUER.into(),
        access_token_ttl_secs: 900,
        key_encryption_key: Some(kek),
        max_rotated_secrets: 2,
        client_secrets_stored_as_one_way_hash: hashed_only,
        ..Settings::default()
    };
    let options = leptos::config::LeptosOptions::builder()
        .output_name("clavis")
        .build();
    let state = AppState::new(options, db, settings).unwrap();
    server::prepare_signing(&state).await.unwrap();
    let router = server::router(state.clone()).layer(Extension(ConnectInfo(SocketAddr::from((
        [10, 0, 0, 9],
        5152,
    )))));
    Harness {
        router,
        state,
        answers: Mutex::default(),
        secrets: Mutex::default(),
        log,
        _log_guard,
        dir,
    }
}

impl Harness {
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let reveal = req.uri().path().ends_with("/reveal");
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        let no_store = headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"));
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            plaintexts(&v, &mut self.secrets.lock().unwrap());
        }
        // An authorization code, handed over in a redirect's Location.
        if let Some(loc) = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
            if let Ok(u) = url::Url::parse(loc) {
                for (k, v) in u.query_pairs() {
                    if k == "code" {
                        self.secrets.lock().unwrap().push(v.into_owned());
                    }
                }
            }
        }
        self.answers.lock().unwrap().push((
            no_store,
            reveal,
            String::from_utf8_lossy(&body).into_owned(),
        ));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A call of the API with `token` (if any) and a JSON body (if any).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"));
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    /// Adds `plaintext` (a password the test chose) to the leak scan.
    pub fn remember(&self, plaintext: &str) {
        self.secrets.lock().unwrap().push(plaintext.to_string());
    }

    /// A client-credentials client with `scopes`, made as the console would; its id and secret.
    pub async fn automation(&self, name: &str, scopes: &str) -> (String, String) {
        let input = ClientInput {
            name: name.into(),
            client_type: "client_credentials".into(),
            scopes: scopes.into(),
            ..Default::default()
        };
        let (c, s) =
            clients::create_issuing(&self.state.db, "root", &RequestMeta::default(), &input)
                .await
                .unwrap();
        let secret = s.unwrap().secret;
        self.secrets.lock().unwrap().push(secret.clone());
        (c.client_id, secret)
    }

    /// A form POST to `path`, with HTTP Basic credentials when given.
    pub async fn post_form(&self, path: &str, basic: Option<(&str, &str)>, form: &str) -> Reply {
        let mut req =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some((id, secret)) = basic {
            req = req.header(
                header::AUTHORIZATION,
                format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
            );
        }
        self.send(req.body(Body::from(form.to_string())).unwrap())
            .await
    }

    /// `POST /oauth2/token` with HTTP Basic.
    pub async fn token_reply(&self, id: &str, secret: &str) -> Reply {
        self.post_form(
            "/oauth2/token",
            Some((id, secret)),
            "grant_type=client_credentials",
        )
        .await
    }

    pub async fn token(&self, id: &str, secret: &str) -> String {
        let r = self.token_reply(id, secret).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["access_token"].as_str().unwrap().to_string()
    }

    pub async fn admin_token(&self) -> String {
        let (id, secret) = self.automation("Terraform", "clavis:admin").await;
        self.token(&id, &secret).await
    }
}
