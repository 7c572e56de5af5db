//! `GET /api/v1/authorizer/configuration`: what an authorizer enforces, for the authorizer
//! itself. The caller is the authorizer's own client, with a token of scope
//! `clavis:introspect`; the answer is its audience and the enabled clients whose tokens carry
//! it. Each call marks the authorizer active.

use app::authorizers::service as authorizers;
use app::infra::state::AppState;
use app::oauth::access::INTROSPECT_SCOPE;
use axum::extract::{FromRequestParts, State};
use axum::Json;
use http::request::Parts;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{holds, verified_client};
use super::problem::{ApiResult, Denied, Problem};

/// The authorizer whose client calls.
pub struct AuthorizerCaller(app::authorizers::AuthorizerView, Option<String>);

impl FromRequestParts<AppState> for AuthorizerCaller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Problem> {
        let (token, client, meta) = verified_client(parts, st).await?;
        if !holds(&token, &client, INTROSPECT_SCOPE) {
            return Err(Problem::insufficient_scope(&[INTROSPECT_SCOPE]));
        }
        match authorizers::for_client(&st.db, &client.client_id).await {
            Ok(Some(a)) => Ok(AuthorizerCaller(a, meta.request_id)),
            // A client with the scope that no authorizer owns has nothing to enforce.
            Ok(None) => Err(Problem::insufficient_scope(&[INTROSPECT_SCOPE])),
            Err(e) => Err(Problem::from_svc(e, meta.request_id.as_deref())),
        }
    }
}

/// A client whose tokens the authorizer lets through to its API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AllowedClient {
    pub client_id: String,
    pub client_name: String,
    /// Space-separated, as in RFC 7591.
    pub scope: String,
}

/// What the authorizer enforces.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorizerConfiguration {
    /// The `aud` its API accepts.
    pub audience: String,
    pub issuer: String,
    pub introspection_endpoint: String,
    pub clients: Vec<AllowedClient>,
}

#[utoipa::path(get, path = "/authorizer/configuration", tag = "authorizer",
    responses(
        (status = 200, body = AuthorizerConfiguration),
        Denied,
    ))]
/// What the calling authorizer enforces: its audience and the enabled clients whose tokens
/// carry it. For an authorizer's own client (scope `clavis:introspect`).
pub async fn configuration(
    AuthorizerCaller(a, request_id): AuthorizerCaller,
    State(st): State<AppState>,
) -> ApiResult<Json<AuthorizerConfiguration>> {
    let clients =
        authorizers::configuration(&st.db, &a, st.settings.access_token_audience.as_deref())
            .await
            .map_err(|e| Problem::from_svc(e, request_id.as_deref()))?;
    let issuer = st.settings.issuer.trim_end_matches('/').to_string();
    Ok(Json(AuthorizerConfiguration {
        audience: a.audience,
        introspection_endpoint: format!("{issuer}/oauth2/introspect"),
        issuer,
        clients: clients
            .into_iter()
            .map(|c| AllowedClient {
                client_id: c.client_id,
                client_name: c.name,
                scope: c.scopes.join(" "),
            })
            .collect(),
    }))
}
