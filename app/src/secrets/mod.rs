//! Client secrets: the wire types (metadata only, plus the one response type that hands a new
//! plaintext to its creator) and the rules the browser and the server share (which secrets a
//! rotation revokes, when a rotated secret is safe to revoke, grace periods).
//!
//! - `downloads`: the `.env`, JSON and Kubernetes files of a new secret (dialog and no-JS page);
//!   `files`: whole generated files that hold one (an authorizer's configuration).
//! - `api`: the server functions (rotation for administrators; revoking rotated secrets for
//!   both roles).
//! - `ui`: the secrets panel of a client's page, and the one-time secret dialog.
//! - `format` (server): the secret format, its checksum, and its one-way hash.
//! - `service` (server): issue, rotate with the cap, revoke, expire, and the overview;
//!   `issue` (server): making a new secret, with its expiry;
//!   `owner` (server): the client row those rules read, and the page that shows its secrets.
//! - `verify` (server): checking a presented secret, for the token endpoint.
//! - `sealed` (server): the storage flag's sealed copies: revealing one, erasing them all;
//!   `reveal` (server): the console's reveal (password again, the authorizer file asked for).
//! - `one_time_page` (server): the answer that shows new secrets when JavaScript is off.

pub mod api;
pub mod downloads;
pub mod files;
#[cfg(feature = "ssr")]
pub mod format;
#[cfg(feature = "ssr")]
mod issue;
#[cfg(feature = "ssr")]
pub mod one_time_page;
#[cfg(feature = "ssr")]
mod owner;
#[cfg(feature = "ssr")]
pub mod reveal;
#[cfg(feature = "ssr")]
pub mod sealed;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;
#[cfg(feature = "ssr")]
pub mod verify;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How long a rotated secret stays valid, as the person rotating chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grace {
    /// Valid until someone revokes it.
    UntilRevoked,
    /// Valid for this many seconds after the rotation.
    For(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretState {
    /// The one secret a client uses now.
    Current,
    /// Replaced by a rotation, still valid until revoked or expired.
    Rotated,
    /// Revoked by a person or by the rotation limit. Never valid again.
    Revoked,
    /// Its grace period ended. Never valid again.
    Expired,
}

impl SecretState {
    pub fn label(self) -> &'static str {
        match self {
            SecretState::Current => "Current",
            SecretState::Rotated => "Rotated, still valid",
            SecretState::Revoked => "Revoked",
            SecretState::Expired => "Expired",
        }
    }
}

/// What the console may know about a secret: never its plaintext, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretMeta {
    pub id: i64,
    /// The last characters of the secret, to tell secrets apart.
    pub hint: String,
    pub state: SecretState,
    pub created_at: i64,
    pub created_by: String,
    pub rotated_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    /// "revoked", "rotation limit" or "expired".
    pub revoked_reason: Option<String>,
    pub last_used_at: Option<i64>,
    /// A rotated secret nobody has used since it was rotated, or for a while.
    pub safe_to_revoke: bool,
    /// A sealed copy exists (the storage flag was false when it was made), so an administrator
    /// can reveal it; false for a secret stored as its hash only.
    pub readable: bool,
    /// Its share of the client's requests made with a secret over the last 7 days, in
    /// percent; `None` when there were none.
    #[serde(default)]
    pub share_pct: Option<u32>,
    /// Whole days until `expires_at` when the view was read, rounded up; 0 once it has passed.
    /// Counted on the server, so that the page reads the same after hydration.
    #[serde(default)]
    pub days_left: Option<i64>,
}

/// The secrets of one client as its page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsView {
    /// False for public clients, which never have a secret.
    pub has_secret: bool,
    pub current: Option<SecretMeta>,
    /// Rotated secrets (newest first), then revoked and expired ones (newest first).
    pub previous: Vec<SecretMeta>,
    pub max_rotated: u32,
    pub default_grace_secs: Option<i64>,
    pub unused_days: i64,
    /// New secrets are stored readable (`client_secrets_stored_as_one_way_hash` is false).
    pub stored_readable: bool,
    /// The lifetime the client's next secret gets, in seconds; `None`: it will not expire.
    #[serde(default)]
    pub lifetime_secs: Option<i64>,
    /// The client cannot get tokens with a secret: it has a secret type, and its current
    /// secret is missing or past its expiry.
    #[serde(default)]
    pub cannot_authenticate: bool,
}

/// A newly issued secret in plaintext: the only type that carries one to a browser, in the one
/// response to the person who created or rotated it. Its `Debug` hides the value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedSecretOnce {
    pub client_id: String,
    pub client_name: String,
    pub secret: String,
    pub hint: String,
    /// When the secret stops working, when a lifetime applies (unix ms).
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for IssuedSecretOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSecretOnce")
            .field("client_id", &self.client_id)
            .field("hint", &self.hint)
            .finish_non_exhaustive()
    }
}

