//! What needs attention today: the Overview page, `GET /api/v1/attention` and the gauges at
//! `/metrics` all read the same groups.
//!
//! - `api`: the server functions (both roles read; the actions are the secrets' and clients').
//! - `service` (server): the group queries, counted and paged.
//! - `ui`: the Overview page, and the badge of the navigation.

pub mod api;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

use serde::{Deserialize, Serialize};

/// A rotated secret used within this long is "still in use" (24 hours, in ms).
pub const IN_USE_MS: i64 = 86_400_000;
/// A disabled client used within this long "cannot get tokens" (7 days, in ms).
pub const RECENTLY_USED_MS: i64 = 7 * 86_400_000;
/// A client unused for this many days is idle.
pub const IDLE_DAYS: i64 = 90;
/// Items per page, by default and at most.
pub const PAGE_DEFAULT: u32 = 20;
pub const PAGE_MAX: u32 = 100;

/// The groups, in the order of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// The current secret expired or is missing, or the client was disabled while in use.
    CannotGetTokens,
    /// The current secret expires within the first notice window.
    ExpiringSoon,
    /// A rotated secret used since its rotation, in the last 24 hours.
    RotatedInUse,
    /// A rotated secret nobody has used since its rotation, or for `rotated_secret_unused_days`.
    SafeToRevoke,
    /// An enabled client never used, or unused for 90 days.
    IdleClients,
    /// A valid secret without an expiry while a lifetime policy is set.
    NoExpiry,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::CannotGetTokens,
        Group::ExpiringSoon,
        Group::RotatedInUse,
        Group::SafeToRevoke,
        Group::IdleClients,
        Group::NoExpiry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Group::CannotGetTokens => "cannot_get_tokens",
            Group::ExpiringSoon => "expiring_soon",
            Group::RotatedInUse => "rotated_in_use",
            Group::SafeToRevoke => "safe_to_revoke",
            Group::IdleClients => "idle_clients",
            Group::NoExpiry => "no_expiry",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Group::ALL.into_iter().find(|g| g.as_str() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            Group::CannotGetTokens => "Cannot get tokens now",
            Group::ExpiringSoon => "Expiring soon",
            Group::RotatedInUse => "Rotated but still in use",
            Group::SafeToRevoke => "Safe to revoke",
            Group::IdleClients => "Idle clients",
            Group::NoExpiry => "No expiry",
        }
    }

    /// The one line shown when the group is empty.
    pub fn empty_text(self) -> &'static str {
        match self {
            Group::CannotGetTokens => "Every client can get tokens.",
            Group::ExpiringSoon => "No secret expires within the notice window.",
            Group::RotatedInUse => "No rotated secret was used in the last 24 hours.",
            Group::SafeToRevoke => "No rotated secret is waiting to be revoked.",
            Group::IdleClients => "Every enabled client was used in the last 90 days.",
            Group::NoExpiry => "Every valid secret has an expiry.",
        }
    }

    /// Counted in the navigation's badge.
    pub fn urgent(self) -> bool {
        matches!(self, Group::CannotGetTokens | Group::ExpiringSoon)
    }
}

/// Why an item is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The current secret is past its expiry.
    SecretExpired,
    /// A client of a type with a secret has no current one.
    NoSecret,
    /// Disabled, yet used in the last 7 days.
    DisabledInUse,
    Expiring,
    RotatedInUse,
    UnusedRotated,
    NeverUsed,
    Unused,
    NoExpiry,
}

impl Reason {
    pub fn parse(s: &str) -> Option<Self> {
        use Reason::*;
        Some(match s {
            "secret_expired" => SecretExpired,
            "no_secret" => NoSecret,
            "disabled_in_use" => DisabledInUse,
            "expiring" => Expiring,
            "rotated_in_use" => RotatedInUse,
            "unused_rotated" => UnusedRotated,
            "never_used" => NeverUsed,
            "unused" => Unused,
            "no_expiry" => NoExpiry,
            _ => return None,
        })
    }
}

/// One client (and, where it is about a secret, that secret) in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionItem {
    pub client_id: String,
    pub client_name: String,
    pub reason: Reason,
    /// The secret it is about, by id and its last characters.
    pub secret_id: Option<i64>,
    pub secret_hint: Option<String>,
    /// Unix ms: the secret's expiry.
    pub expires_at: Option<i64>,
    /// Unix ms: the secret's last use, or the client's for client items.
    pub last_used_at: Option<i64>,
    pub rotated_at: Option<i64>,
    pub created_at: Option<i64>,
    /// Requests made with the secret over the last 7 days.
    pub requests_7d: Option<i64>,
}

/// One page of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPage {
    pub group: Group,
    /// Items in the whole group, counted up to `COUNT_CAP`.
    pub count: i64,
    /// The group has more than `count` items.
    pub count_capped: bool,
    pub items: Vec<AttentionItem>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
}

/// Every group, each with its first page (or the page asked for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    /// The server's time of the answer, unix ms; days left are counted from it.
    pub now: i64,
    /// A lifetime policy is set (`secret_max_lifetime`): "No expiry" is meaningful.
    pub policy_set: bool,
    /// The first notice window, in seconds ("Expiring soon" looks this far ahead).
    pub notice_secs: Option<i64>,
    pub unused_days: i64,
    pub groups: Vec<GroupPage>,
}

impl Attention {
    /// The badge of the navigation: the items of the urgent groups.
    pub fn urgent_count(&self) -> i64 {
        self.groups
            .iter()
            .filter(|g| g.group.urgent())
            .map(|g| g.count)
            .sum()
    }
}

/// Whole days from `now` to `at`, rounded up ("in 3 days"); 0 when past.
pub fn days_left(at: i64, now: i64) -> i64 {
    ((at - now).max(0) + 86_399_999) / 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_days_left_round_up() {
        for g in Group::ALL {
            assert_eq!(Group::parse(g.as_str()), Some(g));
        }
        assert_eq!(Group::parse("nope"), None);
        let day = 86_400_000;
        assert_eq!(days_left(10 * day, 10 * day), 0);
        assert_eq!(days_left(10 * day + 1, 10 * day), 1);
        assert_eq!(days_left(13 * day, 10 * day), 3);
        assert_eq!(days_left(5, 10), 0);
    }
}
