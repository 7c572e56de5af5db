//! The rule that keeps system clients (see `system`) as their owner made them: no other
//! scope, and no deletion on their own.

use sqlx::AnyConnection;

use super::{rules, ClientInput, ClientView};
use crate::error::AppError;
use crate::infra::SvcResult;

/// Whether `client_id` is a system client (an authorizer's).
pub async fn is_system(conn: &mut AnyConnection, client_id: &str) -> SvcResult<bool> {
    let row = sqlx::query(
        "SELECT 1 AS one FROM authorizers a JOIN clients c ON c.id = a.client_pk \
         WHERE c.client_id = $1",
    )
    .bind(client_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// Refuses to change a system client's scopes (`change` is the new input) or to delete it
/// (`change` is `None`).
pub async fn refuse_system_change(
    conn: &mut AnyConnection,
    current: &ClientView,
    change: Option<&ClientInput>,
) -> SvcResult<()> {
    if !is_system(conn, &current.client_id).await? {
        return Ok(());
    }
    match change {
        None => Err(AppError::Conflict(
            "This is an authorizer's client: delete the authorizer to delete it.".into(),
        )
        .into()),
        Some(input) => {
            let asked = rules::scopes(current.client_type, &input.scopes)?;
            if asked != current.scopes {
                return Err(AppError::validation(
                    "scopes",
                    "This is an authorizer's client: its scope stays clavis:introspect.",
                )
                .into());
            }
            Ok(())
        }
    }
}