/// The answer of every call that issues secrets: the plaintexts to show once, and where to go
/// when the person is done. Without JavaScript the server turns it into a page (see
/// `one_time_page`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeSecrets {
    pub one_time_secrets: Vec<IssuedSecretOnce>,
    pub done_href: String,
    /// Whole configuration files with the new secret filled in (an authorizer's), offered
    /// next to it, in this answer only.
    #[serde(default)]
    pub files: Vec<files::ConfigFile>,
}

/// Which rotated secrets a rotation revokes. `rotated_newest_first` holds the valid rotated
/// secrets after the rotation, the secret just rotated first; the client keeps the newest
/// `cap` of them and the rest are revoked.
pub fn rotation_overflow<T: Clone>(rotated_newest_first: &[T], cap: u32) -> Vec<T> {
    rotated_newest_first
        .iter()
        .skip(cap as usize)
        .cloned()
        .collect()
}

const DAY_MS: i64 = 86_400_000;

/// A rotated secret is safe to revoke when nothing used it since its rotation, or nothing used
/// it in the last `unused_days` days.
pub fn is_safe_to_revoke(m: &SecretMeta, now: i64, unused_days: i64) -> bool {
    if m.state != SecretState::Rotated {
        return false;
    }
    match (m.last_used_at, m.rotated_at) {
        (None, _) => true,
        (Some(used), Some(rotated)) if used <= rotated => true,
        (Some(used), _) => used < now - unused_days * DAY_MS,
    }
}

/// The longest lifetime a secret may have: five years, in seconds.
pub const LIFETIME_MAX_SECS: i64 = 5 * 365 * 86_400;
/// The shortest: one minute.
pub const LIFETIME_MIN_SECS: i64 = 60;

/// Reads a client's `secret_lifetime` field: empty for none (the server's maximum applies), or
/// seconds from one minute up to the server's `secret_max_lifetime` (five years without one).
pub fn parse_lifetime(raw: &str, max: Option<i64>) -> Result<Option<i64>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let field = "secret_lifetime";
    let secs = raw.parse::<i64>().map_err(|_| {
        AppError::validation(
            field,
            "Enter the secret lifetime as a whole number of seconds (86400 is one day), or leave it empty.",
        )
    })?;
    if secs < LIFETIME_MIN_SECS {
        return Err(AppError::validation(
            field,
            "A secret lifetime is at least 60 seconds.",
        ));
    }
    let limit = max.unwrap_or(LIFETIME_MAX_SECS);
    if secs > limit {
        let why = match max {
            Some(_) => "the server's maximum (secret_max_lifetime)",
            None => "the longest lifetime Clavis allows",
        };
        return Err(AppError::validation(
            field,
            format!(
                "{} is longer than {why}, {} ({limit} seconds).",
                fmt_duration(secs),
                fmt_duration(limit)
            ),
        ));
    }
    Ok(Some(secs))
}

/// The lifetime a new secret of a client gets: its own, capped by the server's maximum, or the
/// maximum; `None` when neither is set.
pub fn effective_lifetime(client: Option<i64>, max: Option<i64>) -> Option<i64> {
    match (client, max) {
        (Some(c), Some(m)) => Some(c.min(m)),
        (c, m) => c.or(m),
    }
}

/// The grace periods offered when rotating, in seconds.
pub const GRACE_CHOICES: &[(i64, &str)] = &[
    (3600, "1 hour"),
    (86_400, "1 day"),
    (7 * 86_400, "7 days"),
    (30 * 86_400, "30 days"),
];
const GRACE_MAX_SECS: i64 = 365 * 86_400;
pub const UNTIL_REVOKED: &str = "until_revoked";

/// Reads the grace field of a rotation: `until_revoked`, a number of seconds (1 minute to
/// 365 days), or empty for the configured default. `None` means "until revoked".
pub fn parse_grace(raw: &str, default: Option<i64>) -> Result<Option<i64>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(default);
    }
    if raw == UNTIL_REVOKED {
        return Ok(None);
    }
    match raw.parse::<i64>() {
        Ok(secs) if (60..=GRACE_MAX_SECS).contains(&secs) => Ok(Some(secs)),
        _ => Err(AppError::validation(
            "grace",
            "Choose how long the old secret stays valid: until revoked, or from one minute to 365 days.",
        )),
    }
}

