-- Authorizers: gateways in front of one API (an audience) that check Clavis's tokens with a
-- system client of their own (client credentials, scope clavis:introspect, in the "System"
-- application). Deleting an authorizer deletes its client in the same transaction; the client
-- cannot be deleted while its authorizer exists (RESTRICT). last_active_at is the last call of
-- GET /api/v1/authorizer/configuration; its secrets' last_used_at covers the rest.
CREATE TABLE authorizers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    slug           TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    audience       TEXT    NOT NULL,
    namespace      TEXT    NOT NULL,
    image          TEXT    NOT NULL,
    client_pk      INTEGER NOT NULL UNIQUE REFERENCES clients (id) ON DELETE RESTRICT,
    last_active_at INTEGER,
    created_at     INTEGER NOT NULL,
    created_by     TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL,
    updated_by     TEXT    NOT NULL
);
