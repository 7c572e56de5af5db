//! HTTP tests of token introspection (`POST /oauth2/introspect`, RFC 7662) and revocation
//! (`POST /oauth2/revoke`, RFC 7009): who may call them, when a token is active, and that a
//! revocation is seen at once, by introspection and by the admin API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::clients::service as clients;
use app::infra::RequestMeta;
use app::oauth::introspect;
use axum::http::{header, StatusCode};
use jwt_simple::prelude::*;
use serde_json::{json, Value};

mod common;

use common::harness::{harness, Harness, Reply, ISSUER};

/// The audience of the API the test's authorizer protects.
const API: &str = "reports-api";

impl Harness {
    /// The client of an authorizer for `API`: client credentials with `clavis:introspect`.
    async fn introspector(&self) -> (String, String) {
        let input = app::authorizers::AuthorizerInput {
            name: format!("Gateway {}", app::infra::db::now_ms()),
            audience: API.into(),
            image: "registry.example/authorizer:1.4".into(),
            ..Default::default()
        };
        let (a, s) = app::authorizers::service::create(
            &self.state.db,
            "root",
            &RequestMeta::default(),
            &input,
            &self.state.settings.issuer,
        )
        .await
        .unwrap();
        (a.client_id, s.secret)
    }

    /// A client with `clavis:introspect` that is no authorizer's: refused when made or changed
    /// now, so made here as one saved before that rule (the scope written straight into the
    /// database).
    async fn loose_introspector(&self) -> (String, String) {
        let (id, secret) = self.automation("Loose", "reports:read").await;
        sqlx::query("UPDATE clients SET scopes = 'clavis:introspect' WHERE client_id = $1")
            .bind(id.clone())
            .execute(&self.state.db.pool)
            .await
            .unwrap();
        (id, secret)
    }

    /// A client-credentials client whose tokens are for `API`.
    async fn api_client(&self, name: &str, scopes: &str) -> (String, String) {
        let input = app::clients::ClientInput {
            name: name.into(),
            client_type: "client_credentials".into(),
            scopes: scopes.into(),
            audience: API.into(),
            ..Default::default()
        };
        let (c, s) =
            clients::create_issuing(&self.state.db, "root", &RequestMeta::default(), &input)
                .await
                .unwrap();
        (c.client_id, s.unwrap().secret)
    }

    async fn introspect_as(&self, caller: (&str, &str), token: &str) -> Reply {
        self.post_form(
            "/oauth2/introspect",
            Some(caller),
            &format!("token={token}&token_type_hint=access_token"),
        )
        .await
    }

    /// The introspection answer, which must be a 200, `no-store`.
    async fn introspected(&self, caller: (&str, &str), token: &str) -> Value {
        let r = self.introspect_as(caller, token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.header(header::CACHE_CONTROL).contains("no-store"));
        r.json()
    }
}

fn inactive() -> Value {
    json!({ "active": false })
}

