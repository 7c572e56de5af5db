//! `/api/v1/clients`: the client registry. Each handler authenticates the caller, checks its
//! role, reads the input and calls the same services as the console, with the same rules, the
//! same transactions and the same audit events.

use app::clients::kind::ClientType;
use app::clients::{search, service, ClientQuery, ClientSort, ClientView};
use app::infra::edge;
use app::infra::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::{ETAG, IF_MATCH, LOCATION};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::auth::Caller;
use super::extract::{idempotency_key, Body, Path, Query};
use super::problem::{ApiResult, Denied, Details, Missing, Problem};
use super::wire::{
    Client, ClientFilter, ClientList, ClientPatch, NewClient, NewClientCreated, Plaintext, Sort,
    Status,
};

/// A client as JSON, with its `ETag`.
pub fn with_etag(status: StatusCode, c: &ClientView, body: impl serde::Serialize) -> Response {
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&service::etag(c)) {
        res.headers_mut().insert(ETAG, v);
    }
    res
}

#[utoipa::path(get, path = "/clients", tag = "clients", params(ClientFilter),
    responses(
        (status = 200, body = ClientList),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
    ))]
/// Lists clients, with the console's filters, in pages.
pub async fn list(
    caller: Caller,
    State(st): State<AppState>,
    Query(f): Query<ClientFilter>,
) -> ApiResult<Json<ClientList>> {
    if f.limit.is_some_and(|l| !(1..=100).contains(&l)) {
        return Err(Problem::field("limit", "Choose a page size from 1 to 100."));
    }
    let query = ClientQuery {
        q: f.q,
        client_type: f.client_type.map(ClientType::from),
        application_id: f.application,
        enabled: f.status.map(|s| s == Status::Enabled),
        sort: match f.sort {
            Some(Sort::Newest) => ClientSort::Newest,
            _ => ClientSort::Name,
        },
        after: f.cursor,
        limit: f.limit,
    };
    let page = search::list(&st.db, &query).await.map_err(|e| {
        Problem::from_svc(e, caller.meta.request_id.as_deref()).renamed("after", "cursor")
    })?;
    Ok(Json(ClientList {
        clients: page.clients.iter().map(Client::from).collect(),
        next_cursor: page.next,
    }))
}

/// Checks the optional `grant_types` and `token_endpoint_auth_method` of a new client against
/// its type; `prefix` goes before the field's name (`clients.0.` in a preset).
pub fn check_metadata(new: &NewClient, prefix: &str) -> ApiResult<()> {
    let kind = ClientType::from(new.client_type);
    if let Some(g) = &new.grant_types {
        let mut given: Vec<&str> = g.iter().map(String::as_str).collect();
        let mut allowed = kind.grant_types().to_vec();
        given.sort_unstable();
        allowed.sort_unstable();
        if given != allowed {
            return Err(Problem::field(
                &format!("{prefix}grant_types"),
                format!(
                    "A {} client has the grant types {}.",
                    kind.label(),
                    kind.grant_types().join(" and ")
                ),
            ));
        }
    }
    if let Some(m) = &new.token_endpoint_auth_method {
        if !kind.token_endpoint_auth_methods().contains(&m.as_str()) {
            return Err(Problem::field(
                &format!("{prefix}token_endpoint_auth_method"),
                format!(
                    "A {} client authenticates with {}.",
                    kind.label(),
                    kind.token_endpoint_auth_methods().join(" or ")
                ),
            ));
        }
    }
    Ok(())
}

#[utoipa::path(post, path = "/clients", tag = "clients", request_body = NewClient,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body within 24 hours changes nothing and answers 409 already-applied")),
    responses(
        (status = 201, body = NewClientCreated, description = "Created; a confidential client's `client_secret` is in this answer only (`Cache-Control: no-store`)"),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
        Missing,
        (status = 409, body = Details, content_type = "application/problem+json", description = "A name in use, or already applied (Idempotency-Key)"),
        (status = 415, body = Details, content_type = "application/problem+json"),
        (status = 422, body = Details, content_type = "application/problem+json", description = "The Idempotency-Key was used with another body"),
    ))]
/// Creates a client; a confidential one comes with its first secret.
pub async fn create(
    caller: Caller,
    State(st): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewClient>,
) -> ApiResult<Response> {
    caller.admin()?;
    caller.may_grant(&new.input().scopes, false)?;
    check_metadata(&new, "")?;
    let content = ("create client", &new);
    let meta = idempotency_key(caller.meta.clone(), &headers, &caller.actor, &content)?;
    let (client, secret) = service::create_issuing(&st.db, &caller.actor, &meta, &new.input())
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    let secret_expires_at = secret
        .as_ref()
        .and_then(|s| s.expires_at)
        .map(super::wire::time);
    let body = NewClientCreated {
        client: Client::from(&client),
        client_secret: secret.map(|s| Plaintext(s.secret)),
        secret_expires_at,
    };
    let mut res = with_etag(StatusCode::CREATED, &client, body);
    let headers = res.headers_mut();
    edge::no_store_headers(headers);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/clients/{}", client.client_id)) {
        headers.insert(LOCATION, v);
    }
    Ok(res)
}

