//! The client registry: the three client types (`kind`), the architecture presets
//! (`presets`), and here the clients as the console sends and receives them. Shared by the
//! browser and the server.
//!
//! - `api`: the server functions (reads for both roles, changes for administrators).
//! - `ui`: the list, the creation form with the guided choice and the presets, a client's page.
//! - `rules` (server): the input rules every field is checked against.
//! - `service` (server): create, update, enable or disable, delete, presets; all audited.
//! - `search` (server): the list query with its filters and keyset pages, and the applications.
//! - `system` (server): the clients Clavis makes for its own parts, in the "System" application;
//!   `guard` (server) keeps them as made.
//! - `etag` (server): entity tags of clients, for the admin API's `If-Match`.
//! - `record` (server): the columns a client is read from, and its checked fields.
//!
//! A client's secrets are the `secrets` domain.

pub mod api;
#[cfg(feature = "ssr")]
pub mod etag;
#[cfg(feature = "ssr")]
pub mod guard;
pub mod kind;
pub mod presets;
#[cfg(feature = "ssr")]
mod record;
#[cfg(feature = "ssr")]
pub mod rules;
#[cfg(feature = "ssr")]
pub mod search;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod system;
pub mod ui;

use serde::{Deserialize, Serialize};

use kind::ClientType;

use crate::secrets::{IssuedSecretOnce, OneTimeSecrets};

/// The longest client name, in characters (the server's rules enforce it).
pub const NAME_MAX: usize = 100;

/// The application a client belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRef {
    pub id: i64,
    pub name: String,
}

/// A registered client as the console shows it. Never holds a secret or a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send people back to (PKCE types).
    pub post_logout_redirect_uris: Vec<String>,
    /// First-party: people signing in are not asked for consent (PKCE types).
    pub first_party: bool,
    pub scopes: Vec<String>,
    /// The `aud` of this client's access tokens; `None` means the server's default.
    pub audience: Option<String>,
    pub enabled: bool,
    pub application: Option<ApplicationRef>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    /// Its own secret lifetime in seconds; `None` follows the server's `secret_max_lifetime`.
    #[serde(default)]
    pub secret_lifetime: Option<i64>,
    /// When it last got a token or checked one (batched: up to a few seconds late).
    #[serde(default)]
    pub last_used_at: Option<i64>,
}

/// What a person fills in to create or edit a client. Lists are raw text: redirect URIs one per
/// line, scopes separated by spaces; the server parses and checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientInput {
    pub name: String,
    pub description: String,
    pub client_type: String,
    pub redirect_uris: String,
    /// One per line, optional; PKCE types only.
    pub post_logout_redirect_uris: String,
    /// PKCE types only: skip the consent screen.
    pub first_party: bool,
    pub scopes: String,
    /// Client credentials only; empty means the server's default.
    pub audience: String,
    /// The application it belongs to: an application's id, `none`, or empty. Empty means none
    /// when creating, and "keep the current one" when editing.
    pub application: String,
    /// The name of a new application to make for it, in the same change; empty for none.
    pub new_application: String,
    /// Seconds; empty for the server's policy. Types with a secret only.
    pub secret_lifetime: String,
}

/// The value of `ClientInput::application` that takes a client out of its application.
pub const NO_APPLICATION: &str = "none";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSort {
    #[default]
    Name,
    Newest,
}

/// Search, filters, order and the keyset cursor of the client list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientQuery {
    /// Case-insensitive name prefix, or an exact client id.
    pub q: Option<String>,
    pub client_type: Option<ClientType>,
    pub application_id: Option<i64>,
    pub enabled: Option<bool>,
    pub sort: ClientSort,
    /// Opaque cursor from the previous page's `next`.
    pub after: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientPage {
    pub clients: Vec<ClientView>,
    pub next: Option<String>,
}

/// The answer to a creation: the client, and for a confidential one its first secret, shown
/// once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCreated {
    pub client: ClientView,
    pub one_time_secrets: Vec<IssuedSecretOnce>,
    pub done_href: String,
}

impl ClientCreated {
    /// The secrets to show once, and where to go afterwards.
    pub fn one_time(self) -> OneTimeSecrets {
        OneTimeSecrets {
            one_time_secrets: self.one_time_secrets,
            done_href: self.done_href,
            files: Vec::new(),
        }
    }
}

/// The answer to a preset: the application, and the first secrets of its confidential clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresetCreated {
    pub application: ApplicationRef,
    pub one_time_secrets: Vec<IssuedSecretOnce>,
    pub done_href: String,
}
