//! People: those who sign in to the apps (authorization code with PKCE), in a directory of
//! their own. They are not console accounts: they never reach the console, and console
//! accounts cannot sign in to apps. This file: a person as the console shows them, the input
//! an administrator gives, and its rules (shared by the browser and the server).
//!
//! - `api`: the server functions of the People page (both roles read; administrators change).
//! - `ui`: the People page.
//! - `service` (server): list (a page at a time), create, disable and enable, reset password.
//! - `session` (server): a person signing in at Clavis, and their session (own table and cookie).

pub mod api;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod session;
pub mod ui;

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::clients::rules;
#[cfg(feature = "ssr")]
use crate::error::AppError;

/// One person as the People page shows them. Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    pub id: i64,
    /// The `sub` of their ID tokens: random, stable, never the username.
    pub subject: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub disabled: bool,
    pub created_at: i64,
    pub created_by: String,
    pub last_sign_in_at: Option<i64>,
}

/// A page of the directory, in username order, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeoplePage {
    pub people: Vec<PersonView>,
    /// The last username of this page, when more follow.
    pub next_after: Option<String>,
}

/// The people a page of the directory holds.
pub const PAGE_SIZE: usize = 50;

/// What an administrator gives for a new person. The password is checked with the same rules
/// as a console account's (`accounts::check_password`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonInput {
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for PersonInput {
    // CAUTION: never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonInput")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

pub const EMAIL_MAX: usize = 254;

/// A display name: what apps greet the person with (the `name` claim).
#[cfg(feature = "ssr")]
pub fn display_name(raw: &str) -> Result<String, AppError> {
    rules::name("display_name", raw)
}

/// An e-mail address (the `email` claim), optional. Only its shape is checked: one `@` between
/// a local part and a domain with a dot, no spaces or controls; stored as given, trimmed.
#[cfg(feature = "ssr")]
pub fn email(raw: &str) -> Result<String, AppError> {
    let e = raw.trim();
    if e.is_empty() {
        return Ok(String::new());
    }
    let shaped = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    };
    if e.chars().count() > EMAIL_MAX
        || !shaped
        || e.chars().any(|c| c.is_whitespace() || rules::is_control(c))
    {
        return Err(AppError::validation(
            "email",
            "Enter an e-mail address such as ada@example.com, or leave it empty.",
        ));
    }
    Ok(e.to_string())
}

/// The status line after a change, from what the page's address says (`?done=…&who=…`), so
/// that it shows without JavaScript too. `None` for anything else.
pub fn done_text(done: &str, who: &str) -> Option<String> {
    Some(match done {
        "created" => format!("{who} was added. They can sign in to apps now."),
        "disabled" => format!("{who} is disabled and cannot sign in to apps."),
        "enabled" => format!("{who} is enabled again."),
        "password" => format!("The password of {who} was reset."),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ssr")]
    #[test]
    fn e_mail_addresses_have_a_shape_or_are_empty() {
        assert_eq!(email("  ada@example.com ").unwrap(), "ada@example.com");
        assert_eq!(email("").unwrap(), "");
        for bad in [
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "ada@.example.com",
            "ada@example.com.",
            "a da@example.com",
            "ada@exa\u{7}mple.com",
            "ada\u{202e}@example.com",
            "ada\u{200b}@example.com",
        ] {
            let e = email(bad).unwrap_err();
            assert!(e.field_message("email").is_some(), "{bad}: {e:?}");
        }
        let long = format!("{}@example.com", "a".repeat(EMAIL_MAX));
        assert!(email(&long).is_err());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn display_names_are_names_of_their_own_field() {
        assert_eq!(display_name(" Ada Lovelace ").unwrap(), "Ada Lovelace");
        assert!(display_name(" ")
            .unwrap_err()
            .field_message("display_name")
            .is_some());
        assert!(display_name("Ada\u{202e}").is_err());
    }

    #[test]
    fn the_debug_form_of_an_input_never_holds_the_password() {
        let input = PersonInput {
            username: "ada".into(),
            password: "correct horse battery".into(),
            ..Default::default()
        };
        assert!(!format!("{input:?}").contains("horse"));
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            done_text("disabled", "ada").unwrap(),
            "ada is disabled and cannot sign in to apps."
        );
        assert_eq!(done_text("bogus", "ada"), None);
    }
}
