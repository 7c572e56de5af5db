//! The client registry. So far: the client types with the guided choice (`kind`), the server's
//! input rules (`rules`), and the (empty) list page. Storage and the pages come next.

pub mod kind;
#[cfg(feature = "ssr")]
pub mod rules;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use kind::ClientType;

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
    pub scopes: Vec<String>,
    pub enabled: bool,
    pub application: Option<ApplicationRef>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// What a person fills in to create or edit a client. Lists are raw text: redirect URIs one per
/// line, scopes separated by spaces; the server parses and checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInput {
    pub name: String,
    pub description: String,
    pub client_type: String,
    pub redirect_uris: String,
    pub scopes: String,
    pub application_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSort {
    #[default]
    Name,
    Newest,
}

/// Search, filters, order and the keyset cursor of the client list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

use crate::ui::Guarded;

#[component]
pub fn ClientsPage() -> impl IntoView {
    view! {
        <Guarded>
            <h1>"Clients"</h1>
            <p class="empty">
                "No clients are registered yet. Registering clients and managing their secrets "
                "is the next part of Clavis to arrive."
            </p>
        </Guarded>
    }
}
