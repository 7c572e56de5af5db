//! Who calls the admin API: a client-credentials client, by an access token from Clavis's own
//! token endpoint (`Authorization: Bearer`), for the API's audience, with scope `clavis:admin`
//! (everything) or `clavis:support` (reads, and revoking rotated secrets), the console's two
//! roles. The client's state is read on every call, so that a token of a client disabled or
//! deleted since stops working at once, and so is its scope, so that taking the scope away
//! takes effect at once too. A token its client revoked (`POST /oauth2/revoke`) is refused, and
//! so is one whose minting secret has been revoked or has expired since. Revealing a readable
//! secret needs `clavis:reveal` besides `clavis:admin`.

use app::accounts::Role;
use app::clients::kind::ClientType;
use app::clients::service as clients;
use app::clients::ClientView;
use app::error::AppError;
use app::infra::state::AppState;
use app::infra::{edge, RequestMeta, SvcError};
use app::oauth::access::{self, ADMIN_SCOPE, REVEAL_SCOPE, SUPPORT_SCOPE};
use app::oauth::introspect;
use axum::extract::FromRequestParts;
use http::header::AUTHORIZATION;
use http::request::Parts;

use super::problem::Problem;

/// An authenticated caller of the API.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The client whose token this is.
    pub client_id: String,
    pub role: Role,
    /// The token carries `clavis:reveal` and its client still holds it.
    pub may_reveal: bool,
    /// The secret the token was minted with (tokens from before the claim have none).
    pub secret_id: Option<i64>,
    /// How the audit log names it: `client:<client_id>`.
    pub actor: String,
    pub meta: RequestMeta,
}

impl Caller {
    /// Refuses to lock the caller out: it may not disable or delete the client of its own
    /// token (another client, or the console, can).
    pub fn not_itself(&self, client_id: &str, what: &str) -> Result<(), Problem> {
        if self.client_id != client_id {
            return Ok(());
        }
        Err(Problem::new(
            http::StatusCode::CONFLICT,
            "conflict",
            "Conflict",
            format!(
                "This is the client of the token in this request: {what} it would lock this caller \
                 out. Use another client's token, or the console."
            ),
        ))
    }

    /// Refuses to revoke the secret this request's token was minted with (one of
    /// `revoking`, secrets of `client_id`): the token dies with it, so the caller would lock
    /// itself out, as with `not_itself`.
    pub fn keeps_own_secret(&self, client_id: &str, revoking: &[i64]) -> Result<(), Problem> {
        match self.secret_id {
            Some(own) if self.client_id == client_id && revoking.contains(&own) => {
                Err(Problem::new(
                    http::StatusCode::CONFLICT,
                    "conflict",
                    "Conflict",
                    "This is the secret the token of this request was minted with: revoking it \
                     would lock this caller out. Get a token with another secret of this client \
                     (or use another client's token), then revoke it."
                        .to_string(),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Refuses to give `clavis:reveal` to a client that does not hold it yet (`had` false; a new
    /// client has nothing) unless this caller holds it too: otherwise an administrator's token
    /// could give the scope to itself, or to a client it makes, and reveal after all.
    pub fn may_grant(&self, scopes: &str, had: bool) -> Result<(), Problem> {
        let grants = scopes.split_whitespace().any(|s| s == REVEAL_SCOPE);
        if grants && !had && !self.may_reveal {
            return Err(Problem::insufficient_scope(&[REVEAL_SCOPE]));
        }
        Ok(())
    }

    /// Refuses a caller without `clavis:admin`.
    pub fn admin(&self) -> Result<(), Problem> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Support => Err(Problem::insufficient_scope(&[ADMIN_SCOPE])),
        }
    }

    /// Refuses a caller without both `clavis:admin` and `clavis:reveal`.
    pub fn revealer(&self) -> Result<(), Problem> {
        self.admin()?;
        if self.may_reveal {
            Ok(())
        } else {
            Err(Problem::insufficient_scope(&[REVEAL_SCOPE]))
        }
    }
}

/// The token of `Authorization: Bearer <token>`; `Err(())` for another scheme or a malformed header.
fn bearer(parts: &Parts) -> Option<Result<&str, ()>> {
    let value = parts.headers.get(AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, token)| {
                scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
            })
            .map(|(_, token)| token.trim())
            .ok_or(()),
    )
}

/// A bearer token that verified for the API's audience, of a client that is still enabled and
/// of type client credentials, and not revoked: the token, its client and the request's meta.
pub async fn verified_client(
    parts: &Parts,
    st: &AppState,
) -> Result<(access::VerifiedToken, ClientView, RequestMeta), Problem> {
    let token = match bearer(parts) {
        None => return Err(Problem::unauthorized(false)),
        Some(Err(())) => return Err(Problem::unauthorized(true)),
        Some(Ok(t)) => t,
    };
    let issuer = &st.settings.issuer;
    let verified = access::verify(
        &st.signing_keys,
        token,
        issuer,
        &access::api_audience(issuer),
    )
    .ok_or_else(|| Problem::unauthorized(true))?;
    let meta = edge::request_meta(parts);
    let client = match clients::get(&st.db, &verified.client_id).await {
        Ok(c) => c,
        Err(SvcError::App(AppError::NotFound(_))) => return Err(Problem::unauthorized(true)),
        Err(e) => return Err(Problem::from_svc(e, meta.request_id.as_deref())),
    };
    if !client.enabled || client.client_type != ClientType::ClientCredentials {
        return Err(Problem::unauthorized(true));
    }
    // A token its client revoked (RFC 7009) stops working at once, here too.
    match introspect::is_revoked(&st.db, &verified.jti).await {
        Ok(false) => {}
        Ok(true) => return Err(Problem::unauthorized(true)),
        Err(e) => return Err(Problem::from_svc(e, meta.request_id.as_deref())),
    }
    // So does a token whose secret was revoked or expired since it was minted. Tokens from
    // before the claim existed name no secret; they expire within `access_token_ttl`.
    if let Some(secret_id) = verified.secret_id {
        let now = app::infra::db::now_ms();
        match app::secrets::verify::still_valid(&st.db, &client.client_id, secret_id, now).await {
            Ok(true) => {}
            Ok(false) => return Err(Problem::unauthorized(true)),
            Err(e) => return Err(Problem::from_svc(e.into(), meta.request_id.as_deref())),
        }
    }
    Ok((verified, client, meta))
}

/// Whether the token carries `scope` and its client still holds it.
pub fn holds(token: &access::VerifiedToken, client: &ClientView, scope: &str) -> bool {
    token.scopes.iter().any(|s| s == scope) && client.scopes.iter().any(|s| s == scope)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Problem> {
        let (verified, client, meta) = verified_client(parts, st).await?;
        // A scope counts only while the client still has it.
        let role = if holds(&verified, &client, ADMIN_SCOPE) {
            Role::Admin
        } else if holds(&verified, &client, SUPPORT_SCOPE) {
            Role::Support
        } else {
            return Err(Problem::insufficient_scope(&[ADMIN_SCOPE, SUPPORT_SCOPE]));
        };
        Ok(Caller {
            may_reveal: holds(&verified, &client, REVEAL_SCOPE),
            secret_id: verified.secret_id,
            actor: format!("client:{}", client.client_id),
            client_id: client.client_id,
            role,
            meta,
        })
    }
}
