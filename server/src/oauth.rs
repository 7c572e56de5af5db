//! The OAuth server's HTTP edge: `POST /oauth2/token` (every grant, RFC 6749 §4.4
//! and §5), `POST /oauth2/introspect` (RFC 7662), `POST /oauth2/revoke` (RFC 7009),
//! `GET /.well-known/jwks.json` and `GET /.well-known/oauth-authorization-server` (RFC 8414).
//!
//! A handler only reads the HTTP request (method, content type, size, form, Basic
//! credentials) and writes the answer, with one mapping of `TokenError` to a response; the
//! rules and the keys are the `app::oauth` domain.

use std::collections::HashMap;
use std::net::SocketAddr;

use app::infra::edge::no_store_headers;
use app::infra::state::AppState;
use app::infra::RequestMeta;
use app::oauth::introspect;
use app::oauth::keys;
use app::oauth::person_token;
use app::oauth::token::{issue, TokenContext};
use app::oauth::{Grant, TokenError, TokenRequest};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::{authorize, logout};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Every endpoint of the OAuth server: the token, introspection and revocation endpoints, the
/// authorization endpoint with the pages of people signing in (`authorize`), userinfo,
/// logout, and the documents that describe them.
pub fn routes() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/oauth2/token", post(token).fallback(token_wrong_method))
        .route("/oauth2/introspect", post(introspect).fallback(post_only))
        .route("/oauth2/revoke", post(revoke).fallback(post_only))
        .route(
            "/oauth2/authorize",
            get(authorize::authorize).post(authorize::authorize),
        )
        .route(
            "/oauth2/userinfo",
            get(authorize::userinfo).post(authorize::userinfo),
        )
        .route("/oauth2/logout", get(logout::logout).post(logout::logout))
        .route(app::oauth::pages::STYLESHEET, get(authorize::stylesheet))
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/.well-known/jwks.json", get(jwks))
}

/// Largest token request body read. A real request is a few hundred bytes.
pub const MAX_TOKEN_BODY: usize = 4 * 1024;
const REALM: &str = "Basic realm=\"clavis\", charset=\"UTF-8\"";

fn error_response(state: &AppState, e: &TokenError) -> Response {
    state.metrics.token_outcome(e.code());
    error_answer(e)
}

/// The answer for `e` (RFC 6749 §5.2), the same at every endpoint where a client authenticates.
fn error_answer(e: &TokenError) -> Response {
    let body = serde_json::json!({ "error": e.code(), "error_description": e.description() });
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (status, axum::Json(body)).into_response();
    no_store_headers(res.headers_mut());
    match e {
        TokenError::InvalidClient { basic: true } => {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(REALM));
        }
        TokenError::Throttled { retry_after_secs } => {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        TokenError::MethodNotAllowed => {
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        _ => {}
    }
    res
}

/// Decodes one half of Basic credentials: RFC 6749 §2.3.1 has the client form-urlencode the id
/// and the secret before Base64.
fn form_decode(s: &str) -> Option<String> {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// `Some((id, secret))` for well-formed Basic credentials, `Some(("", ""))` for malformed ones
/// (which then fail like any wrong secret), `None` when the header is not Basic.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let parsed = STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            Some((form_decode(id)?, form_decode(secret)?))
        });
    Some(parsed.unwrap_or_default())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The form parameters; a parameter given twice is refused (RFC 6749 §3.2).
fn parse_form(bytes: &[u8]) -> Result<HashMap<String, String>, TokenError> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(bytes) {
        if out.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(TokenError::InvalidRequest(
                "Each parameter may appear only once.",
            ));
        }
    }
    Ok(out)
}

