//! A picture of use: how many tokens each client got per day and grant, how many tokens each
//! authorizer checked, and which secret was presented. Kept for 90 days.
//!
//! - `recorder` (server): the batched writer of "last used" marks and daily counts, so that the
//!   token endpoint never writes per request.
//! - `service` (server): a client's last 30 days, each secret's share of the last 7, pruning.
//! - `api`: the server function of a client's use (both roles).
//! - `ui`: the chart of a client's page, drawn as SVG on the server, with its table.

pub mod api;
#[cfg(feature = "ssr")]
pub mod recorder;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

use serde::{Deserialize, Serialize};

/// How long daily counts are kept, in days.
pub const KEEP_DAYS: i64 = 90;
/// How many days a client's chart shows.
pub const CHART_DAYS: i64 = 30;
/// The window of a secret's share of requests, in days.
pub const SHARE_DAYS: i64 = 7;

const DAY_MS: i64 = 86_400_000;

/// Whole days since 1970-01-01 UTC of a time in unix ms.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// What a count counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UseKind {
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
    /// A token checked by an authorizer's client.
    Introspection,
}

impl UseKind {
    pub const ALL: [UseKind; 4] = [
        UseKind::ClientCredentials,
        UseKind::AuthorizationCode,
        UseKind::RefreshToken,
        UseKind::Introspection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UseKind::ClientCredentials => "client_credentials",
            UseKind::AuthorizationCode => "authorization_code",
            UseKind::RefreshToken => "refresh_token",
            UseKind::Introspection => "introspection",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        UseKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The column heading of the table under the chart.
    pub fn label(self) -> &'static str {
        match self {
            UseKind::ClientCredentials => "Client credentials",
            UseKind::AuthorizationCode => "Code",
            UseKind::RefreshToken => "Refresh",
            UseKind::Introspection => "Introspections",
        }
    }
}

/// One day of a client's use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayUse {
    /// Whole days since 1970-01-01 UTC.
    pub day: i64,
    /// Counts in the order of `UseKind::ALL`.
    pub counts: [i64; 4],
    /// Secrets rotated that day.
    pub rotations: u32,
    /// Secrets revoked that day (by a person, the rotation limit or a leak report).
    pub revocations: u32,
}

impl DayUse {
    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }
}

/// A client's last `CHART_DAYS` days, oldest first, every day present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    pub days: Vec<DayUse>,
}

impl UsageView {
    /// Which kinds appear at all, so that the table shows only columns with something in them.
    pub fn kinds(&self) -> Vec<UseKind> {
        UseKind::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.days.iter().any(|d| d.counts[*i] > 0))
            .map(|(_, k)| k)
            .collect()
    }
}

/// "2026-12-04" for a day number.
pub fn fmt_day(day: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day * DAY_MS)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_kinds() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(DAY_MS - 1), 0);
        assert_eq!(day_of(DAY_MS), 1);
        assert_eq!(day_of(-1), -1);
        assert_eq!(fmt_day(20_426), "2025-12-04");
        for k in UseKind::ALL {
            assert_eq!(UseKind::parse(k.as_str()), Some(k));
        }
        let v = UsageView {
            days: vec![DayUse {
                day: 1,
                counts: [0, 3, 0, 1],
                ..Default::default()
            }],
        };
        assert_eq!(
            v.kinds(),
            vec![UseKind::AuthorizationCode, UseKind::Introspection]
        );
        assert_eq!(v.days[0].total(), 4);
    }
}
