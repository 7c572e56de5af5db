-- Why: the secret lifecycle. Each confidential client has exactly one current secret (the
-- partial unique index enforces it), any number of rotated ones that stay valid until revoked
-- or past expires_at, and revoked ones kept for history. Only a tagged one-way hash
-- ("sha256:" + hex) and a display hint (the last 4 characters) are stored, never a plaintext.
-- revoked_reason is "revoked" (by a person), "rotation limit" or "expired".
-- last_used_at is written in batches by the token endpoint, not once per request.

CREATE TABLE client_secrets (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_pk      INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    hash           TEXT    NOT NULL,
    hint           TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('current', 'rotated', 'revoked')),
    created_at     INTEGER  NOT NULL,
    created_by     TEXT    NOT NULL,
    rotated_at     INTEGER,
    expires_at     INTEGER,
    revoked_at     INTEGER,
    revoked_by     TEXT,
    revoked_reason TEXT,
    last_used_at   INTEGER
);
CREATE UNIQUE INDEX client_secrets_one_current ON client_secrets (client_pk) WHERE state = 'current';
CREATE INDEX client_secrets_by_client ON client_secrets (client_pk, state);
CREATE INDEX client_secrets_expiry ON client_secrets (expires_at) WHERE state = 'rotated';
