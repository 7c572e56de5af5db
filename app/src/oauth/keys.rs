//! Signing keys: Ed25519 (RFC 8037) for access tokens and RS256 for ID tokens (`id_keys`), kept in the database so that every replica signs with the
//! same key; the active one is held in memory, parsed once. Also the JWS of an access token and
//! the JWKS of the keys that verify tokens still in use.
//!
//! A key's life: published from the moment it is stored; signing from `activates_at`, which
//! for a rotation is `JWKS_MAX_AGE_SECS` later, so that every resource server has seen it in a
//! fresh JWKS before a token carries its `kid`; signing until `retired_at`, when the next key
//! activates; published until every token it signed has expired. No replica ever signs with a
//! key that is not published.
//!
//! Private keys are stored sealed under the key-encryption key (`infra::seal`, bound to the
//! key's `kid`), so that a copy of the database is no help in forging tokens. Without a
//! key-encryption key (only in tests that build their own `Settings`) they are stored as plain
//! PKCS#8; `seal_unsealed` seals such keys at the next start that has one.

use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::Signer;
use futures::FutureExt;
use rand::RngCore;
use serde::Serialize;
use sqlx::Row;

use super::id_keys::{self, IdKey};
use crate::audit::service::{self as audit, Event};
use crate::infra::db::{now_ms, Db};
use crate::infra::seal::{is_sealed, Kek};
use crate::infra::{RequestMeta, SvcError, SvcResult};

/// The signature algorithm of every access token: Ed25519.
pub const ALG: &str = "EdDSA";

/// A private signing key in memory, parsed once. Never serialized, never printed.
pub struct ActiveKey {
    pub kid: String,
    signing: ed25519_dalek::SigningKey,
    /// The JWS header (`{"alg":"EdDSA","typ":"at+jwt","kid":…}`), base64url-encoded once.
    header_b64: String,
}

impl ActiveKey {
    fn new(kid: String, signing: ed25519_dalek::SigningKey) -> Self {
        let header = serde_json::json!({ "alg": ALG, "typ": "at+jwt", "kid": kid });
        let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
        ActiveKey {
            kid,
            signing,
            header_b64,
        }
    }

    /// An access token (RFC 9068): a JWS in compact serialization (RFC 7515 §7.1) over
    /// `claims`, signed with Ed25519 (RFC 8037): `header.payload.signature`, each part
    /// base64url without padding.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, serde_json::Error> {
        self.sign_with(&self.header_b64, claims)
    }

    fn sign_with<T: Serialize>(
        &self,
        header_b64: &str,
        claims: &T,
    ) -> Result<String, serde_json::Error> {
        let payload = serde_json::to_vec(claims)?;
        let mut jws = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 100);
        jws.push_str(header_b64);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jws);
        let signature = self.signing.sign(jws.as_bytes());
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut jws);
        Ok(jws)
    }
}

impl std::fmt::Debug for ActiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Public Ed25519 keys by `kid`.
pub type VerifyingKeys = Arc<Vec<(String, [u8; 32])>>;

/// The signing key active now, read from the database at start and again every few seconds,
/// so that a key added by `clavis keys rotate` on any machine is picked up. Holds the
/// key-encryption key that opens the stored keys.
#[derive(Debug, Default)]
pub struct KeyRing {
    active: RwLock<Option<Arc<ActiveKey>>>,
    kek: Option<Kek>,
    /// The public keys that verify tokens still in use (as the JWKS publishes them), by `kid`;
    /// for Clavis's own checks of its tokens (`oauth::access`).
    verifying: RwLock<VerifyingKeys>,
    /// How long a retired key still verifies: the access tokens' lifetime.
    token_ttl_secs: i64,
    /// How long a retired ID-token key still verifies an `id_token_hint`: as long as a
    /// person's session can live, so that logout works after `clavis keys rotate`.
    hint_ttl_secs: i64,
    /// The RS256 key that signs ID tokens now.
    id_key: RwLock<Option<Arc<IdKey>>>,
    /// The published RS256 public keys (`kid`, base64url DER), for `id_token_hint`.
    id_public: RwLock<Arc<Vec<(String, String)>>>,
}

