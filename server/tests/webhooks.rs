//! Webhooks end to end: the real `clavis` binary delivers to a receiver that verifies each
//! delivery with the `standardwebhooks` package from PyPI (server/tests/support). Covers every
//! event type of the admin API, a receiver that fails and then answers, one that is down and
//! comes back, the two signatures of a secret rotation, a kill -9 between the commit and the
//! delivery, expiry notices across a restart, two replicas on one PostgreSQL database, and
//! refused addresses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_clavis");

/// The Python with `standardwebhooks` (scripts/setup.sh makes it).
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("CLAVIS_TEST_WEBHOOK_PYTHON") {
        return p.into();
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/webhooks/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup.sh",
        p.display()
    );
    p
}

/// An HTTP client for the test's own calls (the product's, which also installs the TLS
/// provider; loopback is allowed).
fn http() -> reqwest::Client {
    app::webhooks::dispatch::http_client(true).unwrap()
}

struct Receiver {
    child: Child,
    port: u16,
}

impl Receiver {
    fn start() -> Receiver {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/webhook_receiver.py");
        let mut child = Command::new(python())
            .arg(script)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening ")
            .expect("receiver port")
            .parse()
            .unwrap();
        Receiver { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    async fn control(&self, body: Value) {
        let r = http()
            .post(format!("http://127.0.0.1:{}/control", self.port))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }

    async fn received(&self) -> Vec<Value> {
        let r = http()
            .get(format!("http://127.0.0.1:{}/received", self.port))
            .send()
            .await
            .unwrap();
        r.json::<Vec<Value>>().await.unwrap()
    }

    /// Waits until `pred` holds for what arrived; returns it.
    async fn until(&self, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.within(30, what, pred).await
    }

    async fn within(&self, secs: u64, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received().await;
            if pred(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {what}; received: {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Clavis server on a SQLite file in `dir`.
struct Server {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn clavis(dir: &Path, envs: &[(&str, String)]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CLAVIS_LOG", "info,tower_http=warn")
        .env("NO_COLOR", "1")
        .env(
            "CLAVIS_DATABASE_URL",
            format!("sqlite://{}/clavis.db", dir.display()),
        )
        .env("CLAVIS_KEY_ENCRYPTION_KEY_FILE", dir.join("kek"))
        .env("CLAVIS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
        .env("CLAVIS_WEBHOOK_RETRY_SCHEDULE", "1,1,1");
    for (k, v) in envs {
        c.env(k, v);
    }
    c
}

impl Server {
    fn start(dir: &Path, port: u16, envs: &[(&str, String)]) -> Server {
        let base = format!("http://127.0.0.1:{port}");
        let mut child = clavis(dir, envs)
            .env("CLAVIS_LISTEN", format!("127.0.0.1:{port}"))
            .env("CLAVIS_ISSUER", &base)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("Clavis is serving") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the server did not start");
        Server { child, base }
    }

    /// kill -9: no shutdown of any kind.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An automation client with `clavis:admin`, made by the CLI; returns its id and secret.
fn admin_client(dir: &Path) -> (String, String) {
    admin_client_on(dir, &[])
}

/// The same, with more settings for the CLI (another database).
fn admin_client_on(dir: &Path, envs: &[(&str, String)]) -> (String, String) {
    let out = clavis(dir, envs)
        .args([
            "clients",
            "create",
            "--name",
            "Hooks automation",
            "--type",
            "client-credentials",
            "--scope",
            "clavis:admin",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["client_id"].as_str().unwrap().into(),
        v["client_secret"].as_str().unwrap().into(),
    )
}

struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn new(base: &str, (id, secret): &(String, String)) -> Api {
        let http = http();
        let r = http
            .post(format!("{base}/oauth2/token"))
            .basic_auth(id, Some(secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "clavis:admin"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let token = r.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        Api {
            base: base.to_string(),
            token,
            http,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.call(reqwest::Method::POST, path, Some(body)).await;
        assert!((200..300).contains(&status), "POST {path}: {status} {v}");
        v
    }

    /// Registers an endpoint for `url`; returns its id and signing secret.
    async fn endpoint(&self, url: &str, events: &[&str]) -> (String, String) {
        let v = self
            .post("/webhooks", json!({ "url": url, "events": events }))
            .await;
        (
            v["id"].as_str().unwrap().into(),
            v["secret"].as_str().unwrap().into(),
        )
    }
}

/// The admin API's OpenAPI document, whose `webhooks` describe the deliveries.
async fn openapi(api: &Api) -> Value {
    let (status, doc) = api.call(reqwest::Method::GET, "/openapi.json", None).await;
    assert_eq!(status, 200);
    doc
}

fn types(got: &[Value]) -> Vec<String> {
    got.iter()
        .map(|v| v["type"].as_str().unwrap_or("(unverified)").to_string())
        .collect()
}

#[tokio::test]
async fn every_event_type_of_the_admin_api_arrives_once_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin_client(dir.path());
    let receiver = Receiver::start();
    let _server = Server::start(dir.path(), free_port(), &[]);
    let api = Api::new(&_server.base, &admin).await;
    let (hook, secret) = api.endpoint(&receiver.url(), &[]).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    receiver
        .control(json!({ "secrets": [secret], "openapi": openapi(&api).await }))
        .await;

    let made = api.post("/clients", json!({ "client_name": "Billing worker", "type": "client_credentials", "scope": "reports:read" })).await;
    let id = made["client_id"].as_str().unwrap();
    let etag = api
        .http
        .get(format!("{}/api/v1/clients/{id}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let etag = etag.headers()["etag"].to_str().unwrap().to_string();
    let r = api
        .http
        .patch(format!("{}/api/v1/clients/{id}", api.base))
        .bearer_auth(&api.token)
        .header("if-match", etag)
        .json(&json!({ "description": "nightly" }))
        .send()
        .await
        .unwrap();
    let (status, v) = (r.status().as_u16(), r.text().await.unwrap());
    assert_eq!(status, 200, "{v}");
    let rotated = api
        .post(&format!("/clients/{id}/secrets/rotate"), json!({}))
        .await;
    let (_, list) = api
        .call(
            reqwest::Method::GET,
            &format!("/clients/{id}/secrets"),
            None,
        )
        .await;
    let old = list["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == "rotated")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    api.post(&format!("/clients/{id}/secrets/{old}/revoke"), json!({}))
        .await;
    api.post(&format!("/clients/{id}/disable"), json!({})).await;
    api.post(&format!("/clients/{id}/enable"), json!({})).await;
    let (status, _) = api
        .call(reqwest::Method::DELETE, &format!("/clients/{id}"), None)
        .await;
    assert_eq!(status, 204);
    api.post(&format!("/webhooks/{hook}/test"), json!({})).await;

    let want = [
        "client.created",
        "secret.created",
        "client.updated",
        "secret.rotated",
        "secret.revoked",
        "client.disabled",
        "client.enabled",
        "client.deleted",
        "webhook.test",
    ];
    let got = receiver
        .until("every event", |g| g.len() >= want.len())
        .await;
    // In order, each once, each verified by the endpoint's secret.
    assert_eq!(types(&got), want);
    for d in &got {
        assert_eq!(d["verified_by"], json!([0]), "{d}");
        assert_eq!(d["signatures"], 1);
        // What the OpenAPI document says of this type, checked by a JSON Schema validator.
        assert_eq!(d["schema_errors"], json!([]), "{d:#}");
    }
    let ids: std::collections::HashSet<&str> =
        got.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), got.len(), "a webhook-id came twice");
    // The payload names the client and the secret, and holds no secret.
    let rot = &got[3]["payload"]["data"];
    assert_eq!(rot["client"]["id"], id);
    assert_eq!(rot["client"]["name"], "Billing worker");
    assert_eq!(
        rot["secret"]["hint"].as_str().unwrap(),
        rotated["hint"].as_str().unwrap()
    );
    let all = serde_json::to_string(&got).unwrap();
    assert!(
        !all.contains(rotated["client_secret"].as_str().unwrap()),
        "a plaintext secret in a payload"
    );
    assert!(!all.contains("clavis_cs_"), "a secret in a payload");

    // The deliveries as the API lists them.
    let (_, deliveries) = api
        .call(
            reqwest::Method::GET,
            &format!("/webhooks/{hook}/deliveries"),
            None,
        )
        .await;
    let rows = deliveries["deliveries"].as_array().unwrap();
    assert_eq!(rows.len(), want.len());
    assert!(
        rows.iter()
            .all(|d| d["state"] == "delivered" && d["attempts"][0]["status"] == 204),
        "{deliveries}"
    );
}

#[tokio::test]
async fn a_receiver_that_fails_gets_the_event_once_it_answers_and_a_rotation_signs_twice() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin_client(dir.path());
    let receiver = Receiver::start();
    let server = Server::start(dir.path(), free_port(), &[]);
    let api = Api::new(&server.base, &admin).await;
    let (hook, first) = api.endpoint(&receiver.url(), &["webhook.test"]).await;
    receiver
        .control(json!({ "secrets": [first.clone()], "fail_next": 2 }))
        .await;
    api.post(&format!("/webhooks/{hook}/test"), json!({})).await;
    let got = receiver
        .until("the third try", |g| g.iter().any(|d| d["status"] == 204))
        .await;
    // Two answers of 500, retried after 1 s each, then one 204: the same event every time.
    assert_eq!(
        got.iter()
            .map(|d| d["status"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [500, 500, 204]
    );
    assert!(got.iter().all(|d| d["id"] == got[0]["id"]));
    let (_, list) = api
        .call(
            reqwest::Method::GET,
            &format!("/webhooks/{hook}/deliveries"),
            None,
        )
        .await;
    let attempts = list["deliveries"][0]["attempts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        attempts
            .iter()
            .map(|a| a["status"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [500, 500, 204]
    );

    // A new secret: for a day, each delivery carries a signature with each.
    let rotated = api
        .post(&format!("/webhooks/{hook}/rotate-secret"), json!({}))
        .await;
    let second = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    assert!(rotated["previous_secret_until"].is_string(), "{rotated}");
    receiver
        .control(json!({ "secrets": [first, second] }))
        .await;
    api.post(&format!("/webhooks/{hook}/test"), json!({})).await;
    let got = receiver
        .until("the delivery after the rotation", |g| g.len() >= 4)
        .await;
    assert_eq!(got[3]["signatures"], 2);
    assert_eq!(
        got[3]["verified_by"],
        json!([0, 1]),
        "both the old and the new secret verify it"
    );

    // Every receiver has switched: the previous secret is ended, and signs nothing more.
    let (status, ended) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/webhooks/{hook}/previous-secret"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{ended}");
    assert!(ended["previous_secret_until"].is_null(), "{ended}");
    let (status, again) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/webhooks/{hook}/previous-secret"),
            None,
        )
        .await;
    assert_eq!(status, 409, "nothing left to end: {again}");
    api.post(&format!("/webhooks/{hook}/test"), json!({})).await;
    let got = receiver
        .until("the delivery after the end of the previous secret", |g| {
            g.len() >= 5
        })
        .await;
    assert_eq!(got[4]["signatures"], 1);
    assert_eq!(
        got[4]["verified_by"],
        json!([1]),
        "only the new secret signs"
    );
}

#[tokio::test]
async fn an_event_committed_before_a_kill_9_is_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin_client(dir.path());
    let port = free_port();
    // Nothing listens at the endpoint's address yet: the delivery cannot happen before the kill.
    // (Another test's receiver could take this port in between; binding port 0 makes that rare.)
    let hook_port = free_port();
    // Retries every second for ten seconds: the kill comes long before the delivery could fail.
    let retries = (
        "CLAVIS_WEBHOOK_RETRY_SCHEDULE",
        "1,1,1,1,1,1,1,1,1,1".to_string(),
    );
    let server = Server::start(dir.path(), port, &[retries]);
    let api = Api::new(&server.base, &admin).await;
    let (hook, secret) = api
        .endpoint(
            &format!("http://127.0.0.1:{hook_port}/hook"),
            &["client.created"],
        )
        .await;
    api.post("/clients", json!({ "client_name": "Made before the crash", "type": "client_credentials", "scope": "reports:read" })).await;
    server.kill();

    // A receiver on that address, then the server again, on the same database.
    let receiver = ReceiverOn::start(hook_port);
    receiver.0.control(json!({ "secrets": [secret] })).await;
    let server = Server::start(
        dir.path(),
        port,
        &[("CLAVIS_WEBHOOK_RETRY_SCHEDULE", "1,1,1,1,1,1".into())],
    );
    // A kill in the middle of an attempt leaves the endpoint leased for up to 15 s.
    let got = receiver
        .0
        .within(45, "the event after the restart", |g| {
            g.iter().any(|d| d["status"] == 204)
        })
        .await;
    assert_eq!(types(&got), ["client.created"]);
    assert_eq!(
        got[0]["payload"]["data"]["client"]["name"],
        "Made before the crash"
    );
    let api = Api::new(&server.base, &admin).await;
    let (_, list) = api
        .call(
            reqwest::Method::GET,
            &format!("/webhooks/{hook}/deliveries"),
            None,
        )
        .await;
    assert_eq!(list["deliveries"][0]["state"], "delivered", "{list}");
}

/// A receiver on a given port (the endpoint was registered before it started).
struct ReceiverOn(Receiver);

impl ReceiverOn {
    fn start(port: u16) -> ReceiverOn {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/webhook_receiver.py");
        let mut child = Command::new(python())
            .arg(script)
            .env("RECEIVER_PORT", port.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), format!("listening {port}"));
        ReceiverOn(Receiver { child, port })
    }
}

#[tokio::test]
async fn link_local_metadata_and_private_addresses_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin_client(dir.path());
    let server = Server::start(
        dir.path(),
        free_port(),
        &[("CLAVIS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false".into())],
    );
    let api = Api::new(&server.base, &admin).await;
    for (url, says) in [
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://10.0.0.8/hook", "webhook_allow_private_networks"),
        ("http://127.0.0.1:9/hook", "webhook_allow_private_networks"),
        ("http://hooks.example.com/hook", "https"),
    ] {
        let (status, v) = api
            .call(
                reqwest::Method::POST,
                "/webhooks",
                Some(json!({ "url": url })),
            )
            .await;
        assert_eq!(status, 400, "{url}: {v}");
        let text = v.to_string();
        assert!(
            text.contains("\"url\"") && text.contains(says),
            "{url}: {v}"
        );
    }
    let (_, list) = api.call(reqwest::Method::GET, "/webhooks", None).await;
    assert_eq!(list["webhooks"], json!([]), "a refused endpoint was stored");
}

/// The deliveries of endpoint `hook`, newest first, as the admin API gives them.
async fn deliveries(api: &Api, hook: &str) -> Vec<Value> {
    let (status, list) = api
        .call(
            reqwest::Method::GET,
            &format!("/webhooks/{hook}/deliveries"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list["deliveries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_event_after_it_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin_client(dir.path());
    let hook_port = free_port();
    // A second between attempts, twenty times: the receiver comes back long before the last.
    let schedule = vec!["1"; 20].join(",");
    let server = Server::start(
        dir.path(),
        free_port(),
        &[("CLAVIS_WEBHOOK_RETRY_SCHEDULE", schedule)],
    );
    let api = Api::new(&server.base, &admin).await;
    let (hook, secret) = api
        .endpoint(
            &format!("http://127.0.0.1:{hook_port}/hook"),
            &["webhook.test"],
        )
        .await;
    api.post(&format!("/webhooks/{hook}/test"), json!({})).await;

    // Nobody listens: attempts fail to connect, and the delivery waits for the next one.
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let d = deliveries(&api, &hook).await;
        let attempts = d[0]["attempts"].as_array().unwrap().clone();
        if attempts.len() >= 2 {
            assert_eq!(d[0]["state"], "pending", "{d:#?}");
            break attempts;
        }
        assert!(Instant::now() < deadline, "no failed attempts: {d:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for a in &failed {
        assert!(a["status"].is_null(), "{a}");
        assert!(
            a["error"].as_str().unwrap().contains("connect"),
            "an attempt says why it failed: {a}"
        );
    }

    // The receiver comes up on that address: the event arrives, once, verified.
    let receiver = ReceiverOn::start(hook_port);
    receiver.0.control(json!({ "secrets": [secret] })).await;
    let got = receiver
        .0
        .until("the event once the receiver is back", |g| !g.is_empty())
        .await;
    assert_eq!(types(&got), ["webhook.test"]);
    assert_eq!(got[0]["verified_by"], json!([0]));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = deliveries(&api, &hook).await;
        if d[0]["state"] == "delivered" {
            let attempts = d[0]["attempts"].as_array().unwrap();
            assert_eq!(attempts.last().unwrap()["status"], 204, "{d:#?}");
            break;
        }
        assert!(Instant::now() < deadline, "not marked delivered: {d:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        receiver.0.received().await.len(),
        1,
        "a delivered event is not sent again"
    );
}

/// The `secret.expiring` and `secret.expired` events that arrived for client `id`:
/// `(type, notice_seconds)`.
fn notices(got: &[Value], id: &str) -> Vec<(String, Option<i64>)> {
    got.iter()
        .filter(|d| d["payload"]["data"]["client"]["id"] == id)
        .map(|d| {
            (
                d["type"].as_str().unwrap().to_string(),
                d["payload"]["data"]["notice_seconds"].as_i64(),
            )
        })
        .collect()
}

/// A 3-minute lifetime with notices at 2 and 1 minutes: each notice arrives once, then
/// `secret.expired`, although the server is down when the first is due (it is sent when the
/// server is back, since the secret has not expired yet).
#[tokio::test]
async fn expiry_notices_arrive_once_each_then_the_expiry_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin_client(dir.path());
    let receiver = Receiver::start();
    let port = free_port();
    let policy = [
        ("CLAVIS_SECRET_MAX_LIFETIME", "180".to_string()),
        ("CLAVIS_SECRET_EXPIRY_NOTICE", "120,60".to_string()),
    ];
    let server = Server::start(dir.path(), port, &policy);
    let api = Api::new(&server.base, &admin).await;
    let (_, secret) = api
        .endpoint(&receiver.url(), &["secret.expiring", "secret.expired"])
        .await;
    receiver
        .control(json!({ "secrets": [secret], "openapi": openapi(&api).await }))
        .await;
    let made = Instant::now();
    let client = api
        .post(
            "/clients",
            json!({ "client_name": "Short-lived worker", "type": "client_credentials", "scope": "reports:read" }),
        )
        .await;
    let id = client["client_id"].as_str().unwrap().to_string();
    assert!(client["secret_expires_at"].is_string(), "{client}");

    // Down from 50 s to 70 s after the secret was made, across its first notice (at 60 s).
    tokio::time::sleep(Duration::from_secs(50).saturating_sub(made.elapsed())).await;
    assert!(
        notices(&receiver.received().await, &id).is_empty(),
        "no notice before the first threshold"
    );
    server.kill();
    tokio::time::sleep(Duration::from_secs(70).saturating_sub(made.elapsed())).await;
    let _server = Server::start(dir.path(), port, &policy);

    let got = receiver
        .within(40, "the 2-minute notice, after the restart", |g| {
            !notices(g, &id).is_empty()
        })
        .await;
    assert_eq!(notices(&got, &id), [("secret.expiring".into(), Some(120))]);
    receiver
        .within(150, "the 1-minute notice and the expiry", |g| {
            notices(g, &id).len() >= 3
        })
        .await;
    assert!(
        made.elapsed() >= Duration::from_secs(180),
        "secret.expired came before the secret expired"
    );
    // One notice interval more: nothing is sent twice.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let got = receiver.received().await;
    assert_eq!(
        notices(&got, &id),
        [
            ("secret.expiring".into(), Some(120)),
            ("secret.expiring".into(), Some(60)),
            ("secret.expired".into(), None),
        ]
    );
    for d in &got {
        assert_eq!(d["verified_by"], json!([0]), "{d:#}");
        assert_eq!(d["schema_errors"], json!([]), "{d:#}");
    }
}

/// A fresh database on the PostgreSQL server that `CLAVIS_TEST_POSTGRES_URL` names, or `None`
/// (with a note) when there is none; with `CLAVIS_TEST_REQUIRE_POSTGRES=1` a missing one fails.
async fn postgres_database() -> Option<String> {
    let Ok(base) = std::env::var("CLAVIS_TEST_POSTGRES_URL") else {
        assert_ne!(
            std::env::var("CLAVIS_TEST_REQUIRE_POSTGRES").as_deref(),
            Ok("1"),
            "CLAVIS_TEST_REQUIRE_POSTGRES=1 but CLAVIS_TEST_POSTGRES_URL is not set"
        );
        eprintln!("note: skipped, CLAVIS_TEST_POSTGRES_URL is not set");
        return None;
    };
    let admin = app::infra::db::Db::connect(&base).await.unwrap();
    let name = format!("clavis_hooks_{}", free_port());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&admin.pool)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin.pool)
        .await
        .unwrap();
    admin.pool.close().await;
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    Some(url.to_string())
}

/// Two replicas on one PostgreSQL database share the outbox: 200 events, written through both,
/// to two endpoints, and each arrives exactly once.
#[tokio::test]
async fn two_replicas_on_postgresql_deliver_each_of_200_events_once() {
    let Some(pg) = postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = [("CLAVIS_DATABASE_URL", pg)];
    let out = clavis(dir.path(), &db).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = admin_client_on(dir.path(), &db);
    let receiver = Receiver::start();
    // One after the other: the first makes the key-encryption key file that both use.
    let one = Server::start(dir.path(), free_port(), &db);
    let two = Server::start(dir.path(), free_port(), &db);
    let apis = [
        Api::new(&one.base, &admin).await,
        Api::new(&two.base, &admin).await,
    ];
    let mut secrets = Vec::new();
    let mut hooks = Vec::new();
    for api in &apis {
        let (hook, secret) = api.endpoint(&receiver.url(), &["webhook.test"]).await;
        hooks.push(hook);
        secrets.push(secret);
    }
    receiver.control(json!({ "secrets": secrets })).await;
    for i in 0..200 {
        let api = &apis[i % 2];
        let hook = &hooks[(i / 2) % 2];
        api.post(&format!("/webhooks/{hook}/test"), json!({})).await;
    }
    receiver
        .within(120, "200 deliveries", |g| g.len() >= 200)
        .await;
    // Long enough for a second replica's duplicate attempt to arrive, were there one.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = receiver.received().await;
    let ids: std::collections::HashSet<&str> =
        got.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 200, "200 distinct events");
    assert_eq!(got.len(), 200, "each delivered once");
    assert!(got
        .iter()
        .all(|d| d["verified_by"].as_array().unwrap().len() == 1 && d["status"] == 204));
    for hook in &hooks {
        let d = deliveries(&apis[0], hook).await;
        assert!(d.iter().all(|d| d["state"] == "delivered"), "{d:#?}");
    }
}
