//! `GET` and `POST /oauth2/logout`: RP-initiated logout (OpenID Connect RP-Initiated Logout
//! 1.0). It ends the person's session at Clavis and goes back to the app's registered
//! `post_logout_redirect_uri` (with `state`), or shows that they are signed out.
//!
//! A request must show that it comes from the app the person signed in to: an `id_token_hint`
//! that Clavis signed, about the person signed in now. Any other request (no hint, or a hint
//! about someone else) first asks the person, on a page whose form carries the CSRF token of
//! the sign-in pages, so that a link on any site cannot sign people out (§2, "the OP MUST ask
//! the End-User"). The page carries the app and the way back on, never the ID token.
//!
//! An app's `POST` (a form on its own site) arrives without the person's `SameSite=Lax`
//! cookie, so it is answered with a 303 to the same request as a `GET`, which has it. A
//! cross-site `POST` therefore decides nothing and clears no cookie by itself. That `GET`
//! never carries the ID token (a URL ends up in proxy logs and browser history): the hint is
//! checked on the `POST`, its app goes on as `client_id`, and the person is asked.
//!
//! A hint that cannot be verified (a key retired too long ago, a token from elsewhere) counts
//! as no hint: the person is asked. ID-token keys verify hints as long as a session can live.

use app::infra::state::AppState;
use app::oauth::{pages, userinfo};
use app::people::session;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;

use crate::authorize::{
    csrf_ok, csrf_token, form_action, html, meta, params, peer_ip, see_other, server_error,
};

/// What the person answered on the question page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    SignOut,
    Stay,
}

fn bad(message: &str) -> Response {
    html(StatusCode::BAD_REQUEST, pages::error(message), "'none'")
}

pub async fn logout(State(state): State<AppState>, req: Request) -> Response {
    let ip = peer_ip(&req);
    let (parts, body) = req.into_parts();
    let pairs = match params(&parts, body).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let headers = parts.headers;
    if parts.method == Method::POST && !pairs.iter().any(|(k, _)| k == "clavis_action") {
        return match as_get(&state, &pairs) {
            Some(uri) => see_other(&uri),
            None => bad("client_id differs from the app of the id_token_hint."),
        };
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };

    // The answer of Clavis's own question page, only from that page.
    let answer = match get("clavis_action").as_deref() {
        None => None,
        Some(a) => {
            let genuine = parts.method == Method::POST
                && csrf_ok(&state, &headers, &get("csrf").unwrap_or_default());
            if !genuine {
                return html(
                    StatusCode::FORBIDDEN,
                    pages::error(
                        "This page was open too long or came from another site. Sign out again from the app.",
                    ),
                    "'none'",
                );
            }
            match a {
                "sign_out" => Some(Answer::SignOut),
                _ => Some(Answer::Stay),
            }
        }
    };

    // The app: by the hint, or by client_id; both must agree.
    let hint = get("id_token_hint")
        .and_then(|t| userinfo::id_token_hint(&state.signing_keys, &t, &state.settings.issuer));
    let (hinted_client, hinted_subject) = hint.unzip();
    let client_id = match (hinted_client, get("client_id")) {
        (Some(a), Some(c)) if a != c => {
            return bad("client_id differs from the app of the id_token_hint.")
        }
        (Some(a), _) => Some(a),
        (None, c) => c,
    };
    let client = match &client_id {
        Some(id) => match app::clients::service::get(&state.db, id).await {
            Ok(c) if c.enabled => Some(c),
            Ok(_) | Err(app::infra::SvcError::App(_)) => None,
            Err(e) => {
                tracing::error!(error = %e, "logout: could not read the client");
                return server_error();
            }
        },
        None => None,
    };

    // The way back: registered by that app, exactly (no loopback exception here).
    let back_uri = get("post_logout_redirect_uri");
    let back = match &back_uri {
        None => None,
        Some(uri) => {
            let registered = client
                .as_ref()
                .is_some_and(|c| c.post_logout_redirect_uris.contains(uri));
            if !registered {
                return bad(
                    "The post_logout_redirect_uri is not one this app registered (or the request names no app).",
                );
            }
            let state_param = get("state");
            let params: Vec<(&str, &str)> = state_param
                .as_deref()
                .map(|s| vec![("state", s)])
                .unwrap_or_default();
            app::oauth::authorize::redirect_with(uri, &params)
        }
    };

    let token = session::token_from_headers(&headers, &state.settings);
    let person = match &token {
        Some(t) => match session::lookup(&state.db, &state.settings, t).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "logout: could not read the session");
                return server_error();
            }
        },
        None => None,
    };

    if answer == Some(Answer::Stay) {
        return match back {
            Some(uri) => see_other(&uri),
            None => html(StatusCode::OK, pages::still_signed_in(), "'none'"),
        };
    }
    if let Some(p) = &person {
        let from_the_app = hinted_subject.as_deref() == Some(p.subject.as_str());
        if !from_the_app && answer != Some(Answer::SignOut) {
            let mut carry: Vec<(String, String)> = Vec::new();
            for (name, value) in [
                ("client_id", client.as_ref().map(|c| c.client_id.clone())),
                ("post_logout_redirect_uri", back_uri.clone()),
                ("state", get("state")),
            ] {
                if let Some(v) = value {
                    carry.push((name.to_string(), v));
                }
            }
            let (csrf, csrf_cookie) = csrf_token(&state, &headers);
            let body = pages::sign_out_confirm(
                &p.display_name,
                client.as_ref().map(|c| c.name.as_str()),
                &carry,
                &csrf,
            );
            let sources = back
                .as_deref()
                .map(form_action)
                .unwrap_or_else(|| "'self'".to_string());
            let mut res = html(StatusCode::OK, body, &sources);
            if let Some(v) = csrf_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            return res;
        }
    }

    if let Some(t) = &token {
        let m = meta(&headers, ip);
        if let Err(e) = session::sign_out(&state.db, &state.settings, &m, t).await {
            tracing::error!(error = %e, "logout failed");
            return server_error();
        }
    }
    let mut res = match back {
        Some(uri) => see_other(&uri),
        None => html(StatusCode::OK, pages::signed_out(), "'none'"),
    };
    if token.is_some() {
        if let Ok(v) = HeaderValue::from_str(&session::clear_cookie(&state.settings)) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// The `GET` an app's `POST` is sent on to: the same request without `id_token_hint`, whose
/// app (when the hint verifies) is named by `client_id` instead. `None` when the request's
/// `client_id` names another app than the hint's (as the `GET` answers: 400).
fn as_get(state: &AppState, pairs: &[(String, String)]) -> Option<String> {
    let hinted = pairs
        .iter()
        .find(|(k, _)| k == "id_token_hint")
        .and_then(|(_, t)| userinfo::id_token_hint(&state.signing_keys, t, &state.settings.issuer))
        .map(|(client_id, _)| client_id);
    if let Some(h) = &hinted {
        let sent = pairs.iter().find(|(k, _)| k == "client_id");
        if sent.is_some_and(|(_, c)| !c.is_empty() && c != h) {
            return None;
        }
    }
    let mut carry: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, _)| k != "id_token_hint" && !(hinted.is_some() && k == "client_id"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Some(c) = hinted.as_deref() {
        carry.push(("client_id", c));
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(carry)
        .finish();
    Some(format!("/oauth2/logout?{query}"))
}
