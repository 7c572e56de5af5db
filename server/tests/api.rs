//! HTTP tests of the admin REST API (`/api/v1`): who may call it (bearer tokens from Clavis's
//! own token endpoint, by scope, audience, expiry and the client's state), every operation,
//! problem+json errors, ETag / If-Match, and a secret's whole life driven through the API with
//! its effect at the token endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::clients::service as clients;
use app::infra::RequestMeta;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::Row;

mod common;

use common::harness::{harness, harness_storing, Harness, ISSUER};

fn new_worker(name: &str) -> Value {
    json!({ "client_name": name, "type": "client_credentials", "scope": "reports:read" })
}

#[tokio::test]
async fn without_a_usable_token_every_operation_is_401_with_bearer_challenge() {
    let h = harness().await;
    for (method, path) in [
        ("GET", "/clients"),
        ("POST", "/clients"),
        ("GET", "/clients/abc"),
        ("POST", "/clients/abc/secrets/rotate"),
    ] {
        let r = h.call(method, path, None, None).await;
        r.problem(StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(
            r.header(header::WWW_AUTHENTICATE),
            r#"Bearer realm="clavis""#,
            "{method} {path}"
        );
        let r = h.call(method, path, Some("not.a.token"), None).await;
        r.problem(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(r
            .header(header::WWW_AUTHENTICATE)
            .contains(r#"error="invalid_token""#));
    }
    // Another scheme is not a bearer token.
    let req = Request::get("/api/v1/clients")
        .header(header::AUTHORIZATION, "Basic YTpi")
        .body(Body::empty())
        .unwrap();
    h.send(req)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn a_token_must_be_for_the_api_unexpired_and_its_client_enabled() {
    let h = harness().await;
    // A token without a clavis scope has no API audience: refused as invalid.
    let (id, secret) = h.automation("Reports", "reports:read").await;
    let other = h.token(&id, &secret).await;
    h.call("GET", "/clients", Some(&other), None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");

    // A token of the API's audience carries both audiences when the client has its own.
    let (id, secret) = h.automation("Auditor", "clavis:support").await;
    let support = h.token(&id, &secret).await;
    assert_eq!(
        h.call("GET", "/clients", Some(&support), None).await.status,
        StatusCode::OK
    );

    // Signed by Clavis's key, for the API, but expired.
    let key = h.state.signing_keys.current().unwrap();
    let now = app::infra::db::now_ms() / 1000;
    let claims = |exp: i64, aud: &str| json!({ "iss": ISSUER, "sub": id, "client_id": id, "aud": aud, "iat": now - 1000, "exp": exp, "jti": format!("t{exp}"), "scope": "clavis:support" });
    let expired = key
        .sign(&claims(now - 60, &format!("{ISSUER}/api/v1")))
        .unwrap();
    h.call("GET", "/clients", Some(&expired), None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let wrong_aud = key
        .sign(&claims(now + 600, "https://elsewhere.test"))
        .unwrap();
    h.call("GET", "/clients", Some(&wrong_aud), None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let fine = key
        .sign(&claims(now + 600, &format!("{ISSUER}/api/v1")))
        .unwrap();
    assert_eq!(
        h.call("GET", "/clients", Some(&fine), None).await.status,
        StatusCode::OK
    );

    // Disabled since the token was issued: refused at once.
    clients::set_enabled(&h.state.db, "root", &RequestMeta::default(), &id, false)
        .await
        .unwrap();
    h.call("GET", "/clients", Some(&support), None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn support_reads_and_revokes_rotated_secrets_and_nothing_else() {
    let h = harness().await;
    let admin = h.admin_token().await;
    let (sid, ssecret) = h.automation("Helpdesk", "clavis:support").await;
    let support = h.token(&sid, &ssecret).await;
    let made = h
        .call(
            "POST",
            "/clients",
            Some(&admin),
            Some(new_worker("Nightly export")),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let id = made.json()["client_id"].as_str().unwrap().to_string();
    assert_eq!(
        h.call(
            "POST",
            &format!("/clients/{id}/secrets/rotate"),
            Some(&admin),
            None
        )
        .await
        .status,
        StatusCode::OK
    );

    for (method, path, body) in [
        (
            "POST",
            "/clients".to_string(),
            Some(new_worker("Not allowed")),
        ),
        (
            "PATCH",
            format!("/clients/{id}"),
            Some(json!({ "description": "x" })),
        ),
        ("DELETE", format!("/clients/{id}"), None),
        ("POST", format!("/clients/{id}/disable"), None),
        ("POST", format!("/clients/{id}/enable"), None),
        ("POST", format!("/clients/{id}/secrets/rotate"), None),
    ] {
        let r = h.call(method, &path, Some(&support), body).await;
        r.problem(StatusCode::FORBIDDEN, "insufficient-scope");
        assert!(
            r.header(header::WWW_AUTHENTICATE)
                .contains(r#"error="insufficient_scope", scope="clavis:admin""#),
            "{method} {path}: {}",
            r.header(header::WWW_AUTHENTICATE)
        );
    }
    assert_eq!(
        h.call("GET", &format!("/clients/{id}"), Some(&support), None)
            .await
            .status,
        StatusCode::OK
    );
    let secrets = h
        .call(
            "GET",
            &format!("/clients/{id}/secrets"),
            Some(&support),
            None,
        )
        .await
        .json();
    let rotated = secrets["secrets"][1]["id"].as_i64().unwrap();
    assert_eq!(secrets["secrets"][1]["state"], "rotated");
    let r = h
        .call(
            "POST",
            &format!("/clients/{id}/secrets/{rotated}/revoke"),
            Some(&support),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = h
        .call(
            "POST",
            &format!("/clients/{id}/secrets/revoke-rotated"),
            Some(&support),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.json()["revoked"].as_u64()),
        (StatusCode::OK, Some(0))
    );

    // The audit log names the API client as the actor.
    let actors: Vec<String> =
        sqlx::query("SELECT actor FROM audit_events WHERE action = 'secret.revoked'")
            .fetch_all(&h.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("actor").unwrap())
            .collect();
    assert_eq!(actors, vec![format!("client:{sid}")]);
}

#[tokio::test]
async fn a_secret_s_life_through_the_api_takes_effect_at_the_token_endpoint() {
    let h = harness().await;
    let admin = h.admin_token().await;
    let made = h
        .call(
            "POST",
            "/clients",
            Some(&admin),
            Some(new_worker("Billing sync")),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    assert_eq!(made.header(header::CACHE_CONTROL), "no-store");
    let body = made.json();
    let id = body["client_id"].as_str().unwrap().to_string();
    assert_eq!(
        made.header(header::LOCATION),
        format!("/api/v1/clients/{id}")
    );
    assert_eq!(body["type"], "client_credentials");
    assert_eq!(body["grant_types"], json!(["client_credentials"]));
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(body["scope"], "reports:read");
    let first = body["client_secret"].as_str().unwrap().to_string();
    h.token(&id, &first).await;

    let rotated = h
        .call(
            "POST",
            &format!("/clients/{id}/secrets/rotate"),
            Some(&admin),
            Some(json!({ "grace": "24h" })),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    assert_eq!(rotated.header(header::CACHE_CONTROL), "no-store");
    let second = rotated.json()["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second);
    assert_eq!(rotated.json()["auto_revoked"], json!([]));
    h.token(&id, &first).await;
    h.token(&id, &second).await;

    // The plaintext is in those two answers only.
    for path in [
        format!("/clients/{id}"),
        format!("/clients/{id}/secrets"),
        "/clients".to_string(),
    ] {
        let r = h.call("GET", &path, Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            !r.text().contains(&first) && !r.text().contains(&second),
            "{path}"
        );
        assert_ne!(r.header(header::CACHE_CONTROL), "no-store", "{path}");
    }

    let r = h
        .call(
            "POST",
            &format!("/clients/{id}/secrets/revoke-rotated"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.json()["revoked"], 1);
    assert_eq!(
        h.token_reply(&id, &first).await.status,
        StatusCode::UNAUTHORIZED
    );
    h.token(&id, &second).await;

    // The cap (2 here): the third rotation revokes the oldest rotated secret, and says so.
    let mut auto = Vec::new();
    for _ in 0..3 {
        let r = h
            .call(
                "POST",
                &format!("/clients/{id}/secrets/rotate"),
                Some(&admin),
                None,
            )
            .await;
        auto.push(r.json()["auto_revoked"].as_array().unwrap().len());
    }
    assert_eq!(auto, vec![0, 0, 1]);

    // Disabled through the API: its secret stops working.
    let r = h
        .call(
            "POST",
            &format!("/clients/{id}/disable"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.json()["enabled"], false);
    let latest = h
        .call("POST", &format!("/clients/{id}/enable"), Some(&admin), None)
        .await;
    assert_eq!(latest.json()["enabled"], true);
    let r = h
        .call("DELETE", &format!("/clients/{id}"), Some(&admin), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    h.call("GET", &format!("/clients/{id}"), Some(&admin), None)
        .await
        .problem(StatusCode::NOT_FOUND, "not-found");
    assert_eq!(
        h.token_reply(&id, &second).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn patch_needs_the_current_etag() {
    let h = harness().await;
    let admin = h.admin_token().await;
    let made = h
        .call("POST", "/clients", Some(&admin), Some(new_worker("Ledger")))
        .await;
    let id = made.json()["client_id"].as_str().unwrap().to_string();
    let read = h
        .call("GET", &format!("/clients/{id}"), Some(&admin), None)
        .await;
    let etag = read.header(header::ETAG).to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let patch = |if_match: Option<&str>, body: Value| {
        let mut req = Request::patch(format!("/api/v1/clients/{id}"))
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(m) = if_match {
            req = req.header(header::IF_MATCH, m);
        }
        req.body(Body::from(body.to_string())).unwrap()
    };
    h.send(patch(None, json!({ "description": "x" })))
        .await
        .problem(StatusCode::PRECONDITION_REQUIRED, "precondition-required");
    let r = h
        .send(patch(
            Some(&etag),
            json!({ "description": "Posts the ledger", "scope": "reports:read ledger:write" }),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["description"], "Posts the ledger");
    assert_eq!(r.json()["scope"], "reports:read ledger:write");
    assert_eq!(
        r.json()["client_name"],
        "Ledger",
        "fields left out keep their value"
    );
    let fresh = r.header(header::ETAG).to_string();
    assert_ne!(fresh, etag);
    // The first ETag is stale now: nothing changes.
    h.send(patch(Some(&etag), json!({ "description": "lost update" })))
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "precondition-failed");
    let now = h
        .call("GET", &format!("/clients/{id}"), Some(&admin), None)
        .await;
    assert_eq!(now.json()["description"], "Posts the ledger");
    assert_eq!(now.header(header::ETAG), fresh);
    // A weak tag never matches (strong comparison), nor does a list without the current tag.
    for stale in [format!("W/{fresh}"), format!("{etag}, \"other\"")] {
        h.send(patch(Some(&stale), json!({ "description": "weak" })))
            .await
            .problem(StatusCode::PRECONDITION_FAILED, "precondition-failed");
    }
    // A list that holds the current tag matches, and so does `*` (the client exists).
    let r = h
        .send(patch(
            Some(&format!("\"other\", {fresh}")),
            json!({ "description": "From a list" }),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = h
        .send(patch(Some("*"), json!({ "description": "Any version" })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["description"], "Any version");
    let fresh = r.header(header::ETAG).to_string();
    // The type cannot change.
    let p = h
        .send(patch(Some(&fresh), json!({ "type": "public_pkce" })))
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    assert!(p["errors"]["type"].as_str().is_some(), "{p}");
}

#[tokio::test]
async fn bad_input_gets_a_problem_naming_the_field_and_changes_nothing() {
    let h = harness().await;
    let admin = h.admin_token().await;
    let count = || async {
        sqlx::query("SELECT COUNT(*) AS n FROM clients")
            .fetch_one(&h.state.db.pool)
            .await
            .unwrap()
            .try_get::<i64, _>("n")
            .unwrap()
    };
    let before = count().await;
    let p = h
        .call(
            "POST",
            "/clients",
            Some(&admin),
            Some(json!({ "client_name": " ", "type": "client_credentials" })),
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    assert!(p["errors"]["client_name"].as_str().is_some(), "{p}");
    let p = h
        .call(
            "POST",
            "/clients",
            Some(&admin),
            Some(json!({ "client_name": "SPA", "type": "public_pkce" })),
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    assert!(p["errors"]["redirect_uris"].as_str().is_some(), "{p}");
    let p = h
        .call("POST", "/clients", Some(&admin), Some(json!({ "client_name": "W", "type": "client_credentials", "grant_types": ["authorization_code"] })))
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    assert!(p["errors"]["grant_types"].as_str().is_some(), "{p}");
    // An admin API client holds no other scope: its tokens must not be good elsewhere.
    let p = h
        .call("POST", "/clients", Some(&admin), Some(json!({ "client_name": "Mixed", "type": "client_credentials", "scope": "clavis:admin reports:read" })))
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    assert!(
        p["errors"]["scope"]
            .as_str()
            .unwrap()
            .contains("no other scope"),
        "{p}"
    );
    let p = h
        .call(
            "POST",
            "/clients",
            Some(&admin),
            Some(json!({ "client_name": "W", "type": "client_credentials", "colour": "blue" })),
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "bad-request");
    assert!(p["detail"].as_str().unwrap().contains("colour"), "{p}");
    h.call(
        "POST",
        "/clients",
        Some(&admin),
        Some(json!({ "client_name": "W", "type": "robot" })),
    )
    .await
    .problem(StatusCode::BAD_REQUEST, "bad-request");
    let req = Request::post("/api/v1/clients")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(new_worker("W").to_string()))
        .unwrap();
    h.send(req)
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");
    h.call("GET", "/clients?limit=0", Some(&admin), None)
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    h.call("GET", "/clients?colour=blue", Some(&admin), None)
        .await
        .problem(StatusCode::BAD_REQUEST, "bad-request");
    let p = h
        .call(
            "POST",
            "/clients/nope/secrets/rotate",
            Some(&admin),
            Some(json!({ "grace": "forever" })),
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    assert!(p["errors"]["grace"].as_str().is_some(), "{p}");
    // Path parts that do not parse name nothing: 404 problems, not plain-text 400s.
    let p = h
        .call(
            "POST",
            "/presets/monolith",
            Some(&admin),
            Some(json!({ "application_name": "M" })),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not-found");
    assert!(p["detail"].as_str().unwrap().contains("bff"), "{p}");
    h.call(
        "POST",
        "/clients/nope/secrets/not-a-number/revoke",
        Some(&admin),
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not-found");
    // A preset's own clients meet the same metadata rules as a single client.
    let p = h
        .call(
            "POST",
            "/presets/worker",
            Some(&admin),
            Some(json!({ "application_name": "Jobs", "clients": [
                { "client_name": "Job", "type": "client_credentials", "token_endpoint_auth_method": "none" },
            ] })),
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    assert!(
        p["errors"]["clients.0.token_endpoint_auth_method"]
            .as_str()
            .is_some(),
        "{p}"
    );
    let p = h
        .call(
            "POST",
            "/presets/worker",
            Some(&admin),
            Some(json!({ "application_name": "Jobs", "clients": [
                { "client_name": "Job", "type": "client_credentials", "scope": "clavis:admin reports:read" },
            ] })),
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    assert!(p["errors"]["clients.0.scope"].as_str().is_some(), "{p}");
    // Cursors and the audit filter: the field as the API names it, the console's rules.
    let long = "a".repeat(201);
    for (path, field) in [
        ("/clients?cursor=garbage".to_string(), "cursor"),
        ("/audit-events?action=client.exploded".to_string(), "action"),
        (
            "/audit-events?from=2026-12-01T10:00:00Z&to=2026-12-01T09:00:00Z".to_string(),
            "to",
        ),
        (format!("/audit-events?actor={long}"), "actor"),
    ] {
        let p = h
            .call("GET", &path, Some(&admin), None)
            .await
            .problem(StatusCode::BAD_REQUEST, "validation");
        assert!(p["errors"][field].as_str().is_some(), "{path}: {p}");
    }
    h.call("GET", "/nothing-here", Some(&admin), None)
        .await
        .problem(StatusCode::NOT_FOUND, "not-found");
    h.call("PUT", "/clients", Some(&admin), None)
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    assert_eq!(count().await, before, "nothing was created");
}

#[tokio::test]
async fn the_list_filters_and_pages_with_a_cursor() {
    let h = harness().await;
    let admin = h.admin_token().await;
    for i in 0..5 {
        let r = h
            .call(
                "POST",
                "/clients",
                Some(&admin),
                Some(new_worker(&format!("Batch {i}"))),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/clients?q=batch&limit=2&cursor={c}"),
            None => "/clients?q=batch&limit=2".to_string(),
        };
        let page = h.call("GET", &path, Some(&admin), None).await.json();
        for c in page["clients"].as_array().unwrap() {
            seen.push(c["client_name"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|i| format!("Batch {i}")).collect::<Vec<_>>()
    );
    let typed = h
        .call("GET", "/clients?type=public_pkce", Some(&admin), None)
        .await
        .json();
    assert_eq!(typed["clients"], json!([]));
    let enabled = h
        .call(
            "GET",
            "/clients?status=enabled&q=batch%201",
            Some(&admin),
            None,
        )
        .await
        .json();
    assert_eq!(enabled["clients"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_openapi_document_describes_every_operation() {
    let h = harness().await;
    let r = h.call("GET", "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut ops: Vec<String> = paths
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {p}", m.to_uppercase()))
        })
        .collect();
    ops.sort();
    assert_eq!(
        ops,
        [
            "DELETE /clients/{client_id}",
            "DELETE /webhooks/{id}",
            "DELETE /webhooks/{id}/previous-secret",
            "GET /applications",
            "GET /applications/{id}",
            "GET /attention",
            "GET /audit-events",
            "GET /authorizer/configuration",
            "GET /clients",
            "GET /clients/{client_id}",
            "GET /clients/{client_id}/secrets",
            "GET /webhooks",
            "GET /webhooks/{id}",
            "GET /webhooks/{id}/deliveries",
            "PATCH /clients/{client_id}",
            "PATCH /webhooks/{id}",
            "POST /applications",
            "POST /clients",
            "POST /clients/{client_id}/disable",
            "POST /clients/{client_id}/enable",
            "POST /clients/{client_id}/secrets/revoke-rotated",
            "POST /clients/{client_id}/secrets/rotate",
            "POST /clients/{client_id}/secrets/{secret_id}/reveal",
            "POST /clients/{client_id}/secrets/{secret_id}/revoke",
            "POST /presets/{preset}",
            "POST /webhooks",
            "POST /webhooks/{id}/deliveries/{delivery_id}/redeliver",
            "POST /webhooks/{id}/rotate-secret",
            "POST /webhooks/{id}/test",
        ]
    );
    // Every operation documents its refusals as problems (the 401 and 403 a caller may meet).
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            for status in ["401", "403"] {
                let schema = &op["responses"][status]["content"]["application/problem+json"]
                    ["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["servers"][0]["url"], "/api/v1");

    // What Clavis sends (OpenAPI 3.1 `webhooks`): each event type, with the Standard Webhooks
    // headers, the body's schema, and an example of that type that holds no secret.
    let hooks = doc["webhooks"].as_object().unwrap();
    let names: Vec<&str> = app::webhooks::EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    assert_eq!(
        hooks.keys().map(String::as_str).collect::<Vec<_>>().len(),
        names.len()
    );
    for name in names {
        let post = &hooks[name]["post"];
        let body = &post["requestBody"]["content"]["application/json"];
        assert_eq!(
            body["schema"]["$ref"], "#/components/schemas/WebhookEvent",
            "{name}"
        );
        assert_eq!(body["example"]["type"], name);
        let headers: Vec<&str> = post["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            headers,
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
        );
        let text = body["example"].to_string();
        assert!(
            !text.contains("clavis_cs_") && !text.contains("whsec_"),
            "{text}"
        );
    }
    let types = &doc["components"]["schemas"]["WebhookEvent"]["properties"]["type"]["enum"];
    assert_eq!(types.as_array().unwrap().len(), hooks.len(), "{types}");
}

/// A POST with an `Idempotency-Key`.
fn keyed(path: &str, token: &str, key: &str, body: &Value) -> Request<Body> {
    Request::post(format!("/api/v1{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn an_idempotency_key_makes_retries_safe_for_a_day() {
    let h = harness().await;
    let admin = h.admin_token().await;
    let clients_count = || async {
        sqlx::query("SELECT COUNT(*) AS n FROM clients")
            .fetch_one(&h.state.db.pool)
            .await
            .unwrap()
            .try_get::<i64, _>("n")
            .unwrap()
    };
    let body = new_worker("Vault sync");
    let first = h
        .send(keyed("/clients", &admin, "9f1c-create", &body))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let id = first.json()["client_id"].as_str().unwrap().to_string();
    let secret = first.json()["client_secret"].as_str().unwrap().to_string();
    let before = clients_count().await;

    // The same key and body: nothing is made, and the answer names the first one's client.
    let again = h
        .send(keyed("/clients", &admin, "9f1c-create", &body))
        .await;
    let p = again.problem(StatusCode::CONFLICT, "already-applied");
    assert_eq!(p["resource"], format!("/api/v1/clients/{id}"));
    assert!(
        !again.text().contains(&secret),
        "the plaintext is never repeated"
    );
    assert_eq!(clients_count().await, before);
    // The same key with another body: 422, nothing made.
    h.send(keyed(
        "/clients",
        &admin,
        "9f1c-create",
        &new_worker("Other"),
    ))
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused");
    assert_eq!(clients_count().await, before);
    // Keys are per caller: another API client may use the same one.
    let (other_id, other_secret) = h.automation("Second pipeline", "clavis:admin").await;
    let other = h.token(&other_id, &other_secret).await;
    let theirs = h
        .send(keyed(
            "/clients",
            &other,
            "9f1c-create",
            &new_worker("Theirs"),
        ))
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text());

    // A rotation: the repeat names the secret the first one made, which stays the current one.
    let rotate = json!({ "grace": "1h" });
    let path = format!("/clients/{id}/secrets/rotate");
    let r1 = h.send(keyed(&path, &admin, "rot-1", &rotate)).await;
    assert_eq!(r1.status, StatusCode::OK, "{}", r1.text());
    let made = r1.json()["secret_id"].as_i64().unwrap();
    let new_secret = r1.json()["client_secret"].as_str().unwrap().to_string();
    let r2 = h.send(keyed(&path, &admin, "rot-1", &rotate)).await;
    let p = r2.problem(StatusCode::CONFLICT, "already-applied");
    assert_eq!(
        (p["resource"].as_str(), p["secret_id"].as_i64()),
        (
            Some(format!("/api/v1/clients/{id}/secrets").as_str()),
            Some(made)
        )
    );
    assert!(!r2.text().contains(&new_secret));
    let list = h
        .call("GET", &format!("/clients/{id}/secrets"), Some(&admin), None)
        .await
        .json();
    assert_eq!(list["secrets"][0]["id"].as_i64(), Some(made));
    assert_eq!(
        list["secrets"].as_array().unwrap().len(),
        2,
        "one rotation, not two"
    );
    h.send(keyed(&path, &admin, "rot-1", &json!({ "grace": "2h" })))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused");
    // A malformed key is bad input.
    h.send(keyed(&path, &admin, "", &rotate))
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");

    // After 24 hours the key is new again: the same request rotates once more.
    sqlx::query("UPDATE applied_requests SET applied_at = applied_at - 86400001 WHERE key LIKE 'api:%:rot-1'")
        .execute(&h.state.db.pool)
        .await
        .unwrap();
    let r3 = h.send(keyed(&path, &admin, "rot-1", &rotate)).await;
    assert_eq!(r3.status, StatusCode::OK, "{}", r3.text());
    assert_ne!(r3.json()["secret_id"].as_i64(), Some(made));
}

#[tokio::test]
async fn a_caller_cannot_lock_itself_out() {
    let h = harness().await;
    let (id, secret) = h.automation("Self", "clavis:admin").await;
    let token = h.token(&id, &secret).await;
    for (method, path) in [
        ("POST", format!("/clients/{id}/disable")),
        ("DELETE", format!("/clients/{id}")),
    ] {
        h.call(method, &path, Some(&token), None)
            .await
            .problem(StatusCode::CONFLICT, "conflict");
    }
    assert_eq!(
        h.call("GET", "/clients", Some(&token), None).await.status,
        StatusCode::OK
    );
    // Another client may.
    let other = h.admin_token().await;
    let r = h
        .call(
            "POST",
            &format!("/clients/{id}/disable"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    h.call("GET", "/clients", Some(&token), None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn applications_presets_and_the_audit_log() {
    let h = harness().await;
    let admin = h.admin_token().await;
    let (sid, ssecret) = h.automation("Reader", "clavis:support").await;
    let support = h.token(&sid, &ssecret).await;

    let made = h
        .call(
            "POST",
            "/applications",
            Some(&admin),
            Some(json!({ "name": "Shop" })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let app_id = made.json()["id"].as_i64().unwrap();
    assert_eq!(
        made.header(header::LOCATION),
        format!("/api/v1/applications/{app_id}")
    );
    let p = h
        .call(
            "POST",
            "/applications",
            Some(&admin),
            Some(json!({ "name": "shop" })),
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    assert!(
        p["errors"]["name"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{p}"
    );
    h.call(
        "POST",
        "/applications",
        Some(&support),
        Some(json!({ "name": "Nope" })),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "insufficient-scope");
    let one = h
        .call(
            "GET",
            &format!("/applications/{app_id}"),
            Some(&support),
            None,
        )
        .await;
    assert_eq!(one.json(), json!({ "id": app_id, "name": "Shop" }));
    h.call("GET", "/applications/999999", Some(&support), None)
        .await
        .problem(StatusCode::NOT_FOUND, "not-found");

    // A preset with its proposed clients: the worker preset is one client-credentials client.
    let r = h
        .call(
            "POST",
            "/presets/worker",
            Some(&admin),
            Some(json!({ "application_name": "Nightly jobs" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.header(header::CACHE_CONTROL), "no-store");
    let body = r.json();
    let clients = body["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 1);
    let (id, secret) = (
        clients[0]["client_id"].as_str().unwrap(),
        clients[0]["client_secret"].as_str().unwrap(),
    );
    h.token(id, secret).await;
    let listed = h
        .call(
            "GET",
            &format!("/clients?application={}", body["application"]["id"]),
            Some(&admin),
            None,
        )
        .await
        .json();
    assert_eq!(listed["clients"].as_array().unwrap().len(), 1);
    // A preset whose client is bad creates nothing, not even the application.
    let before = h
        .call("GET", "/applications", Some(&admin), None)
        .await
        .json()["applications"]
        .as_array()
        .unwrap()
        .len();
    h.call(
        "POST",
        "/presets/bff",
        Some(&admin),
        Some(json!({ "application_name": "Half", "clients": [new_worker("Good"), { "client_name": "", "type": "public_pkce" }] })),
    )
    .await
    .problem(StatusCode::BAD_REQUEST, "validation");
    let after = h
        .call("GET", "/applications", Some(&admin), None)
        .await
        .json()["applications"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);

    // The audit log, filtered on the API client that acted; the support token reads it.
    let events = h
        .call(
            "GET",
            &format!("/audit-events?actor=client:{}", made_actor(&h).await),
            Some(&support),
            None,
        )
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text());
    let actions: Vec<String> = events.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(
        actions.contains(&"application.created".to_string()),
        "{actions:?}"
    );
    assert!(
        !events.text().contains(secret),
        "no secret in the audit log"
    );
    h.call("GET", "/audit-events?from=yesterday", Some(&support), None)
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
}

/// The client id behind the first `clavis:admin` automation client of the harness.
async fn made_actor(h: &Harness) -> String {
    sqlx::query("SELECT client_id FROM clients WHERE name = 'Terraform'")
        .fetch_one(&h.state.db.pool)
        .await
        .unwrap()
        .try_get("client_id")
        .unwrap()
}

#[tokio::test]
async fn readable_secrets_are_revealed_with_the_reveal_scope_only_and_never_once_revoked() {
    let h = harness_storing(false).await;
    // clavis:admin alone does everything but reveal: that needs clavis:reveal, given explicitly.
    let plain_admin = h.admin_token().await;
    let (rid, rsecret) = h
        .automation("Vault sync", "clavis:admin clavis:reveal")
        .await;
    let admin = h.token(&rid, &rsecret).await;
    let (sid, ssecret) = h.automation("Helpdesk", "clavis:support").await;
    let support = h.token(&sid, &ssecret).await;
    let made = h
        .call("POST", "/clients", Some(&admin), Some(new_worker("Ledger")))
        .await;
    let id = made.json()["client_id"].as_str().unwrap().to_string();
    let first = made.json()["client_secret"].as_str().unwrap().to_string();
    let list = h
        .call("GET", &format!("/clients/{id}/secrets"), Some(&admin), None)
        .await
        .json();
    assert_eq!(list["secrets"][0]["readable"], true, "{list}");
    let first_id = list["secrets"][0]["id"].as_i64().unwrap();
    let path = format!("/clients/{id}/secrets/{first_id}/reveal");

    let r = h.call("POST", &path, Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.header(header::CACHE_CONTROL).contains("no-store"));
    assert_eq!(r.json()["client_secret"], first.as_str());
    h.call("POST", &path, Some(&support), None)
        .await
        .problem(StatusCode::FORBIDDEN, "insufficient-scope");
    let p = h
        .call("POST", &path, Some(&plain_admin), None)
        .await
        .problem(StatusCode::FORBIDDEN, "insufficient-scope");
    assert!(
        p["detail"].as_str().unwrap().contains("clavis:reveal"),
        "{p}"
    );
    // Nor can such a token give the scope to a client it makes, or to itself.
    let (pid, psecret) = h.automation("Pipeline", "clavis:admin").await;
    let pipeline = h.token(&pid, &psecret).await;
    let granting = json!({ "client_name": "Sneaky", "type": "client_credentials", "scope": "clavis:admin clavis:reveal" });
    h.call("POST", "/clients", Some(&pipeline), Some(granting))
        .await
        .problem(StatusCode::FORBIDDEN, "insufficient-scope");
    let r = h
        .send(
            Request::patch(format!("/api/v1/clients/{pid}"))
                .header(header::AUTHORIZATION, format!("Bearer {pipeline}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::IF_MATCH, "*")
                .body(Body::from(
                    json!({ "scope": "clavis:admin clavis:reveal" }).to_string(),
                ))
                .unwrap(),
        )
        .await;
    r.problem(StatusCode::FORBIDDEN, "insufficient-scope");
    // A client that holds it may give it.
    let made = h
        .call("POST", "/clients", Some(&admin), Some(json!({ "client_name": "Vault sync 2", "type": "client_credentials", "scope": "clavis:admin clavis:reveal" })))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    h.remember(made.json()["client_secret"].as_str().unwrap());
    h.call("GET", &path, Some(&admin), None)
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    let revealed = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'secret.revealed' AND target = $1",
    )
    .bind(&id)
    .fetch_one(&h.state.db.pool)
    .await
    .unwrap();
    assert_eq!(
        revealed, 1,
        "one reveal, one event; the refused one made none"
    );

    // Rotated: still valid and readable; revoked: never again, and its sealed copy is gone.
    let rotated = h
        .call(
            "POST",
            &format!("/clients/{id}/secrets/rotate"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert_eq!(
        h.call("POST", &path, Some(&admin), None).await.json()["client_secret"],
        first.as_str()
    );
    let r = h
        .call(
            "POST",
            &format!("/clients/{id}/secrets/{first_id}/revoke"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let p = h
        .call("POST", &path, Some(&admin), None)
        .await
        .problem(StatusCode::CONFLICT, "conflict");
    assert!(
        p["detail"].as_str().unwrap().contains("revoked or expired"),
        "{p}"
    );
    let sealed = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM client_secrets WHERE id = $1 AND sealed IS NOT NULL",
    )
    .bind(first_id)
    .fetch_one(&h.state.db.pool)
    .await
    .unwrap();
    assert_eq!(sealed, 0);
    h.call(
        "POST",
        &format!("/clients/{id}/secrets/999/reveal"),
        Some(&admin),
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn hash_only_secrets_say_how_to_get_a_readable_one() {
    let h = harness().await;
    let (rid, rsecret) = h
        .automation("Vault sync", "clavis:admin clavis:reveal")
        .await;
    let admin = h.token(&rid, &rsecret).await;
    let made = h
        .call("POST", "/clients", Some(&admin), Some(new_worker("Ledger")))
        .await;
    let id = made.json()["client_id"].as_str().unwrap().to_string();
    let list = h
        .call("GET", &format!("/clients/{id}/secrets"), Some(&admin), None)
        .await
        .json();
    assert_eq!(list["secrets"][0]["readable"], false, "{list}");
    let sid = list["secrets"][0]["id"].as_i64().unwrap();
    let p = h
        .call(
            "POST",
            &format!("/clients/{id}/secrets/{sid}/reveal"),
            Some(&admin),
            None,
        )
        .await
        .problem(StatusCode::CONFLICT, "conflict");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("Rotate to get a readable secret"),
        "{p}"
    );
}

/// The sign-in settings of a PKCE client: post-logout redirect URIs and first-party, on create,
/// read and patch; refused per field where they do not apply.
#[tokio::test]
async fn pkce_clients_carry_post_logout_redirect_uris_and_first_party() {
    let h = harness().await;
    let admin = h.admin_token().await;
    let made = h
        .call(
            "POST",
            "/clients",
            Some(&admin),
            Some(json!({
                "client_name": "Shop web",
                "type": "confidential_pkce",
                "redirect_uris": ["https://shop.example/cb"],
                "post_logout_redirect_uris": ["https://shop.example/bye"],
                "first_party": true,
            })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let body = made.json();
    assert_eq!(
        body["post_logout_redirect_uris"],
        json!(["https://shop.example/bye"])
    );
    assert_eq!(body["first_party"], true);
    let id = body["client_id"].as_str().unwrap().to_string();
    let etag = made.header(header::ETAG).to_string();
    let r = h
        .send(
            Request::patch(format!("/api/v1/clients/{id}"))
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::IF_MATCH, etag)
                .body(Body::from(json!({ "first_party": false }).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["first_party"], false);
    assert_eq!(
        r.json()["post_logout_redirect_uris"],
        json!(["https://shop.example/bye"]),
        "left out, kept"
    );

    for (field, body) in [
        (
            "first_party",
            json!({ "client_name": "W", "type": "client_credentials", "scope": "a", "first_party": true }),
        ),
        (
            "post_logout_redirect_uris",
            json!({ "client_name": "S", "type": "public_pkce", "redirect_uris": ["https://s.example/cb"],
                    "post_logout_redirect_uris": ["javascript:alert(1)"] }),
        ),
    ] {
        let p = h
            .call("POST", "/clients", Some(&admin), Some(body))
            .await
            .problem(StatusCode::BAD_REQUEST, "validation");
        assert!(p["errors"][field].as_str().is_some(), "{field}: {p}");
    }
}

#[tokio::test]
async fn an_admin_api_token_dies_with_the_secret_that_minted_it() {
    let h = harness().await;
    let (id, first) = h.automation("Terraform", "clavis:admin").await;
    let old_token = h.token(&id, &first).await;
    assert_eq!(
        h.call("GET", "/clients", Some(&old_token), None)
            .await
            .status,
        StatusCode::OK
    );
    // Rotate: the first secret stays valid as a rotated one, and so does its token.
    let admin = h.admin_token().await;
    let rotated = h
        .call(
            "POST",
            &format!("/clients/{id}/secrets/rotate"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    let second = rotated.json()["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    h.remember(&second);
    let new_token = h.token(&id, &second).await;
    assert_eq!(
        h.call("GET", "/clients", Some(&old_token), None)
            .await
            .status,
        StatusCode::OK
    );
    // Revoke the first secret: the token it minted is refused at once; the new one works.
    let list = h
        .call("GET", &format!("/clients/{id}/secrets"), Some(&admin), None)
        .await
        .json();
    let first_id = list["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == "rotated")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    // Not with the token it minted: the caller would lock itself out (as with disabling its
    // own client), neither one by one nor with every rotated secret.
    let revoke_first = format!("/clients/{id}/secrets/{first_id}/revoke");
    for path in [
        revoke_first.clone(),
        format!("/clients/{id}/secrets/revoke-rotated"),
    ] {
        let p = h
            .call("POST", &path, Some(&old_token), None)
            .await
            .problem(StatusCode::CONFLICT, "conflict");
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("lock this caller out"),
            "{p}"
        );
    }
    // Another client's token may.
    let r = h.call("POST", &revoke_first, Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    h.call("GET", "/clients", Some(&old_token), None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        h.call("GET", "/clients", Some(&new_token), None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn secrets_expire_by_policy_through_the_api_and_the_token_endpoint() {
    use common::harness::harness_with;
    let h = harness_with(true, Some(600)).await;
    let admin = h.admin_token().await;
    let worker = |life: Value| json!({ "client_name": "Nightly", "type": "client_credentials", "scope": "reports:read", "secret_lifetime": life });
    // Bad lifetimes name the field and make nothing.
    for (bad, says) in [
        (json!(900), "secret_max_lifetime"),
        (json!(-5), "at least 60"),
    ] {
        let p = h
            .call("POST", "/clients", Some(&admin), Some(worker(bad)))
            .await
            .problem(StatusCode::BAD_REQUEST, "validation");
        let m = p["errors"]["secret_lifetime"].as_str().unwrap_or_default();
        assert!(m.contains(says), "{p}");
    }
    let made = h
        .call("POST", "/clients", Some(&admin), Some(worker(json!(120))))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let body = made.json();
    assert_eq!(body["secret_lifetime"], 120);
    let expires = chrono::DateTime::parse_from_rfc3339(body["secret_expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    assert!(
        (expires - (h.state.db.now() + 120_000)).abs() < 2000,
        "{body}"
    );
    let (id, secret) = (
        body["client_id"].as_str().unwrap().to_string(),
        body["client_secret"].as_str().unwrap().to_string(),
    );
    h.remember(&secret);
    let path = format!("/clients/{id}");
    let etag = h
        .call("GET", &path, Some(&admin), None)
        .await
        .header(header::ETAG)
        .to_string();
    assert_eq!(h.token_reply(&id, &secret).await.status, StatusCode::OK);
    // Its use is recorded (in a batch), and leaves its ETag as it was: a script's If-Match
    // stays good while the client is in use.
    h.state.secret_usage.flush(&h.state.db).await.unwrap();
    let used = h.call("GET", &path, Some(&admin), None).await;
    assert!(used.json()["last_used_at"].is_string(), "{}", used.text());
    assert_eq!(used.header(header::ETAG), etag);
    let listed = h
        .call("GET", &format!("/clients/{id}/secrets"), Some(&admin), None)
        .await
        .json();
    assert!(listed["secrets"][0]["expires_at"].is_string(), "{listed}");

    // Two minutes on, the token endpoint refuses it exactly as a wrong secret.
    h.state.db.clock.advance(121_000);
    let expired = h.token_reply(&id, &secret).await;
    let wrong = h
        .token_reply(&id, &format!("{}x", &secret[..secret.len() - 1]))
        .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (expired.status, expired.text()),
        (wrong.status, wrong.text())
    );

    // The attention list names it, for both roles; its pages and errors.
    let (sid, ssecret) = h.automation("Auditor", "clavis:support").await;
    let support = h.token(&sid, &ssecret).await;
    for token in [&admin, &support] {
        let a = h.call("GET", "/attention", Some(token), None).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        let a = a.json();
        let cannot = &a["groups"][0];
        assert_eq!(cannot["group"], "cannot_get_tokens");
        let item = cannot["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["client_id"] == id.as_str())
            .unwrap_or_else(|| panic!("{a}"));
        assert_eq!(item["reason"], "secret_expired");
        assert_eq!(item["days_left"], 0);
        assert!(a["urgent"].as_i64().unwrap() >= 1);
        assert_eq!(a["policy_set"], true);
    }
    // Two clients nobody has used: a group of at least two, in pages of one.
    h.automation("Idle one", "reports:read").await;
    h.automation("Idle two", "reports:read").await;
    let page = h
        .call(
            "GET",
            "/attention?group=idle_clients&limit=1",
            Some(&admin),
            None,
        )
        .await
        .json();
    assert_eq!(page["groups"].as_array().unwrap().len(), 1);
    let next = page["groups"][0]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let second = h
        .call(
            "GET",
            &format!("/attention?group=idle_clients&limit=1&cursor={next}"),
            Some(&admin),
            None,
        )
        .await
        .json();
    assert_ne!(
        second["groups"][0]["items"][0],
        page["groups"][0]["items"][0]
    );
    for bad in [
        "limit=0",
        "cursor=1",
        "group=nope",
        "group=idle_clients&cursor=x",
        "color=red",
    ] {
        let r = h
            .call("GET", &format!("/attention?{bad}"), Some(&admin), None)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
    }

    // A rotation gives a fresh lifetime, and the client gets tokens again.
    let r = h
        .call(
            "POST",
            &format!("/clients/{id}/secrets/rotate"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rotated = r.json();
    assert!(rotated["expires_at"].is_string(), "{rotated}");
    let fresh = rotated["client_secret"].as_str().unwrap().to_string();
    h.remember(&fresh);
    assert_eq!(h.token_reply(&id, &fresh).await.status, StatusCode::OK);

    // Back to the server's policy; over the maximum is refused.
    let patch = |body: Value| {
        Request::patch(format!("/api/v1/clients/{id}"))
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::IF_MATCH, "*")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let r = h.send(patch(json!({ "secret_lifetime": null }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["secret_lifetime"], Value::Null);
    let p = h
        .send(patch(json!({ "secret_lifetime": 601 })))
        .await
        .problem(StatusCode::BAD_REQUEST, "validation");
    assert!(p["errors"]["secret_lifetime"].is_string(), "{p}");
}