fn new_kid() -> String {
    let mut b = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// How long resource servers may cache the JWKS (its `Cache-Control: max-age`), in seconds. A
/// rotated-in key is published this long before it signs.
pub const JWKS_MAX_AGE_SECS: i64 = 60;

/// The stored form of a private key: sealed when there is a key-encryption key.
fn stored_form(kek: Option<&Kek>, kid: &str, der: &[u8]) -> String {
    match kek {
        Some(kek) => kek.seal(der, kid),
        None => URL_SAFE_NO_PAD.encode(der),
    }
}

/// The PKCS#8 DER of a stored private key.
fn open_stored(kek: Option<&Kek>, kid: &str, stored: &str) -> SvcResult<Vec<u8>> {
    match (is_sealed(stored), kek) {
        (true, Some(kek)) => kek
            .open(stored, kid)
            .map_err(|e| SvcError::Internal(format!("signing key {kid} is sealed, and {e}"))),
        (true, None) => Err(SvcError::Internal(format!(
            "signing key {kid} is sealed, and there is no key-encryption key to open it"
        ))),
        (false, _) => URL_SAFE_NO_PAD
            .decode(stored)
            .map_err(|_| SvcError::Internal(format!("signing key {kid} is not readable"))),
    }
}

/// Seals every private key still stored in the clear, and checks that every sealed one opens
/// with `kek`, in one transaction. Returns how many were sealed. Run at every start: a wrong
/// key-encryption key stops the start here, before anything is served.
pub async fn seal_unsealed(db: &Db, kek: &Kek) -> SvcResult<u32> {
    db.write(|conn| {
        let kek = kek.clone();
        async move {
            let rows = sqlx::query("SELECT id, kid, private_pkcs8 FROM signing_keys")
                .fetch_all(&mut *conn)
                .await?;
            let mut sealed = 0;
            for r in &rows {
                let (id, kid): (i64, String) = (r.try_get("id")?, r.try_get("kid")?);
                let stored: String = r.try_get("private_pkcs8")?;
                let der = open_stored(Some(&kek), &kid, &stored)?;
                if !is_sealed(&stored) {
                    sqlx::query("UPDATE signing_keys SET private_pkcs8 = $1 WHERE id = $2")
                        .bind(kek.seal(&der, &kid))
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    sealed += 1;
                }
            }
            Ok(sealed)
        }
        .boxed()
    })
    .await
}

/// Whether any private key is stored sealed (then the key-encryption key must be there).
pub async fn any_sealed(db: &Db) -> SvcResult<bool> {
    let rows = sqlx::query("SELECT private_pkcs8 FROM signing_keys")
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.iter().any(|r| {
        r.try_get::<String, _>("private_pkcs8")
            .is_ok_and(|s| is_sealed(&s))
    }))
}

/// The algorithms of the store: Ed25519 for access tokens, RS256 for ID tokens. Each has one
/// key signing at a time.
pub const ALGS: [&str; 2] = [ALG, id_keys::RS256];

/// Generates a key for `alg` and stores it as the newest signing key of that algorithm,
/// signing from `activates_at`.
async fn insert_key(
    conn: &mut sqlx::AnyConnection,
    kek: Option<&Kek>,
    now: i64,
    activates_at: i64,
    alg: &'static str,
) -> SvcResult<String> {
    let (der, public_x) = if alg == ALG {
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let der = key
            .to_pkcs8_der()
            .map_err(|e| SvcError::Internal(format!("encoding a new signing key: {e}")))?;
        (
            der.as_bytes().to_vec(),
            URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
        )
    } else {
        id_keys::generate()?
    };
    let kid = new_kid();
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, private_pkcs8, public_x, created_at, activates_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(kid.clone())
    .bind(alg)
    .bind(stored_form(kek, &kid, &der))
    .bind(public_x)
    .bind(now)
    .bind(activates_at)
    .execute(&mut *conn)
    .await?;
    Ok(kid)
}

/// Makes sure a signing key of each algorithm exists (first start, or the first start of a
/// version that signs ID tokens). Safe when several replicas start at once.
pub async fn ensure_signing_key(db: &Db, kek: Option<&Kek>) -> SvcResult<()> {
    db.write(|conn| {
        let kek = kek.cloned();
        async move {
            for alg in ALGS {
                let any = sqlx::query(
                    "SELECT kid FROM signing_keys WHERE retired_at IS NULL AND alg = $1",
                )
                .bind(alg)
                .fetch_optional(&mut *conn)
                .await?;
                if any.is_none() {
                    // The first key has no predecessor to wait for: it signs at once.
                    let now = now_ms();
                    insert_key(conn, kek.as_ref(), now, now, alg).await?;
                }
            }
            Ok(())
        }
        .boxed()
    })
    .await
}

