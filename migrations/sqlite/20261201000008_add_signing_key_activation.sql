-- Why: a new signing key must be published in the JWKS for at least as long as resource servers
-- may cache the JWKS (60 s) before any token is signed with it. activates_at is when a key
-- starts signing; keys made before this migration were active from their creation.
ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER NOT NULL DEFAULT 0;
UPDATE signing_keys SET activates_at = created_at;
