//! `/api/v1/clients/{client_id}/secrets`: a client's secrets. Listing shows metadata only;
//! rotating answers with the new plaintext once (`no-store`); revealing a readable secret is for
//! administrators; revoking is open to support too.

use app::infra::edge;
use app::infra::state::AppState;
use app::secrets::sealed;
use app::secrets::service::{self as secrets, Grace, Policy};
use app::secrets::{parse_grace, UNTIL_REVOKED};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{HeaderMap, StatusCode};

use super::auth::Caller;
use super::extract::{idempotency_key, OptionalBody, Path};
use super::problem::{ApiResult, Denied, Details, Missing, Problem};
use super::wire::{Plaintext, Revealed, RevokedCount, Rotate, Rotated, Secret, SecretList};

#[utoipa::path(get, path = "/clients/{client_id}/secrets", tag = "secrets",
    params(("client_id" = String, Path)),
    responses(
        (status = 200, body = SecretList),
        Denied,
        Missing,
    ))]
/// A client's secrets, as metadata.
pub async fn list(
    caller: Caller,
    State(st): State<AppState>,
    Path(client_id): Path<String>,
) -> ApiResult<Json<SecretList>> {
    let policy = Policy::from(&*st.settings);
    let view = secrets::overview(&st.db, policy, &client_id)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(Json(SecretList {
        secrets: view
            .current
            .iter()
            .chain(&view.previous)
            .map(Secret::from)
            .collect(),
        max_rotated: view.max_rotated,
    }))
}

/// `30m`, `24h`, `7d`, `90s` or `until_revoked` as the console's grace value (seconds, or
/// `until_revoked`); `None` for the server's default.
fn grace_value(raw: Option<&str>) -> ApiResult<String> {
    let bad = || {
        Problem::field(
            "grace",
            "Give the grace period as 30m, 24h or 7d (one minute to 365 days), or until_revoked.",
        )
    };
    let Some(raw) = raw.map(str::trim) else {
        return Ok(String::new());
    };
    if raw == UNTIL_REVOKED {
        return Ok(raw.to_string());
    }
    let factor = match raw.chars().last() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3600,
        Some('d') => 86_400,
        _ => return Err(bad()),
    };
    // The unit is one ASCII byte, so this cuts at a character boundary.
    let digits = &raw[..raw.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(factor).map(|s| s.to_string()).ok_or_else(bad)
}

#[utoipa::path(post, path = "/clients/{client_id}/secrets/rotate", tag = "secrets", request_body(content = Option<Rotate>),
    params(("client_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body within 24 hours changes nothing and answers 409 already-applied")),
    responses(
        (status = 200, body = Rotated, description = "The new secret, in this answer only (`Cache-Control: no-store`)"),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
        Missing,
        (status = 409, body = Details, content_type = "application/problem+json", description = "Already applied (Idempotency-Key)"),
        (status = 415, body = Details, content_type = "application/problem+json"),
        (status = 422, body = Details, content_type = "application/problem+json", description = "The Idempotency-Key was used with another body"),
    ))]
/// Rotates a client's secret: the new one becomes current, the old one stays valid for the
/// grace period, and the oldest rotated secrets past the limit are revoked.
pub async fn rotate(
    caller: Caller,
    State(st): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    OptionalBody(body): OptionalBody<Rotate>,
) -> ApiResult<Response> {
    caller.admin()?;
    let fail = |e| Problem::from_svc(e, caller.meta.request_id.as_deref());
    let policy = Policy::from(&*st.settings);
    let grace = match parse_grace(
        &grace_value(body.grace.as_deref())?,
        policy.default_grace_secs,
    )? {
        Some(secs) => Grace::For(secs),
        None => Grace::UntilRevoked,
    };
    let content = ("rotate", &client_id, &body.grace);
    let meta = idempotency_key(caller.meta.clone(), &headers, &caller.actor, &content)?;
    let (issued, done) =
        secrets::rotate_reporting(&st.db, policy, &caller.actor, &meta, &client_id, grace)
            .await
            .map_err(fail)?;
    let body = Rotated {
        client_id,
        secret_id: done.secret_id,
        hint: issued.hint.clone(),
        client_secret: Plaintext(issued.secret.clone()),
        expires_at: issued.expires_at.map(super::wire::time),
        auto_revoked: done.auto_revoked,
    };
    let mut res = Json(body).into_response();
    edge::no_store_headers(res.headers_mut());
    Ok(res)
}

