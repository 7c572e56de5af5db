//! The server functions of the client registry. Reads are open to both roles; every change is
//! for administrators, and each function checks that itself before calling the service.

use leptos::prelude::*;

use super::{
    ApplicationRef, ClientCreated, ClientInput, ClientPage, ClientQuery, ClientView, PresetCreated,
};
#[cfg(feature = "ssr")]
use crate::accounts::Role;
use crate::error::AppError;

#[server(endpoint = "clients/list")]
pub async fn list_clients(query: ClientQuery) -> Result<ClientPage, AppError> {
    use super::search;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        search::list(&st.db, &query).await
    })
    .await
}

#[server(endpoint = "clients/applications")]
pub async fn list_applications() -> Result<Vec<ApplicationRef>, AppError> {
    use super::search;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        search::applications(&st.db).await
    })
    .await
}

#[server(endpoint = "clients/get")]
pub async fn get_client(client_id: String) -> Result<ClientView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        service::get(&st.db, &client_id).await
    })
    .await
}

#[server(endpoint = "clients/create")]
pub async fn create_client(
    input: ClientInput,
    form_token: String,
) -> Result<ClientCreated, AppError> {
    use super::service;
    use crate::infra::edge;
    crate::infra::edge::no_store();
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let meta = edge::with_form_token(meta, &me.username, &form_token, &input)?;
        let (client, secret) = service::create_issuing(&st.db, &me.username, &meta, &input).await?;
        let done_href = format!("/clients/{}", client.client_id);
        // Without JavaScript, a client with a secret gets the one-time page instead (see
        // `secrets::one_time_page`); one without goes straight to its page.
        edge::redirect_plain_form(&done_href);
        Ok(ClientCreated {
            client,
            one_time_secrets: secret.into_iter().collect(),
            done_href,
        })
    })
    .await
}

#[server(endpoint = "clients/update")]
pub async fn update_client(client_id: String, input: ClientInput) -> Result<ClientView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        service::update(&st.db, &me.username, &meta, &client_id, &input).await
    })
    .await
}

#[server(endpoint = "clients/enabled")]
pub async fn set_client_enabled(client_id: String, enabled: bool) -> Result<ClientView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        service::set_enabled(&st.db, &me.username, &meta, &client_id, enabled).await
    })
    .await
}

#[server(endpoint = "clients/delete")]
pub async fn delete_client(client_id: String, confirm_name: String) -> Result<(), AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        service::delete(&st.db, &me.username, &meta, &client_id, &confirm_name).await?;
        edge::redirect_plain_form("/clients");
        Ok(())
    })
    .await
}

#[server(endpoint = "clients/preset")]
pub async fn create_preset(
    application_name: String,
    clients: Vec<ClientInput>,
    form_token: String,
) -> Result<PresetCreated, AppError> {
    use super::service;
    use crate::infra::edge;
    crate::infra::edge::no_store();
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let meta = edge::with_form_token(
            meta,
            &me.username,
            &form_token,
            &(&application_name, &clients),
        )?;
        let (application, _, one_time_secrets) = service::create_with_application(
            &st.db,
            &me.username,
            &meta,
            &application_name,
            &clients,
        )
        .await?;
        let done_href = format!("/clients?application={}", application.id);
        edge::redirect_plain_form(&done_href);
        Ok(PresetCreated {
            application,
            one_time_secrets,
            done_href,
        })
    })
    .await
}
