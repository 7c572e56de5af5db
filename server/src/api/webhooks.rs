//! `/api/v1/webhooks`: endpoints that hear about changes, and their deliveries. Administrators
//! manage them; support staff may read them. Creating an endpoint and rotating its secret
//! answer with the signing secret, once (`no-store`).

use app::infra::edge;
use app::infra::state::AppState;
use app::webhooks::service as webhooks;
use app::webhooks::{Delivery, DeliveryState, Endpoint, EndpointInput};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::extract::{idempotency_key, Body, Path, Query};
use super::problem::{ApiResult, Denied, Details, Missing, Problem};
use super::wire::{time, Plaintext};

/// An endpoint. Its signing secret is never in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    /// `wh_…`.
    pub id: String,
    pub url: String,
    pub description: String,
    /// The event types it gets; empty for all.
    pub events: Vec<String>,
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// After a rotation of the signing secret: until when the previous one signs too.
    #[schema(format = DateTime)]
    pub previous_secret_until: Option<String>,
    /// Deliveries waiting to go out, and those that failed after every retry.
    pub pending_deliveries: i64,
    pub failed_deliveries: i64,
}

impl From<Endpoint> for Webhook {
    fn from(e: Endpoint) -> Self {
        Webhook {
            id: e.id,
            url: e.url,
            description: e.description,
            events: e.events,
            enabled: e.enabled,
            created_at: time(e.created_at),
            created_by: e.created_by,
            updated_at: time(e.updated_at),
            previous_secret_until: e.previous_secret_until.map(time),
            pending_deliveries: e.pending,
            failed_deliveries: e.failed,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
}

/// A new endpoint, or all of an endpoint's fields.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `https://…`, or `http://` to a loopback address.
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// Event types; empty or missing for all.
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// The fields to change; missing ones stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// An endpoint with its signing secret, in this answer only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it (Standard Webhooks).
    #[schema(value_type = String)]
    pub secret: Plaintext,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestSent {
    /// The `webhook-id` of the test event.
    pub event_id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptOut {
    #[schema(format = DateTime)]
    pub at: String,
    /// The HTTP status; `null` when no answer came.
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// A pending delivery's next attempt.
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    pub attempts: Vec<AttemptOut>,
}

impl From<Delivery> for DeliveryOut {
    fn from(d: Delivery) -> Self {
        DeliveryOut {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            state: d.state.as_str().into(),
            created_at: time(d.created_at),
            next_attempt_at: d.next_at.map(time),
            finished_at: d.finished_at.map(time),
            attempts: d
                .attempts
                .into_iter()
                .map(|a| AttemptOut {
                    at: time(a.at),
                    status: a.status,
                    latency_ms: a.latency_ms,
                    error: a.error,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryOut>,
    /// Pass as `before` for the next (older) page; `null` on the last one.
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `delivered` or `failed`.
    pub state: Option<String>,
    pub before: Option<i64>,
}

fn with_secret(e: Endpoint, secret: &secrecy::SecretString) -> Response {
    let body = WebhookWithSecret {
        webhook: e.into(),
        secret: Plaintext(secret.expose_secret().to_string()),
    };
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    edge::no_store_headers(res.headers_mut());
    res
}

#[utoipa::path(get, path = "/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList), Denied))]
/// Every webhook endpoint.
pub async fn list(caller: Caller, State(st): State<AppState>) -> ApiResult<Json<WebhookList>> {
    let all = webhooks::list(&st.db)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(Json(WebhookList {
        webhooks: all.into_iter().map(Webhook::from).collect(),
    }))
}

#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = NewWebhook,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = WebhookWithSecret, description = "The endpoint and its signing secret, in this answer only"),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
        (status = 409, body = Details, content_type = "application/problem+json", description = "Already applied (Idempotency-Key)"),
        (status = 415, body = Details, content_type = "application/problem+json"),
    ))]
/// Registers an endpoint. Its URL must be https, or http to a loopback address; link-local and
/// metadata addresses are refused, private ones unless `webhook_allow_private_networks`.
pub async fn create(
    caller: Caller,
    State(st): State<AppState>,
    headers: HeaderMap,
    Body(body): Body<NewWebhook>,
) -> ApiResult<Response> {
    caller.admin()?;
    let input = EndpointInput {
        url: body.url,
        description: body.description,
        events: body.events,
        enabled: body.enabled,
    };
    let meta = idempotency_key(
        caller.meta.clone(),
        &headers,
        &caller.actor,
        &("webhook.create", &input),
    )?;
    let s = &st.settings;
    let (endpoint, secret) = webhooks::create(
        &st.db,
        s.key_encryption_key.as_ref(),
        s.webhook_allow_private_networks,
        &caller.actor,
        &meta,
        &input,
    )
    .await
    .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(with_secret(endpoint, &secret))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = Webhook), Denied, Missing))]
/// One endpoint.
pub async fn get_one(
    caller: Caller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Webhook>> {
    let e = webhooks::get(&st.db, &id)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(Json(e.into()))
}

#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), request_body = WebhookPatch,
    responses(
        (status = 200, body = Webhook),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied, Missing,
        (status = 415, body = Details, content_type = "application/problem+json"),
    ))]
