//! Wire types shared by the server and the browser, plus the input rules both sides apply.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What an account may do. Admins manage everything; support staff look and revoke rotated secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Support,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Support => "Support",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "support" => Ok(Role::Support),
            _ => Err(AppError::validation(
                "role",
                "Choose a role: admin or support.",
            )),
        }
    }
}

/// The signed-in account, as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub role: Role,
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// One row of the Accounts page. Never carries a password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
}

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

/// Every action name the audit log records, for the filter's choice list.
pub const AUDIT_ACTIONS: &[&str] = &[
    "auth.sign_in",
    "auth.sign_in_failed",
    "auth.sign_out",
    "account.created",
    "account.role_changed",
    "account.disabled",
    "account.enabled",
    "account.password_reset",
    "application.created",
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
    "signing_key.rotated",
    "token.auth_failed",
];

pub const USERNAME_MAX: usize = 64;
pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 128;

/// Usernames: 1–64 characters after trimming, letters, digits and `. _ - @`; stored lower-case.
pub fn normalize_username(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::validation("username", "Enter a username."));
    }
    if name.chars().count() > USERNAME_MAX {
        return Err(AppError::validation(
            "username",
            format!("A username has at most {USERNAME_MAX} characters."),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(AppError::validation(
            "username",
            "A username may contain only letters a–z, digits and . _ - @",
        ));
    }
    Ok(name.to_ascii_lowercase())
}

/// Passwords: 12–128 characters, not only whitespace. Length beats composition rules.
pub fn check_password(password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Err(AppError::validation(
            "password",
            format!("A password needs at least {PASSWORD_MIN} characters."),
        ));
    }
    if n > PASSWORD_MAX {
        return Err(AppError::validation(
            "password",
            format!("A password has at most {PASSWORD_MAX} characters."),
        ));
    }
    if password.trim().is_empty() {
        return Err(AppError::validation(
            "password",
            "A password cannot be only spaces.",
        ));
    }
    Ok(())
}

/// Formats unix milliseconds as `2026-11-23 14:05 UTC` for display.
pub fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "—".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("alice", Ok("alice")),
            ("  Alice.Ops@x-y_z  ", Ok("alice.ops@x-y_z")),
            ("", Err("Enter a username.")),
            ("   ", Err("Enter a username.")),
            (
                "a b",
                Err("A username may contain only letters a–z, digits and . _ - @"),
            ),
            (
                "<script>",
                Err("A username may contain only letters a–z, digits and . _ - @"),
            ),
            (
                "ålice",
                Err("A username may contain only letters a–z, digits and . _ - @"),
            ),
        ];
        for (input, want) in cases {
            let got = normalize_username(input);
            match want {
                Ok(v) => assert_eq!(got, Ok(v.to_string()), "input {input:?}"),
                Err(msg) => assert_eq!(
                    got,
                    Err(AppError::validation("username", *msg)),
                    "input {input:?}"
                ),
            }
        }
        let long = "a".repeat(USERNAME_MAX + 1);
        assert!(
            matches!(normalize_username(&long), Err(AppError::Validation { field, .. }) if field == "username")
        );
        assert!(normalize_username(&"a".repeat(USERNAME_MAX)).is_ok());
    }

    #[test]
    fn passwords() {
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(PASSWORD_MIN - 1)).is_err());
        assert!(check_password(&"x".repeat(PASSWORD_MIN)).is_ok());
        assert!(check_password(&"x".repeat(PASSWORD_MAX + 1)).is_err());
        assert!(check_password(&" ".repeat(20)).is_err());
        // Counted in characters, not bytes.
        assert!(check_password(&"é".repeat(PASSWORD_MIN)).is_ok());
    }

    #[test]
    fn roles_parse() {
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert_eq!("support".parse::<Role>(), Ok(Role::Support));
        assert!("root".parse::<Role>().is_err());
    }
}
