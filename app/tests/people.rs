//! Service tests of the people directory, on SQLite and PostgreSQL: adding a person (with an
//! opaque subject and an argon2id hash), bad input that names its field and adds nothing,
//! disabling and enabling, resetting a password, the audit trail without passwords, and pages.

mod common;

use common::app_err;
use sqlx::Row;

use app::accounts::password::PasswordHasher;
use app::infra::db::Db;
use app::infra::RequestMeta;
use app::people::service as people;
use app::people::{PersonInput, PAGE_SIZE};

const PW: &str = "a long enough password";

fn meta() -> RequestMeta {
    RequestMeta::default()
}

fn ada(username: &str) -> PersonInput {
    PersonInput {
        username: username.into(),
        display_name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        password: PW.into(),
    }
}

async fn stored_hash(db: &Db, username: &str) -> String {
    sqlx::query("SELECT password_hash FROM people WHERE username = $1")
        .bind(username.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get("password_hash")
}

async fn audit_text(db: &Db) -> String {
    let rows =
        sqlx::query("SELECT action, COALESCE(detail, '') AS detail FROM audit_events ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    rows.iter()
        .map(|r| {
            format!(
                "{} {}\n",
                r.get::<String, _>("action"),
                r.get::<String, _>("detail")
            )
        })
        .collect()
}

on_both!(
    a_person_is_added_disabled_enabled_and_given_a_new_password,
    |db| {
        let hasher = PasswordHasher::new().unwrap();
        let p = people::create(db, &hasher, "root", &meta(), &ada("  Ada  "))
            .await
            .unwrap();
        assert_eq!(p.username, "ada");
        assert_eq!(
            (p.display_name.as_str(), p.email.as_str()),
            ("Ada Lovelace", "ada@example.com")
        );
        assert!(!p.disabled);
        // The subject is random (128 bits, hex) and says nothing of the username. (Not a
        // "does not contain" check: hex digits can spell "ada" by chance.)
        let random = p.subject.strip_prefix("p_").expect("p_ prefix");
        assert!(
            random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit()),
            "{}",
            p.subject
        );
        let other = people::create(db, &hasher, "root", &meta(), &ada("grace"))
            .await
            .unwrap();
        assert_ne!(other.subject, p.subject);

        // Only an argon2id hash is stored, and it checks the password.
        let hash = stored_hash(db, "ada").await;
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(hasher.verify(Some(hash.clone()), PW).await);
        assert!(!hasher.verify(Some(hash), "not the password").await);

        let off = people::set_disabled(db, "root", &meta(), p.id, true)
            .await
            .unwrap();
        assert!(off.disabled);
        let on = people::set_disabled(db, "root", &meta(), p.id, false)
            .await
            .unwrap();
        assert!(!on.disabled);

        people::reset_password(db, &hasher, "root", &meta(), p.id, "a brand new password")
            .await
            .unwrap();
        let hash = stored_hash(db, "ada").await;
        assert!(
            hasher
                .verify(Some(hash.clone()), "a brand new password")
                .await
        );
        assert!(!hasher.verify(Some(hash), PW).await);
        // A password that breaks the rules changes nothing.
        let e = app_err(people::reset_password(db, &hasher, "root", &meta(), p.id, "short").await);
        assert!(e.field_message("password").is_some(), "{e:?}");
        assert!(
            hasher
                .verify(Some(stored_hash(db, "ada").await), "a brand new password")
                .await
        );
        let e = app_err(people::set_disabled(db, "root", &meta(), 999_999, true).await);
        assert!(matches!(e, app::error::AppError::NotFound(_)), "{e:?}");

        let trail = audit_text(db).await;
        for action in [
            "person.created",
            "person.disabled",
            "person.enabled",
            "person.password_reset",
        ] {
            assert!(trail.contains(action), "{action}: {trail}");
        }
        assert!(!trail.contains(PW) && !trail.contains("brand new") && !trail.contains("argon2"));
    }
);

on_both!(bad_input_names_the_field_and_adds_nobody, |db| {
    let hasher = PasswordHasher::new().unwrap();
    people::create(db, &hasher, "root", &meta(), &ada("ada"))
        .await
        .unwrap();
    let cases: Vec<(&str, PersonInput)> = vec![
        ("username", ada("Ada")),
        ("username", ada("a b")),
        ("username", ada("")),
        (
            "display_name",
            PersonInput {
                display_name: " ".into(),
                ..ada("b")
            },
        ),
        (
            "email",
            PersonInput {
                email: "not-an-address".into(),
                ..ada("c")
            },
        ),
        (
            "password",
            PersonInput {
                password: "short".into(),
                ..ada("d")
            },
        ),
    ];
    for (field, input) in cases {
        let e = app_err(people::create(db, &hasher, "root", &meta(), &input).await);
        assert!(e.field_message(field).is_some(), "{field}: {e:?}");
    }
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM people")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(n, 1);
});

on_both!(
    the_directory_comes_a_page_at_a_time_in_username_order,
    |db| {
        let hasher = PasswordHasher::new().unwrap();
        // Hashing is the slow part: one hash, inserted directly for the bulk of the rows.
        let first = people::create(db, &hasher, "root", &meta(), &ada("p000"))
            .await
            .unwrap();
        let hash = stored_hash(db, "p000").await;
        for i in 1..=PAGE_SIZE {
            sqlx::query(
            "INSERT INTO people (subject, username, display_name, password_hash, created_at, created_by, updated_at) \
             VALUES ($1, $2, 'P', $3, 0, 'root', 0)",
        )
        .bind(format!("p_{i}"))
        .bind(format!("p{i:03}"))
        .bind(hash.clone())
        .execute(&db.pool)
        .await
        .unwrap();
        }
        let one = people::list(db, None).await.unwrap();
        assert_eq!(one.people.len(), PAGE_SIZE);
        assert_eq!(one.people[0].username, first.username);
        let after = one.next_after.clone().expect("a second page");
        assert_eq!(after, format!("p{:03}", PAGE_SIZE - 1));
        let two = people::list(db, Some(&after)).await.unwrap();
        assert_eq!(two.people.len(), 1);
        assert_eq!(two.people[0].username, format!("p{PAGE_SIZE:03}"));
        assert_eq!(two.next_after, None);
    }
);
