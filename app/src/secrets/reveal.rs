//! Revealing a readable secret in the console: the administrator's password is checked again,
//! the file asked for must be one of the client's authorizer files that hold the secret, and
//! each reveal is audited (`sealed::reveal`). The REST API reveals through `sealed` directly.

use super::{sealed, OneTimeSecrets};
use crate::authorizers::{self, service::for_client};
use crate::error::AppError;
use crate::infra::state::AppState;
use crate::infra::{RequestMeta, SvcResult};
use crate::signin::service::confirm_password;

/// What the administrator asked for. `Debug` is not derived: it holds the password.
pub struct Asked<'a> {
    pub client_id: &'a str,
    pub secret_id: i64,
    /// Empty: the secret alone.
    pub file: &'a str,
    pub password: &'a str,
}

/// The secret (and the file asked for, filled in) for `admin`, once their password is right.
pub async fn reveal(
    st: &AppState,
    admin: &str,
    meta: &RequestMeta,
    asked: Asked<'_>,
) -> SvcResult<OneTimeSecrets> {
    let client_id = asked.client_id;
    let authorizer = for_client(&st.db, client_id).await?;
    let file = match (asked.file.trim(), &authorizer) {
        ("", _) => None,
        (f, Some(_)) if authorizers::FILES_WITH_SECRET.contains(&f) => Some(f.to_string()),
        (f, _) => {
            let f: String = f.chars().take(40).collect();
            return Err(AppError::validation(
                "file",
                format!("{f} is not a configuration file of this client. Reload the page and choose a file again."),
            )
            .into());
        }
    };
    confirm_password(
        &st.db,
        &st.settings,
        &st.passwords,
        meta,
        admin,
        asked.password,
    )
    .await?;
    let shown = sealed::reveal(
        &st.db,
        admin,
        meta,
        client_id,
        asked.secret_id,
        file.as_deref(),
    )
    .await?;
    let (files, done_href) = match &authorizer {
        Some(a) => {
            let all = authorizers::config_files(a, Some(&shown.secret), &st.settings.issuer);
            let files = all
                .into_iter()
                .filter(|f| file.as_ref() == Some(&f.label))
                .collect();
            (files, format!("/authorizers/{client_id}"))
        }
        None => (Vec::new(), format!("/clients/{client_id}")),
    };
    Ok(OneTimeSecrets {
        one_time_secrets: vec![shown],
        done_href,
        files,
    })
}
