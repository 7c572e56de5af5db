//! The server functions of the Webhooks pages. Both roles may read endpoints and deliveries;
//! every change is for administrators. Each checks the caller itself.

use leptos::prelude::*;

use super::{DeliveryPage, Endpoint, EndpointInput, SigningSecretOnce};
#[cfg(feature = "ssr")]
use crate::accounts::Role;
use crate::error::AppError;

#[server(endpoint = "webhooks/list")]
pub async fn list_webhooks() -> Result<Vec<Endpoint>, AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        super::service::list(&st.db).await
    })
    .await
}

#[server(endpoint = "webhooks/get")]
pub async fn get_webhook(id: String) -> Result<Endpoint, AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        super::service::get(&st.db, &id).await
    })
    .await
}

/// A page of an endpoint's deliveries, newest first. `state` is empty for every state.
#[server(endpoint = "webhooks/deliveries")]
pub async fn list_deliveries(
    id: String,
    state: String,
    before: Option<i64>,
) -> Result<DeliveryPage, AppError> {
    use super::DeliveryState;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        let state = match state.as_str() {
            "" => None,
            s => Some(DeliveryState::parse(s).ok_or_else(|| {
                AppError::validation("state", "Choose pending, delivered or failed.")
            })?),
        };
        super::service::deliveries(&st.db, &id, state, before).await
    })
    .await
}

#[cfg(feature = "ssr")]
fn once_answer(e: Endpoint, secret: &secrecy::SecretString) -> SigningSecretOnce {
    use secrecy::ExposeSecret;
    SigningSecretOnce {
        done_href: format!("/webhooks/{}", e.id),
        endpoint_id: e.id,
        url: e.url,
        signing_secret: secret.expose_secret().to_string(),
        previous_secret_until: e.previous_secret_until,
    }
}

/// Registers an endpoint; the answer holds its signing secret, once.
#[server(endpoint = "webhooks/create")]
pub async fn create_webhook(
    input: EndpointInput,
    form_token: String,
) -> Result<SigningSecretOnce, AppError> {
    use crate::infra::edge;
    edge::no_store();
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let meta = edge::with_form_token(meta, &me.username, &form_token, &input)?;
        let (e, secret) = super::service::create(
            &st.db,
            st.settings.key_encryption_key.as_ref(),
            st.settings.webhook_allow_private_networks,
            &me.username,
            &meta,
            &input,
        )
        .await?;
        Ok(once_answer(e, &secret))
    })
    .await
}

#[server(endpoint = "webhooks/update")]
pub async fn update_webhook(id: String, input: EndpointInput) -> Result<Endpoint, AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let e = super::service::update(
            &st.db,
            st.settings.webhook_allow_private_networks,
            &me.username,
            &meta,
            &id,
            &input,
        )
        .await?;
        edge::redirect_plain_form(&format!("/webhooks/{id}?done=saved"));
        Ok(e)
    })
    .await
}

#[server(endpoint = "webhooks/delete")]
pub async fn delete_webhook(id: String) -> Result<(), AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        super::service::delete(&st.db, &me.username, &meta, &id).await?;
        edge::redirect_plain_form("/webhooks?done=deleted");
        Ok(())
    })
    .await
}

/// A new signing secret, in this answer only; the previous one signs too for 24 hours.
#[server(endpoint = "webhooks/rotate_secret")]
pub async fn rotate_webhook_secret(
    id: String,
    form_token: String,
) -> Result<SigningSecretOnce, AppError> {
    use crate::infra::edge;
    edge::no_store();
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let meta = edge::with_form_token(meta, &me.username, &form_token, &id)?;
        let (e, secret) = super::service::rotate_secret(
            &st.db,
            st.settings.key_encryption_key.as_ref(),
            &me.username,
            &meta,
            &id,
        )
        .await?;
        Ok(once_answer(e, &secret))
    })
    .await
}

#[server(endpoint = "webhooks/end_previous_secret")]
pub async fn end_previous_secret(id: String) -> Result<Endpoint, AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let e = super::service::end_previous_secret(&st.db, &me.username, &meta, &id).await?;
        edge::redirect_plain_form(&format!("/webhooks/{id}?done=previous-ended"));
        Ok(e)
    })
    .await
}

/// Sends a `webhook.test` event; answers with its `webhook-id`.
#[server(endpoint = "webhooks/test")]
pub async fn send_test(id: String) -> Result<String, AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let event = super::service::send_test(&st.db, &me.username, &meta, &id).await?;
        edge::redirect_plain_form(&format!("/webhooks/{id}?done=test"));
        Ok(event)
    })
    .await
}

/// Delivers a failed delivery again, from the start of the retry schedule.
#[server(endpoint = "webhooks/redeliver")]
pub async fn redeliver(id: String, delivery: i64) -> Result<(), AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        super::service::redeliver(&st.db, &me.username, &meta, &id, delivery).await?;
        edge::redirect_plain_form(&format!("/webhooks/{id}?done=redelivered"));
        Ok(())
    })
    .await
}