/// Everything about the token request that does not need the database.
fn read_request(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<TokenRequest, TokenError> {
    let required = |name: &str, missing: &'static str| {
        form.get(name)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or(TokenError::InvalidRequest(missing))
    };
    let grant = match form.get("grant_type").map(String::as_str) {
        None | Some("") => {
            return Err(TokenError::InvalidRequest(
                "The grant_type parameter is missing.",
            ))
        }
        Some("client_credentials") => Grant::ClientCredentials,
        Some("authorization_code") => Grant::AuthorizationCode {
            code: required("code", "The code parameter is missing.")?,
            redirect_uri: required("redirect_uri", "The redirect_uri parameter is missing.")?,
            code_verifier: required(
                "code_verifier",
                "The code_verifier parameter is missing: PKCE is required.",
            )?,
        },
        Some("refresh_token") => Grant::RefreshToken {
            refresh_token: required("refresh_token", "The refresh_token parameter is missing.")?,
        },
        Some(_) => return Err(TokenError::UnsupportedGrantType),
    };
    Ok(TokenRequest {
        scope: form.get("scope").cloned(),
        grant,
        ..client_auth(headers, form)?
    })
}

/// The client's credentials: HTTP Basic (`client_secret_basic`) or the body
/// (`client_secret_post`), never both.
fn client_auth(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<TokenRequest, TokenError> {
    let body_id = form.get("client_id").cloned();
    let body_secret = form.get("client_secret").cloned();
    match basic_credentials(headers) {
        Some((id, secret)) => {
            if body_secret.is_some() {
                return Err(TokenError::InvalidRequest(
                    "Use one client authentication method: HTTP Basic or client_secret in the body, not both.",
                ));
            }
            if body_id.as_ref().is_some_and(|b| *b != id) {
                return Err(TokenError::InvalidRequest(
                    "The client_id in the body differs from the one in the Authorization header.",
                ));
            }
            Ok(TokenRequest {
                client_id: id,
                client_secret: secret,
                basic: true,
                ..Default::default()
            })
        }
        None => match (body_id, body_secret) {
            (Some(client_id), Some(client_secret)) => Ok(TokenRequest {
                client_id,
                client_secret,
                basic: false,
                ..Default::default()
            }),
            // No credentials, or an id alone (a public client): authentication fails.
            (id, _) => Ok(TokenRequest {
                client_id: id.unwrap_or_default(),
                basic: false,
                ..Default::default()
            }),
        },
    }
}

/// The caller's address, for the failure limits and the audit log.
fn peer_ip(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

/// Reads a form body: `application/x-www-form-urlencoded`, at most `MAX_TOKEN_BODY` bytes,
/// no parameter twice.
async fn read_form(req: Request) -> Result<(HeaderMap, HashMap<String, String>), TokenError> {
    let (parts, body) = req.into_parts();
    if !is_form(&parts.headers) {
        return Err(TokenError::InvalidRequest(
            "Send the request as application/x-www-form-urlencoded.",
        ));
    }
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_TOKEN_BODY) {
        return Err(TokenError::TooLarge);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TOKEN_BODY).await else {
        return Err(TokenError::TooLarge);
    };
    Ok((parts.headers, parse_form(&bytes)?))
}

fn context(state: &AppState) -> TokenContext<'_> {
    TokenContext {
        db: &state.db,
        settings: &state.settings,
        keys: &state.signing_keys,
        limiter: &state.token_limiter,
        failures: &state.token_failures,
        usage: &state.secret_usage,
    }
}

/// The `token` parameter of introspection and revocation, and the caller's credentials.
async fn token_and_caller(req: Request) -> Result<(String, TokenRequest), TokenError> {
    let (headers, form) = read_form(req).await?;
    let caller = client_auth(&headers, &form)?;
    match form.get("token").filter(|t| !t.is_empty()) {
        Some(t) => Ok((t.clone(), caller)),
        None => Err(TokenError::InvalidRequest(
            "The token parameter is missing.",
        )),
    }
}

