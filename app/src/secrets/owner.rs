//! The client that owns secrets, as the secret rules read it: its row, and the console page
//! that shows its secrets (where a repeated form sends the person back to).

use sqlx::{AnyConnection, Row};

use crate::clients::kind::ClientType;
use crate::error::AppError;
use crate::infra::{SvcError, SvcResult};

pub(super) struct ClientRow {
    pub(super) pk: i64,
    pub(super) client_id: String,
    pub(super) name: String,
    pub(super) kind: ClientType,
    /// The client's own secret lifetime in seconds, if it has one.
    pub(super) secret_lifetime: Option<i64>,
}

/// Finds the client, with `FOR UPDATE` when `for_update` is set.
pub(super) async fn find_client(
    conn: &mut AnyConnection,
    client_id: &str,
    for_update: bool,
) -> SvcResult<ClientRow> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!(
        "SELECT id, client_id, name, client_type, secret_lifetime FROM clients WHERE client_id = $1{lock}"
    ))
    .bind(client_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound("The client".into()))?;
    let kind: String = row.try_get("client_type")?;
    Ok(ClientRow {
        pk: row.try_get("id")?,
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        kind: ClientType::parse(&kind)
            .ok_or_else(|| SvcError::Internal(format!("unknown client type {kind}")))?,
        secret_lifetime: row.try_get("secret_lifetime")?,
    })
}

/// The console page that shows `c`'s secrets, which a repeated form names: its authorizer's
/// page when `c` is an authorizer's system client, else the client's own page.
pub(super) async fn secrets_page(conn: &mut AnyConnection, c: &ClientRow) -> SvcResult<String> {
    let authorizer = sqlx::query("SELECT id FROM authorizers WHERE client_pk = $1")
        .bind(c.pk)
        .fetch_optional(&mut *conn)
        .await?;
    let section = if authorizer.is_some() {
        "authorizers"
    } else {
        "clients"
    };
    Ok(format!("/{section}/{}", c.client_id))
}
