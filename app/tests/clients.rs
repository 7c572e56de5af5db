//! Service tests for the client registry, on SQLite and PostgreSQL.

mod common;

use common::{app_err, create_client, input};

use app::audit::service as audit;
use app::audit::AuditFilter;
use app::clients::kind::ClientType;
use app::clients::{search, service as clients};
use app::clients::{ClientInput, ClientQuery, ClientSort};
use app::error::AppError;
use app::infra::db::Db;
use app::infra::RequestMeta;

fn meta() -> RequestMeta {
    RequestMeta {
        ip: Some("10.0.0.9".into()),
        ..Default::default()
    }
}

async fn count(db: &Db) -> usize {
    search::list(
        db,
        &ClientQuery {
            limit: Some(200),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .clients
    .len()
}

on_both!(create_each_type_and_read_back, |db| {
    for kind in ClientType::ALL {
        let c = create_client(
            db,
            "root",
            &meta(),
            &input(&format!("  {} app ", kind.as_str()), kind),
        )
        .await
        .unwrap();
        assert_eq!(c.client_id.len(), 32);
        assert!(c.client_id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(c.name, format!("{} app", kind.as_str()));
        assert_eq!(c.client_type, kind);
        assert_eq!(c.redirect_uris.is_empty(), !kind.uses_redirect_uris());
        assert_eq!(
            c.scopes,
            if kind == ClientType::ClientCredentials {
                vec!["read", "write"]
            } else {
                vec![]
            }
        );
        assert!(c.enabled);
        assert_eq!(
            (c.created_by.as_str(), c.updated_by.as_str()),
            ("root", "root")
        );
        assert_eq!(clients::get(db, &c.client_id).await.unwrap(), c);
    }
    let created = audit::query(
        db,
        &AuditFilter {
            action: Some("client.created".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(created.entries.len(), 3);
    assert!(created
        .entries
        .iter()
        .all(|e| e.actor == "root" && e.ip.as_deref() == Some("10.0.0.9")));
});

on_both!(bad_input_is_refused_per_field_and_writes_nothing, |db| {
    let long = "n".repeat(10_000);
    let cases: Vec<(ClientInput, &str)> = vec![
        (
            ClientInput {
                name: String::new(),
                ..input("x", ClientType::PublicPkce)
            },
            "name",
        ),
        (
            ClientInput {
                name: long,
                ..input("x", ClientType::PublicPkce)
            },
            "name",
        ),
        (
            ClientInput {
                client_type: "implicit".into(),
                ..input("x", ClientType::PublicPkce)
            },
            "client_type",
        ),
        (
            ClientInput {
                redirect_uris: "javascript:alert(1)".into(),
                ..input("x", ClientType::PublicPkce)
            },
            "redirect_uris",
        ),
        (
            ClientInput {
                redirect_uris: String::new(),
                ..input("x", ClientType::ConfidentialPkce)
            },
            "redirect_uris",
        ),
        (
            ClientInput {
                scopes: "bad\"scope".into(),
                ..input("x", ClientType::ClientCredentials)
            },
            "scopes",
        ),
        (
            ClientInput {
                audience: "https://api.example".into(),
                ..input("x", ClientType::ConfidentialPkce)
            },
            "audience",
        ),
        (
            ClientInput {
                audience: "orders api".into(),
                ..input("x", ClientType::ClientCredentials)
            },
            "audience",
        ),
        (
            ClientInput {
                application: "9999".into(),
                ..input("x", ClientType::PublicPkce)
            },
            "application",
        ),
    ];
    for (bad, field) in cases {
        let e = app_err(create_client(db, "root", &meta(), &bad).await);
        assert!(e.field_message(field).is_some(), "{field}: {e:?}");
    }
    assert_eq!(count(db).await, 0);
    assert!(audit::query(db, &AuditFilter::default())
        .await
        .unwrap()
        .entries
        .is_empty());
});

on_both!(update_keeps_the_type, |db| {
    let c = create_client(
        db,
        "root",
        &meta(),
        &input("Orders SPA", ClientType::PublicPkce),
    )
    .await
    .unwrap();
    let changed = ClientInput {
        name: "Orders web".into(),
        redirect_uris: "https://orders.example/cb\ncom.example.orders:/cb".into(),
        ..input("", ClientType::PublicPkce)
    };
    let u = clients::update(db, "ops", &meta(), &c.client_id, &changed)
        .await
        .unwrap();
    assert_eq!(u.name, "Orders web");
    assert_eq!(u.redirect_uris.len(), 2);
    assert_eq!(u.updated_by, "ops");
    assert_eq!(u.client_id, c.client_id, "the client id never changes");

    let retype = ClientInput {
        client_type: "confidential_pkce".into(),
        ..changed.clone()
    };
    let e = app_err(clients::update(db, "ops", &meta(), &c.client_id, &retype).await);
    assert!(e
        .field_message("client_type")
        .unwrap()
        .contains("cannot change"));
    assert_eq!(
        clients::get(db, &c.client_id).await.unwrap(),
        u,
        "nothing changed"
    );

    let missing = app_err(clients::update(db, "ops", &meta(), "0000", &changed).await);
    assert!(matches!(missing, AppError::NotFound(_)));
});

// Post-logout redirect URIs and "first-party: skip consent", for the clients people sign in to.
on_both!(
    sign_in_settings_are_stored_changed_and_refused_per_field,
    |db| {
        let made = ClientInput {
            post_logout_redirect_uris: "https://shop.example/bye\nhttp://127.0.0.1/bye".into(),
            first_party: true,
            ..input("Shop", ClientType::ConfidentialPkce)
        };
        let (c, _) = clients::create_issuing(db, "root", &meta(), &made)
            .await
            .unwrap();
        assert_eq!(
            c.post_logout_redirect_uris,
            ["https://shop.example/bye", "http://127.0.0.1/bye"]
        );
        assert!(c.first_party);
        assert_eq!(clients::get(db, &c.client_id).await.unwrap(), c);
        let cleared = ClientInput {
            post_logout_redirect_uris: String::new(),
            first_party: false,
            ..made.clone()
        };
        let u = clients::update(db, "ops", &meta(), &c.client_id, &cleared)
            .await
            .unwrap();
        assert!(u.post_logout_redirect_uris.is_empty() && !u.first_party);

        let bad = [
            (
                "post_logout_redirect_uris",
                ClientInput {
                    post_logout_redirect_uris: "javascript:alert(1)".into(),
                    ..made.clone()
                },
            ),
            (
                "first_party",
                ClientInput {
                    first_party: true,
                    ..input("Worker", ClientType::ClientCredentials)
                },
            ),
        ];
        let e = app_err(clients::update(db, "ops", &meta(), &c.client_id, &bad[0].1).await);
        assert!(
            e.field_message("post_logout_redirect_uris").is_some(),
            "{e:?}"
        );
        for (field, i) in bad {
            let e = app_err(
                clients::create_issuing(db, "root", &meta(), &i)
                    .await
                    .map(|_| ()),
            );
            assert!(e.field_message(field).is_some(), "{field}: {e:?}");
        }
        assert_eq!(
            clients::get(db, &c.client_id).await.unwrap(),
            u,
            "nothing changed"
        );
    }
);

on_both!(audience_is_stored_changed_and_cleared, |db| {
    let with = ClientInput {
        audience: "  https://orders.example/api ".into(),
        ..input("Order sync", ClientType::ClientCredentials)
    };
    let c = create_client(db, "root", &meta(), &with).await.unwrap();
    assert_eq!(c.audience.as_deref(), Some("https://orders.example/api"));
    let other = ClientInput {
        audience: "billing-api".into(),
        ..input("Order sync", ClientType::ClientCredentials)
    };
    let u = clients::update(db, "root", &meta(), &c.client_id, &other)
        .await
        .unwrap();
    assert_eq!(u.audience.as_deref(), Some("billing-api"));
    let cleared = input("Order sync", ClientType::ClientCredentials);
    let u = clients::update(db, "root", &meta(), &c.client_id, &cleared)
        .await
        .unwrap();
    assert_eq!(u.audience, None, "empty means the server's default");
    assert_eq!(clients::get(db, &c.client_id).await.unwrap(), u);
});

on_both!(disable_enable_and_delete_with_confirmation, |db| {
    let c = create_client(
        db,
        "root",
        &meta(),
        &input("Nightly export", ClientType::ClientCredentials),
    )
    .await
    .unwrap();
    assert!(
        !clients::set_enabled(db, "root", &meta(), &c.client_id, false)
            .await
            .unwrap()
            .enabled
    );
    assert!(
        clients::set_enabled(db, "root", &meta(), &c.client_id, true)
            .await
            .unwrap()
            .enabled
    );
    let e = app_err(clients::delete(db, "root", &meta(), &c.client_id, "nightly export").await);
    assert!(
        e.field_message("confirm_name").is_some(),
        "the name must match exactly"
    );
    assert!(clients::get(db, &c.client_id).await.is_ok());
    clients::delete(db, "root", &meta(), &c.client_id, " Nightly export ")
        .await
        .unwrap();
    assert!(matches!(
        app_err(clients::get(db, &c.client_id).await),
        AppError::NotFound(_)
    ));
    let actions: Vec<String> = audit::query(db, &AuditFilter::default())
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "client.deleted",
            "client.enabled",
            "client.disabled",
            "secret.created",
            "client.created"
        ]
    );
});

on_both!(search_filters_and_keyset_pages, |db| {
    let names = ["alpha", "Beta", "beta two", "Gamma", "ünïcode", "delta"];
    let mut ids = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let kind = ClientType::ALL[i % 3];
        ids.push(
            create_client(db, "root", &meta(), &input(n, kind))
                .await
                .unwrap()
                .client_id,
        );
    }
    let page = |q: ClientQuery| async move { search::list(db, &q).await.unwrap() };
    let names_of =
        |p: &app::clients::ClientPage| p.clients.iter().map(|c| c.name.clone()).collect::<Vec<_>>();

    let beta = page(ClientQuery {
        q: Some("BE".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(names_of(&beta), ["Beta", "beta two"]);
    let by_id = page(ClientQuery {
        q: Some(ids[3].to_uppercase()),
        ..Default::default()
    })
    .await;
    assert_eq!(names_of(&by_id), ["Gamma"]);
    let uni = page(ClientQuery {
        q: Some("Ü".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(names_of(&uni), ["ünïcode"]);
    let public = page(ClientQuery {
        client_type: Some(ClientType::PublicPkce),
        ..Default::default()
    })
    .await;
    assert_eq!(names_of(&public), ["Beta", "ünïcode"]);

    // Pages of two, by name, then newest first; every client exactly once.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let p = page(ClientQuery {
            limit: Some(2),
            after: after.clone(),
            ..Default::default()
        })
        .await;
        seen.extend(names_of(&p));
        match p.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["alpha", "Beta", "beta two", "delta", "Gamma", "ünïcode"]
    );
    let mut newest = Vec::new();
    let mut after = None;
    loop {
        let p = page(ClientQuery {
            limit: Some(4),
            sort: ClientSort::Newest,
            after: after.clone(),
            ..Default::default()
        })
        .await;
        newest.extend(names_of(&p));
        match p.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let mut want: Vec<String> = names.iter().rev().map(|s| s.to_string()).collect();
    assert_eq!(newest.len(), 6);
    // Clients created in the same millisecond fall back to id order, newest id first.
    want.sort_by_key(|n| std::cmp::Reverse(names.iter().position(|x| x == n)));
    assert_eq!(newest, want);

    clients::set_enabled(db, "root", &meta(), &ids[0], false)
        .await
        .unwrap();
    let disabled = page(ClientQuery {
        enabled: Some(false),
        ..Default::default()
    })
    .await;
    assert_eq!(names_of(&disabled), ["alpha"]);
    let bad = search::list(
        db,
        &ClientQuery {
            after: Some("zz".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(app_err(bad).field_message("after").is_some());
});

fn from_preset(key: &str) -> Vec<ClientInput> {
    app::clients::presets::find(key)
        .unwrap()
        .clients
        .iter()
        .map(|p| ClientInput {
            name: p.name.into(),
            client_type: p.client_type.as_str().into(),
            redirect_uris: p.redirect_uris.into(),
            scopes: p.scopes.into(),
            ..Default::default()
        })
        .collect()
}

on_both!(presets_are_created_all_or_nothing, |db| {
    // One bad field in the last client: nothing at all is created.
    let mut inputs = from_preset("ssr-spa-api");
    inputs[2].scopes = "bad\"scope".into();
    let e = app_err(clients::create_with_application(db, "root", &meta(), "Shop", &inputs).await);
    assert!(e.field_message("clients.2.scopes").is_some(), "{e:?}");
    assert_eq!(count(db).await, 0);
    assert!(audit::query(db, &AuditFilter::default())
        .await
        .unwrap()
        .entries
        .is_empty());

    let (app, made, issued) = clients::create_with_application(
        db,
        "root",
        &meta(),
        " Shop ",
        &from_preset("ssr-spa-api"),
    )
    .await
    .unwrap();
    assert_eq!(app.name, "Shop");
    // Each confidential client comes with its first secret, in the same transaction.
    let with_secret: Vec<&str> = issued.iter().map(|s| s.client_id.as_str()).collect();
    let confidential: Vec<&str> = made
        .iter()
        .filter(|c| c.client_type.has_secret())
        .map(|c| c.client_id.as_str())
        .collect();
    assert_eq!(with_secret, confidential);
    let kinds: Vec<ClientType> = made.iter().map(|c| c.client_type).collect();
    assert_eq!(
        kinds,
        [
            ClientType::ConfidentialPkce,
            ClientType::PublicPkce,
            ClientType::ClientCredentials
        ]
    );
    assert!(made.iter().all(|c| c.application.as_ref() == Some(&app)));
    let listed = search::list(
        db,
        &ClientQuery {
            application_id: Some(app.id),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(listed.clients.len(), 3);

    // The same application name again is refused, and nothing more is written.
    let e = app_err(
        clients::create_with_application(db, "root", &meta(), "shop", &from_preset("bff")).await,
    );
    assert!(e
        .field_message("application_name")
        .unwrap()
        .contains("already exists"));
    assert_eq!(count(db).await, 3);
    let actions = audit::query(db, &AuditFilter::default())
        .await
        .unwrap()
        .entries;
    assert_eq!(
        actions.len(),
        6,
        "one application, three clients and the first secrets of two"
    );
});

on_both!(the_application_is_made_chosen_kept_and_cleared, |db| {
    let count_apps = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM applications")
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    // Created with a new application: both are made in one change.
    let c = create_client(
        db,
        "root",
        &meta(),
        &ClientInput {
            new_application: "Shop".into(),
            ..input("Shop web", ClientType::PublicPkce)
        },
    )
    .await
    .unwrap();
    let shop = c.application.clone().expect("in the new application");
    assert_eq!(shop.name, "Shop");
    // An edit that does not touch the picker keeps the application.
    let rename = ClientInput {
        name: "Shop storefront".into(),
        ..input("", ClientType::PublicPkce)
    };
    let u = clients::update(db, "root", &meta(), &c.client_id, &rename)
        .await
        .unwrap();
    assert_eq!(u.application.as_ref(), Some(&shop), "kept");
    // Cleared, then chosen again by id.
    let none = ClientInput {
        application: "none".into(),
        ..rename.clone()
    };
    let u = clients::update(db, "root", &meta(), &c.client_id, &none)
        .await
        .unwrap();
    assert_eq!(u.application, None);
    let back = ClientInput {
        application: shop.id.to_string(),
        ..rename.clone()
    };
    let u = clients::update(db, "root", &meta(), &c.client_id, &back)
        .await
        .unwrap();
    assert_eq!(u.application.as_ref(), Some(&shop));
    // A taken name, or both an existing and a new one, is refused and changes nothing.
    let before = count_apps().await;
    let taken = ClientInput {
        new_application: "shop".into(),
        ..input("Other", ClientType::ClientCredentials)
    };
    let e = app_err(create_client(db, "root", &meta(), &taken).await);
    assert!(e
        .field_message("new_application")
        .unwrap()
        .contains("already exists"));
    let both = ClientInput {
        application: shop.id.to_string(),
        new_application: "Another".into(),
        ..rename.clone()
    };
    let e = app_err(clients::update(db, "root", &meta(), &c.client_id, &both).await);
    assert!(e.field_message("new_application").is_some(), "{e:?}");
    assert_eq!(count_apps().await, before);
    let got = clients::get(db, &c.client_id).await.unwrap();
    assert_eq!(got.application.as_ref(), Some(&shop));
    assert_eq!(got.name, "Shop storefront");
});

on_both!(introspection_belongs_to_authorizers_clients_only, |db| {
    let m = RequestMeta::default();
    let asking = ClientInput {
        scopes: "clavis:introspect".into(),
        ..input("Gateway checker", ClientType::ClientCredentials)
    };
    // Made by hand, it could never introspect: refused, naming the scope field, and nothing made.
    match app_err(clients::create_issuing(db, "root", &m, &asking).await) {
        AppError::Validation { field, message } => {
            assert_eq!(field, "scopes");
            assert!(message.contains("authorizer"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    // Nor can an existing client be given it.
    let made = create_client(
        db,
        "root",
        &m,
        &input("Worker", ClientType::ClientCredentials),
    )
    .await
    .unwrap();
    let e = app_err(clients::update(db, "root", &m, &made.client_id, &asking).await);
    assert!(
        matches!(e, AppError::Validation { ref field, .. } if field == "scopes"),
        "{e:?}"
    );
    assert_eq!(
        clients::get(db, &made.client_id).await.unwrap().scopes,
        ["read", "write"]
    );
});
