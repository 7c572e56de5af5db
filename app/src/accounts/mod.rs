//! Console accounts: roles, the account as the Accounts page shows it, and the username and
//! password rules that both the browser and the server apply.
//!
//! - `api`: the server functions of the Accounts page (administrators only).
//! - `ui`: the Accounts page.
//! - `service` (server): list, create, change role, disable, reset password, first-start
//!   bootstrap; the last-admin rule.
//! - `password` (server): argon2id hashing and verification.

pub mod api;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

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

/// A password as a server function receives it. The `#[server]` macro derives `Debug` for
/// its argument struct; this type keeps the password out of that output (and out of any log
/// line made from it). On the wire it is the plain string.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// The password itself, for the one check or hash that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(s: String) -> Self {
        Password(s)
    }
}

impl std::fmt::Debug for Password {
    // CAUTION: never the password, not even its length.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
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

/// What an account action did, for the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Created,
    Role,
    Disabled,
    Enabled,
    Password,
}

impl Done {
    pub const ALL: [Done; 5] = [
        Done::Created,
        Done::Role,
        Done::Disabled,
        Done::Enabled,
        Done::Password,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Done::Created => "created",
            Done::Role => "role",
            Done::Disabled => "disabled",
            Done::Enabled => "enabled",
            Done::Password => "password",
        }
    }

    pub fn text(self, who: &str, role: Role) -> String {
        match self {
            Done::Created => format!("Account {who} created."),
            Done::Role => format!("{who} is now {}.", role.label()),
            Done::Disabled => format!("{who} is now disabled."),
            Done::Enabled => format!("{who} is now enabled."),
            Done::Password => format!("The password of {who} was reset; their sessions ended."),
        }
    }
}

/// Where a plain form post (no JavaScript) lands after success: the page reads the outcome back
/// from the query. Usernames are limited to URL-safe characters.
#[cfg(feature = "ssr")]
pub fn done_url(done: Done, a: &AccountView) -> String {
    format!(
        "/accounts?done={}&who={}&role={}",
        done.key(),
        a.username,
        a.role.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every server function that takes a password: its generated argument struct's `Debug`
    // (what a `?args` log line would print) never holds it; the wire form is the plain string.
    #[test]
    fn passwords_stay_out_of_server_function_debug_output() {
        let pw = || Password::from("correct horse battery staple".to_string());
        let printed = [
            format!(
                "{:?}",
                crate::signin::api::Login {
                    username: "alice".into(),
                    password: pw()
                }
            ),
            format!(
                "{:?}",
                api::CreateAccount {
                    username: "alice".into(),
                    password: pw(),
                    role: "admin".into()
                }
            ),
            format!(
                "{:?}",
                api::ResetPassword {
                    id: 1,
                    password: pw()
                }
            ),
            format!(
                "{:?}",
                crate::people::api::ResetPersonPassword {
                    id: 1,
                    password: pw()
                }
            ),
            format!(
                "{:?}",
                crate::secrets::api::RevealSecret {
                    client_id: "c".into(),
                    secret_id: 1,
                    file: String::new(),
                    password: pw(),
                    form_token: "t".into(),
                }
            ),
        ];
        for p in printed {
            assert!(p.contains("Password(<redacted>)"), "{p}");
            assert!(!p.contains("horse"), "{p}");
        }
        let wire: Password = serde_json::from_str("\"correct horse battery staple\"").unwrap();
        assert_eq!(wire.expose(), "correct horse battery staple");
        assert_eq!(
            serde_json::to_string(&wire).unwrap(),
            "\"correct horse battery staple\""
        );
    }

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
