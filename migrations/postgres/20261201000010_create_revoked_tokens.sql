-- Access tokens revoked before their expiry (RFC 7009), by their `jti`. A token stays listed
-- until its own `exp` (then it is dead anyway) and is pruned after that. Introspection and the
-- admin API read this table on every check, so a revocation is seen at once on every replica.
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