/// `POST /oauth2/introspect` (RFC 7662), for clients with `clavis:introspect`.
pub async fn introspect(State(state): State<AppState>, req: Request) -> Response {
    let ip = peer_ip(&req);
    let (token, caller) = match token_and_caller(req).await {
        Ok(r) => r,
        Err(e) => return error_answer(&e),
    };
    match introspect::introspect(&context(&state), &caller, &token, &ip).await {
        Ok(answer) => {
            let mut res = axum::Json(answer).into_response();
            no_store_headers(res.headers_mut());
            res
        }
        Err(e) => error_answer(&e),
    }
}

/// `POST /oauth2/revoke` (RFC 7009): 200 for every token, once the caller is authenticated.
pub async fn revoke(State(state): State<AppState>, req: Request) -> Response {
    let meta = meta_of(&req);
    let (token, caller) = match token_and_caller(req).await {
        Ok(r) => r,
        Err(e) => return error_answer(&e),
    };
    match introspect::revoke(&context(&state), &caller, &token, &meta).await {
        Ok(()) => {
            let mut res = StatusCode::OK.into_response();
            no_store_headers(res.headers_mut());
            res
        }
        Err(e) => error_answer(&e),
    }
}

/// Any other method than POST on an endpoint where a client authenticates.
pub async fn post_only() -> Response {
    error_answer(&TokenError::MethodNotAllowed)
}

/// The request's address and id, for the limits and the audit log.
fn meta_of(req: &Request) -> RequestMeta {
    RequestMeta {
        ip: Some(peer_ip(req)),
        request_id: req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        once: None,
    }
}

/// `POST /oauth2/token`.
pub async fn token(State(state): State<AppState>, req: Request) -> Response {
    let meta = meta_of(&req);
    let ip = meta.ip.clone().unwrap_or_default();
    let request = match read_form(req)
        .await
        .and_then(|(headers, form)| read_request(&headers, &form))
    {
        Ok(r) => r,
        Err(e) => return error_response(&state, &e),
    };
    let cx = context(&state);
    let issued = match request.grant {
        Grant::ClientCredentials => issue(&cx, &request, &ip).await,
        _ => person_token::issue(&cx, &request, &meta).await,
    };
    match issued {
        Ok(t) => {
            state.metrics.token_outcome("issued");
            let mut res = axum::Json(t).into_response();
            no_store_headers(res.headers_mut());
            res
        }
        Err(e) => error_response(&state, &e),
    }
}

/// Any other method on the token endpoint.
pub async fn token_wrong_method(State(state): State<AppState>) -> Response {
    error_response(&state, &TokenError::MethodNotAllowed)
}

/// `GET /.well-known/jwks.json`: the keys that verify tokens still in use.
pub async fn jwks(State(state): State<AppState>) -> Response {
    match keys::jwks(&state.db, state.settings.access_token_ttl_secs).await {
        Ok(keys) => {
            let mut res = axum::Json(keys).into_response();
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                // A new key is published this long before it signs.
                HeaderValue::from_str(&format!("public, max-age={}", keys::JWKS_MAX_AGE_SECS))
                    .unwrap_or(HeaderValue::from_static("no-cache")),
            );
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "jwks failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
pub async fn metadata(State(state): State<AppState>) -> Response {
    discovery(&state).await
}

/// `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0): the same document.
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    discovery(&state).await
}

async fn discovery(state: &AppState) -> Response {
    let issuer = state.settings.issuer.trim_end_matches('/').to_string();
    let scopes = match state.token_scopes.get(&state.db).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "metadata failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let mut all_scopes: Vec<String> = app::oauth::authorize::PERSON_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    all_scopes.extend(scopes.iter().cloned());
    let client_auth = ["client_secret_basic", "client_secret_post"];
    let app_auth = ["client_secret_basic", "client_secret_post", "none"];
    let doc = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
        "end_session_endpoint": format!("{issuer}/oauth2/logout"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [app::oauth::id_keys::RS256],
        "token_endpoint_auth_methods_supported": app_auth,
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        "introspection_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "revocation_endpoint_auth_methods_supported": app_auth,
        "scopes_supported": all_scopes,
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash",
            "name", "preferred_username", "email", "email_verified"
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    axum::Json(doc).into_response()
}