/// "2 hours", "7 days": a grace period for people.
pub fn fmt_duration(secs: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs % 86_400 == 0 {
        plural(secs / 86_400, "day")
    } else if secs % 3600 == 0 {
        plural(secs / 3600, "hour")
    } else if secs % 60 == 0 {
        plural(secs / 60, "minute")
    } else {
        plural(secs, "second")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotated(id: i64, rotated_at: i64, last_used_at: Option<i64>) -> SecretMeta {
        SecretMeta {
            id,
            hint: format!("h{id}"),
            state: SecretState::Rotated,
            created_at: 0,
            created_by: "a".into(),
            rotated_at: Some(rotated_at),
            expires_at: None,
            revoked_at: None,
            revoked_by: None,
            revoked_reason: None,
            last_used_at,
            safe_to_revoke: false,
            readable: false,
            share_pct: None,
            days_left: None,
        }
    }

    #[test]
    fn rotation_keeps_the_newest_up_to_the_cap() {
        // Newest first: the secret just rotated, then older rotated ones.
        let list = [4, 3, 2, 1];
        assert_eq!(rotation_overflow(&list, 0), vec![4, 3, 2, 1]);
        assert_eq!(rotation_overflow(&list, 1), vec![3, 2, 1]);
        assert_eq!(rotation_overflow(&list, 3), vec![1]);
        assert_eq!(rotation_overflow(&list, 4), Vec::<i32>::new());
        assert_eq!(rotation_overflow(&list[..1], 1), Vec::<i32>::new());
        assert_eq!(rotation_overflow(&[] as &[i32], 3), Vec::<i32>::new());
    }

    #[test]
    fn safe_to_revoke_rules() {
        let day = DAY_MS;
        let now = 100 * day;
        assert!(is_safe_to_revoke(&rotated(1, now - day, None), now, 7));
        assert!(
            is_safe_to_revoke(&rotated(1, now - day, Some(now - 2 * day)), now, 7),
            "last use before rotation"
        );
        assert!(
            !is_safe_to_revoke(&rotated(1, now - 20 * day, Some(now - day)), now, 7),
            "used recently"
        );
        assert!(
            is_safe_to_revoke(&rotated(1, now - 20 * day, Some(now - 8 * day)), now, 7),
            "unused for 8 days"
        );
        let mut current = rotated(1, 0, None);
        current.state = SecretState::Current;
        assert!(!is_safe_to_revoke(&current, now, 7));
    }

    #[test]
    fn grace_parsing() {
        assert_eq!(parse_grace("", None), Ok(None));
        assert_eq!(parse_grace("", Some(3600)), Ok(Some(3600)));
        assert_eq!(parse_grace(UNTIL_REVOKED, Some(3600)), Ok(None));
        assert_eq!(parse_grace("86400", None), Ok(Some(86_400)));
        for bad in ["59", "-1", "forever", "1e9", &(366 * 86_400).to_string()] {
            let e = parse_grace(bad, None).unwrap_err();
            assert!(e.field_message("grace").is_some(), "{bad}");
        }
        assert_eq!(fmt_duration(7 * 86_400), "7 days");
        assert_eq!(fmt_duration(3600), "1 hour");
        assert_eq!(fmt_duration(90), "90 seconds");
    }

    #[test]
    fn lifetime_parsing() {
        assert_eq!(parse_lifetime(" ", Some(3600)), Ok(None));
        assert_eq!(parse_lifetime("120", Some(3600)), Ok(Some(120)));
        assert_eq!(parse_lifetime("3600", Some(3600)), Ok(Some(3600)));
        assert_eq!(parse_lifetime("86400", None), Ok(Some(86_400)));
        let over = parse_lifetime("3601", Some(3600)).unwrap_err();
        assert!(over
            .field_message("secret_lifetime")
            .unwrap()
            .contains("secret_max_lifetime"));
        for bad in [
            "-60",
            "59",
            "ten",
            "1.5",
            &(LIFETIME_MAX_SECS + 1).to_string(),
        ] {
            let e = parse_lifetime(bad, None).unwrap_err();
            assert!(e.field_message("secret_lifetime").is_some(), "{bad}");
        }
        assert_eq!(effective_lifetime(Some(60), Some(120)), Some(60));
        assert_eq!(effective_lifetime(Some(600), Some(120)), Some(120));
        assert_eq!(effective_lifetime(None, Some(120)), Some(120));
        assert_eq!(effective_lifetime(Some(60), None), Some(60));
        assert_eq!(effective_lifetime(None, None), None);
    }

    #[test]
    fn debug_hides_the_plaintext() {
        let s = IssuedSecretOnce {
            client_id: "c".into(),
            client_name: "n".into(),
            secret: "clavis_cs_topsecret".into(),
            hint: "cret".into(),
            expires_at: None,
        };
        assert!(!format!("{s:?}").contains("topsecret"));
    }
}
