//! HTTP tests of signing people in to apps: `/oauth2/authorize` with its sign-in and consent
//! pages, the authorization-code and refresh-token grants at `/oauth2/token`, ID tokens
//! (verified against the served JWKS with jwt-simple), userinfo, RP-initiated logout, and the
//! discovery document. A person's browser is played by hand: its cookies are carried from
//! answer to answer, and its forms are posted as the pages render them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use app::clients::service as clients;
use app::clients::ClientInput;
use app::infra::RequestMeta;
use app::people::service as people;
use app::people::PersonInput;
use app::secrets::service::{self as secrets, Grace, Policy};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::harness::{harness, Harness, Reply, ISSUER};
use jwt_simple::prelude::*;
use sha2::Digest;

const CB: &str = "https://app.example/cb";
const PASSWORD: &str = "correct horse battery staple";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A person's browser: the cookies it holds.
#[derive(Default, Clone)]
struct Browser {
    cookies: HashMap<String, String>,
}

impl Browser {
    fn keep(&mut self, r: &Reply) {
        for v in r.headers.get_all(header::SET_COOKIE) {
            let c = cookie::Cookie::parse(v.to_str().unwrap().to_string()).unwrap();
            if c.value().is_empty() {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_string(), c.value().to_string());
            }
        }
    }
    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

struct Setup {
    h: Harness,
    /// Confidential PKCE client and its secret.
    app: String,
    secret: String,
    /// Public PKCE client.
    spa: String,
    person_id: i64,
}

async fn setup() -> Setup {
    let h = harness().await;
    let meta = RequestMeta::default();
    let make = |kind: &str, name: &str| ClientInput {
        name: name.into(),
        client_type: kind.into(),
        redirect_uris: format!("{CB}\nhttp://127.0.0.1:4000/cb"),
        post_logout_redirect_uris: "https://app.example/bye".into(),
        ..Default::default()
    };
    let (c, s) = clients::create_issuing(
        &h.state.db,
        "root",
        &meta,
        &make("confidential_pkce", "Orders web"),
    )
    .await
    .unwrap();
    let secret = s.unwrap().secret;
    h.remember(&secret);
    let (spa, _) = clients::create_issuing(
        &h.state.db,
        "root",
        &meta,
        &make("public_pkce", "Orders SPA"),
    )
    .await
    .unwrap();
    let p = people::create(
        &h.state.db,
        &h.state.passwords,
        "root",
        &meta,
        &PersonInput {
            username: "dana".into(),
            display_name: "Dana Scully".into(),
            email: "dana@example.com".into(),
            password: PASSWORD.into(),
        },
    )
    .await
    .unwrap();
    h.remember(PASSWORD);
    Setup {
        h,
        app: c.client_id,
        secret,
        spa: spa.client_id,
        person_id: p.id,
    }
}

fn authorize_query(client: &str, extra: &str) -> String {
    format!(
        "response_type=code&client_id={client}&redirect_uri={}&scope=openid%20profile%20email%20offline_access\
         &state=s-123&nonce=n-456&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(CB)
    )
}