/// Adds a new signing key of each algorithm, published at once and signing `JWKS_MAX_AGE_SECS`
/// later, when the keys that sign now retire. The old keys stay in the JWKS until every token
/// they signed has expired. Returns the new `kid` of the access tokens' key.
pub async fn rotate_signing_key(
    db: &Db,
    kek: Option<&Kek>,
    meta: &RequestMeta,
    actor: &str,
) -> SvcResult<String> {
    rotate_signing_key_at(db, kek, meta, actor, now_ms()).await
}

/// `rotate_signing_key` with the clock given.
pub async fn rotate_signing_key_at(
    db: &Db,
    kek: Option<&Kek>,
    meta: &RequestMeta,
    actor: &str,
    now: i64,
) -> SvcResult<String> {
    db.write(|conn| {
        let (meta, actor, kek) = (meta.clone(), actor.to_string(), kek.cloned());
        async move {
            let activates_at = now + JWKS_MAX_AGE_SECS * 1000;
            sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
                .bind(activates_at)
                .execute(&mut *conn)
                .await?;
            let mut first = None;
            for alg in ALGS {
                let kid = insert_key(conn, kek.as_ref(), now, activates_at, alg).await?;
                let ev = Event {
                    actor: &actor,
                    action: "signing_key.rotated",
                    target: Some(&kid),
                    detail: Some(format!("a new {alg} key")),
                };
                audit::record(conn, &meta, ev).await?;
                first.get_or_insert(kid);
            }
            first.ok_or_else(|| SvcError::Internal("no key algorithm".into()))
        }
        .boxed()
    })
    .await
}

impl KeyRing {
    pub fn new(kek: Option<Kek>) -> Self {
        KeyRing {
            active: RwLock::new(None),
            kek,
            verifying: RwLock::default(),
            token_ttl_secs: 3600,
            hint_ttl_secs: 3600,
            id_key: RwLock::new(None),
            id_public: RwLock::default(),
        }
    }

    /// The lifetime of the access tokens, so that a retired key verifies as long as the JWKS
    /// publishes it.
    pub fn with_token_ttl(mut self, secs: i64) -> Self {
        self.token_ttl_secs = secs;
        self
    }

    /// The longest a person's session lives: ID-token keys verify `id_token_hint`s that long
    /// after they retire.
    pub fn with_hint_ttl(mut self, secs: i64) -> Self {
        self.hint_ttl_secs = secs;
        self
    }

    /// The public keys that verify tokens in use now, by `kid` (read by `reload`).
    pub fn verifying_keys(&self) -> VerifyingKeys {
        self.verifying
            .read()
            .map(|k| Arc::clone(&k))
            .unwrap_or_default()
    }

