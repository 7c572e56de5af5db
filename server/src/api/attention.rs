//! `GET /api/v1/attention`: what needs attention today, the Overview's groups, for dashboards
//! and scripts. Both roles may read it.

use app::attention::{self, service, AttentionItem, Group, Reason};
use app::infra::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::extract::Query;
use super::problem::{ApiResult, Denied, Details, Problem};
use super::wire::time;

/// A group of the Overview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupName {
    CannotGetTokens,
    ExpiringSoon,
    RotatedInUse,
    SafeToRevoke,
    IdleClients,
    NoExpiry,
}

impl From<GroupName> for Group {
    fn from(g: GroupName) -> Self {
        match g {
            GroupName::CannotGetTokens => Group::CannotGetTokens,
            GroupName::ExpiringSoon => Group::ExpiringSoon,
            GroupName::RotatedInUse => Group::RotatedInUse,
            GroupName::SafeToRevoke => Group::SafeToRevoke,
            GroupName::IdleClients => Group::IdleClients,
            GroupName::NoExpiry => Group::NoExpiry,
        }
    }
}

impl From<Group> for GroupName {
    fn from(g: Group) -> Self {
        match g {
            Group::CannotGetTokens => GroupName::CannotGetTokens,
            Group::ExpiringSoon => GroupName::ExpiringSoon,
            Group::RotatedInUse => GroupName::RotatedInUse,
            Group::SafeToRevoke => GroupName::SafeToRevoke,
            Group::IdleClients => GroupName::IdleClients,
            Group::NoExpiry => GroupName::NoExpiry,
        }
    }
}

/// Which groups, and which page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttentionQuery {
    /// One group only; needed with `cursor`.
    #[param(inline)]
    pub group: Option<GroupName>,
    /// Items per group, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the group's previous page.
    pub cursor: Option<String>,
}

/// Why an item is listed.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonName {
    SecretExpired,
    NoSecret,
    DisabledInUse,
    Expiring,
    RotatedInUse,
    UnusedRotated,
    NeverUsed,
    Unused,
    NoExpiry,
}

impl From<Reason> for ReasonName {
    fn from(r: Reason) -> Self {
        match r {
            Reason::SecretExpired => ReasonName::SecretExpired,
            Reason::NoSecret => ReasonName::NoSecret,
            Reason::DisabledInUse => ReasonName::DisabledInUse,
            Reason::Expiring => ReasonName::Expiring,
            Reason::RotatedInUse => ReasonName::RotatedInUse,
            Reason::UnusedRotated => ReasonName::UnusedRotated,
            Reason::NeverUsed => ReasonName::NeverUsed,
            Reason::Unused => ReasonName::Unused,
            Reason::NoExpiry => ReasonName::NoExpiry,
        }
    }
}

/// A client, and the secret it is about where there is one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Item {
    pub client_id: String,
    pub client_name: String,
    pub reason: ReasonName,
    pub secret_id: Option<i64>,
    /// The secret's last characters.
    pub secret_hint: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Whole days until `expires_at`, rounded up (0 once past).
    pub days_left: Option<i64>,
    /// The secret's last use, or the client's for a client item.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime)]
    pub rotated_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    /// Requests made with the secret over the last 7 days (rotated secrets).
    pub requests_7d: Option<i64>,
}

impl Item {
    fn new(i: AttentionItem, now: i64) -> Self {
        Item {
            client_id: i.client_id,
            client_name: i.client_name,
            reason: i.reason.into(),
            secret_id: i.secret_id,
            secret_hint: i.secret_hint,
            days_left: i.expires_at.map(|at| attention::days_left(at, now)),
            expires_at: i.expires_at.map(time),
            last_used_at: i.last_used_at.map(time),
            rotated_at: i.rotated_at.map(time),
            created_at: i.created_at.map(time),
            requests_7d: i.requests_7d,
        }
    }
}

/// One page of a group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupList {
    pub group: GroupName,
    /// Items in the whole group, counted up to 1000 (see `count_capped`).
    pub count: i64,
    /// The group has more than `count` items. The gauges of `/metrics` have the exact numbers.
    pub count_capped: bool,
    pub items: Vec<Item>,
    /// The cursor of the group's next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// The groups, in the Overview's order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttentionList {
    #[schema(format = DateTime)]
    pub now: String,
    /// `secret_max_lifetime` is set, so `no_expiry` lists secrets made before it.
    pub policy_set: bool,
    /// How far ahead `expiring_soon` looks, in seconds.
    pub notice_seconds: Option<i64>,
    /// `cannot_get_tokens` plus `expiring_soon`: the console's badge.
    pub urgent: i64,
    pub groups: Vec<GroupList>,
}

#[utoipa::path(get, path = "/attention", tag = "attention", params(AttentionQuery),
    responses(
        (status = 200, body = AttentionList),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
    ))]
/// What needs attention today: clients that cannot get tokens, secrets expiring soon, rotated
/// secrets still in use or safe to revoke, idle clients and secrets without expiry. Every group
/// with its first page, or one group (`group`) from `cursor` on.
pub async fn list(
    caller: Caller,
    State(st): State<AppState>,
    Query(q): Query<AttentionQuery>,
) -> ApiResult<Json<AttentionList>> {
    if q.cursor.is_some() && q.group.is_none() {
        return Err(Problem::field(
            "group",
            "Name the group whose next page this cursor is for.",
        ));
    }
    let a = service::attention(
        &st.db,
        &st.settings,
        q.group.map(Group::from),
        q.cursor.as_deref(),
        q.limit,
    )
    .await
    .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    let urgent = if q.group.is_none() {
        a.urgent_count()
    } else {
        service::urgent_count(&st.db, &st.settings)
            .await
            .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?
    };
    let now = a.now;
    Ok(Json(AttentionList {
        now: time(now),
        policy_set: a.policy_set,
        notice_seconds: a.notice_secs,
        urgent,
        groups: a
            .groups
            .into_iter()
            .map(|g| GroupList {
                group: g.group.into(),
                count: g.count,
                count_capped: g.count_capped,
                items: g.items.into_iter().map(|i| Item::new(i, now)).collect(),
                next_cursor: g.next,
            })
            .collect(),
    }))
}
