//! A client's row: the columns `ClientView` is read from, and the checked fields a write
//! stores (each by the rules of its type). Shared by `service` (writes) and `search` (reads).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::kind::ClientType;
use super::rules::{self, ApplicationChoice};
use super::{ApplicationRef, ClientInput, ClientView};
use crate::error::AppError;
use crate::infra::db::{non_empty, split_list};

/// The columns of `ClientView`, read by `row_to_view`; `search` selects the same.
pub(super) const COLUMNS: &str =
    "c.client_id, c.name, c.description, c.client_type, c.redirect_uris, \
    c.post_logout_redirect_uris, c.first_party, c.scopes, \
    c.audience, c.enabled, c.application_id, a.name AS application_name, c.created_at, c.created_by, \
    c.updated_at, c.updated_by, c.name_key, c.id, c.secret_lifetime, c.last_used_at";
pub(super) const FROM: &str = " FROM clients c LEFT JOIN applications a ON a.id = c.application_id";

/// Lower-cased name used for search and sorting.
pub(super) fn name_key(name: &str) -> String {
    name.to_lowercase()
}

pub(super) fn row_to_view(r: &AnyRow) -> Result<ClientView, sqlx::Error> {
    let kind: String = r.try_get("client_type")?;
    let application = match r.try_get::<Option<i64>, _>("application_id")? {
        Some(id) => Some(ApplicationRef {
            id,
            name: r.try_get("application_name")?,
        }),
        None => None,
    };
    Ok(ClientView {
        client_id: r.try_get("client_id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        client_type: ClientType::parse(&kind)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown client type {kind}").into()))?,
        redirect_uris: split_list(&r.try_get::<String, _>("redirect_uris")?, '\n'),
        post_logout_redirect_uris: split_list(
            &r.try_get::<String, _>("post_logout_redirect_uris")?,
            '\n',
        ),
        first_party: r.try_get::<i64, _>("first_party")? != 0,
        scopes: split_list(&r.try_get::<String, _>("scopes")?, ' '),
        audience: non_empty(r.try_get("audience")?),
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        application,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
        secret_lifetime: r.try_get("secret_lifetime")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// Every field of `input` checked for a client of type `kind`.
#[derive(Clone)]
pub(super) struct Checked {
    pub(super) name: String,
    pub(super) description: String,
    pub(super) redirect_uris: Vec<String>,
    pub(super) post_logout_redirect_uris: Vec<String>,
    pub(super) first_party: bool,
    pub(super) scopes: Vec<String>,
    pub(super) audience: Option<String>,
    pub(super) application: ApplicationChoice,
    pub(super) secret_lifetime: Option<i64>,
}

/// Checks a client's input, as anyone may make or change it: `clavis:introspect` belongs to
/// the clients Clavis makes for authorizers (`check_system`), and is refused here. Such a
/// client could do nothing with it: introspection answers an authorizer's client only.
pub(super) fn check(
    kind: ClientType,
    input: &ClientInput,
    max_lifetime: Option<i64>,
) -> Result<Checked, AppError> {
    let c = check_system(kind, input, max_lifetime)?;
    if c.scopes
        .iter()
        .any(|s| s == crate::oauth::access::INTROSPECT_SCOPE)
    {
        return Err(AppError::validation(
            "scopes",
            "clavis:introspect belongs to an authorizer's client, which checks tokens for a gateway: \
             create an authorizer (Authorizers, New authorizer) and Clavis makes that client for it.",
        ));
    }
    Ok(c)
}

/// Checks the input of a system client (an authorizer's), which may hold `clavis:introspect`.
/// `max_lifetime` is the server's `secret_max_lifetime`.
pub(super) fn check_system(
    kind: ClientType,
    input: &ClientInput,
    max_lifetime: Option<i64>,
) -> Result<Checked, AppError> {
    Ok(Checked {
        name: rules::name("name", &input.name)?,
        description: rules::description(&input.description)?,
        redirect_uris: rules::redirect_uris(kind, &input.redirect_uris)?,
        post_logout_redirect_uris: rules::post_logout_redirect_uris(
            kind,
            &input.post_logout_redirect_uris,
        )?,
        first_party: rules::first_party(kind, input.first_party)?,
        scopes: rules::scopes(kind, &input.scopes)?,
        audience: rules::audience(kind, &input.audience)?,
        application: rules::application_choice(&input.application, &input.new_application)?,
        secret_lifetime: rules::secret_lifetime(kind, &input.secret_lifetime, max_lifetime)?,
    })
}