/// The hidden fields of the page's form, as the browser would post them.
fn form_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in html.split("<input type=\"hidden\" ").skip(1) {
        let name = part
            .split("name=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let value = part
            .split("value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let value = html_unescape(value);
        out.push((name.to_string(), value));
    }
    out
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

impl Setup {
    async fn get(&self, b: &mut Browser, path_and_query: &str) -> Reply {
        let r = self
            .h
            .send(
                Request::get(path_and_query)
                    .header(header::COOKIE, b.header())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        b.keep(&r);
        r
    }

    /// Posts the page's form (to its `action`) with `fields` added (the button, the username
    /// and password).
    async fn submit(&self, b: &mut Browser, page: &Reply, fields: &[(&str, &str)]) -> Reply {
        let html = page.text();
        let action = html
            .split("<form method=\"post\" action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no form on the page: {html}"))
            .to_string();
        let mut all = form_fields(&html);
        all.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(all)
            .finish();
        let r = self
            .h
            .send(
                Request::post(action.as_str())
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ORIGIN, ISSUER)
                    .header(header::COOKIE, b.header())
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        b.keep(&r);
        r
    }

    /// The browser `b` arriving from `client` with the usual request and `extra` parameters.
    async fn authorize(&self, b: &mut Browser, client: &str, extra: &str) -> Reply {
        let path = format!("/oauth2/authorize?{}", authorize_query(client, extra));
        self.get(b, &path).await
    }

    /// Submits the sign-in form of `page` as `username` with `password`.
    async fn sign_in_on(
        &self,
        b: &mut Browser,
        page: &Reply,
        username: &str,
        password: &str,
    ) -> Reply {
        let fields = [
            ("clavis_action", "sign_in"),
            ("username", username),
            ("password", password),
        ];
        self.submit(b, page, &fields).await
    }

    /// Signs in on the page `r` (the sign-in page) and allows on the consent page; the final
    /// redirect.
    async fn sign_in_and_allow(&self, b: &mut Browser, r: Reply) -> Reply {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.text().contains("<h1>Sign in</h1>"), "{}", r.text());
        let consent = self.sign_in_on(b, &r, "dana", PASSWORD).await;
        assert_eq!(consent.status, StatusCode::OK, "{}", consent.text());
        assert!(
            consent.text().contains("Allow Orders"),
            "{}",
            consent.text()
        );
        self.submit(b, &consent, &[("clavis_action", "allow")])
            .await
    }

    /// A code for `client` through the whole flow in a new browser.
    async fn code_for(&self, client: &str) -> (String, Browser) {
        let mut b = Browser::default();
        let page = self.authorize(&mut b, client, "").await;
        let done = self.sign_in_and_allow(&mut b, page).await;
        (code_of(&done), b)
    }

    async fn exchange(
        &self,
        client: &str,
        secret: Option<&str>,
        code: &str,
        verifier: &str,
    ) -> Reply {
        let mut form = format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={verifier}",
            enc(code),
            enc(CB)
        );
        match secret {
            Some(s) => {
                self.h
                    .post_form("/oauth2/token", Some((client, s)), &form)
                    .await
            }
            None => {
                form.push_str(&format!("&client_id={client}"));
                self.h.post_form("/oauth2/token", None, &form).await
            }
        }
    }

    async fn refresh(&self, client: &str, secret: Option<&str>, token: &str) -> Reply {
        let mut form = format!("grant_type=refresh_token&refresh_token={}", enc(token));
        match secret {
            Some(s) => {
                self.h
                    .post_form("/oauth2/token", Some((client, s)), &form)
                    .await
            }
            None => {
                form.push_str(&format!("&client_id={client}"));
                self.h.post_form("/oauth2/token", None, &form).await
            }
        }
    }

    /// Whether the browser's person is signed in: `prompt=none` gives a code.
    async fn signed_in(&self, b: &mut Browser) -> bool {
        let r = self.authorize(b, &self.app, "&prompt=none").await;
        param(&location(&r), "code").is_some()
    }

    async fn userinfo(&self, access_token: &str) -> Reply {
        self.h
            .send(
                Request::get("/oauth2/userinfo")
                    .header(header::AUTHORIZATION, format!("Bearer {access_token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
    }

    async fn audit_count(&self, action: &str) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM audit_events WHERE action = $1")
            .bind(action)
            .fetch_one(&self.h.state.db.pool)
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }

    /// The RS256 key of the served JWKS, named by the token's `kid`.
    async fn jwks_key(&self, token: &str) -> RS256PublicKey {
        let r = self
            .h
            .send(
                Request::get("/.well-known/jwks.json")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let kid = Token::decode_metadata(token)
            .unwrap()
            .key_id()
            .unwrap()
            .to_string();
        let keys = r.json()["keys"].as_array().unwrap().clone();
        let jwk = keys.iter().find(|k| k["kid"] == kid.as_str()).unwrap();
        assert_eq!(
            (jwk["kty"].as_str(), jwk["alg"].as_str()),
            (Some("RSA"), Some("RS256"))
        );
        let part = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
        RS256PublicKey::from_components(&part("n"), &part("e")).unwrap()
    }
}

fn location(r: &Reply) -> url::Url {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    url::Url::parse(r.headers.get(header::LOCATION).unwrap().to_str().unwrap()).unwrap()
}

fn param(u: &url::Url, name: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn code_of(r: &Reply) -> String {
    let u = location(r);
    assert!(u.as_str().starts_with(CB), "{u}");
    assert_eq!(param(&u, "state").as_deref(), Some("s-123"));
    assert_eq!(param(&u, "iss").as_deref(), Some(ISSUER));
    param(&u, "code").expect("a code")
}

fn tokens(r: &Reply) -> serde_json::Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.header(header::CACHE_CONTROL).contains("no-store"));
    r.json()
}

fn error_of(r: &Reply) -> (StatusCode, String) {
    (
        r.status,
        r.json()["error"].as_str().unwrap_or_default().to_string(),
    )
}

#[derive(Serialize, Deserialize)]
struct IdExtra {
    azp: String,
    auth_time: i64,
    at_hash: String,
    name: Option<String>,
    preferred_username: Option<String>,
    email: Option<String>,
}

#[tokio::test]
async fn a_confidential_app_signs_a_person_in_and_gets_verified_tokens() {
    let s = setup().await;
    let (code, _) = s.code_for(&s.app).await;
    let t = tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "openid profile email offline_access");
    let id_token = t["id_token"].as_str().unwrap();
    let access = t["access_token"].as_str().unwrap();
    let key = s.jwks_key(id_token).await;
    let claims = key
        .verify_token::<IdExtra>(
            id_token,
            Some(VerificationOptions {
                allowed_issuers: Some(HashSet::from([ISSUER.to_string()])),
                allowed_audiences: Some(HashSet::from([s.app.clone()])),
                ..Default::default()
            }),
        )
        .unwrap();
    let sub = claims.subject.clone().unwrap();
    assert!(sub.starts_with("p_") && sub != "dana", "{sub}");
    assert_eq!(claims.nonce.as_deref(), Some("n-456"));
    assert_eq!(claims.custom.azp, s.app);
    assert_eq!(claims.custom.name.as_deref(), Some("Dana Scully"));
    assert_eq!(claims.custom.preferred_username.as_deref(), Some("dana"));
    assert_eq!(claims.custom.email.as_deref(), Some("dana@example.com"));
    let digest = sha2::Sha256::digest(access.as_bytes());
    assert_eq!(claims.custom.at_hash, URL_SAFE_NO_PAD.encode(&digest[..16]));
    assert!((now_secs() - claims.custom.auth_time).abs() < 60);

    let info = s.userinfo(access).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.text());
    assert_eq!(info.json()["sub"], sub);
    assert_eq!(info.json()["email"], "dana@example.com");
    let bad = s.userinfo("not-a-token").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad
        .header(header::WWW_AUTHENTICATE)
        .contains("invalid_token"));
    assert_eq!(s.audit_count("person.signed_in").await, 1);
    assert_eq!(s.audit_count("consent.granted").await, 1);
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_public_app_uses_its_client_id_alone_and_a_confidential_one_must_not() {
    let s = setup().await;
    let (code, _) = s.code_for(&s.spa).await;
    let t = tokens(&s.exchange(&s.spa, None, &code, VERIFIER).await);
    assert!(t["refresh_token"].as_str().unwrap().len() == 43);
    let (code, _) = s.code_for(&s.app).await;
    assert_eq!(
        error_of(&s.exchange(&s.app, None, &code, VERIFIER).await),
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    assert_eq!(
        error_of(&s.exchange(&s.app, Some("wrong"), &code, VERIFIER).await),
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    // The refusals did not use the code up.
    tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
}

#[tokio::test]
async fn the_code_is_bound_to_its_client_redirect_verifier_and_lifetime() {
    let s = setup().await;
    let (code, _) = s.code_for(&s.app).await;
    let table: Vec<(&str, Reply)> = vec![
        ("wrong verifier", s.exchange(&s.app, Some(&s.secret), &code, &"a".repeat(43)).await),
        ("another client", s.exchange(&s.spa, None, &code, VERIFIER).await),
        (
            "another redirect_uri",
            s.h.post_form(
                "/oauth2/token",
                Some((&s.app, &s.secret)),
                &format!(
                    "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
                    enc(&code),
                    enc("http://127.0.0.1:4000/cb")
                ),
            )
            .await,
        ),
        ("unknown code", s.exchange(&s.app, Some(&s.secret), "nope", VERIFIER).await),
    ];
    for (case, r) in table {
        assert_eq!(
            error_of(&r),
            (StatusCode::BAD_REQUEST, "invalid_grant".into()),
            "{case}"
        );
    }
    let missing =
        s.h.post_form(
            "/oauth2/token",
            Some((&s.app, &s.secret)),
            &format!(
                "grant_type=authorization_code&code={}&redirect_uri={}",
                enc(&code),
                enc(CB)
            ),
        )
        .await;
    assert_eq!(
        error_of(&missing),
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
    // Still good after all of these; then expired.
    sqlx::query("UPDATE authorization_codes SET expires_at = 0")
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        error_of(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await),
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_gave() {
    let s = setup().await;
    let (code, _) = s.code_for(&s.app).await;
    let t = tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    assert_eq!(s.userinfo(access).await.status, StatusCode::OK);
    assert_eq!(
        error_of(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await),
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    assert_eq!(s.userinfo(access).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        error_of(&s.refresh(&s.app, Some(&s.secret), refresh).await).1,
        "invalid_grant"
    );
    assert_eq!(s.audit_count("code.replayed").await, 1);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let s = setup().await;
    let (code, _) = s.code_for(&s.spa).await;
    let first = tokens(&s.exchange(&s.spa, None, &code, VERIFIER).await);
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let second = tokens(&s.refresh(&s.spa, None, &r1).await);
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    assert!(second["id_token"].is_string());
    let a2 = second["access_token"].as_str().unwrap();
    assert_eq!(s.userinfo(a2).await.status, StatusCode::OK);
    // r1 again, later than the reuse interval (parallel refreshes): refused, and r2 and its
    // access token die with it.
    sqlx::query("UPDATE refresh_tokens SET used_at = used_at - 60000 WHERE used_at IS NOT NULL")
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        error_of(&s.refresh(&s.spa, None, &r1).await).1,
        "invalid_grant"
    );
    assert_eq!(
        error_of(&s.refresh(&s.spa, None, &r2).await).1,
        "invalid_grant"
    );
    assert_eq!(s.userinfo(a2).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.audit_count("refresh.reuse_detected").await, 1);
}

#[tokio::test]
async fn a_revoked_secret_a_disabled_client_or_person_stop_refreshing() {
    let s = setup().await;
    let policy = Policy {
        max_rotated: 2,
        default_grace_secs: None,
        unused_days: 7,
    };
    let m = RequestMeta::default();
    let (code, _) = s.code_for(&s.app).await;
    let t = tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
    let mut refresh = t["refresh_token"].as_str().unwrap().to_string();
    // Rotated: the old secret still works, then revoked: it does not, the new one does.
    let new = secrets::rotate(
        &s.h.state.db,
        policy,
        "root",
        &m,
        &s.app,
        Grace::UntilRevoked,
    )
    .await
    .unwrap()
    .secret;
    s.h.remember(&new);
    refresh = tokens(&s.refresh(&s.app, Some(&s.secret), &refresh).await)["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let v = secrets::overview(&s.h.state.db, policy, &s.app)
        .await
        .unwrap();
    let old_id = v.previous[0].id;
    secrets::revoke(&s.h.state.db, "root", &m, &s.app, old_id)
        .await
        .unwrap();
    assert_eq!(
        error_of(&s.refresh(&s.app, Some(&s.secret), &refresh).await),
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    refresh = tokens(&s.refresh(&s.app, Some(&new), &refresh).await)["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    // A disabled person.
    people::set_disabled(&s.h.state.db, "root", &m, s.person_id, true)
        .await
        .unwrap();
    assert_eq!(
        error_of(&s.refresh(&s.app, Some(&new), &refresh).await).1,
        "invalid_grant"
    );
    people::set_disabled(&s.h.state.db, "root", &m, s.person_id, false)
        .await
        .unwrap();
    // Enabled again, the grant stays revoked: the app must sign the person in again.
    assert_eq!(
        error_of(&s.refresh(&s.app, Some(&new), &refresh).await).1,
        "invalid_grant"
    );
    // Consent was given before: signing in is enough.
    let mut b = Browser::default();
    let page = s.authorize(&mut b, &s.app, "").await;
    let signed_in = s.sign_in_on(&mut b, &page, "dana", PASSWORD).await;
    let code = code_of(&signed_in);
    refresh = tokens(&s.exchange(&s.app, Some(&new), &code, VERIFIER).await)["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    // A disabled client.
    sqlx::query("UPDATE clients SET enabled = 0 WHERE client_id = $1")
        .bind(&s.app)
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        error_of(&s.refresh(&s.app, Some(&new), &refresh).await),
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
}

#[tokio::test]
async fn untrusted_requests_get_an_error_page_and_others_go_back_with_the_error() {
    let s = setup().await;
    let mut b = Browser::default();
    for q in [
        authorize_query("nope", ""),
        authorize_query(&s.app, "").replace(&enc(CB), &enc("https://evil.example/cb")),
        authorize_query(&s.app, "").replace(&enc(CB), &enc("https://app.example/cb/")),
    ] {
        let r = s.get(&mut b, &format!("/oauth2/authorize?{q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(r.headers.get(header::LOCATION).is_none());
        assert!(r
            .header(header::CONTENT_SECURITY_POLICY)
            .contains("frame-ancestors 'none'"));
    }
    // The loopback redirect may change its port (RFC 8252).
    let loopback = authorize_query(&s.app, "").replace(&enc(CB), &enc("http://127.0.0.1:5999/cb"));
    assert_eq!(
        s.get(&mut b, &format!("/oauth2/authorize?{loopback}"))
            .await
            .status,
        StatusCode::OK
    );
    let back = |extra: &str, remove: &str| authorize_query(&s.app, extra).replace(remove, "");
    for (q, error) in [
        (
            back("", &format!("&code_challenge={CHALLENGE}")),
            "invalid_request",
        ),
        (
            back("", "&code_challenge_method=S256").replace(
                CHALLENGE,
                &format!("{CHALLENGE}&code_challenge_method=plain"),
            ),
            "invalid_request",
        ),
        (back("&prompt=none", ""), "login_required"),
        (
            back("", "").replace("scope=openid", "scope=admin"),
            "invalid_scope",
        ),
        (
            back("", "").replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
    ] {
        let r = s.get(&mut b, &format!("/oauth2/authorize?{q}")).await;
        let u = location(&r);
        assert_eq!(param(&u, "error").as_deref(), Some(error), "{q}");
        assert_eq!(param(&u, "state").as_deref(), Some("s-123"), "{q}");
        assert_eq!(param(&u, "iss").as_deref(), Some(ISSUER), "{q}");
    }
}

#[tokio::test]
async fn a_session_signs_in_again_with_prompt_none_and_max_age_asks_again() {
    let s = setup().await;
    let (_, mut b) = s.code_for(&s.app).await;
    // Signed in and consented: prompt=none gives a code at once.
    let r = s.authorize(&mut b, &s.app, "&prompt=none").await;
    code_of(&r);
    // Another app not yet allowed: consent_required.
    let r = s.authorize(&mut b, &s.spa, "&prompt=none").await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("consent_required")
    );
    // A sign-in two minutes old, max_age=60: sign in again; with prompt=none, login_required.
    sqlx::query("UPDATE person_sessions SET auth_time = auth_time - 120000")
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    let r = s.authorize(&mut b, &s.app, "&max_age=60").await;
    assert!(r.text().contains("<h1>Sign in</h1>"), "{}", r.text());
    let r = s.authorize(&mut b, &s.app, "&max_age=60&prompt=none").await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
    // prompt=login asks again even for a fresh session, and is then satisfied.
    let r = s.authorize(&mut b, &s.app, "&prompt=login").await;
    assert!(r.text().contains("<h1>Sign in</h1>"));
    let done = s.sign_in_on(&mut b, &r, "dana", PASSWORD).await;
    code_of(&done);
    // A recent sign-in elsewhere does not meet prompt=login: an answer posted to this
    // request's page without the password (any subject) gets the sign-in page again.
    // Another request of the app (its own state), as every new authorization request is.
    let query = authorize_query(&s.app, "&prompt=login").replace("state=s-123", "state=s-later");
    let r = s.get(&mut b, &format!("/oauth2/authorize?{query}")).await;
    assert!(r.text().contains("<h1>Sign in</h1>"), "{}", r.text());
    let dana: String = sqlx::query_scalar("SELECT subject FROM people WHERE username = 'dana'")
        .fetch_one(&s.h.state.db.pool)
        .await
        .unwrap();
    for subject in ["someone-else", "", dana.as_str()] {
        let forged = s
            .submit(
                &mut b,
                &r,
                &[("clavis_action", "allow"), ("subject", subject)],
            )
            .await;
        assert_eq!(forged.status, StatusCode::OK, "{:?}", forged.headers);
        assert!(
            forged.text().contains("<h1>Sign in</h1>"),
            "{}",
            forged.text()
        );
    }
}

#[tokio::test]
async fn a_consent_slower_than_max_age_asks_for_the_password_once_more() {
    let s = setup().await;
    let mut b = Browser::default();
    let query = authorize_query(&s.spa, "&max_age=60");
    let page = s.get(&mut b, &format!("/oauth2/authorize?{query}")).await;
    let consent = s.sign_in_on(&mut b, &page, "dana", PASSWORD).await;
    assert!(
        consent.text().contains("Allow Orders"),
        "{}",
        consent.text()
    );
    // The person spent two minutes on the consent page: the sign-in is now older than
    // max_age, so a code now would carry an auth_time the app must refuse.
    sqlx::query("UPDATE person_sessions SET auth_time = auth_time - 120000")
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    let again = s
        .submit(&mut b, &consent, &[("clavis_action", "allow")])
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert!(
        again.text().contains("<h1>Sign in</h1>"),
        "{}",
        again.text()
    );
    assert_eq!(s.audit_count("consent.granted").await, 1);
    // The consent is kept: signing in again gives the code at once.
    let done = s.sign_in_on(&mut b, &again, "dana", PASSWORD).await;
    let code = code_of(&done);
    let t = tokens(&s.exchange(&s.spa, None, &code, VERIFIER).await);
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(t["id_token"].as_str().unwrap().split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let auth_time = claims["auth_time"].as_i64().unwrap();
    assert!(
        now_secs() - auth_time <= 60,
        "auth_time {auth_time} is older than max_age"
    );

    // A day later, with prompt=consent: an "allow" posted by whoever is at the browser (the
    // page's CSRF token and the person's subject are easy to get there) is no sign-in.
    sqlx::query("UPDATE person_sessions SET auth_time = auth_time - 86400000")
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    let query = authorize_query(&s.spa, "&max_age=300&prompt=consent");
    let page = s.get(&mut b, &format!("/oauth2/authorize?{query}")).await;
    assert!(page.text().contains("<h1>Sign in</h1>"), "{}", page.text());
    let subject: String = sqlx::query_scalar("SELECT subject FROM people WHERE username = 'dana'")
        .fetch_one(&s.h.state.db.pool)
        .await
        .unwrap();
    let forged = s
        .submit(
            &mut b,
            &page,
            &[("clavis_action", "allow"), ("subject", &subject)],
        )
        .await;
    assert!(
        forged.text().contains("<h1>Sign in</h1>"),
        "{}",
        forged.text()
    );
    assert!(forged.headers.get(header::LOCATION).is_none());
}

#[tokio::test]
async fn wrong_passwords_unknown_and_disabled_people_get_one_message() {
    let s = setup().await;
    let m = RequestMeta::default();
    let mut b = Browser::default();
    let page = s.authorize(&mut b, &s.app, "").await;
    let wrong = s.sign_in_on(&mut b, &page, "dana", "nope nope nope").await;
    let unknown = s.sign_in_on(&mut b, &page, "mulder", PASSWORD).await;
    people::set_disabled(&s.h.state.db, "root", &m, s.person_id, true)
        .await
        .unwrap();
    let disabled = s.sign_in_on(&mut b, &page, "dana", PASSWORD).await;
    for r in [&wrong, &unknown, &disabled] {
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.text().contains("The username or the password is wrong."),
            "{}",
            r.text()
        );
        assert!(!r.text().contains("nope nope nope"));
    }
    assert_eq!(s.audit_count("person.sign_in_failed").await, 3);
    // Without the CSRF cookie, or from another origin: refused before any check.
    let mut stranger = Browser::default();
    let r = s.sign_in_on(&mut stranger, &page, "dana", PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.audit_count("person.sign_in_attempt").await, 0);
}

#[tokio::test]
async fn a_first_party_app_skips_consent_and_deny_goes_back_with_access_denied() {
    let s = setup().await;
    sqlx::query("UPDATE clients SET first_party = 1 WHERE client_id = $1")
        .bind(&s.spa)
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    let mut b = Browser::default();
    let page = s.authorize(&mut b, &s.spa, "").await;
    let done = s.sign_in_on(&mut b, &page, "dana", PASSWORD).await;
    code_of(&done);
    let consent = s.authorize(&mut b, &s.app, "").await;
    assert!(consent.text().contains("Allow Orders web"));
    let denied = s
        .submit(&mut b, &consent, &[("clavis_action", "deny")])
        .await;
    assert_eq!(
        param(&location(&denied), "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(s.audit_count("consent.denied").await, 1);
}

#[tokio::test]
async fn logout_ends_the_session_and_goes_back_only_to_a_registered_uri() {
    let s = setup().await;
    let (code, mut b) = s.code_for(&s.app).await;
    let t = tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
    let hint = t["id_token"].as_str().unwrap();
    let bad = s
        .get(
            &mut b,
            &format!(
                "/oauth2/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
                enc("https://evil.example/")
            ),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let r = s
        .get(
            &mut b,
            &format!(
                "/oauth2/logout?id_token_hint={hint}&post_logout_redirect_uri={}&state=bye",
                enc("https://app.example/bye")
            ),
        )
        .await;
    let u = location(&r);
    assert_eq!(u.as_str(), "https://app.example/bye?state=bye");
    // The page says what signing out does, and no more: apps keep what they hold.
    let signed_out = app::oauth::pages::signed_out();
    assert!(!signed_out.contains("every app"), "{signed_out}");
    assert!(signed_out.contains("Apps you are using now may keep you signed in"));
    // Signed out: prompt=none needs a sign-in now.
    let r = s.authorize(&mut b, &s.app, "&prompt=none").await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(s.audit_count("person.signed_out").await, 1);
}

#[tokio::test]
async fn a_logout_that_does_not_show_it_comes_from_the_app_asks_the_person_first() {
    let s = setup().await;
    let (_, mut b) = s.code_for(&s.app).await;
    let ask = format!(
        "/oauth2/logout?client_id={}&post_logout_redirect_uri={}&state=bye",
        s.app,
        enc("https://app.example/bye")
    );
    // No id_token_hint: a question, and nothing has changed yet.
    let page = s.get(&mut b, &ask).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(
        page.text().contains("<h1>Sign out?</h1>"),
        "{}",
        page.text()
    );
    assert!(page
        .text()
        .contains("<strong>Orders web</strong> asks to sign you out"));
    // It says what signing out does: it ends the session here, not what apps hold.
    assert!(!page.text().contains("every app"), "{}", page.text());
    assert!(page
        .text()
        .contains("It does not end what apps you are using now already hold"));
    assert!(
        s.signed_in(&mut b).await,
        "a link alone signed the person out"
    );
    // "Stay signed in" goes back and keeps the session.
    let r = s.submit(&mut b, &page, &[("clavis_action", "stay")]).await;
    assert_eq!(location(&r).as_str(), "https://app.example/bye?state=bye");
    assert!(s.signed_in(&mut b).await);
    assert_eq!(s.audit_count("person.signed_out").await, 0);
    // The answer must come from the page: without its CSRF token it is refused.
    let forged =
        s.h.send(
            Request::post("/oauth2/logout")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, b.header())
                .body(Body::from(format!(
                    "client_id={}&clavis_action=sign_out",
                    s.app
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(s.audit_count("person.signed_out").await, 0);
    // "Sign out" ends the session and goes back.
    let page = s.get(&mut b, &ask).await;
    let r = s
        .submit(&mut b, &page, &[("clavis_action", "sign_out")])
        .await;
    assert_eq!(location(&r).as_str(), "https://app.example/bye?state=bye");
    assert!(!s.signed_in(&mut b).await);
    assert_eq!(s.audit_count("person.signed_out").await, 1);
}

#[tokio::test]
async fn a_hint_signed_before_a_key_rotation_still_signs_out_and_a_bad_one_asks() {
    let s = setup().await;
    let (code, mut b) = s.code_for(&s.app).await;
    let t = tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
    let hint = t["id_token"].as_str().unwrap().to_string();
    // `clavis keys rotate`, two hours ago: far longer than the access tokens live (900 s), so
    // the old keys are out of the JWKS, but the person's session is still alive.
    let st = &s.h.state;
    let now = app::infra::db::now_ms();
    app::oauth::keys::rotate_signing_key_at(
        &st.db,
        st.settings.key_encryption_key.as_ref(),
        &RequestMeta::default(),
        "root",
        now - 2 * 3600 * 1000,
    )
    .await
    .unwrap();
    st.signing_keys.reload(&st.db).await.unwrap();
    // A hint that does not verify at all counts as none: the person is asked.
    let page = s
        .get(
            &mut b,
            &format!(
                "/oauth2/logout?client_id={}&id_token_hint=not.a.token",
                s.app
            ),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(
        page.text().contains("<h1>Sign out?</h1>"),
        "{}",
        page.text()
    );
    assert!(s.signed_in(&mut b).await);
    // The hint from before the rotation still shows the request comes from the app.
    let r = s
        .get(
            &mut b,
            &format!(
                "/oauth2/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
                enc("https://app.example/bye")
            ),
        )
        .await;
    assert_eq!(location(&r).as_str(), "https://app.example/bye");
    assert!(!s.signed_in(&mut b).await);
}

#[tokio::test]
async fn a_hint_about_someone_else_asks_and_a_posted_hint_signs_out() {
    let s = setup().await;
    let fox_password = "the truth is out there 1013";
    s.h.remember(fox_password);
    people::create(
        &s.h.state.db,
        &s.h.state.passwords,
        "root",
        &RequestMeta::default(),
        &PersonInput {
            username: "fox".into(),
            display_name: "Fox Mulder".into(),
            email: "fox@example.com".into(),
            password: fox_password.into(),
        },
    )
    .await
    .unwrap();
    // Fox signs in in one browser and gets an ID token.
    let mut fox = Browser::default();
    let page = s.authorize(&mut fox, &s.app, "").await;
    let consent = s.sign_in_on(&mut fox, &page, "fox", fox_password).await;
    let done = s
        .submit(&mut fox, &consent, &[("clavis_action", "allow")])
        .await;
    let t = tokens(
        &s.exchange(&s.app, Some(&s.secret), &code_of(&done), VERIFIER)
            .await,
    );
    let fox_hint = t["id_token"].as_str().unwrap().to_string();
    // Dana is signed in in another; a logout with Fox's hint asks Dana, and the page does
    // not carry the ID token on.
    let (code, mut dana) = s.code_for(&s.app).await;
    let t = tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
    let dana_hint = t["id_token"].as_str().unwrap().to_string();
    let r = s
        .get(
            &mut dana,
            &format!("/oauth2/logout?id_token_hint={fox_hint}"),
        )
        .await;
    assert!(r.text().contains("<h1>Sign out?</h1>"), "{}", r.text());
    assert!(r.text().contains("Dana Scully"));
    assert!(!r.text().contains(&fox_hint));
    assert_eq!(s.audit_count("person.signed_out").await, 0);
    // The app posts the logout with Dana's own hint (OpenID Connect RP-Initiated Logout §2
    // asks for GET and POST). A form on the app's site arrives without the SameSite=Lax
    // cookie: the answer is the same request as a GET, and it decides nothing by itself. The
    // GET never carries the ID token (URLs end up in logs and history): it names the app.
    let body = format!(
        "id_token_hint={dana_hint}&post_logout_redirect_uri={}&state=s1",
        enc("https://app.example/bye")
    );
    let r =
        s.h.send(
            Request::post("/oauth2/logout")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, "https://app.example")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers.get(header::SET_COOKIE).is_none(),
        "a cross-site POST cleared a cookie"
    );
    let again = r.headers[header::LOCATION].to_str().unwrap().to_string();
    // A client_id that names another app than the hint's is refused, as on a GET.
    let mismatch = format!("id_token_hint={dana_hint}&client_id={}", s.spa);
    let r2 =
        s.h.send(
            Request::post("/oauth2/logout")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(mismatch))
                .unwrap(),
        )
        .await;
    assert_eq!(r2.status, StatusCode::BAD_REQUEST, "{}", r2.text());
    assert!(!again.contains(&dana_hint), "{again}");
    assert!(!again.contains("id_token_hint"), "{again}");
    assert!(again.contains(&format!("client_id={}", s.app)), "{again}");
    assert_eq!(s.audit_count("person.signed_out").await, 0);
    // The browser follows it with its cookie, and the person is asked, for that app.
    let page = s.get(&mut dana, &again).await;
    assert!(
        page.text()
            .contains("<strong>Orders web</strong> asks to sign you out"),
        "{}",
        page.text()
    );
    assert!(!page.text().contains(&dana_hint));
    let r = s
        .submit(&mut dana, &page, &[("clavis_action", "sign_out")])
        .await;
    assert_eq!(location(&r).as_str(), "https://app.example/bye?state=s1");
    assert_eq!(s.audit_count("person.signed_out").await, 1);
    assert!(!s.signed_in(&mut dana).await);
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token_and_a_replay_still_revokes() {
    let s = setup().await;
    let mut b = Browser::default();
    let query = authorize_query(&s.spa, "").replace("%20offline_access", "");
    let page = s.get(&mut b, &format!("/oauth2/authorize?{query}")).await;
    let done = s.sign_in_and_allow(&mut b, page).await;
    let code = code_of(&done);
    let t = tokens(&s.exchange(&s.spa, None, &code, VERIFIER).await);
    assert_eq!(t["scope"], "openid profile email");
    assert!(t.get("refresh_token").is_none(), "{t}");
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(s.userinfo(access).await.status, StatusCode::OK);
    // A replay revokes the access token that the code gave, refresh token or not.
    assert_eq!(
        error_of(&s.exchange(&s.spa, None, &code, VERIFIER).await).1,
        "invalid_grant"
    );
    assert_eq!(s.userinfo(access).await.status, StatusCode::UNAUTHORIZED);

    // A refresh token from before refresh tokens needed offline_access ends, unchanged.
    let (code, _) = s.code_for(&s.app).await;
    let t = tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
    sqlx::query("UPDATE refresh_tokens SET scope = 'openid profile email'")
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    let old = t["refresh_token"].as_str().unwrap();
    assert_eq!(
        error_of(&s.refresh(&s.app, Some(&s.secret), old).await).1,
        "invalid_grant"
    );
    let used: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM refresh_tokens WHERE used_at IS NOT NULL")
            .fetch_one(&s.h.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        used, 0,
        "the old token was not rotated into a grant without refresh tokens"
    );
}

#[tokio::test]
async fn userinfo_without_openid_is_insufficient_scope_and_a_public_app_revokes_its_grant() {
    let s = setup().await;
    let (code, mut b) = s.code_for(&s.spa).await;
    let t = tokens(&s.exchange(&s.spa, None, &code, VERIFIER).await);
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    // An access token narrowed to profile: a good token, but not for userinfo.
    let narrowed = tokens(
        &s.h.post_form(
            "/oauth2/token",
            None,
            &format!(
                "grant_type=refresh_token&refresh_token={}&client_id={}&scope=profile",
                enc(&refresh),
                s.spa
            ),
        )
        .await,
    );
    let r = s.userinfo(narrowed["access_token"].as_str().unwrap()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let challenge = r.headers[header::WWW_AUTHENTICATE].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\", scope=\"openid\""),
        "{challenge}"
    );
    // Another app's revocation does nothing to it: it still refreshes.
    let refresh = narrowed["refresh_token"].as_str().unwrap();
    let other =
        s.h.post_form(
            "/oauth2/revoke",
            Some((&s.app, &s.secret)),
            &format!("token={}", enc(refresh)),
        )
        .await;
    assert_eq!(other.status, StatusCode::OK);
    let t = tokens(&s.refresh(&s.spa, None, refresh).await);
    let refresh = t["refresh_token"].as_str().unwrap();
    // The public app revokes its refresh token with its client_id alone (RFC 7009 §2.1
    // allows public clients), and the grant ends.
    let r =
        s.h.post_form(
            "/oauth2/revoke",
            None,
            &format!("token={}&client_id={}", enc(refresh), s.spa),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        error_of(&s.refresh(&s.spa, None, refresh).await).1,
        "invalid_grant"
    );
    assert_eq!(s.audit_count("token.revoked").await, 1);

    // The confidential app's grant: the public app's client_id cannot revoke it, and the
    // confidential app cannot revoke without its secret.
    let (code, _) = s.code_for(&s.app).await;
    let t = tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
    let theirs = t["refresh_token"].as_str().unwrap().to_string();
    let by_public = format!("token={}&client_id={}", enc(&theirs), s.spa);
    let r = s.h.post_form("/oauth2/revoke", None, &by_public).await;
    assert_eq!(r.status, StatusCode::OK);
    let without_secret = format!("token={}&client_id={}", enc(&theirs), s.app);
    let r = s.h.post_form("/oauth2/revoke", None, &without_secret).await;
    assert_eq!(
        error_of(&r),
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    let t = tokens(&s.refresh(&s.app, Some(&s.secret), &theirs).await);
    assert!(t["refresh_token"].is_string(), "the grant was revoked");
    assert_eq!(s.audit_count("token.revoked").await, 1);

    // HTTP Basic with an empty secret is how some libraries say `none`.
    let r = s.authorize(&mut b, &s.spa, "&prompt=none").await;
    let form = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(&code_of(&r)),
        enc(CB)
    );
    let r =
        s.h.post_form("/oauth2/token", Some((&s.spa, "")), &form)
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn a_grant_ends_ninety_days_after_its_code_however_often_it_refreshes() {
    use sqlx::Row;
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    let s = setup().await;
    let (code, _) = s.code_for(&s.spa).await;
    let t = tokens(&s.exchange(&s.spa, None, &code, VERIFIER).await);
    // 89 days in: the next token lives one more day, not thirty.
    sqlx::query("UPDATE refresh_tokens SET granted_at = granted_at - $1")
        .bind(89 * DAY_MS)
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    let t = tokens(
        &s.refresh(&s.spa, None, t["refresh_token"].as_str().unwrap())
            .await,
    );
    let left: i64 = sqlx::query(
        "SELECT MAX(expires_at) - MAX(created_at) AS left FROM refresh_tokens \
         WHERE used_at IS NULL",
    )
    .fetch_one(&s.h.state.db.pool)
    .await
    .unwrap()
    .try_get("left")
    .unwrap();
    assert!((DAY_MS - 5000..=DAY_MS).contains(&left), "{left}");
    // Past 90 days: refused, however fresh the token itself.
    sqlx::query("UPDATE refresh_tokens SET granted_at = granted_at - $1")
        .bind(2 * DAY_MS)
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        error_of(
            &s.refresh(&s.spa, None, t["refresh_token"].as_str().unwrap())
                .await
        )
        .1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_and_then_even_the_right_password_waits() {
    let s = setup().await;
    let mut b = Browser::default();
    let mut page = s.authorize(&mut b, &s.app, "").await;
    // The default limit: five failures per username in the window.
    for _ in 0..5 {
        page = s
            .sign_in_on(&mut b, &page, "dana", "not dana's password")
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text());
    }
    let r = s.sign_in_on(&mut b, &page, "dana", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    let retry: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(
        r.text().contains("Too many failed attempts"),
        "{}",
        r.text()
    );
    // The form is still there, with the username kept, and no session was made.
    assert!(r.text().contains("value=\"dana\""));
    assert!(!s.signed_in(&mut b).await);
    assert_eq!(s.audit_count("person.sign_in_failed").await, 5);
    assert_eq!(s.audit_count("person.signed_in").await, 0);
}

#[tokio::test]
async fn discovery_names_the_endpoints_and_what_they_support() {
    let s = setup().await;
    let r =
        s.h.send(
            Request::get("/.well-known/openid-configuration")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let d = r.json();
    assert_eq!(d["issuer"], ISSUER);
    assert_eq!(
        d["authorization_endpoint"],
        format!("{ISSUER}/oauth2/authorize")
    );
    assert_eq!(d["userinfo_endpoint"], format!("{ISSUER}/oauth2/userinfo"));
    assert_eq!(d["end_session_endpoint"], format!("{ISSUER}/oauth2/logout"));
    assert_eq!(d["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["subject_types_supported"], serde_json::json!(["public"]));
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(d["scopes_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == scope));
    }
}

#[tokio::test]
async fn an_authorizer_introspects_refresh_tokens_and_the_app_revokes_its_grant() {
    let s = setup().await;
    // The app's tokens are for the gateway's API.
    sqlx::query("UPDATE clients SET audience = 'orders-api' WHERE client_id = $1")
        .bind(&s.app)
        .execute(&s.h.state.db.pool)
        .await
        .unwrap();
    let input = app::authorizers::AuthorizerInput {
        name: "Orders gateway".into(),
        audience: "orders-api".into(),
        image: "registry.example/authorizer:1.4".into(),
        ..Default::default()
    };
    let (gw, gw_secret) = app::authorizers::service::create(
        &s.h.state.db,
        "root",
        &RequestMeta::default(),
        &input,
        ISSUER,
    )
    .await
    .unwrap();
    let gw_secret = gw_secret.secret;
    s.h.remember(&gw_secret);
    let (code, _) = s.code_for(&s.app).await;
    let t = tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    let introspect = |token: String| {
        let (gw, gw_secret) = (gw.client_id.clone(), gw_secret.clone());
        let h = &s.h;
        async move {
            h.post_form(
                "/oauth2/introspect",
                Some((&gw, &gw_secret)),
                &format!("token={}", enc(&token)),
            )
            .await
            .json()
        }
    };
    let about = introspect(refresh.to_string()).await;
    assert_eq!(about["active"], true, "{about}");
    assert_eq!(about["token_type"], "refresh_token");
    assert_eq!(about["client_id"], s.app.as_str());
    assert!(about["sub"].as_str().unwrap().starts_with("p_"));
    assert_eq!(introspect(access.to_string()).await["active"], true);
    // The app revokes the refresh token: the grant ends, its access token with it.
    let r =
        s.h.post_form(
            "/oauth2/revoke",
            Some((&s.app, &s.secret)),
            &format!("token={}", enc(refresh)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(introspect(refresh.to_string()).await["active"], false);
    assert_eq!(introspect(access.to_string()).await["active"], false);
    assert_eq!(
        error_of(&s.refresh(&s.app, Some(&s.secret), refresh).await).1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_password_reset_ends_the_grants_and_a_refused_scope_keeps_the_token() {
    let s = setup().await;
    let (code, _) = s.code_for(&s.spa).await;
    let t = tokens(&s.exchange(&s.spa, None, &code, VERIFIER).await);
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    // A scope beyond the grant: refused, and the token has not rotated.
    let wider =
        s.h.post_form(
            "/oauth2/token",
            None,
            &format!(
                "grant_type=refresh_token&refresh_token={}&client_id={}&scope=openid%20address",
                enc(&refresh),
                s.spa
            ),
        )
        .await;
    assert_eq!(error_of(&wider).1, "invalid_scope");
    let narrower =
        s.h.post_form(
            "/oauth2/token",
            None,
            &format!(
                "grant_type=refresh_token&refresh_token={}&client_id={}&scope=openid",
                enc(&refresh),
                s.spa
            ),
        )
        .await;
    let t = tokens(&narrower);
    assert_eq!(t["scope"], "openid");
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(s.userinfo(&access).await.status, StatusCode::OK);
    // A new password: the grant and its access token end at once.
    let new_password = "another correct horse staple";
    s.h.remember(new_password);
    people::reset_password(
        &s.h.state.db,
        &s.h.state.passwords,
        "root",
        &RequestMeta::default(),
        s.person_id,
        new_password,
    )
    .await
    .unwrap();
    assert_eq!(s.userinfo(&access).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        error_of(&s.refresh(&s.spa, None, &refresh).await).1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn consent_counts_only_for_the_person_it_was_shown_to() {
    let s = setup().await;
    let mut b = Browser::default();
    let page = s.authorize(&mut b, &s.app, "").await;
    let consent = s.sign_in_on(&mut b, &page, "dana", PASSWORD).await;
    // The page names the person it asks; an answer for someone else shows it again.
    let forged = consent.text().replace("value=\"p_", "value=\"x_");
    let forged = Reply {
        status: consent.status,
        headers: consent.headers.clone(),
        body: forged.into_bytes(),
    };
    let again = s
        .submit(&mut b, &forged, &[("clavis_action", "allow")])
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        again.text().contains("Allow Orders web"),
        "{}",
        again.text()
    );
    assert_eq!(s.audit_count("consent.granted").await, 0);
    code_of(
        &s.submit(&mut b, &again, &[("clavis_action", "allow")])
            .await,
    );
}

#[tokio::test]
async fn the_sign_in_pages_make_their_own_csrf_token_and_adopt_none() {
    let s = setup().await;
    const NAME: &str = "clavis_csrf";
    // A cookie some other page planted (a sibling subdomain, a network attacker on http).
    let planted = "A".repeat(43);
    let mut b = Browser::default();
    b.cookies.insert(NAME.into(), planted.clone());
    let page = s.authorize(&mut b, &s.app, "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let token = b.cookies[NAME].clone();
    assert_ne!(token, planted, "the planted cookie was adopted");
    assert!(page.text().contains(&token));
    assert!(!page.text().contains(&planted));
    // Whoever planted it cannot post the page's form with it: cookie and field agree, and
    // still the token is not one this server made.
    let mut attacker = Browser::default();
    attacker.cookies.insert(NAME.into(), planted.clone());
    let forged = Reply {
        status: page.status,
        headers: page.headers.clone(),
        body: page.text().replace(&token, &planted).into_bytes(),
    };
    let r = s.sign_in_on(&mut attacker, &forged, "dana", PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(s.audit_count("person.signed_in").await, 0);
    // The page's own token works.
    let consent = s.sign_in_on(&mut b, &page, "dana", PASSWORD).await;
    assert!(
        consent.text().contains("Allow Orders"),
        "{}",
        consent.text()
    );
}

#[tokio::test]
async fn a_loop_of_silent_requests_is_stopped_before_it_fills_the_codes_table() {
    let s = setup().await;
    let (_, mut b) = s.code_for(&s.app).await;
    let mut codes = 0;
    let mut refused = None;
    for _ in 0..(server::authorize::MAX_PER_SESSION + 5) {
        let r = s.authorize(&mut b, &s.app, "&prompt=none").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(r);
            break;
        }
        assert!(param(&location(&r), "code").is_some());
        codes += 1;
    }
    let r = refused.expect("the session's requests were never limited");
    assert!(
        codes < server::authorize::MAX_PER_SESSION as usize,
        "{codes}"
    );
    let wait: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        r.text().contains("Too many sign-in requests"),
        "{}",
        r.text()
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM authorization_codes")
        .fetch_one(&s.h.state.db.pool)
        .await
        .unwrap();
    assert!(
        stored <= i64::from(server::authorize::MAX_PER_SESSION),
        "{stored}"
    );
}

#[tokio::test]
async fn each_grant_is_counted_per_day_and_a_refused_one_is_not() {
    let s = setup().await;
    let db = &s.h.state.db;
    let (code, _) = s.code_for(&s.spa).await;
    let first = tokens(&s.exchange(&s.spa, None, &code, VERIFIER).await);
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    tokens(&s.refresh(&s.spa, None, &r1).await);
    let (code, _) = s.code_for(&s.app).await;
    assert_eq!(
        error_of(&s.exchange(&s.app, Some("wrong"), &code, VERIFIER).await).1,
        "invalid_client"
    );
    tokens(&s.exchange(&s.app, Some(&s.secret), &code, VERIFIER).await);
    s.h.state.secret_usage.flush(db).await.unwrap();

    // In the order of `UseKind::ALL`: client credentials, code, refresh, introspection.
    let today = |v: app::usage::UsageView| v.days.last().unwrap().counts;
    let spa = app::usage::service::daily(db, &s.spa, db.now())
        .await
        .unwrap();
    assert_eq!(today(spa), [0, 1, 1, 0]);
    let web = app::usage::service::daily(db, &s.app, db.now())
        .await
        .unwrap();
    assert_eq!(today(web), [0, 1, 0, 0]);
    // The confidential app's request names its secret; a public app has none.
    let policy = Policy {
        max_rotated: 2,
        default_grace_secs: None,
        unused_days: 7,
    };
    let view = secrets::overview(db, policy, &s.app).await.unwrap();
    assert_eq!(view.current.unwrap().share_pct, Some(100));
    for id in [&s.spa, &s.app] {
        assert!(
            clients::get(db, id).await.unwrap().last_used_at.is_some(),
            "{id}"
        );
    }
}
