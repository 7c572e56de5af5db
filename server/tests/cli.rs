//! The real `clavis` binary: start-up failures, `migrate`, `admin create`, `people create`, first start and
//! graceful shutdown. Each test runs in its own temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_clavis");

fn clavis(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CLAVIS_LOG", "info");
    c
}

fn run(cmd: &mut Command, stdin: Option<&str>) -> (i32, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        // A command that refuses its arguments may exit before it reads: a closed pipe then
        // is its answer, not a test failure.
        let written = child.stdin.take().unwrap().write_all(input.as_bytes());
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `clavis admin create --username USER --role ROLE --password-stdin` with `stdin` as input.
fn admin_create(
    dir: &std::path::Path,
    user: &str,
    role: &str,
    stdin: &str,
) -> (i32, String, String) {
    run(
        clavis(dir).args([
            "admin",
            "create",
            "--username",
            user,
            "--role",
            role,
            "--password-stdin",
        ]),
        Some(stdin),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn malformed_config_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("clavis.toml"), "listen = \n[[[ not toml").unwrap();
    let (code, _, err) = run(clavis(dir.path()).arg("serve"), None);
    assert_ne!(code, 0);
    assert!(err.contains("clavis.toml is not valid TOML"), "{err}");
    assert!(!dir.path().join("data").exists(), "nothing was created");
}

#[test]
fn invalid_value_names_the_key_and_allowed_values() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("clavis.toml"), "access_token_ttl = 5\n").unwrap();
    let (code, _, err) = run(clavis(dir.path()).arg("migrate"), None);
    assert_ne!(code, 0);
    assert!(
        err.contains("`access_token_ttl`") && err.contains("from 60 to 86400"),
        "{err}"
    );

    let (code, _, err) = run(
        clavis(dir.path())
            .env("CLAVIS_CONFIG", "missing.toml")
            .arg("migrate"),
        None,
    );
    assert_ne!(code, 0);
    assert!(err.contains("missing.toml does not exist"), "{err}");
}

#[test]
fn unreachable_database_stops_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port(); // nothing listens there
    let url = format!("postgres://clavis:hunter2-secret@127.0.0.1:{port}/clavis");
    let (code, out, err) = run(
        clavis(dir.path())
            .env("CLAVIS_DATABASE_URL", &url)
            .arg("serve"),
        None,
    );
    assert_ne!(code, 0);
    assert!(err.contains("cannot open the database"), "{err}");
    assert!(
        !err.contains("hunter2-secret") && !out.contains("hunter2-secret"),
        "the password never shows"
    );
}

#[test]
fn unknown_keys_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("clavis.toml"),
        "database_url = \"sqlite://x.db\"\nlisten_address = \"1\"\n",
    )
    .unwrap();
    let (code, out, err) = run(clavis(dir.path()).arg("migrate"), None);
    assert_eq!(code, 0, "{err}");
    assert!(format!("{out}{err}").contains("unknown configuration key `listen_address`"));
    assert!(
        dir.path().join("x.db").exists(),
        "migrate created the database"
    );
}

