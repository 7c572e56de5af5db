//! Service tests of authorizers, on SQLite and PostgreSQL: an authorizer and its system client
//! are made and deleted together; its client's rules; bad input changes nothing. And the
//! generated kustomize configuration, built by a real `kubectl kustomize`.

mod common;

use common::app_err;
use sqlx::Row;

use app::authorizers::service as authorizers;
use app::authorizers::{config_files, AuthorizerInput};
use app::clients::service as clients;
use app::clients::ClientInput;
use app::error::AppError;
use app::infra::db::{now_ms, Db};
use app::infra::RequestMeta;
use app::secrets::verify;

fn meta() -> RequestMeta {
    RequestMeta::default()
}

const ISSUER: &str = "https://id.example";

fn gateway(name: &str) -> AuthorizerInput {
    AuthorizerInput {
        name: name.into(),
        description: "In front of the orders API".into(),
        audience: "orders-api".into(),
        namespace: String::new(),
        image: "registry.example/authorizer:1.4".into(),
    }
}

async fn count(db: &Db, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get::<i64, _>("n")
}

on_both!(an_authorizer_comes_and_goes_with_its_client, |db| {
    let (a, secret) = authorizers::create(db, "root", &meta(), &gateway("Orders gateway"), ISSUER)
        .await
        .unwrap();
    assert_eq!(a.slug, "orders-gateway");
    assert_eq!(a.namespace, "clavis-system");
    assert_eq!(a.client_id, secret.client_id);
    let client = clients::get(db, &a.client_id).await.unwrap();
    assert_eq!(client.scopes, ["clavis:introspect"]);
    assert_eq!(client.application.as_ref().unwrap().name, "System");
    // Its first secret works, as any client's.
    let v = verify::verify(db, &a.client_id, &secret.secret, now_ms())
        .await
        .unwrap();
    assert!(v.is_some());
    // A second authorizer goes into the same System application.
    let (b, _) = authorizers::create(db, "root", &meta(), &gateway("Billing gateway"), ISSUER)
        .await
        .unwrap();
    let b_client = clients::get(db, &b.client_id).await.unwrap();
    assert_eq!(b_client.application, client.application);
    assert_eq!(authorizers::list(db).await.unwrap().len(), 2);

    // Its client keeps its scope and cannot be deleted on its own.
    let change = ClientInput {
        name: client.name.clone(),
        client_type: "client_credentials".into(),
        scopes: "clavis:admin".into(),
        ..Default::default()
    };
    let e = app_err(clients::update(db, "root", &meta(), &a.client_id, &change).await);
    assert!(e.field_message("scopes").is_some(), "{e:?}");
    let e = app_err(clients::delete(db, "root", &meta(), &a.client_id, &client.name).await);
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");

    // Changes; then deleting the authorizer deletes its client too.
    let mut input = gateway("Orders edge");
    input.namespace = "edge".into();
    let changed = authorizers::update(db, "root", &meta(), a.id, &input, ISSUER)
        .await
        .unwrap();
    assert_eq!(
        (changed.slug.as_str(), changed.namespace.as_str()),
        ("orders-edge", "edge")
    );
    let e = app_err(authorizers::delete(db, "root", &meta(), a.id, "wrong").await);
    assert!(e.field_message("confirm_name").is_some());
    authorizers::delete(db, "root", &meta(), a.id, "Orders edge")
        .await
        .unwrap();
    assert!(clients::get(db, &a.client_id).await.is_err());
    assert_eq!(authorizers::list(db).await.unwrap().len(), 1);
    for action in [
        "authorizer.created",
        "authorizer.updated",
        "authorizer.deleted",
    ] {
        let n = sqlx::query("SELECT COUNT(*) AS n FROM audit_events WHERE action = $1")
            .bind(action)
            .fetch_one(&db.pool)
            .await
            .unwrap()
            .get::<i64, _>("n");
        assert!(n >= 1, "{action}");
    }
});

// A form sent again (same form token) for an authorizer's secret names the authorizer's page,
// where its secrets are shown, not the client page.
on_both!(a_repeated_secret_form_names_the_authorizer_page, |db| {
    use app::infra::seal::Kek;
    use app::infra::SingleUse;
    use app::secrets::sealed;
    use app::secrets::service::{self as secrets, Grace, Policy};
    let sealing = db.clone().sealing_secrets(Some(Kek::generate()));
    let (a, _) = authorizers::create(
        &sealing,
        "root",
        &meta(),
        &gateway("Orders gateway"),
        ISSUER,
    )
    .await
    .unwrap();
    let policy = Policy {
        max_rotated: 3,
        default_grace_secs: None,
        unused_days: 30,
    };
    let once = |token: &str| RequestMeta {
        once: Some(SingleUse::form("root", token, &(&a.client_id, token))),
        ..meta()
    };
    let page = format!("/authorizers/{}", a.client_id);
    let rotate = once("0123456789abcdef0123456789abcdef");
    let rotated = || {
        secrets::rotate(
            &sealing,
            policy,
            "root",
            &rotate,
            &a.client_id,
            Grace::UntilRevoked,
        )
    };
    let issued = rotated().await.unwrap();
    match app_err(rotated().await) {
        AppError::AlreadyApplied { href } => {
            assert!(href.starts_with(&format!("{page}#secret-")), "{href}")
        }
        other => panic!("unexpected {other:?}"),
    }
    let current = secrets::overview(&sealing, policy, &a.client_id)
        .await
        .unwrap()
        .current
        .unwrap();
    let reveal = once("fedcba9876543210fedcba9876543210");
    let shown = sealed::reveal(&sealing, "root", &reveal, &a.client_id, current.id, None)
        .await
        .unwrap();
    assert_eq!(shown.secret, issued.secret);
    let again = sealed::reveal(&sealing, "root", &reveal, &a.client_id, current.id, None).await;
    match app_err(again) {
        AppError::AlreadyApplied { href } => assert_eq!(href, page),
        other => panic!("unexpected {other:?}"),
    }
});

