//! The server functions of the Overview, for both roles. Each checks the caller itself.

use leptos::prelude::*;

use super::Attention;
use crate::error::AppError;

/// Every group with its first page, or with `group` and `after`, one group from there.
#[server(endpoint = "attention/overview")]
pub async fn attention_overview(
    #[server(default)] group: Option<String>,
    #[server(default)] after: Option<String>,
) -> Result<Attention, AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        let only = match group.as_deref().filter(|g| !g.is_empty()) {
            None => None,
            Some(g) => Some(
                super::Group::parse(g)
                    .ok_or_else(|| AppError::validation("group", "There is no such group."))?,
            ),
        };
        super::service::attention(&st.db, &st.settings, only, after.as_deref(), None).await
    })
    .await
}

/// The number in the navigation's badge: clients that cannot get tokens or whose secret
/// expires soon. Like "who am I?", it answers 0 to nobody rather than failing: the layout asks
/// it on every page, the sign-in page too, whose answer must not turn into a 401.
#[server(endpoint = "attention/badge")]
pub async fn attention_badge() -> Result<i64, AppError> {
    use crate::infra::edge;
    edge::edge(async move {
        if edge::current_session().await?.is_none() {
            return Ok(0);
        }
        let st = edge::state()?;
        super::service::urgent_count(&st.db, &st.settings).await
    })
    .await
}
