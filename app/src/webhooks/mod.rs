//! Webhooks: Clavis tells other systems what changed, and what is about to break.
//!
//! This file: the event types, an endpoint and its deliveries as the console and the API show
//! them, and the rules of an endpoint's fields. Shared by the browser and the server.
//!
//! - `service` (server): endpoints (create, change, rotate their secret, delete) and the
//!   deliveries' reads and redelivery.
//! - `outbox` (server): `emit`, which writes an event and its deliveries in the transaction of
//!   the change it describes, and the expiry notices.
//! - `dispatch` (server): the background task that delivers, retries and prunes; `send`
//!   (server): one attempt over HTTP.
//! - `sign` (server): the Standard Webhooks signature; `target` (server): where a delivery
//!   may go (https, no link-local or metadata addresses, private ones only when allowed).
//! - `api`: the console's server functions; `ui`: the Webhooks pages.

pub mod api;
#[cfg(feature = "ssr")]
pub mod dispatch;
#[cfg(feature = "ssr")]
pub mod outbox;
#[cfg(feature = "ssr")]
pub mod send;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod sign;
#[cfg(feature = "ssr")]
pub mod target;
pub mod ui;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What an event is about. The wire names are `as_str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    SecretCreated,
    SecretRotated,
    SecretRevoked,
    SecretExpiring,
    SecretExpired,
    ClientCreated,
    ClientUpdated,
    ClientDisabled,
    ClientEnabled,
    ClientDeleted,
    AuthorizerCreated,
    AuthorizerDeleted,
    WebhookTest,
}

impl EventType {
    pub const ALL: [EventType; 13] = [
        EventType::SecretCreated,
        EventType::SecretRotated,
        EventType::SecretRevoked,
        EventType::SecretExpiring,
        EventType::SecretExpired,
        EventType::ClientCreated,
        EventType::ClientUpdated,
        EventType::ClientDisabled,
        EventType::ClientEnabled,
        EventType::ClientDeleted,
        EventType::AuthorizerCreated,
        EventType::AuthorizerDeleted,
        EventType::WebhookTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::SecretCreated => "secret.created",
            EventType::SecretRotated => "secret.rotated",
            EventType::SecretRevoked => "secret.revoked",
            EventType::SecretExpiring => "secret.expiring",
            EventType::SecretExpired => "secret.expired",
            EventType::ClientCreated => "client.created",
            EventType::ClientUpdated => "client.updated",
            EventType::ClientDisabled => "client.disabled",
            EventType::ClientEnabled => "client.enabled",
            EventType::ClientDeleted => "client.deleted",
            EventType::AuthorizerCreated => "authorizer.created",
            EventType::AuthorizerDeleted => "authorizer.deleted",
            EventType::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// When it is sent, in a few words (the console's checkboxes).
    pub fn description(self) -> &'static str {
        match self {
            EventType::SecretCreated => "a client got its first secret",
            EventType::SecretRotated => "a secret was rotated",
            EventType::SecretRevoked => "a secret was revoked",
            EventType::SecretExpiring => "a current secret reached a notice before its expiry",
            EventType::SecretExpired => "a secret expired",
            EventType::ClientCreated => "a client was registered",
            EventType::ClientUpdated => "a client's settings changed",
            EventType::ClientDisabled => "a client was disabled",
            EventType::ClientEnabled => "a client was enabled",
            EventType::ClientDeleted => "a client was deleted",
            EventType::AuthorizerCreated => "an authorizer was added",
            EventType::AuthorizerDeleted => "an authorizer was deleted",
            EventType::WebhookTest => "someone sent a test from this page or the API",
        }
    }
}

/// An endpoint as the console and the API show it. The signing secret never is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `wh_…`.
    pub id: String,
    pub url: String,
    pub description: String,
    /// The wire names of the event types it wants; empty for all.
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    /// After a rotation of its secret: until when the previous one signs too.
    pub previous_secret_until: Option<i64>,
    pub pending: i64,
    pub failed: i64,
}

/// The answer that hands over an endpoint's new signing secret, once (after creating the
/// endpoint or rotating its secret). Its plaintext is in this answer only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningSecretOnce {
    pub endpoint_id: String,
    pub url: String,
    /// `whsec_…`.
    pub signing_secret: String,
    /// After a rotation: until when the previous secret signs too.
    pub previous_secret_until: Option<i64>,
    /// The endpoint's page, where "Done" leads.
    pub done_href: String,
}

/// What an administrator fills in for an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointInput {
    pub url: String,
    pub description: String,
    /// Wire names; empty for all.
    pub events: Vec<String>,
    pub enabled: bool,
}

/// The checked fields of an endpoint (the URL's addresses are checked by the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEndpoint {
    pub description: String,
    /// Sorted, without repeats; empty for all.
    pub events: Vec<EventType>,
}

impl EndpointInput {
    /// The rules that hold for every caller: a description of at most 500 characters and event
    /// types from the list.
    pub fn check(&self) -> Result<CheckedEndpoint, AppError> {
        let description = self.description.trim().to_string();
        if description.chars().count() > 500 {
            return Err(AppError::validation(
                "description",
                "A description has at most 500 characters.",
            ));
        }
        let mut events = Vec::new();
        for e in &self.events {
            let t = EventType::parse(e.trim()).ok_or_else(|| {
                AppError::validation(
                    "events",
                    format!("“{e}” is not an event type; choose from the list."),
                )
            })?;
            if !events.contains(&t) {
                events.push(t);
            }
        }
        events.sort_by_key(|t| t.as_str());
        Ok(CheckedEndpoint {
            description,
            events,
        })
    }
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One try at a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: i64,
    /// The HTTP status; `None` when no answer came.
    pub status: Option<i64>,
    pub latency_ms: i64,
    /// Why it did not count, in a few words.
    pub error: Option<String>,
}

/// An event's delivery to one endpoint, with its attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    /// The event's `webhook-id` (`msg_…`).
    pub event_id: String,
    pub event_type: String,
    pub created_at: i64,
    pub state: DeliveryState,
    pub next_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub attempts: Vec<Attempt>,
}

/// A page of deliveries, newest first; `next_before` continues it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    pub next_before: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_and_are_checked() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        let input = EndpointInput {
            events: vec![
                "secret.rotated".into(),
                "client.created".into(),
                "secret.rotated".into(),
            ],
            ..Default::default()
        };
        assert_eq!(
            input.check().unwrap().events,
            [EventType::ClientCreated, EventType::SecretRotated]
        );
        let bad = EndpointInput {
            events: vec!["secret.stolen".into()],
            ..Default::default()
        };
        assert!(bad.check().unwrap_err().field_message("events").is_some());
    }
}
