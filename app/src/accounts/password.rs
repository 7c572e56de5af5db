//! Password hashing for console accounts: argon2id with the crate's recommended parameters,
//! verified in constant time by the argon2 crate, on a blocking thread. An unknown username
//! is checked against a dummy hash, so that both paths take the same time.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHashString, SaltString};
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};

use crate::infra::{SvcError, SvcResult};

/// A stored argon2id hash. Neither `Serialize` nor a revealing `Debug`.
#[derive(Clone)]
pub struct PasswordHashValue(String);

impl PasswordHashValue {
    /// The PHC string, for the one column that stores it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHashValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHashValue(<hidden>)")
    }
}

/// Hashes and verifies passwords; holds the dummy hash used for unknown usernames.
pub struct PasswordHasher {
    dummy: PasswordHashString,
}

impl PasswordHasher {
    /// Prepares the dummy hash (of random bytes nobody knows) used for unknown usernames.
    pub fn new() -> SvcResult<Self> {
        let salt = SaltString::generate(&mut OsRng);
        let mut random = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
        let dummy = Argon2::default()
            .hash_password(&random, &salt)
            .map_err(|e| SvcError::Internal(format!("argon2 unavailable: {e}")))?
            .serialize();
        Ok(PasswordHasher { dummy })
    }

    /// argon2id with the crate's recommended parameters, on a blocking thread.
    pub async fn hash(&self, password: &str) -> SvcResult<PasswordHashValue> {
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| PasswordHashValue(h.to_string()))
                .map_err(|e| SvcError::Internal(format!("password hashing failed: {e}")))
        })
        .await
        .map_err(|e| SvcError::Internal(format!("hashing task failed: {e}")))?
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no
    /// account, so that both paths take the same time.
    pub async fn verify(&self, stored: Option<String>, password: &str) -> bool {
        let stored = stored.unwrap_or_else(|| self.dummy.to_string());
        let password = password.to_string();
        tokio::task::spawn_blocking(move || match PasswordHash::new(&stored) {
            Ok(h) => Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok(),
            Err(_) => false,
        })
        .await
        .unwrap_or(false)
    }
}