/// Changes an endpoint's URL, description, event types or whether it is enabled.
pub async fn patch(
    caller: Caller,
    State(st): State<AppState>,
    Path(id): Path<String>,
    Body(p): Body<WebhookPatch>,
) -> ApiResult<Json<Webhook>> {
    caller.admin()?;
    let fail = |e| Problem::from_svc(e, caller.meta.request_id.as_deref());
    let now = webhooks::get(&st.db, &id).await.map_err(fail)?;
    let input = EndpointInput {
        url: p.url.unwrap_or(now.url),
        description: p.description.unwrap_or(now.description),
        events: p.events.unwrap_or(now.events),
        enabled: p.enabled.unwrap_or(now.enabled),
    };
    let e = webhooks::update(
        &st.db,
        st.settings.webhook_allow_private_networks,
        &caller.actor,
        &caller.meta,
        &id,
        &input,
    )
    .await
    .map_err(fail)?;
    Ok(Json(e.into()))
}

#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted, with its deliveries"), Denied, Missing))]
/// Deletes an endpoint and its deliveries.
pub async fn delete(
    caller: Caller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.admin()?;
    webhooks::delete(&st.db, &caller.actor, &caller.meta, &id)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)),
    responses(
        (status = 201, body = WebhookWithSecret, description = "The new signing secret, in this answer only; the previous one signs too for 24 hours"),
        Denied, Missing,
    ))]
/// Makes a new signing secret. For 24 hours each delivery carries a signature with each
/// secret, so receivers can switch without losing one.
pub async fn rotate_secret(
    caller: Caller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.admin()?;
    let (e, secret) = webhooks::rotate_secret(
        &st.db,
        st.settings.key_encryption_key.as_ref(),
        &caller.actor,
        &caller.meta,
        &id,
    )
    .await
    .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(with_secret(e, &secret))
}

#[utoipa::path(delete, path = "/webhooks/{id}/previous-secret", tag = "webhooks", params(("id" = String, Path)),
    responses(
        (status = 200, body = Webhook, description = "Only the current signing secret signs from now on"),
        Denied, Missing,
        (status = 409, body = Details, content_type = "application/problem+json", description = "No previous secret signs any more"),
    ))]
/// Ends the previous signing secret before its 24 hours are over, once every receiver has
/// switched to the new one.
pub async fn end_previous_secret(
    caller: Caller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Webhook>> {
    caller.admin()?;
    let e = webhooks::end_previous_secret(&st.db, &caller.actor, &caller.meta, &id)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(Json(e.into()))
}

#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 202, body = TestSent), Denied, Missing))]
/// Sends a `webhook.test` event to this endpoint.
pub async fn test(
    caller: Caller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<TestSent>)> {
    caller.admin()?;
    let event_id = webhooks::send_test(&st.db, &caller.actor, &caller.meta, &id)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok((StatusCode::ACCEPTED, Json(TestSent { event_id })))
}

#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path), DeliveryQuery),
    responses(
        (status = 200, body = DeliveryList),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied, Missing,
    ))]
/// An endpoint's deliveries, newest first, with every attempt.
pub async fn deliveries(
    caller: Caller,
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let state = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            DeliveryState::parse(s)
                .ok_or_else(|| Problem::field("state", "Use pending, delivered or failed."))?,
        ),
    };
    let page = webhooks::deliveries(&st.db, &id, state, q.before)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(Json(DeliveryList {
        deliveries: page.deliveries.into_iter().map(DeliveryOut::from).collect(),
        next_before: page.next_before,
    }))
}

#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    params(("id" = String, Path), ("delivery_id" = i64, Path)),
    responses(
        (status = 202, description = "Queued again, from the start of the retry schedule"),
        Denied, Missing,
        (status = 409, body = Details, content_type = "application/problem+json", description = "Not a failed delivery"),
    ))]
/// Delivers a failed delivery again.
pub async fn redeliver(
    caller: Caller,
    State(st): State<AppState>,
    Path((id, delivery)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    caller.admin()?;
    webhooks::redeliver(&st.db, &caller.actor, &caller.meta, &id, delivery)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(StatusCode::ACCEPTED)
}
