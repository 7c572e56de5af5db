//! Console sign-in: who is signed in, as the browser sees it.
//!
//! - `api`: the server functions `login`, `logout` and `current_user` (endpoint `me`).
//! - `ui`: the sign-in page, `AuthCtx` (the current account and the sign-out action, shared by
//!   every page) and `Guarded` (a page for signed-in accounts, or administrators only).
//! - `service` (server): password check, throttling and the audit of sign-ins.
//!
//! Sessions and their cookie are shared infrastructure: `infra::session`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

use serde::{Deserialize, Serialize};

use crate::accounts::Role;

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
