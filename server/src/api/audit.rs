//! `GET /api/v1/audit-events`: the audit log, with the console's filters, newest first.

use app::audit::{service, AuditEntry, AuditFilter};
use app::infra::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::extract::Query;
use super::problem::{ApiResult, Denied, Details, Problem};
use super::wire::time;

/// The filters of the audit log.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Who acted: an account's username, or `client:<client_id>` for an API client.
    pub actor: Option<String>,
    /// What it was about: an account name or a client id.
    pub target: Option<String>,
    /// One action, such as `secret.rotated`.
    pub action: Option<String>,
    /// From this time (RFC 3339).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Until this time (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    #[schema(format = DateTime)]
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

impl From<AuditEntry> for AuditEvent {
    fn from(e: AuditEntry) -> Self {
        AuditEvent {
            id: e.id,
            at: time(e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            ip: e.ip,
            detail: e.detail,
        }
    }
}

/// A page of events, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEvents {
    pub events: Vec<AuditEvent>,
    /// The cursor of the next (older) page; `null` on the last one.
    pub next_cursor: Option<String>,
}

fn ms(field: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
    raw.map(|r| {
        chrono::DateTime::parse_from_rfc3339(r)
            .map(|t| t.timestamp_millis())
            .map_err(|_| {
                Problem::field(
                    field,
                    "Give a time in RFC 3339, such as 2026-12-01T09:00:00Z.",
                )
            })
    })
    .transpose()
}

#[utoipa::path(get, path = "/audit-events", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, body = AuditEvents),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
    ))]
/// The audit log, newest first, with the console's filters, in pages.
pub async fn list(
    caller: Caller,
    State(st): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditEvents>> {
    let before =
        match q.cursor.as_deref() {
            None => None,
            Some(c) => Some(c.parse::<i64>().ok().filter(|b| *b > 0).ok_or_else(|| {
                Problem::field("cursor", "This cursor is not one this API gave.")
            })?),
        };
    let filter = AuditFilter {
        actor: q.actor,
        target: q.target,
        action: q.action,
        from: ms("from", q.from.as_deref())?,
        to: ms("to", q.to.as_deref())?,
        before,
    };
    filter.check().map_err(Problem::from)?;
    let page = service::query(&st.db, &filter)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    Ok(Json(AuditEvents {
        events: page.entries.into_iter().map(AuditEvent::from).collect(),
        next_cursor: page.next_before.map(|b| b.to_string()),
    }))
}
