-- Single-use keys of changes that must not happen twice: the token of a console form that
-- creates a client or rotates a secret (and, later, an API Idempotency-Key). A key is recorded
-- in the same transaction as its change; a second request with it changes nothing.
CREATE TABLE applied_requests (
    key TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    -- SHA-256 of what the first request asked for: a repeat with other content is refused as
    -- a conflict, not taken for the same change.
    fingerprint TEXT NOT NULL,
    -- What the first request made, for the answer to a repeat: the page of the client.
    outcome TEXT NOT NULL,
    applied_at BIGINT NOT NULL
);
CREATE INDEX applied_requests_applied_at ON applied_requests (applied_at);
