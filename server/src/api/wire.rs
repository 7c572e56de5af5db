//! The JSON of the admin API. Client fields use the names of RFC 7591 client metadata where
//! one exists (`client_name`, `redirect_uris`, `scope`, …), on input and output alike; Clavis's
//! own are `type`, `description`, `application_id`, `audience`, `enabled` and the timestamps.
//! Inputs reject unknown fields.

use app::clients::kind::ClientType;
use app::clients::{ClientInput, ClientView};
use app::secrets::{SecretMeta, SecretState};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The three client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A server-side app with a secret, signing people in with the authorization code and PKCE.
    ConfidentialPkce,
    /// A browser or native app without a secret, with the authorization code and PKCE.
    PublicPkce,
    /// A machine that gets tokens for itself with its secret.
    ClientCredentials,
}

impl From<ClientType> for Kind {
    fn from(t: ClientType) -> Self {
        match t {
            ClientType::ConfidentialPkce => Kind::ConfidentialPkce,
            ClientType::PublicPkce => Kind::PublicPkce,
            ClientType::ClientCredentials => Kind::ClientCredentials,
        }
    }
}

impl From<Kind> for ClientType {
    fn from(k: Kind) -> Self {
        match k {
            Kind::ConfidentialPkce => ClientType::ConfidentialPkce,
            Kind::PublicPkce => ClientType::PublicPkce,
            Kind::ClientCredentials => ClientType::ClientCredentials,
        }
    }
}

/// An RFC 3339 time, in UTC, from milliseconds since 1970.
pub fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A plaintext secret on its way into the one answer that carries it: serialized as the
/// string, never shown by `Debug`.
#[derive(Clone, Serialize)]
#[serde(transparent)]
pub struct Plaintext(pub String);

impl std::fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Plaintext(…)")
    }
}

/// A registered client. Never holds a secret, except in `NewClientCreated`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Client {
    pub client_id: String,
    pub client_name: String,
    #[serde(rename = "type")]
    pub client_type: Kind,
    pub description: String,
    pub application_id: Option<i64>,
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send people back to (OpenID Connect RP-Initiated Logout).
    pub post_logout_redirect_uris: Vec<String>,
    /// First-party: people who sign in are not asked for consent.
    pub first_party: bool,
    /// Space-separated, as in RFC 7591.
    pub scope: String,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    /// The `aud` of this client's access tokens; `null` for the server's default.
    pub audience: Option<String>,
    pub enabled: bool,
    /// Seconds each new secret of this client stays valid; `null` follows the server's
    /// `secret_max_lifetime` (no expiry when that is unset).
    pub secret_lifetime: Option<i64>,
    /// When it last got a token or checked one (written in batches, a few seconds late).
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&ClientView> for Client {
    fn from(c: &ClientView) -> Self {
        Client {
            client_id: c.client_id.clone(),
            client_name: c.name.clone(),
            client_type: c.client_type.into(),
            description: c.description.clone(),
            application_id: c.application.as_ref().map(|a| a.id),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            first_party: c.first_party,
            scope: c.scopes.join(" "),
            grant_types: c
                .client_type
                .grant_types()
                .iter()
                .map(|g| g.to_string())
                .collect(),
            token_endpoint_auth_method: c.client_type.token_endpoint_auth_methods()[0].to_string(),
            audience: c.audience.clone(),
            enabled: c.enabled,
            secret_lifetime: c.secret_lifetime,
            last_used_at: c.last_used_at.map(time),
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
        }
    }
}

/// The answer to a creation: the client and, for a confidential one, its first secret, shown
/// in this answer only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewClientCreated {
    #[serde(flatten)]
    pub client: Client,
    /// The plaintext secret, for a confidential client. Never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<Plaintext>,
    /// When that secret expires; absent or `null` when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub secret_expires_at: Option<String>,
}

/// A client to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    pub client_name: String,
    #[serde(rename = "type")]
    pub client_type: Kind,
    #[serde(default)]
    pub description: String,
    /// Required for the two PKCE types; none for client credentials.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Optional, for the two PKCE types only.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// For the two PKCE types only: skip the consent screen. Default `false`.
    #[serde(default)]
    pub first_party: bool,
    /// Space-separated.
    #[serde(default)]
    pub scope: String,
    /// Client credentials only.
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub application_id: Option<i64>,
    /// If given, must be the type's: `client_credentials`, or `authorization_code` and `refresh_token`.
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    /// If given, must suit the type: `none` for a public client, else `client_secret_basic` or `client_secret_post`.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// Seconds, from 60 up to the server's `secret_max_lifetime` (5 years without one); for
    /// the types with a secret. Absent: the server's policy.
    #[serde(default)]
    pub secret_lifetime: Option<i64>,
}

impl NewClient {
    pub fn input(&self) -> ClientInput {
        ClientInput {
            name: self.client_name.clone(),
            description: self.description.clone(),
            client_type: ClientType::from(self.client_type).as_str().to_string(),
            redirect_uris: self.redirect_uris.join("\n"),
            post_logout_redirect_uris: self.post_logout_redirect_uris.join("\n"),
            first_party: self.first_party,
            scopes: self.scope.clone(),
            audience: self.audience.clone().unwrap_or_default(),
            application: self
                .application_id
                .map(|a| a.to_string())
                .unwrap_or_default(),
            new_application: String::new(),
            secret_lifetime: self
                .secret_lifetime
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }
    }
}

