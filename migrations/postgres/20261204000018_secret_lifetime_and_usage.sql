-- Secrets over time. A client may have its own secret lifetime (seconds); NULL means the
-- server's secret_max_lifetime, or no expiry when that is unset. A secret's lifetime is fixed
-- in its expires_at when it is made, so changing either never shortens an existing secret.
ALTER TABLE clients ADD COLUMN secret_lifetime BIGINT;

-- When the client last got a token or introspected one, by any grant (public clients have no
-- secret whose last_used_at would say it). Written by the batched usage recorder.
ALTER TABLE clients ADD COLUMN last_used_at BIGINT;
-- Filled from what is known: the secrets' last use, and for apps that people sign in to (public
-- ones have no secret) the newest refresh token made for them.
UPDATE clients SET last_used_at = (SELECT MAX(s.last_used_at) FROM client_secrets s WHERE s.client_pk = clients.id);
UPDATE clients SET last_used_at = (SELECT MAX(r.created_at) FROM refresh_tokens r WHERE r.client_id = clients.client_id)
 WHERE last_used_at IS NULL;

-- Daily counts of what each client did: tokens issued per grant ('client_credentials',
-- 'authorization_code', 'refresh_token') and introspections ('introspection'), per secret when
-- one was presented (secret_id 0 when none was). day is whole days since 1970-01-01 UTC.
-- The recorder adds to these in batches, so every replica adds to the same rows. Pruned after
-- 90 days.
CREATE TABLE client_usage_daily (
    client_pk  BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    day        BIGINT NOT NULL,
    kind       TEXT    NOT NULL,
    secret_id  BIGINT NOT NULL DEFAULT 0,
    count      BIGINT NOT NULL,
    PRIMARY KEY (client_pk, day, kind, secret_id)
);
CREATE INDEX client_usage_daily_day ON client_usage_daily (day);

-- The Overview's groups, each read a page at a time in the order of one of these indexes, so
-- that a page costs the same with a hundred clients or a hundred thousand (see
-- attention/service.rs and server/benches/overview.rs).
-- Expired and expiring current secrets, by expiry (the client is the tie-breaker).
CREATE INDEX client_secrets_expires ON client_secrets (state, expires_at, client_pk);
-- Current secrets that were revoked (a rotated secret has rotated_at), by when.
CREATE INDEX client_secrets_revoked_current ON client_secrets (revoked_at, client_pk)
    WHERE state = 'revoked' AND rotated_at IS NULL;
-- Rotated secrets by last use (still in use) and by rotation (safe to revoke).
CREATE INDEX client_secrets_rotated_used ON client_secrets (last_used_at, id) WHERE state = 'rotated';
CREATE INDEX client_secrets_rotated_at ON client_secrets (rotated_at, id) WHERE state = 'rotated';
-- Valid secrets made before the policy, oldest first.
CREATE INDEX client_secrets_no_expiry ON client_secrets (created_at, id)
    WHERE expires_at IS NULL AND state IN ('current', 'rotated');
-- Disabled clients by last use, and enabled ones by last use or else creation (idle).
CREATE INDEX clients_disabled_used ON clients (last_used_at, id) WHERE enabled = 0;
CREATE INDEX clients_idle ON clients ((COALESCE(last_used_at, created_at)), id) WHERE enabled = 1;