#[test]
fn admin_create_reads_the_password_from_stdin_and_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = admin_create(dir.path(), "ops", "support", "too short\n");
    assert_ne!(code, 0);
    assert!(err.contains("at least 12 characters"), "{err}");
    let (code, _, err) = admin_create(dir.path(), "", "admin", "long enough password\n");
    assert_ne!(code, 0);
    assert!(err.contains("Enter a username"), "{err}");
    let long = "u".repeat(65);
    let (code, _, err) = admin_create(dir.path(), &long, "admin", "long enough password\n");
    assert_ne!(code, 0);
    assert!(err.contains("at most 64"), "{err}");
    let (code, _, err) = admin_create(dir.path(), "ops", "root", "long enough password\n");
    assert_ne!(code, 0);
    assert!(err.contains("invalid value 'root'"), "{err}");

    let (code, out, err) = admin_create(dir.path(), "Ops", "support", "long enough password\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("created account ops with role support"),
        "{out}"
    );
    assert!(!format!("{out}{err}").contains("long enough password"));
    let (code, _, err) = admin_create(dir.path(), "ops", "admin", "long enough password\n");
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn people_create_reads_the_password_from_stdin_and_names_the_flag_of_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let people_create = |user: &str, email: &str, stdin: &str| {
        run(
            clavis(dir.path()).args([
                "people",
                "create",
                "--username",
                user,
                "--display-name",
                "Ada Lovelace",
                "--email",
                email,
                "--password-stdin",
            ]),
            Some(stdin),
        )
    };
    let (code, _, err) = people_create("ada", "", "too short\n");
    assert_ne!(code, 0);
    assert!(
        err.contains("--password-stdin: A password needs at least 12"),
        "{err}"
    );
    let (code, _, err) = people_create("ada", "nope", "long enough password\n");
    assert_ne!(code, 0);
    assert!(err.contains("--email: Enter an e-mail address"), "{err}");

    let (code, out, err) = people_create("Ada", "ada@example.com", "long enough password\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("added ada (Ada Lovelace), subject p_"),
        "{out}"
    );
    assert!(!format!("{out}{err}").contains("long enough password"));
    let (code, _, err) = people_create("ada", "", "long enough password\n");
    assert_ne!(code, 0);
    assert!(
        err.contains("--username: A person named ada already exists"),
        "{err}"
    );
    // A person is not a console account.
    let (code, _, err) = admin_create(dir.path(), "ada", "admin", "another long password\n");
    assert_eq!(code, 0, "the account name is free: {err}");

    // The display name is optional: it defaults to the username.
    let (code, out, err) = run(
        clavis(dir.path()).args([
            "people",
            "create",
            "--username",
            "grace",
            "--password-stdin",
        ]),
        Some("long enough password\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("added grace (grace), subject p_"), "{out}");
}

/// Starts `clavis serve`, waits until it says it is serving, and returns the child and
/// everything it logged.
///
/// Readiness is the server's own "Clavis is serving" line (logged after the listener is bound),
/// not a TCP connect: a connect to a free loopback port can succeed without this server (another
/// test's process on a reused port, or the kernel connecting the socket to itself), and a SIGTERM
/// sent on that false signal would reach the server before its handler is installed.
fn start(
    dir: &std::path::Path,
    port: u16,
    envs: &[(&str, &str)],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut cmd = clavis(dir);
    cmd.env("CLAVIS_LISTEN", format!("127.0.0.1:{port}"))
        .env("NO_COLOR", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        let ready_tx = ready_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if line.contains("Clavis is serving") {
                    let _ = ready_tx.send(());
                }
                let _ = tx.send(line);
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while ready.recv_timeout(Duration::from_millis(100)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            let log = rx.try_iter().collect::<Vec<_>>().join("\n");
            panic!("server exited before serving ({status}):\n{log}");
        }
        assert!(Instant::now() < deadline, "server did not start");
    }
    (child, rx)
}

fn stop(child: &mut std::process::Child) -> i32 {
    // SIGTERM, then the server must finish on its own.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn collect(rx: &std::sync::mpsc::Receiver<String>) -> String {
    std::thread::sleep(Duration::from_millis(300));
    rx.try_iter().collect::<Vec<_>>().join("\n")
}

#[test]
fn first_start_prints_a_generated_password_once_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, rx) = start(dir.path(), port, &[]);
    let code = stop(&mut child);
    let log = collect(&rx);
    assert_eq!(code, 0, "graceful exit on SIGTERM:\n{log}");
    assert!(log.contains("shutdown requested"), "{log}");
    let line = log
        .lines()
        .find(|l| l.contains("created administrator `admin` with password"))
        .expect(&log);
    let password = line
        .split("with password ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(password.len() >= 32);
    assert!(
        dir.path().join("data/clavis.db").exists(),
        "the default database lives under data/"
    );

    // The second start creates nothing and prints no password.
    let (mut child, rx) = start(dir.path(), port, &[]);
    stop(&mut child);
    let log2 = collect(&rx);
    assert!(
        !log2.contains("with password") && !log2.contains(password),
        "{log2}"
    );
}

#[test]
fn first_start_uses_the_admin_named_in_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, rx) = start(
        dir.path(),
        port,
        &[
            ("CLAVIS_ADMIN_USERNAME", "boss"),
            ("CLAVIS_ADMIN_PASSWORD", "a password from the env"),
        ],
    );
    stop(&mut child);
    let log = collect(&rx);
    assert!(
        log.contains("created the administrator named by CLAVIS_ADMIN_USERNAME"),
        "{log}"
    );
    assert!(
        !log.contains("a password from the env"),
        "the password is never logged"
    );
    let (code, _, err) = admin_create(dir.path(), "boss", "admin", "another long password\n");
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn a_bad_first_admin_password_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(
        clavis(dir.path())
            .env("CLAVIS_ADMIN_USERNAME", "boss")
            .env("CLAVIS_ADMIN_PASSWORD", "short")
            .env("CLAVIS_LISTEN", format!("127.0.0.1:{}", free_port()))
            .arg("serve"),
        None,
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("cannot create the first administrator") && err.contains("at least 12"),
        "{err}"
    );
}

