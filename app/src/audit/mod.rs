//! The audit log: who did what to which thing, when, and from where.
//!
//! This file: the events as the console shows them, the filter, the list of actions, and the
//! rule for reading the filter's times. Shared by the browser and the server.
//!
//! - `api`: the server functions (both roles may read the log).
//! - `ui`: the `/audit` page.
//! - `service` (server): recording an event inside the caller's transaction, and the query.

pub mod api;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The actor recorded for what the server does by itself (such as an expiry).
pub const SYSTEM_ACTOR: &str = "system";

/// One audit event as shown on `/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

/// A page of audit events, newest first. `next_before` is the cursor for the next (older) page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_before: Option<i64>,
}

/// Filters for the audit log. Times are unix milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Events about one thing (an account name or a client id).
    pub target: Option<String>,
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub before: Option<i64>,
}

impl AuditFilter {
    /// The rules of a filter, for every caller (console and API): an action from the list,
    /// names of at most 200 characters, and "to" not before "from".
    pub fn check(&self) -> Result<(), AppError> {
        if let Some(a) = self.action.as_deref().filter(|a| !a.is_empty()) {
            if !AUDIT_ACTIONS.contains(&a) {
                return Err(AppError::validation(
                    "action",
                    "Choose an action from the list.",
                ));
            }
        }
        for (field, value, what) in [
            ("actor", &self.actor, "An actor name"),
            ("target", &self.target, "A target"),
        ] {
            if value.as_deref().is_some_and(|v| v.chars().count() > 200) {
                return Err(AppError::validation(
                    field,
                    format!("{what} has at most 200 characters."),
                ));
            }
        }
        if let (Some(f), Some(t)) = (self.from, self.to) {
            if f > t {
                return Err(AppError::validation("to", "“To” must be after “From”."));
            }
        }
        Ok(())
    }
}

/// Every action name the audit log records, for the filter's choice list.
pub const AUDIT_ACTIONS: &[&str] = &[
    "auth.sign_in",
    "auth.sign_in_failed",
    // A sign-in whose outcome was never recorded (the server stopped half-way).
    "auth.sign_in_attempt",
    "auth.sign_out",
    // The password asked again before a sensitive step (revealing a secret).
    "auth.step_up",
    "account.created",
    "account.role_changed",
    "account.disabled",
    "account.enabled",
    "account.password_reset",
    "application.created",
    "authorizer.created",
    "authorizer.updated",
    "authorizer.deleted",
    "person.created",
    "person.disabled",
    "person.enabled",
    "person.password_reset",
    "client.created",
    "client.updated",
    "client.disabled",
    "client.enabled",
    "client.deleted",
    "secret.created",
    "secret.rotated",
    "secret.revoked",
    "secret.auto_revoked",
    "secret.expired",
    "secret.revealed",
    "secret.sealed_copies_erased",
    "signing_key.rotated",
    "token.auth_failed",
    "token.revoked",
    "webhook.created",
    "webhook.updated",
    "webhook.deleted",
    "webhook.secret_rotated",
    "webhook.previous_secret_ended",
    "webhook.tested",
    "webhook.redelivered",
];

/// Parses a `datetime-local` value (`2026-11-23T14:05`, taken as UTC) to unix milliseconds.
pub fn parse_local_time(field: &str, raw: Option<&str>) -> Result<Option<i64>, AppError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let parsed = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"));
    match parsed {
        Ok(t) => Ok(Some(t.and_utc().timestamp_millis())),
        Err(_) => Err(AppError::validation(
            field,
            "Use a date and time like 2026-11-23T14:05 (UTC).",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times() {
        assert_eq!(parse_local_time("from", None), Ok(None));
        assert_eq!(parse_local_time("from", Some("  ")), Ok(None));
        assert_eq!(
            parse_local_time("from", Some("1970-01-01T00:01")),
            Ok(Some(60_000))
        );
        assert_eq!(
            parse_local_time("to", Some("1970-01-01T00:00:02")),
            Ok(Some(2_000))
        );
        assert!(matches!(
            parse_local_time("to", Some("yesterday")),
            Err(AppError::Validation { field, .. }) if field == "to"
        ));
    }
}
