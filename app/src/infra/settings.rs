//! The settings the app reads at run time, built by the server from its configuration
//! (`server::config`). `Settings::default()` is the one place the defaults are written down:
//! the server's configuration defaults are derived from it.

use sha2::{Digest, Sha256};

use super::seal::Kek;
use subtle::ConstantTimeEq;

/// A bearer token that callers must present (`metrics_token`). Only its SHA-256 is kept, and a
/// presented token is compared over its SHA-256 in constant time, so that neither the bytes nor
/// the length leak. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken([u8; 32]);

impl BearerToken {
    pub fn new(token: &str) -> Self {
        BearerToken(Sha256::digest(token.as_bytes()).into())
    }

    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.0.ct_eq(&presented).into()
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<hidden>)")
    }
}

/// Settings the app needs at run time; built by the server from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The public origin (scheme://host[:port]) that mutating requests must come from.
    pub issuer_origin: String,
    /// Adds `Secure` (and the `__Host-` name) to the session cookie; on when the issuer is https.
    pub cookie_secure: bool,
    pub session_idle_timeout_secs: i64,
    pub session_absolute_timeout_secs: i64,
    /// A person's session at Clavis (signing in to apps) ends after this long without use.
    pub person_session_idle_timeout_secs: i64,
    /// A refresh token used again within this many seconds of its rotation is a parallel
    /// refresh (two tabs, a retry after a lost answer), not theft: it is rotated once more.
    pub refresh_token_reuse_interval_secs: i64,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_ip: u32,
    pub login_failure_window_secs: i64,
    /// How many rotated secrets a client keeps; a rotation revokes the oldest beyond this.
    pub max_rotated_secrets: u32,
    /// Default grace period of a rotated secret; `None` keeps it until revoked.
    pub rotated_secret_ttl_secs: Option<i64>,
    /// A rotated secret unused for this many days is marked "safe to revoke".
    pub rotated_secret_unused_days: i64,
    /// The longest a new secret lives, in seconds; `None`: secrets do not expire (unless
    /// their client has its own `secret_lifetime`).
    pub secret_max_lifetime_secs: Option<i64>,
    /// How long before its expiry a secret is "expiring soon", in seconds, longest first. The
    /// first is the overview's window.
    pub secret_expiry_notice_secs: Vec<i64>,
    /// The issuer (`iss` of access tokens and base of the metadata URLs), without a trailing `/`.
    pub issuer: String,
    pub access_token_ttl_secs: i64,
    /// `aud` of every access token, when set.
    pub access_token_audience: Option<String>,
    pub token_max_failures_per_client: u32,
    pub token_max_failures_per_ip: u32,
    pub token_failure_window_secs: i64,
    /// Host names (lower case) the server answers for besides the issuer's and loopback.
    pub allowed_hosts: Vec<String>,
    /// When set, `/metrics` answers only `Authorization: Bearer` with this token.
    pub metrics_token: Option<BearerToken>,
    /// Seals the signing keys in the database. `clavis serve` always has one (read from
    /// `key_encryption_key_file`, or made there on the first start); only tests go without.
    pub key_encryption_key: Option<Kek>,
    /// The storage flag: true stores client secrets as their hash only; false also keeps a
    /// copy sealed under the key-encryption key, so that an administrator can reveal it.
    pub client_secrets_stored_as_one_way_hash: bool,
    /// Seconds to wait after each failed webhook delivery attempt; after the last, it fails.
    pub webhook_retry_schedule_secs: Vec<i64>,
    /// Webhooks may go to private and loopback addresses (never to link-local or metadata ones).
    pub webhook_allow_private_networks: bool,
    /// Finished webhook deliveries are kept this long.
    pub webhook_retention_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            issuer_origin: "http://localhost:3000".into(),
            cookie_secure: false,
            session_idle_timeout_secs: 30 * 60,
            session_absolute_timeout_secs: 12 * 60 * 60,
            person_session_idle_timeout_secs: 60 * 60,
            refresh_token_reuse_interval_secs: 5,
            login_max_failures_per_account: 5,
            login_max_failures_per_ip: 50,
            login_failure_window_secs: 15 * 60,
            max_rotated_secrets: 1,
            rotated_secret_ttl_secs: None,
            rotated_secret_unused_days: 7,
            secret_max_lifetime_secs: None,
            secret_expiry_notice_secs: vec![30 * 86_400, 7 * 86_400, 86_400],
            issuer: "http://localhost:3000".into(),
            access_token_ttl_secs: 3600,
            access_token_audience: None,
            token_max_failures_per_client: 10,
            token_max_failures_per_ip: 100,
            token_failure_window_secs: 60,
            allowed_hosts: Vec::new(),
            metrics_token: None,
            key_encryption_key: None,
            client_secrets_stored_as_one_way_hash: true,
            webhook_retry_schedule_secs: vec![5, 300, 1800, 7200, 18_000, 36_000, 36_000],
            webhook_allow_private_networks: false,
            webhook_retention_secs: 30 * 86_400,
        }
    }
}