/// Present (even as `null`) or absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A change to a client: only the fields given change. The type cannot change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    pub client_name: Option<String>,
    pub description: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub first_party: Option<bool>,
    pub scope: Option<String>,
    /// `null` for the server's default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub audience: Option<Option<String>>,
    /// `null` takes the client out of its application.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub application_id: Option<Option<i64>>,
    /// If given, must be the client's type.
    #[serde(rename = "type")]
    pub client_type: Option<Kind>,
    /// Seconds; `null` follows the server's policy. Applies from the next secret on.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub secret_lifetime: Option<Option<i64>>,
}

impl ClientPatch {
    /// The console's input for `current` with this change applied.
    pub fn input(&self, current: &ClientView) -> ClientInput {
        let application = match self.application_id {
            None => String::new(),
            Some(None) => app::clients::NO_APPLICATION.to_string(),
            Some(Some(id)) => id.to_string(),
        };
        ClientInput {
            name: self
                .client_name
                .clone()
                .unwrap_or_else(|| current.name.clone()),
            description: self
                .description
                .clone()
                .unwrap_or_else(|| current.description.clone()),
            client_type: self
                .client_type
                .map(|k| ClientType::from(k).as_str().to_string())
                .unwrap_or_default(),
            redirect_uris: self
                .redirect_uris
                .as_ref()
                .unwrap_or(&current.redirect_uris)
                .join("\n"),
            post_logout_redirect_uris: self
                .post_logout_redirect_uris
                .as_ref()
                .unwrap_or(&current.post_logout_redirect_uris)
                .join("\n"),
            first_party: self.first_party.unwrap_or(current.first_party),
            scopes: self
                .scope
                .clone()
                .unwrap_or_else(|| current.scopes.join(" ")),
            audience: match &self.audience {
                None => current.audience.clone().unwrap_or_default(),
                Some(a) => a.clone().unwrap_or_default(),
            },
            application,
            new_application: String::new(),
            secret_lifetime: match self.secret_lifetime {
                None => current.secret_lifetime,
                Some(l) => l,
            }
            .map(|s| s.to_string())
            .unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Enabled,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Name,
    Newest,
}

/// The filters of the client list, as on the console, and its cursor.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientFilter {
    /// A name prefix (any case), or an exact client id.
    pub q: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type", inline)]
    pub client_type: Option<Kind>,
    /// An application's id.
    pub application: Option<i64>,
    #[param(inline)]
    pub status: Option<Status>,
    #[param(inline)]
    pub sort: Option<Sort>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of clients.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientList {
    pub clients: Vec<Client>,
    /// The cursor of the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Current,
    Rotated,
    Revoked,
    Expired,
}

impl From<SecretState> for State {
    fn from(s: SecretState) -> Self {
        match s {
            SecretState::Current => State::Current,
            SecretState::Rotated => State::Rotated,
            SecretState::Revoked => State::Revoked,
            SecretState::Expired => State::Expired,
        }
    }
}

/// What may be known of a secret: never its plaintext, never its hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Secret {
    pub id: i64,
    /// The last characters, to tell secrets apart.
    pub hint: String,
    pub state: State,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub rotated_at: Option<String>,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
    /// `revoked`, `rotation limit` or `expired`.
    pub revoked_reason: Option<String>,
    /// A rotated secret that nobody has used since it was rotated, or for a while.
    pub safe_to_revoke: bool,
    /// An administrator can reveal it (`…/reveal`): it was made while
    /// `client_secrets_stored_as_one_way_hash` was false. False: hash only; rotate to get a
    /// readable secret.
    pub readable: bool,
    /// Its share of the client's requests made with a secret over the last 7 days, in percent;
    /// `null` when there were none. A rotated secret with a high share is still in production.
    pub share_of_requests_7d: Option<u32>,
}

impl From<&SecretMeta> for Secret {
    fn from(m: &SecretMeta) -> Self {
        Secret {
            id: m.id,
            hint: m.hint.clone(),
            state: m.state.into(),
            created_at: time(m.created_at),
            rotated_at: m.rotated_at.map(time),
            last_used_at: m.last_used_at.map(time),
            expires_at: m.expires_at.map(time),
            revoked_at: m.revoked_at.map(time),
            revoked_reason: m.revoked_reason.clone(),
            safe_to_revoke: m.safe_to_revoke,
            readable: m.readable,
            share_of_requests_7d: m.share_pct,
        }
    }
}

/// A client's secrets: the current one first, then rotated ones, then revoked and expired ones.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretList {
    pub secrets: Vec<Secret>,
    /// How many rotated secrets stay valid at most; a rotation revokes the oldest past it.
    pub max_rotated: u32,
}

/// How long the secret being replaced stays valid.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// `30m`, `24h`, `7d` (one minute to 365 days), or `until_revoked`; the server's default
    /// when absent.
    pub grace: Option<String>,
}

/// The answer to a rotation: the new secret, shown in this answer only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rotated {
    pub client_id: String,
    #[schema(value_type = String)]
    pub client_secret: Plaintext,
    pub secret_id: i64,
    pub hint: String,
    /// When the new secret expires; `null` when it does not.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Rotated secrets that this rotation revoked because of the limit.
    pub auto_revoked: Vec<i64>,
}

/// A revealed secret (`client_secrets_stored_as_one_way_hash` false), in this answer only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Revealed {
    pub client_id: String,
    pub secret_id: i64,
    #[schema(value_type = String)]
    pub client_secret: Plaintext,
    pub hint: String,
}

/// The answer to revoking all rotated secrets.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevokedCount {
    pub revoked: u32,
}