#[utoipa::path(post, path = "/clients/{client_id}/secrets/{secret_id}/revoke", tag = "secrets",
    params(("client_id" = String, Path), ("secret_id" = i64, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
        Missing,
        (status = 409, body = Details, content_type = "application/problem+json"),
    ))]
/// Revokes one rotated secret. Open to `clavis:support` too. Not the secret the caller's own
/// token was minted with (409): that would lock the caller out.
pub async fn revoke(
    caller: Caller,
    State(st): State<AppState>,
    Path((client_id, secret_id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    caller.keeps_own_secret(&client_id, &[secret_id])?;
    secrets::revoke(&st.db, &caller.actor, &caller.meta, &client_id, secret_id)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/clients/{client_id}/secrets/{secret_id}/reveal", tag = "secrets",
    params(("client_id" = String, Path), ("secret_id" = i64, Path)),
    responses(
        (status = 200, body = Revealed, description = "The plaintext, in this answer only (`Cache-Control: no-store`)"),
        Denied,
        Missing,
        (status = 409, body = Details, content_type = "application/problem+json", description = "Hash only (rotate to get a readable secret), or revoked or expired"),
    ))]
/// Reveals a valid secret stored readable (`client_secrets_stored_as_one_way_hash` false).
/// Needs `clavis:admin` and `clavis:reveal`, a scope a client holds only when given it
/// explicitly; audited as `secret.revealed`. A POST, so that no cache or proxy log keeps it.
pub async fn reveal(
    caller: Caller,
    State(st): State<AppState>,
    Path((client_id, secret_id)): Path<(String, i64)>,
) -> ApiResult<Response> {
    caller.revealer()?;
    let s = sealed::reveal(
        &st.db,
        &caller.actor,
        &caller.meta,
        &client_id,
        secret_id,
        None,
    )
    .await
    .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    let body = Revealed {
        client_id: s.client_id,
        secret_id,
        client_secret: Plaintext(s.secret),
        hint: s.hint,
    };
    let mut res = Json(body).into_response();
    edge::no_store_headers(res.headers_mut());
    Ok(res)
}

#[utoipa::path(post, path = "/clients/{client_id}/secrets/revoke-rotated", tag = "secrets",
    params(("client_id" = String, Path)),
    responses(
        (status = 200, body = RevokedCount),
        Denied,
        Missing,
        (status = 409, body = Details, content_type = "application/problem+json", description = "One of them minted the token of this request"),
    ))]
/// Revokes every rotated secret of a client; the current one stays. Open to `clavis:support` too.
/// Not when one of them minted the caller's own token (409): that would lock the caller out.
pub async fn revoke_rotated(
    caller: Caller,
    State(st): State<AppState>,
    Path(client_id): Path<String>,
) -> ApiResult<Json<RevokedCount>> {
    if let Some(own) = caller.secret_id.filter(|_| caller.client_id == client_id) {
        let rotated = app::secrets::verify::is_rotated(&st.db, own)
            .await
            .map_err(|e| Problem::from_svc(e.into(), caller.meta.request_id.as_deref()))?;
        if rotated {
            caller.keeps_own_secret(&client_id, &[own])?;
        }
    }
    let revoked = secrets::revoke_all_rotated(&st.db, &caller.actor, &caller.meta, &client_id)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(Json(RevokedCount { revoked }))
}

#[cfg(test)]
mod tests {
    use super::grace_value;

    #[test]
    fn grace_periods_read_as_seconds() {
        assert_eq!(grace_value(None).unwrap(), "");
        assert_eq!(grace_value(Some("24h")).unwrap(), "86400");
        assert_eq!(grace_value(Some("30m")).unwrap(), "1800");
        assert_eq!(grace_value(Some("7d")).unwrap(), "604800");
        assert_eq!(grace_value(Some("until_revoked")).unwrap(), "until_revoked");
        for bad in [
            "",
            "h",
            "-1h",
            "1.5h",
            "24",
            "1w",
            "99999999999999999999d",
            "\u{80}",
            "1\u{80}",
            "é",
        ] {
            assert!(grace_value(Some(bad)).is_err(), "{bad}");
        }
    }
}
