//! The server function of a client's use, for both roles.

use leptos::prelude::*;

use super::UsageView;
use crate::error::AppError;

#[server(endpoint = "usage/client")]
pub async fn client_usage(client_id: String) -> Result<UsageView, AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        super::service::daily(&st.db, &client_id, st.db.now()).await
    })
    .await
}