    async fn reload_verifying(&self, db: &Db, now: i64) -> SvcResult<()> {
        let since = now - self.token_ttl_secs.max(self.hint_ttl_secs) * 1000;
        let token_since = now - self.token_ttl_secs * 1000;
        let rows = sqlx::query(
            "SELECT kid, alg, public_x, retired_at FROM signing_keys \
             WHERE retired_at IS NULL OR retired_at > $1",
        )
        .bind(since)
        .fetch_all(&db.pool)
        .await?;
        let mut keys = Vec::with_capacity(rows.len());
        let mut id_public = Vec::new();
        for r in rows {
            let kid: String = r.try_get("kid")?;
            let x: String = r.try_get("public_x")?;
            let retired_at: Option<i64> = r.try_get("retired_at")?;
            let alg: String = r.try_get("alg")?;
            if alg != ALG {
                // RS256: checks `id_token_hint`s only, for as long as a session lives.
                if retired_at.is_none_or(|t| t > now - self.hint_ttl_secs * 1000) {
                    id_public.push((kid, x));
                }
                continue;
            }
            if retired_at.is_some_and(|t| t <= token_since) {
                continue;
            }
            let bytes = URL_SAFE_NO_PAD.decode(x.as_bytes()).ok();
            match bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                Some(public) => keys.push((kid, public)),
                None => tracing::warn!(%kid, "signing key with an unreadable public key"),
            }
        }
        if let Ok(mut slot) = self.verifying.write() {
            *slot = Arc::new(keys);
        }
        if let Ok(mut slot) = self.id_public.write() {
            *slot = Arc::new(id_public);
        }
        Ok(())
    }

    /// The published RS256 public keys, by `kid` (base64url DER).
    pub fn id_public_keys(&self) -> Arc<Vec<(String, String)>> {
        self.id_public
            .read()
            .map(|k| Arc::clone(&k))
            .unwrap_or_default()
    }

    /// The key that signs ID tokens now.
    pub fn id_key(&self) -> Option<Arc<IdKey>> {
        self.id_key.read().ok().and_then(|k| k.clone())
    }

    /// The newest key of `alg` active at `now`: its `kid` and stored private key.
    async fn active_row(db: &Db, alg: &str, now: i64) -> SvcResult<Option<(String, String)>> {
        let row = sqlx::query(
            "SELECT kid, private_pkcs8 FROM signing_keys WHERE alg = $2 AND activates_at <= $1 \
             AND (retired_at IS NULL OR retired_at > $1) ORDER BY activates_at DESC, id DESC LIMIT 1",
        )
        .bind(now)
        .bind(alg.to_string())
        .fetch_optional(&db.pool)
        .await?;
        row.map(|r| Ok((r.try_get("kid")?, r.try_get("private_pkcs8")?)))
            .transpose()
            .map_err(|e: sqlx::Error| e.into())
    }

    async fn reload_id_key(&self, db: &Db, now: i64) -> SvcResult<()> {
        let Some((kid, stored)) = Self::active_row(db, id_keys::RS256, now).await? else {
            return Ok(());
        };
        if self.id_key().is_some_and(|k| k.kid == kid) {
            return Ok(());
        }
        let der = open_stored(self.kek.as_ref(), &kid, &stored)?;
        let key = IdKey::from_der(kid, &der)?;
        if let Ok(mut slot) = self.id_key.write() {
            *slot = Some(Arc::new(key));
        }
        Ok(())
    }

    /// Reads the key that signs now, if it changed.
    pub async fn reload(&self, db: &Db) -> SvcResult<()> {
        self.reload_at(db, now_ms()).await
    }

    /// `reload` with the clock given: the newest key active at `now`.
    pub async fn reload_at(&self, db: &Db, now: i64) -> SvcResult<()> {
        let (kid, stored) = Self::active_row(db, ALG, now)
            .await?
            .ok_or_else(|| SvcError::Internal("no signing key in the database".into()))?;
        self.reload_verifying(db, now).await?;
        self.reload_id_key(db, now).await?;
        if self.current().is_some_and(|k| k.kid == kid) {
            return Ok(());
        }
        let der = open_stored(self.kek.as_ref(), &kid, &stored)?;
        let signing = ed25519_dalek::SigningKey::from_pkcs8_der(&der)
            .map_err(|_| SvcError::Internal(format!("signing key {kid} is not an Ed25519 key")))?;
        let key = ActiveKey::new(kid, signing);
        if let Ok(mut slot) = self.active.write() {
            *slot = Some(Arc::new(key));
        }
        Ok(())
    }

    pub fn current(&self) -> Option<Arc<ActiveKey>> {
        self.active.read().ok().and_then(|k| k.clone())
    }
}

/// The public keys that verify tokens in use now or soon: the active key, a key that will
/// activate, and every key retired less than `token_ttl_secs` ago.
pub async fn jwks(db: &Db, token_ttl_secs: i64) -> SvcResult<serde_json::Value> {
    jwks_at(db, token_ttl_secs, now_ms()).await
}

/// `jwks` with the clock given.
pub async fn jwks_at(db: &Db, token_ttl_secs: i64, now: i64) -> SvcResult<serde_json::Value> {
    let since = now - token_ttl_secs * 1000;
    let rows = sqlx::query(
        "SELECT kid, alg, public_x FROM signing_keys WHERE retired_at IS NULL OR retired_at > $1 ORDER BY id DESC",
    )
    .bind(since)
    .fetch_all(&db.pool)
    .await?;
    let mut keys = Vec::with_capacity(rows.len());
    for r in &rows {
        let (kid, alg): (String, String) = (r.try_get("kid")?, r.try_get("alg")?);
        let public: String = r.try_get("public_x")?;
        if alg == ALG {
            keys.push(serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "use": "sig",
                "alg": alg,
                "kid": kid,
                "x": public,
            }));
        } else {
            match id_keys::jwk(&kid, &public) {
                Some(jwk) => keys.push(jwk),
                None => tracing::warn!(%kid, "signing key with an unreadable public key"),
            }
        }
    }
    Ok(serde_json::json!({ "keys": keys }))
}
