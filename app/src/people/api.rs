//! The server functions of the People page. Both roles may list people; adding, disabling,
//! enabling and resetting a password are for administrators. Each checks the caller itself.

use leptos::prelude::*;

use super::{PeoplePage, PersonInput, PersonView};
use crate::accounts::Password;
#[cfg(feature = "ssr")]
use crate::accounts::Role;
use crate::error::AppError;

/// Where a plain form post (no JavaScript) lands after a change: the page reads the outcome
/// back from the query. Usernames are made of URL-safe characters only.
#[cfg(feature = "ssr")]
fn done_url(done: &str, p: &PersonView) -> String {
    format!("/people?done={done}&who={}", p.username)
}

/// A page of the directory, after the username `after` (empty: the first page).
#[server(endpoint = "people/list")]
pub async fn list_people(after: String) -> Result<PeoplePage, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        service::list(&st.db, Some(&after)).await
    })
    .await
}

#[server(endpoint = "people/create")]
pub async fn create_person(input: PersonInput, form_token: String) -> Result<PersonView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        // The fingerprint of the single-use form: who, never the password.
        let meta = edge::with_form_token(meta, &me.username, &form_token, &input.username)?;
        let p = service::create(&st.db, &st.passwords, &me.username, &meta, &input).await?;
        edge::redirect_plain_form(&done_url("created", &p));
        Ok(p)
    })
    .await
}

#[server(endpoint = "people/disabled")]
pub async fn set_person_disabled(id: i64, disabled: bool) -> Result<PersonView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let p = service::set_disabled(&st.db, &me.username, &meta, id, disabled).await?;
        edge::redirect_plain_form(&done_url(if disabled { "disabled" } else { "enabled" }, &p));
        Ok(p)
    })
    .await
}

#[server(endpoint = "people/password")]
pub async fn reset_person_password(id: i64, password: Password) -> Result<PersonView, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let p = service::reset_password(
            &st.db,
            &st.passwords,
            &me.username,
            &meta,
            id,
            password.expose(),
        )
        .await?;
        edge::redirect_plain_form(&done_url("password", &p));
        Ok(p)
    })
    .await
}
