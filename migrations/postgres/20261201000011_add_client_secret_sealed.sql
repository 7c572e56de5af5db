-- The storage flag client_secrets_stored_as_one_way_hash = false: a secret is stored as its
-- hash (which verification uses) plus its plaintext sealed under the key-encryption key
-- (XChaCha20-Poly1305, bound to the secret's hash), so that an administrator can reveal it.
-- NULL when the flag is true, and erased as soon as the secret is revoked or expires.
ALTER TABLE client_secrets ADD COLUMN sealed TEXT;