#[tokio::test]
async fn introspection_describes_active_tokens_and_nothing_else() {
    let h = harness().await;
    let (gw, gw_secret) = h.introspector().await;
    let caller = (gw.as_str(), gw_secret.as_str());
    let (id, secret) = h.api_client("Reports job", "reports:read").await;
    let token = h.token(&id, &secret).await;

    let a = h.introspected(caller, &token).await;
    assert_eq!(a["active"], true);
    assert_eq!(a["aud"], API);
    assert_eq!(a["client_id"], id.as_str());
    assert_eq!(a["sub"], id.as_str());
    assert_eq!(a["scope"], "reports:read");
    assert_eq!(a["iss"], ISSUER);
    assert_eq!(a["token_type"], "Bearer");
    assert!(a["jti"].as_str().is_some_and(|j| !j.is_empty()), "{a}");
    let (iat, exp) = (a["iat"].as_i64().unwrap(), a["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 900, "{a}");
    // client_secret_post works as well as Basic.
    let r = h
        .post_form(
            "/oauth2/introspect",
            None,
            &format!("client_id={gw}&client_secret={gw_secret}&token={token}"),
        )
        .await;
    assert_eq!(r.json()["active"], true);

    // Malformed, signed by a key Clavis does not publish, expired: inactive, nothing more.
    let kid = h.state.signing_keys.current().unwrap().kid.clone();
    let foreign = Ed25519KeyPair::generate().with_key_id(&kid);
    let claims = |exp: i64| {
        json!({ "iss": ISSUER, "sub": id, "client_id": id, "aud": API, "iat": exp - 900,
                "exp": exp, "jti": format!("j{exp}"), "scope": "reports:read" })
    };
    let now = app::infra::db::now_ms() / 1000;
    let forged = foreign
        .sign(
            Claims::with_custom_claims(
                json!({ "client_id": id, "scope": "reports:read" }),
                Duration::from_mins(10),
            )
            .with_issuer(ISSUER)
            .with_subject(&id)
            .with_jwt_id("forged"),
        )
        .unwrap();
    let key = h.state.signing_keys.current().unwrap();
    let expired = key.sign(&claims(now - 60)).unwrap();
    let other_issuer = key
        .sign(&json!({ "iss": "https://evil.test", "sub": id, "client_id": id, "aud": API, "iat": now, "exp": now + 600, "jti": "x" }))
        .unwrap();
    let genuine = key.sign(&claims(now + 600)).unwrap();
    assert_eq!(h.introspected(caller, &genuine).await["active"], true);
    // Tokens for other APIs (the admin API's too) are not this authorizer's business.
    let (other, other_secret) = h.automation("Elsewhere", "reports:read").await;
    let elsewhere = h.token(&other, &other_secret).await;
    let admin = h.admin_token().await;
    for t in [
        "",
        "not-a-token",
        "a.b.c",
        &forged,
        &expired,
        &other_issuer,
        &elsewhere,
        &admin,
    ] {
        if t.is_empty() {
            continue;
        }
        assert_eq!(h.introspected(caller, t).await, inactive(), "{t}");
    }

    // A scope taken from the client stops counting at once; with none left, inactive.
    let meta = RequestMeta::default();
    let (wide, wide_secret) = h.api_client("Wide job", "reports:read reports:write").await;
    let wide_token = h.token(&wide, &wide_secret).await;
    let narrowed = app::clients::ClientInput {
        name: "Wide job".into(),
        client_type: "client_credentials".into(),
        scopes: "reports:read".into(),
        audience: API.into(),
        ..Default::default()
    };
    clients::update(&h.state.db, "root", &meta, &wide, &narrowed)
        .await
        .unwrap();
    assert_eq!(
        h.introspected(caller, &wide_token).await["scope"],
        "reports:read"
    );
    let moved = app::clients::ClientInput {
        scopes: "billing:read".into(),
        ..narrowed
    };
    clients::update(&h.state.db, "root", &meta, &wide, &moved)
        .await
        .unwrap();
    assert_eq!(h.introspected(caller, &wide_token).await, inactive());

    // A disabled client's tokens are inactive at once; enabled again, they are back.
    clients::set_enabled(&h.state.db, "root", &meta, &id, false)
        .await
        .unwrap();
    assert_eq!(h.introspected(caller, &token).await, inactive());
    clients::set_enabled(&h.state.db, "root", &meta, &id, true)
        .await
        .unwrap();
    assert_eq!(h.introspected(caller, &token).await["active"], true);
    clients::delete(&h.state.db, "root", &meta, &id, "Reports job")
        .await
        .unwrap();
    assert_eq!(h.introspected(caller, &token).await, inactive());
}

#[tokio::test]
async fn only_an_authenticated_client_with_the_scope_may_introspect() {
    let h = harness().await;
    let (gw, gw_secret) = h.introspector().await;
    let (id, secret) = h.api_client("Reports job", "reports:read").await;
    let token = h.token(&id, &secret).await;

    // Without the scope, or with it but no authorizer to say which API: refused, RFC 6749
    // §5.2 style, and no answer about the token.
    let (loose, loose_secret) = h.loose_introspector().await;
    for (caller, caller_secret) in [(&id, &secret), (&loose, &loose_secret)] {
        let r = h.introspect_as((caller, caller_secret), &token).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"], "unauthorized_client");
        assert!(!r.text().contains("active"));
    }

    // An authorizer on the admin API's own audience (saved before that was refused, or left so
    // by a changed issuer) does not introspect the admin API's tokens.
    let (api_gw, api_gw_secret) = h.introspector().await;
    let api = app::oauth::access::api_audience(&h.state.settings.issuer);
    sqlx::query("UPDATE authorizers SET audience = $1 WHERE client_pk = (SELECT id FROM clients WHERE client_id = $2)")
        .bind(api)
        .bind(api_gw.clone())
        .execute(&h.state.db.pool)
        .await
        .unwrap();
    let r = h.introspect_as((&api_gw, &api_gw_secret), &token).await;
    assert_eq!(r.json()["error"], "unauthorized_client", "{}", r.text());

    // A wrong secret gets exactly the token endpoint's invalid_client answer.
    let at_token = h.token_reply(&gw, "clavis_cs_wrong").await;
    let here = h.introspect_as((&gw, "clavis_cs_wrong"), &token).await;
    assert_eq!(here.status, StatusCode::UNAUTHORIZED);
    assert_eq!(here.body, at_token.body);
    assert_eq!(
        here.header(header::WWW_AUTHENTICATE),
        at_token.header(header::WWW_AUTHENTICATE)
    );
    // No credentials at all.
    let r = h
        .post_form("/oauth2/introspect", None, &format!("token={token}"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "invalid_client");

    // The request itself: a token, a form, POST.
    let r = h
        .post_form("/oauth2/introspect", Some((&gw, &gw_secret)), "")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "invalid_request");
    let r = h
        .post_form(
            "/oauth2/introspect",
            Some((&gw, &gw_secret)),
            &format!("token={token}&token=again"),
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_request");
    let r = h
        .send(
            axum::http::Request::get("/oauth2/introspect")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);

    // The failure limits are the token endpoint's: after enough wrong secrets from one place,
    // even the right one waits.
    let limit = h.state.settings.token_max_failures_per_client;
    for _ in 0..limit {
        h.introspect_as((&gw, "clavis_cs_wrong"), &token).await;
    }
    let r = h.introspect_as((&gw, &gw_secret), &token).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
}

#[tokio::test]
async fn a_client_revokes_its_own_tokens_and_only_those() {
    let h = harness().await;
    let (gw, gw_secret) = h.introspector().await;
    let caller = (gw.as_str(), gw_secret.as_str());
    let (id, secret) = h.api_client("Reports job", "reports:read").await;
    let (other, other_secret) = h.api_client("Billing job", "billing:read").await;
    let mine = h.token(&id, &secret).await;
    let kept = h.token(&id, &secret).await;
    let theirs = h.token(&other, &other_secret).await;

    // Another client's token, an unknown one, garbage: 200, and nothing changes.
    for t in [theirs.as_str(), "unknown", "a.b.c"] {
        let r = h
            .post_form(
                "/oauth2/revoke",
                Some((&id, &secret)),
                &format!("token={t}"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.body.is_empty());
    }
    assert_eq!(h.introspected(caller, &theirs).await["active"], true);
    assert_eq!(revoked_count(&h).await, 0, "nothing was listed");

    // Its own: revoked, at once, for that token only. Twice is still 200.
    for _ in 0..2 {
        let r = h
            .post_form(
                "/oauth2/revoke",
                Some((&id, &secret)),
                &format!("token={mine}&token_type_hint=access_token"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    assert_eq!(h.introspected(caller, &mine).await, inactive());
    assert_eq!(h.introspected(caller, &kept).await["active"], true);
    assert_eq!(revoked_count(&h).await, 1);
    let events = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'token.revoked' AND target = $1",
    )
    .bind(&id)
    .fetch_one(&h.state.db.pool)
    .await
    .unwrap();
    assert_eq!(events, 1, "one revocation, one event");

    // The caller must authenticate, exactly as at the token endpoint.
    let r = h
        .post_form(
            "/oauth2/revoke",
            Some((&id, "clavis_cs_wrong")),
            &format!("token={kept}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, h.token_reply(&id, "clavis_cs_wrong").await.body);
    assert_eq!(h.introspected(caller, &kept).await["active"], true);

    // Listed until the token's own expiry, then forgotten.
    let later = app::infra::db::now_ms() + 3_600_000;
    assert_eq!(introspect::prune(&h.state.db, later).await.unwrap(), 1);
    assert_eq!(revoked_count(&h).await, 0);
}

#[tokio::test]
async fn a_revoked_admin_token_stops_working_at_the_api() {
    let h = harness().await;
    let (id, secret) = h.automation("Terraform", "clavis:admin").await;
    let token = h.token(&id, &secret).await;
    assert_eq!(
        h.call("GET", "/clients", Some(&token), None).await.status,
        StatusCode::OK
    );
    let r = h
        .post_form(
            "/oauth2/revoke",
            Some((&id, &secret)),
            &format!("token={token}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    h.call("GET", "/clients", Some(&token), None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let fresh = h.token(&id, &secret).await;
    assert_eq!(
        h.call("GET", "/clients", Some(&fresh), None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_metadata_names_both_endpoints() {
    let h = harness().await;
    let r = h
        .send(
            axum::http::Request::get("/.well-known/oauth-authorization-server")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    let doc = r.json();
    assert_eq!(
        doc["introspection_endpoint"],
        format!("{ISSUER}/oauth2/introspect")
    );
    assert_eq!(
        doc["revocation_endpoint"],
        format!("{ISSUER}/oauth2/revoke")
    );
    // Public apps revoke their own tokens with their client_id alone; introspection is for
    // clients with a secret.
    assert_eq!(
        doc["revocation_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        doc["introspection_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
}

#[tokio::test]
async fn an_authorizer_reads_what_it_enforces_with_its_own_client() {
    let h = harness().await;
    let input = app::authorizers::AuthorizerInput {
        name: "Orders gateway".into(),
        audience: "orders-api".into(),
        image: "registry.example/authorizer:1.4".into(),
        ..Default::default()
    };
    let (a, secret) = app::authorizers::service::create(
        &h.state.db,
        "root",
        &RequestMeta::default(),
        &input,
        &h.state.settings.issuer,
    )
    .await
    .unwrap();
    assert_eq!(a.last_active_at, None);
    let with_audience = |name: &str, audience: &str| app::clients::ClientInput {
        name: name.into(),
        client_type: "client_credentials".into(),
        scopes: "orders:read orders:write".into(),
        audience: audience.into(),
        ..Default::default()
    };
    let meta = RequestMeta::default();
    let (shop, _) = clients::create_issuing(
        &h.state.db,
        "root",
        &meta,
        &with_audience("Shop", "orders-api"),
    )
    .await
    .unwrap();
    let (off, _) = clients::create_issuing(
        &h.state.db,
        "root",
        &meta,
        &with_audience("Old shop", "orders-api"),
    )
    .await
    .unwrap();
    clients::set_enabled(&h.state.db, "root", &meta, &off.client_id, false)
        .await
        .unwrap();
    clients::create_issuing(
        &h.state.db,
        "root",
        &meta,
        &with_audience("Billing", "billing-api"),
    )
    .await
    .unwrap();

    let token = h.token(&a.client_id, &secret.secret).await;
    let r = h
        .call("GET", "/authorizer/configuration", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["audience"], "orders-api");
    assert_eq!(
        doc["introspection_endpoint"],
        format!("{ISSUER}/oauth2/introspect")
    );
    assert_eq!(
        doc["clients"],
        json!([{ "client_id": shop.client_id, "client_name": "Shop", "scope": "orders:read orders:write" }])
    );
    let seen = app::authorizers::service::get(&h.state.db, a.id)
        .await
        .unwrap();
    assert!(seen.last_active_at.is_some(), "the call marks it active");

    // Its credentials introspect; other callers cannot read its configuration.
    let shop_token = h
        .token(&shop.client_id, &{
            let s = app::secrets::service::rotate(
                &h.state.db,
                app::secrets::service::Policy::from(&*h.state.settings),
                "root",
                &meta,
                &shop.client_id,
                app::secrets::service::Grace::UntilRevoked,
            )
            .await
            .unwrap();
            s.secret
        })
        .await;
    assert_eq!(
        h.introspected((&a.client_id, &secret.secret), &shop_token)
            .await["aud"],
        "orders-api"
    );
    let admin = h.admin_token().await;
    h.call("GET", "/authorizer/configuration", Some(&admin), None)
        .await
        .problem(StatusCode::FORBIDDEN, "insufficient-scope");
    let (loose, loose_secret) = h.loose_introspector().await;
    let loose_token = h.token(&loose, &loose_secret).await;
    h.call("GET", "/authorizer/configuration", Some(&loose_token), None)
        .await
        .problem(StatusCode::FORBIDDEN, "insufficient-scope");
    h.call("GET", "/authorizer/configuration", None, None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

/// How many tokens are listed as revoked now.
async fn revoked_count(h: &Harness) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM revoked_tokens")
        .fetch_one(&h.state.db.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}