#[test]
fn a_failed_migration_stops_the_start_and_serves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A database that already has an `accounts` table Clavis did not create.
    let (code, _, err) = run(
        clavis(dir.path())
            .env("CLAVIS_DATABASE_URL", "sqlite://foreign.db")
            .arg("migrate"),
        None,
    );
    assert_eq!(code, 0, "{err}");
    // Forget that Clavis made it, so that the first migration runs again and collides.
    let url = format!("sqlite://{}", dir.path().join("foreign.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = app::infra::db::Db::connect(&url).await.unwrap();
        sqlx::query("DROP TABLE _sqlx_migrations")
            .execute(&db.pool)
            .await
            .unwrap();
        db.pool.close().await;
    });
    let port = free_port();
    let (code, out, err) = run(
        clavis(dir.path())
            .env("CLAVIS_DATABASE_URL", "sqlite://foreign.db")
            .env("CLAVIS_LISTEN", format!("127.0.0.1:{port}"))
            .arg("serve"),
        None,
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("database migration failed, nothing was started"),
        "{out}{err}"
    );
    assert!(err.contains("already exists"), "the cause is named: {err}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// A plain HTTP/1.1 GET on loopback; returns the body.
fn http_get(port: u16, path: &str) -> String {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

#[test]
fn keys_rotate_adds_a_key_that_the_running_server_publishes() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, _rx) = start(dir.path(), port, &[]);
    let before = http_get(port, "/.well-known/jwks.json");
    // One key per kind: Ed25519 (access tokens) and RS256 (ID tokens).
    assert_eq!(before.matches("\"kid\"").count(), 2, "{before}");
    let (code, out, err) = run(clavis(dir.path()).args(["keys", "rotate"]), None);
    assert_eq!(code, 0, "{err}");
    let kid = out
        .trim()
        .strip_prefix("new signing key ")
        .and_then(|r| r.split(';').next())
        .expect(&out)
        .to_string();
    // Both keys are published: tokens of the old one stay verifiable.
    let after = http_get(port, "/.well-known/jwks.json");
    assert_eq!(after.matches("\"kid\"").count(), 4, "{after}");
    assert!(after.contains(&kid), "{after}");
    assert!(
        !after.contains("\"d\""),
        "no private key is published: {after}"
    );
    assert_eq!(stop(&mut child), 0);
}

