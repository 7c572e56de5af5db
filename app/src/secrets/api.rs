//! The server functions of a client's secrets. Rotating and revealing are for administrators;
//! revoking a rotated secret, one or all, is for both roles. Each checks the caller itself.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::parse_grace;
use super::{OneTimeSecrets, SecretsView};
use crate::accounts::Password;
#[cfg(feature = "ssr")]
use crate::accounts::Role;
use crate::error::AppError;

#[server(endpoint = "secrets/overview")]
pub async fn secret_overview(client_id: String) -> Result<SecretsView, AppError> {
    use super::service as secrets;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        secrets::overview(&st.db, secrets::Policy::from(&*st.settings), &client_id).await
    })
    .await
}

#[server(endpoint = "secrets/rotate")]
pub async fn rotate_secret(
    client_id: String,
    grace: String,
    form_token: String,
) -> Result<OneTimeSecrets, AppError> {
    use super::service as secrets;
    use crate::infra::edge;
    edge::no_store();
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let meta = edge::with_form_token(meta, &me.username, &form_token, &(&client_id, &grace))?;
        let policy = secrets::Policy::from(&*st.settings);
        let grace = match parse_grace(&grace, policy.default_grace_secs)? {
            Some(secs) => secrets::Grace::For(secs),
            None => secrets::Grace::UntilRevoked,
        };
        let issued =
            secrets::rotate(&st.db, policy, &me.username, &meta, &client_id, grace).await?;
        // An authorizer's client: its configuration files, with the new secret filled in.
        let files = crate::authorizers::service::files_with(&st, &issued).await?;
        Ok(OneTimeSecrets {
            one_time_secrets: vec![issued],
            done_href: format!("/clients/{client_id}"),
            files,
        })
    })
    .await
}

/// Reveals a readable secret (the storage flag false) to an administrator who gives their
/// password again; `file` empty: the secret alone, otherwise also that one of an authorizer's
/// files that hold it. The answer is the one-time dialog's (or, without JavaScript, its page).
#[server(endpoint = "secrets/reveal")]
pub async fn reveal_secret(
    client_id: String,
    secret_id: i64,
    #[server(default)] file: String,
    password: Password,
    form_token: String,
) -> Result<OneTimeSecrets, AppError> {
    use crate::infra::edge;
    edge::no_store();
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        // The fingerprint of the single-use form: which secret, never the password.
        let meta = edge::with_form_token(
            meta,
            &me.username,
            &form_token,
            &(&client_id, secret_id, &file),
        )?;
        let asked = super::reveal::Asked {
            client_id: &client_id,
            secret_id,
            file: &file,
            password: password.expose(),
        };
        super::reveal::reveal(&st, &me.username, &meta, asked).await
    })
    .await
}

/// Revokes one rotated secret. Administrators and support staff may do this.
#[server(endpoint = "secrets/revoke")]
pub async fn revoke_secret(
    client_id: String,
    secret_id: i64,
    /// `overview` when the form is on the Overview, which a form sent without JavaScript
    /// then returns to; otherwise the client's page.
    #[server(default)]
    from: String,
) -> Result<(), AppError> {
    use super::service as secrets;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(None).await?;
        secrets::revoke(&st.db, &me.username, &meta, &client_id, secret_id).await?;
        edge::redirect_plain_form(&match from.as_str() {
            "overview" => "/overview?done=revoked".to_string(),
            _ => format!("/clients/{client_id}?done=revoked"),
        });
        Ok(())
    })
    .await
}

/// Revokes every rotated secret of a client. Administrators and support staff may do this.
#[server(endpoint = "secrets/revoke_rotated")]
pub async fn revoke_all_rotated(client_id: String) -> Result<u32, AppError> {
    use super::service as secrets;
    use crate::infra::edge;
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(None).await?;
        let n = secrets::revoke_all_rotated(&st.db, &me.username, &meta, &client_id).await?;
        edge::redirect_plain_form(&format!("/clients/{client_id}?done=revoked-all"));
        Ok(n)
    })
    .await
}
