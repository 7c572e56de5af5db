//! What Clavis sends to webhook endpoints, for the OpenAPI document's `webhooks` (OpenAPI 3.1):
//! the body of a delivery as a schema (`WebhookEvent`), the Standard Webhooks headers, and one
//! example per event type, built from the same types so that an example cannot say what the
//! schema does not allow. The outbox (`app::webhooks::outbox`) writes these bodies; the
//! webhook tests validate every delivery they receive against this schema.

use app::webhooks::EventType;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// The body of every webhook delivery. It never holds a secret, a hash or a password.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEvent {
    /// The event type.
    #[serde(rename = "type")]
    #[schema(schema_with = event_type)]
    pub kind: String,
    /// When the change committed (RFC 3339, UTC, milliseconds).
    #[schema(format = DateTime)]
    pub timestamp: String,
    pub data: EventData,
}

/// What the event is about. Only the members that apply to the type are present.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventData {
    /// Who made the change: an account's username, `client:{id}` for automation, or `system`
    /// for expiry notices.
    pub actor: String,
    /// The request that made the change (the `x-request-id` of its answer); null for notices.
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<EventClient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<EventSecret>,
    /// `secret.rotated`: the secret that was current before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<EventSecret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer: Option<EventAuthorizer>,
    /// `webhook.test`: the endpoint it was sent to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<EventWebhook>,
    /// `secret.expiring`: the threshold of `secret_expiry_notice` this notice is for, in seconds
    /// before the expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventClient {
    /// The client's `client_id`.
    pub id: String,
    /// Its name when the event was written.
    pub name: Option<String>,
}

/// A client secret, by its metadata only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSecret {
    /// The secret's id, as in `/api/v1/clients/{client_id}/secrets`.
    pub id: i64,
    /// Its last four characters.
    pub hint: String,
    /// When it expires; null when it does not.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventAuthorizer {
    pub id: i64,
    pub name: String,
    /// The `client_id` of the authorizer's own client.
    pub client_id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventWebhook {
    /// `wh_…`.
    pub id: String,
}

/// `type`: one of the event types.
fn event_type() -> impl Into<RefOr<utoipa::openapi::schema::Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(EventType::ALL.iter().map(|t| t.as_str())))
}

/// One event of type `kind` as a delivery would carry it, with made-up values.
pub fn example(kind: EventType) -> WebhookEvent {
    let client = || {
        Some(EventClient {
            id: "3b1f0c9e-7d2a-4c55-9a61-0e8f2d4b7c13".into(),
            name: Some("Billing worker".into()),
        })
    };
    let secret = |id, hint: &str, expires_at: Option<&str>| {
        Some(EventSecret {
            id,
            hint: hint.into(),
            expires_at: expires_at.map(Into::into),
        })
    };
    let by_admin = EventData {
        actor: "alice".into(),
        request_id: Some("01JEXAMPLE7W3Q8Z5K2M4N6P9R".into()),
        ..EventData::default()
    };
    let by_system = EventData {
        actor: "system".into(),
        request_id: None,
        ..EventData::default()
    };
    let expires = Some("2027-03-05T09:30:00.000Z");
    let data = match kind {
        EventType::SecretCreated | EventType::SecretRevoked => EventData {
            client: client(),
            secret: secret(42, "Xy7Q", expires),
            ..by_admin
        },
        EventType::SecretRotated => EventData {
            client: client(),
            secret: secret(43, "Pq4t", expires),
            previous_secret: secret(42, "Xy7Q", Some("2026-12-06T09:30:00.000Z")),
            ..by_admin
        },
        EventType::SecretExpiring => EventData {
            client: client(),
            secret: secret(42, "Xy7Q", expires),
            notice_seconds: Some(7 * 86_400),
            ..by_system
        },
        EventType::SecretExpired => EventData {
            client: client(),
            secret: secret(42, "Xy7Q", expires),
            ..by_system
        },
        EventType::ClientCreated
        | EventType::ClientUpdated
        | EventType::ClientDisabled
        | EventType::ClientEnabled
        | EventType::ClientDeleted => EventData {
            client: client(),
            ..by_admin
        },
        EventType::AuthorizerCreated | EventType::AuthorizerDeleted => EventData {
            client: Some(EventClient {
                id: "9c4e2a71-5b3d-4f08-8e16-2d7a0b9c5f41".into(),
                name: Some("Orders gateway".into()),
            }),
            authorizer: Some(EventAuthorizer {
                id: 7,
                name: "Orders gateway".into(),
                client_id: "9c4e2a71-5b3d-4f08-8e16-2d7a0b9c5f41".into(),
            }),
            ..by_admin
        },
        EventType::WebhookTest => EventData {
            webhook: Some(EventWebhook {
                id: "wh_5e0d8c2a9b7f4613".into(),
            }),
            ..by_admin
        },
    };
    WebhookEvent {
        kind: kind.as_str().into(),
        timestamp: "2026-12-05T09:30:00.000Z".into(),
        data,
    }
}

/// A Standard Webhooks header, as an OpenAPI parameter.
fn header(name: &str, description: &str, example: &str) -> Value {
    json!({
        "name": name, "in": "header", "required": true, "description": description,
        "schema": { "type": "string" }, "example": example,
    })
}

/// The document's `webhooks`: one entry per event type, a POST with the headers, the body's
/// schema and an example.
pub fn webhooks() -> Value {
    let headers = [
        header(
            "webhook-id",
            "The event's id, the same for every attempt and every endpoint: deduplicate on it.",
            "msg_6f1c0e8a2b9d4c7e5a3f1b0d8c6e4a2f",
        ),
        header(
            "webhook-timestamp",
            "When this attempt was signed, in unix seconds.",
            "1764927000",
        ),
        header(
            "webhook-signature",
            "Space-separated `v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` \
             under the signing secret's bytes (base64 after `whsec_`); two during the 24 hours after \
             a rotation.",
            "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        ),
    ];
    let mut all = serde_json::Map::new();
    for kind in EventType::ALL {
        let post = json!({
            "summary": format!("{}: {}", kind.as_str(), kind.description()),
            "operationId": format!("webhook_{}", kind.as_str().replace('.', "_")),
            "tags": ["webhooks"],
            "parameters": headers,
            "requestBody": {
                "required": true,
                "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/WebhookEvent" },
                    "example": example(kind),
                }},
            },
            "responses": {
                "2XX": { "description": "Received. Any other answer, or none within 10 seconds, is retried on `webhook_retry_schedule`." },
            },
            "security": [],
        });
        all.insert(kind.as_str().into(), json!({ "post": post }));
    }
    Value::Object(all)
}
