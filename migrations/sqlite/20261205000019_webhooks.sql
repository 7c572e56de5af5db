-- Webhooks: endpoints that hear about changes, a transactional outbox of events, and the
-- deliveries of each event to each endpoint that wants it (see app/src/webhooks).

-- An endpoint's signing secret is sealed under the key-encryption key (Clavis must sign with
-- it). After a rotation the previous one keeps signing too until previous_secret_until.
-- lease_owner/lease_until: the replica that delivers to this endpoint now, and until when (a
-- dead replica's lease runs out and another takes over).
CREATE TABLE webhook_endpoints (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id              TEXT    NOT NULL UNIQUE,
    url                    TEXT    NOT NULL,
    description            TEXT    NOT NULL DEFAULT '',
    events                 TEXT    NOT NULL DEFAULT '',
    enabled                INTEGER NOT NULL DEFAULT 1,
    secret_sealed          TEXT    NOT NULL,
    previous_secret_sealed TEXT,
    previous_secret_until  INTEGER,
    created_at             INTEGER NOT NULL,
    created_by             TEXT    NOT NULL,
    updated_at             INTEGER NOT NULL,
    lease_owner            TEXT,
    lease_until            INTEGER
);

-- The outbox: each event is written in the transaction of the change it describes, with one
-- delivery per endpoint that wants it. public_id is the webhook-id receivers deduplicate on.
CREATE TABLE webhook_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id  TEXT    NOT NULL UNIQUE,
    type       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    payload    TEXT    NOT NULL
);

-- Per endpoint, only the oldest pending delivery is attempted (in order); next_at is when.
CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_pk  INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_pk     INTEGER NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_pk, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_pk, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE state <> 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_pk);

-- Each attempt: the HTTP status (NULL without an answer), how long it took, and a short reason.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_pk  INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at           INTEGER NOT NULL,
    status       INTEGER,
    latency_ms   INTEGER NOT NULL,
    error        TEXT
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_pk, id);

-- The expiry notices already given: one row per secret and threshold (seconds before its
-- expiry; 0 for "expired"), so each is sent once, across restarts and replicas.
CREATE TABLE secret_expiry_notices (
    secret_id  INTEGER NOT NULL REFERENCES client_secrets (id) ON DELETE CASCADE,
    threshold  INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (secret_id, threshold)
);