async fn find(st: &AppState, caller: &Caller, client_id: &str) -> ApiResult<ClientView> {
    service::get(&st.db, client_id)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))
}

#[utoipa::path(get, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path)),
    responses(
        (status = 200, body = Client, headers(("ETag" = String, description = "For If-Match on PATCH"))),
        Denied,
        Missing,
    ))]
/// Reads one client.
pub async fn get_one(
    caller: Caller,
    State(st): State<AppState>,
    Path(client_id): Path<String>,
) -> ApiResult<Response> {
    let c = find(&st, &caller, &client_id).await?;
    Ok(with_etag(StatusCode::OK, &c, Client::from(&c)))
}

#[utoipa::path(patch, path = "/clients/{client_id}", tag = "clients", request_body = ClientPatch,
    params(("client_id" = String, Path), ("If-Match" = String, Header, description = "The client's ETag")),
    responses(
        (status = 200, body = Client),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
        Missing,
        (status = 409, body = Details, content_type = "application/problem+json"),
        (status = 412, body = Details, content_type = "application/problem+json", description = "The client changed since its ETag was read"),
        (status = 415, body = Details, content_type = "application/problem+json"),
        (status = 428, body = Details, content_type = "application/problem+json", description = "If-Match is missing"),
    ))]
/// Changes a client: only the fields given. Needs `If-Match` with the client's `ETag`.
pub async fn patch(
    caller: Caller,
    State(st): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    Body(change): Body<ClientPatch>,
) -> ApiResult<Response> {
    caller.admin()?;
    // Several If-Match headers are one list (RFC 9110 §5.3).
    let expected: Vec<&str> = headers
        .get_all(IF_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if expected.is_empty() {
        return Err(Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "Precondition required",
            "Send If-Match with the ETag of the client as you read it.",
        ));
    }
    let current = find(&st, &caller, &client_id).await?;
    // The fields the patch leaves out come from `current`, read here: `*` then stands for
    // this very version, so that a change made since is never silently undone (412 instead).
    let expected = expected.join(", ");
    let expected = match expected.trim() {
        "*" => service::etag(&current),
        list => list.to_string(),
    };
    let input = change.input(&current);
    let had_reveal = current.scopes.iter().any(|s| s == "clavis:reveal");
    caller.may_grant(&input.scopes, had_reveal)?;
    let c = service::update_matching(
        &st.db,
        &caller.actor,
        &caller.meta,
        &client_id,
        &input,
        Some(&expected),
    )
    .await
    .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(with_etag(StatusCode::OK, &c, Client::from(&c)))
}

#[utoipa::path(delete, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path)),
    responses(
        (status = 204, description = "Deleted, with its secrets"),
        Denied,
        Missing,
        (status = 409, body = Details, content_type = "application/problem+json", description = "The client of the token in this request"),
    ))]
/// Deletes a client and its secrets.
pub async fn delete(
    caller: Caller,
    State(st): State<AppState>,
    Path(client_id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.admin()?;
    caller.not_itself(&client_id, "deleting")?;
    let current = find(&st, &caller, &client_id).await?;
    service::delete(
        &st.db,
        &caller.actor,
        &caller.meta,
        &client_id,
        &current.name,
    )
    .await
    .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_enabled(
    caller: Caller,
    st: AppState,
    client_id: String,
    enabled: bool,
) -> ApiResult<Response> {
    caller.admin()?;
    if !enabled {
        caller.not_itself(&client_id, "disabling")?;
    }
    let c = service::set_enabled(&st.db, &caller.actor, &caller.meta, &client_id, enabled)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(with_etag(StatusCode::OK, &c, Client::from(&c)))
}

#[utoipa::path(post, path = "/clients/{client_id}/enable", tag = "clients",
    params(("client_id" = String, Path)),
    responses(
        (status = 200, body = Client),
        Denied,
        Missing,
    ))]
/// Enables a client.
pub async fn enable(
    caller: Caller,
    State(st): State<AppState>,
    Path(client_id): Path<String>,
) -> ApiResult<Response> {
    set_enabled(caller, st, client_id, true).await
}

#[utoipa::path(post, path = "/clients/{client_id}/disable", tag = "clients",
    params(("client_id" = String, Path)),
    responses(
        (status = 200, body = Client),
        Denied,
        Missing,
        (status = 409, body = Details, content_type = "application/problem+json", description = "The client of the token in this request"),
    ))]
/// Disables a client: its secrets stop working at once, and so do its tokens at this API.
pub async fn disable(
    caller: Caller,
    State(st): State<AppState>,
    Path(client_id): Path<String>,
) -> ApiResult<Response> {
    set_enabled(caller, st, client_id, false).await
}