#[test]
fn the_signing_keys_are_sealed_under_a_key_file_made_on_the_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, rx) = start(dir.path(), port, &[]);
    assert_eq!(stop(&mut child), 0);
    let log = collect(&rx);
    let file = dir.path().join("data/key-encryption-key");
    let key = std::fs::read_to_string(&file).expect(&log);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "readable by its owner only");
    }
    assert!(log.contains("back it up apart from the database"), "{log}");
    assert!(!log.contains(key.trim()), "the key is never logged");
    let url = format!("sqlite://{}", dir.path().join("data/clavis.db").display());
    let stored: Vec<String> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = app::infra::db::Db::connect(&url).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as("SELECT private_pkcs8 FROM signing_keys")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        db.pool.close().await;
        rows.into_iter().map(|r| r.0).collect()
    });
    assert_eq!(stored.len(), 2);
    assert!(
        stored.iter().all(|s| s.starts_with("sealed:v1:")),
        "{stored:?}"
    );
    // `clavis keys rotate` seals its key with the same file.
    let (code, _, err) = run(clavis(dir.path()).args(["keys", "rotate"]), None);
    assert_eq!(code, 0, "{err}");

    // Another key in the file: the start stops, naming the setting.
    std::fs::write(&file, app::infra::seal::Kek::generate().to_file_text()).unwrap();
    let serve = |dir: &std::path::Path| {
        run(
            clavis(dir)
                .env("CLAVIS_LISTEN", format!("127.0.0.1:{port}"))
                .arg("serve"),
            None,
        )
    };
    let (code, out, err) = serve(dir.path());
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("key_encryption_key_file") && err.contains("does not open"),
        "{err}"
    );
    // No file, while the database holds sealed keys: the start stops too, and says what to do.
    std::fs::remove_file(&file).unwrap();
    let (code, out, err) = serve(dir.path());
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("key_encryption_key_file") && err.contains("restore it"),
        "{err}"
    );
    assert!(!file.exists(), "no new key replaces the lost one");
    // A file that holds no key.
    std::fs::write(&file, "not a key\n").unwrap();
    let (code, _, err) = serve(dir.path());
    assert_ne!(code, 0);
    assert!(err.contains("key_encryption_key_file"), "{err}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// A raw HTTP/1.1 request; the status line's code and the body.
fn http(port: u16, head: &str, body: &str) -> (u16, String) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{head}\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        code,
        out.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

#[test]
fn clients_create_bootstraps_an_automation_client_for_the_admin_api() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, rx) = start(dir.path(), port, &[]);
    let (code, out, err) = run(
        clavis(dir.path()).args([
            "clients",
            "create",
            "--name",
            "Terraform",
            "--type",
            // The API's and DESIGN.md's spelling; the SPA below uses the other one.
            "client_credentials",
            "--scope",
            "clavis:admin",
            "--format",
            "json",
        ]),
        None,
    );
    assert_eq!(code, 0, "{err}");
    let made: serde_json::Value = serde_json::from_str(out.trim()).expect(&out);
    let (id, secret) = (
        made["client_id"].as_str().unwrap(),
        made["client_secret"].as_str().unwrap(),
    );
    assert!(
        !err.contains(secret),
        "the secret is on standard output only"
    );

    // The new client gets a token and drives the API with it.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let (status, body) = http(
        port,
        &format!("POST /oauth2/token HTTP/1.1\r\nAuthorization: Basic {basic}\r\nContent-Type: application/x-www-form-urlencoded"),
        "grant_type=client_credentials",
    );
    assert_eq!(status, 200, "{body}");
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = token["access_token"].as_str().unwrap();
    let (status, body) = http(
        port,
        &format!("GET /api/v1/clients HTTP/1.1\r\nAuthorization: Bearer {token}"),
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"client_name\":\"Terraform\""), "{body}");

    // `env` by default; a public client prints no secret; bad input names the flag.
    let (code, out, err) = run(
        clavis(dir.path()).args([
            "clients",
            "create",
            "--name",
            "SPA",
            "--type",
            "public-pkce",
            "--redirect-uri",
            "https://app.example/cb",
        ]),
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("CLAVIS_CLIENT_ID=") && !out.contains("CLAVIS_CLIENT_SECRET"),
        "{out}"
    );
    let (code, _, err) = run(
        clavis(dir.path()).args([
            "clients",
            "create",
            "--name",
            "SPA 2",
            "--type",
            "public-pkce",
        ]),
        None,
    );
    assert_ne!(code, 0);
    assert!(err.contains("--redirect-uri"), "{err}");
    // A secret lifetime: the expiry is printed with the secret; a bad one names the flag.
    let (code, out, err) = run(
        clavis(dir.path()).args([
            "clients",
            "create",
            "--name",
            "Nightly",
            "--type",
            "client-credentials",
            "--scope",
            "reports:read",
            "--secret-lifetime",
            "86400",
        ]),
        None,
    );
    assert_eq!(code, 0, "{err}");
    let expires = out
        .lines()
        .find_map(|l| l.strip_prefix("CLAVIS_CLIENT_SECRET_EXPIRES_AT="))
        .unwrap_or_else(|| panic!("{out}"));
    let at = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
    let left = at.timestamp() - chrono::Utc::now().timestamp();
    assert!((86_300..=86_400).contains(&left), "{left}");
    let (code, _, err) = run(
        clavis(dir.path()).args([
            "clients",
            "create",
            "--name",
            "Bad",
            "--type",
            "client-credentials",
            "--scope",
            "reports:read",
            "--secret-lifetime",
            "-5",
        ]),
        None,
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("--secret-lifetime") && err.contains("at least 60"),
        "{err}"
    );
    assert_eq!(stop(&mut child), 0);
    assert!(
        !collect(&rx).contains(secret),
        "the server's log never has the secret"
    );
}
