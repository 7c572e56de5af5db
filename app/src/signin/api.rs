//! The server functions of console sign-in: sign in, sign out, and who is signed in.

use leptos::prelude::*;

use super::Me;
use crate::accounts::Password;
use crate::error::AppError;

#[server(endpoint = "login")]
pub async fn login(username: String, password: Password) -> Result<(), AppError> {
    use super::service;
    use crate::infra::{edge, session};
    edge::edge(async move {
        let st = edge::state()?;
        let meta = edge::meta()?;
        let (token, _) = service::sign_in(
            &st.db,
            &st.settings,
            &st.passwords,
            &st.metrics,
            &meta,
            &username,
            password.expose(),
        )
        .await?;
        edge::set_cookie(&session::set_cookie(&st.settings, &token));
        edge::redirect_plain_form("/overview");
        Ok(())
    })
    .await
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use super::service;
    use crate::infra::{edge, session};
    edge::edge(async move {
        let (st, who, meta) = edge::authorize(None).await?;
        let parts = use_context::<http::request::Parts>();
        if let Some(token) = parts
            .as_ref()
            .and_then(|p| session::token_from_headers(&p.headers, &st.settings))
        {
            service::sign_out(&st.db, &meta, &token, &who).await?;
        }
        edge::set_cookie(&session::clear_cookie(&st.settings));
        edge::redirect_plain_form("/login");
        Ok(())
    })
    .await
}

/// The signed-in account, or `None`. Never fails for a missing session.
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        Ok(edge::current_session().await?.map(|s| Me {
            username: s.username,
            role: s.role,
        }))
    })
    .await
}