on_both!(bad_input_names_the_field_and_makes_nothing, |db| {
    authorizers::create(db, "root", &meta(), &gateway("Orders gateway"), ISSUER)
        .await
        .unwrap();
    let (clients_before, authorizers_before) =
        (count(db, "clients").await, count(db, "authorizers").await);
    let cases: Vec<(&str, AuthorizerInput)> = vec![
        ("name", gateway("Orders  Gateway!")),
        ("name", gateway("✓✓")),
        (
            "audience",
            AuthorizerInput {
                audience: " ".into(),
                ..gateway("A")
            },
        ),
        // The admin API's own audience, with or without a trailing slash.
        (
            "audience",
            AuthorizerInput {
                audience: format!("{ISSUER}/api/v1"),
                ..gateway("E")
            },
        ),
        (
            "audience",
            AuthorizerInput {
                audience: format!("{ISSUER}/api/v1/"),
                ..gateway("F")
            },
        ),
        (
            "namespace",
            AuthorizerInput {
                namespace: "Clavis_System".into(),
                ..gateway("B")
            },
        ),
        (
            "image",
            AuthorizerInput {
                image: "bad image; rm".into(),
                ..gateway("C")
            },
        ),
        (
            "image",
            AuthorizerInput {
                image: String::new(),
                ..gateway("D")
            },
        ),
    ];
    for (field, input) in cases {
        let e = app_err(authorizers::create(db, "root", &meta(), &input, ISSUER).await);
        assert!(e.field_message(field).is_some(), "{field}: {e:?}");
    }
    assert_eq!(count(db, "clients").await, clients_before);
    assert_eq!(count(db, "authorizers").await, authorizers_before);
});

/// The generated directory, built by `kubectl kustomize`: a Secret whose data is the client id
/// and the secret, and a Deployment whose `secretRef` names that Secret (kustomize appends a
/// content hash to the generated name and rewrites references to it in the same namespace).
#[test]
fn kubectl_kustomize_builds_the_generated_directory() {
    let Ok(out) = std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
    else {
        assert!(
            std::env::var("CLAVIS_TEST_REQUIRE_KUBECTL").as_deref() != Ok("1"),
            "CLAVIS_TEST_REQUIRE_KUBECTL=1 but kubectl is not installed"
        );
        eprintln!("note: kubectl is not installed here, so the generated kustomize directory is not built (scripts/setup.sh says how to get it)");
        return;
    };
    assert!(out.status.success());
    let a = app::authorizers::AuthorizerView {
        id: 1,
        slug: "orders-gateway".into(),
        name: "Orders gateway".into(),
        description: String::new(),
        audience: "orders-api".into(),
        namespace: "clavis-system".into(),
        image: "registry.example/authorizer:1.4".into(),
        client_id: "0123456789abcdef0123456789abcdef".into(),
        created_at: 0,
        created_by: "root".into(),
        last_active_at: None,
    };
    let secret = "clavis_cs_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdefghijklm";
    let dir = tempfile::tempdir().unwrap();
    for f in config_files(&a, Some(secret), "https://id.example") {
        if f.filename.ends_with(".yaml") {
            std::fs::write(dir.path().join(&f.filename), &f.content).unwrap();
        }
    }
    let built = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(built.stdout).unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("name: orders-gateway-authorizer-secrets-")
        })
        .collect();
    assert_eq!(
        names.len(),
        2,
        "the Secret and the reference to it:\n{text}"
    );
    assert_eq!(
        names[0], names[1],
        "the reference names the generated Secret:\n{text}"
    );
    assert!(!names[0].is_empty(), "a content hash is appended");
    // A value, on its line or (when long) as a block scalar on the lines below it.
    let data = |key: &str| -> String {
        use base64::Engine;
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("{key} in:\n{text}"));
        let inline = lines[at]
            .trim()
            .trim_start_matches(&format!("{key}: "))
            .to_string();
        let b64 = if inline == "|" {
            lines[at + 1..]
                .iter()
                .take_while(|l| l.starts_with("    "))
                .map(|l| l.trim())
                .collect::<String>()
        } else {
            inline
        };
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(data("CLIENT_ID"), a.client_id);
    assert_eq!(data("CLIENT_SECRET"), secret);
    assert_eq!(data("ISSUER_URL"), "https://id.example");
    assert!(text.contains("kind: Secret") && text.contains("kind: Deployment"));
    assert_eq!(
        text.matches("namespace: clavis-system").count(),
        2,
        "{text}"
    );
}
