//! Helpers shared by the server's test files.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::clients::{service, ClientInput, ClientView};
use app::infra::db::Db;
use app::infra::{RequestMeta, SvcError};

/// Creates a client whose first secret (if any) the test does not need.
pub async fn create_client(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    input: &ClientInput,
) -> Result<ClientView, SvcError> {
    Ok(service::create_issuing(db, actor, meta, input).await?.0)
}
pub mod harness;
