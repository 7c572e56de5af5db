//! The server functions of authorizers. Both roles may read them; creating, changing and
//! deleting are for administrators. Each checks the caller itself.

use leptos::prelude::*;

use super::{AuthorizerInput, AuthorizerView};
#[cfg(feature = "ssr")]
use crate::accounts::Role;
use crate::error::AppError;
use crate::secrets::OneTimeSecrets;

#[server(endpoint = "authorizers/list")]
pub async fn list_authorizers() -> Result<Vec<AuthorizerView>, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        service::list(&st.db).await
    })
    .await
}

/// The authorizer whose system client is `client_id` (its page's address), with the issuer its
/// configuration names.
#[server(endpoint = "authorizers/get")]
pub async fn get_authorizer(client_id: String) -> Result<(AuthorizerView, String), AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        Ok((find(&st, &client_id).await?, st.settings.issuer.clone()))
    })
    .await
}

#[cfg(feature = "ssr")]
async fn find(
    st: &crate::infra::state::AppState,
    client_id: &str,
) -> crate::infra::SvcResult<AuthorizerView> {
    super::service::for_client(&st.db, client_id)
        .await?
        .ok_or_else(|| AppError::NotFound("The authorizer".into()).into())
}

/// Creates an authorizer and its client; the answer shows the client's first secret once, with
/// the configuration files filled in.
#[server(endpoint = "authorizers/create")]
pub async fn create_authorizer(
    input: AuthorizerInput,
    form_token: String,
) -> Result<OneTimeSecrets, AppError> {
    use super::{config_files, service};
    use crate::infra::edge;
    edge::no_store();
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let meta = edge::with_form_token(meta, &me.username, &form_token, &input)?;
        let (a, secret) =
            service::create(&st.db, &me.username, &meta, &input, &st.settings.issuer).await?;
        let files = config_files(&a, Some(&secret.secret), &st.settings.issuer);
        Ok(OneTimeSecrets {
            one_time_secrets: vec![secret],
            done_href: format!("/authorizers/{}", a.client_id),
            files,
        })
    })
    .await
}

#[server(endpoint = "authorizers/update")]
pub async fn update_authorizer(
    client_id: String,
    input: AuthorizerInput,
) -> Result<AuthorizerView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let id = find(&st, &client_id).await?.id;
        let a =
            service::update(&st.db, &me.username, &meta, id, &input, &st.settings.issuer).await?;
        edge::redirect_plain_form(&format!("/authorizers/{client_id}?done=saved"));
        Ok(a)
    })
    .await
}

#[server(endpoint = "authorizers/delete")]
pub async fn delete_authorizer(client_id: String, confirm_name: String) -> Result<(), AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let id = find(&st, &client_id).await?.id;
        service::delete(&st.db, &me.username, &meta, id, &confirm_name).await?;
        edge::redirect_plain_form("/authorizers?done=deleted");
        Ok(())
    })
    .await
}
