//! The server functions of the Accounts page. Every one is for administrators only, and each
//! checks that itself.

use leptos::prelude::*;

use super::AccountView;
use super::Password;
#[cfg(feature = "ssr")]
use super::{done_url, Done, Role};
use crate::error::AppError;

#[server(endpoint = "accounts/list")]
pub async fn list_accounts() -> Result<Vec<AccountView>, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(Some(Role::Admin)).await?;
        service::list(&st.db).await
    })
    .await
}

#[server(endpoint = "accounts/create")]
pub async fn create_account(
    username: String,
    password: Password,
    role: String,
) -> Result<AccountView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let role: Role = role.parse()?;
        let done = service::create(
            &st.db,
            &st.passwords,
            &me.username,
            &meta,
            &username,
            password.expose(),
            role,
        )
        .await?;
        edge::redirect_plain_form(&done_url(Done::Created, &done));
        Ok(done)
    })
    .await
}

#[server(endpoint = "accounts/role")]
pub async fn change_role(id: i64, role: String) -> Result<AccountView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let role: Role = role.parse()?;
        let done = service::change_role(&st.db, &me.username, &meta, id, role).await?;
        edge::redirect_plain_form(&done_url(Done::Role, &done));
        Ok(done)
    })
    .await
}

#[server(endpoint = "accounts/disabled")]
pub async fn set_account_disabled(id: i64, disabled: bool) -> Result<AccountView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let done = service::set_disabled(&st.db, &me.username, &meta, id, disabled).await?;
        let kind = if disabled {
            Done::Disabled
        } else {
            Done::Enabled
        };
        edge::redirect_plain_form(&done_url(kind, &done));
        Ok(done)
    })
    .await
}

#[server(endpoint = "accounts/password")]
pub async fn reset_password(id: i64, password: Password) -> Result<AccountView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let done = service::reset_password(
            &st.db,
            &st.passwords,
            &me.username,
            &meta,
            id,
            password.expose(),
        )
        .await?;
        edge::redirect_plain_form(&done_url(Done::Password, &done));
        Ok(done)
    })
    .await
}
