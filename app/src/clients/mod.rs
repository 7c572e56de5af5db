//! The client registry. So far: the client types with the guided choice (`kind`), the server's
//! input rules (`rules`), and the (empty) list page. Storage and the pages come next.

pub mod kind;
#[cfg(feature = "ssr")]
pub mod rules;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use kind::ClientType;

use crate::error::AppError;
use crate::model::Role;

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

#[server(endpoint = "clients/list")]
pub async fn list_clients(query: ClientQuery) -> Result<ClientPage, AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        clients::list(&st.db, &query).await
    })
    .await
}

#[server(endpoint = "clients/get")]
pub async fn get_client(client_id: String) -> Result<ClientView, AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        clients::get(&st.db, &client_id).await
    })
    .await
}

#[server(endpoint = "clients/create")]
pub async fn create_client(input: ClientInput) -> Result<ClientView, AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let c = clients::create(&st.db, &me.username, &meta, &input).await?;
        edge::redirect_plain_form(&format!("/clients/{}", c.client_id));
        Ok(c)
    })
    .await
}

#[server(endpoint = "clients/update")]
pub async fn update_client(client_id: String, input: ClientInput) -> Result<ClientView, AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        clients::update(&st.db, &me.username, &meta, &client_id, &input).await
    })
    .await
}

#[server(endpoint = "clients/enabled")]
pub async fn set_client_enabled(client_id: String, enabled: bool) -> Result<ClientView, AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        clients::set_enabled(&st.db, &me.username, &meta, &client_id, enabled).await
    })
    .await
}

#[server(endpoint = "clients/delete")]
pub async fn delete_client(client_id: String, confirm_name: String) -> Result<(), AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        clients::delete(&st.db, &me.username, &meta, &client_id, &confirm_name).await?;
        edge::redirect_plain_form("/clients");
        Ok(())
    })
    .await
}

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
