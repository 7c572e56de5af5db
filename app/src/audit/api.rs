//! The server functions of the audit log. Both roles may read it.

use leptos::prelude::*;

use super::AuditPage;
#[cfg(feature = "ssr")]
use super::{parse_local_time, AuditFilter};
use crate::error::AppError;

#[server(endpoint = "audit/list")]
pub async fn list_audit(
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
) -> Result<AuditPage, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        // Both roles may read the audit log.
        let (st, _, _) = edge::authorize(None).await?;
        let filter = AuditFilter {
            actor,
            target: None,
            action,
            from: parse_local_time("from", from.as_deref())?,
            to: parse_local_time("to", to.as_deref())?,
            before,
        };
        filter.check()?;
        service::query(&st.db, &filter).await
    })
    .await
}

/// The newest events about one client, for its page.
#[server(endpoint = "clients/audit")]
pub async fn client_audit(client_id: String) -> Result<AuditPage, AppError> {
    use super::service;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        let filter = AuditFilter {
            target: Some(client_id),
            ..Default::default()
        };
        service::query(&st.db, &filter).await
    })
    .await
}
