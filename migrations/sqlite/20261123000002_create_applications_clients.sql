-- Why: the client registry. An application groups the clients (artifacts) of one product.
-- name_key is the lower-cased name, compared bytewise on both engines, so that name search is
-- an index range scan and keyset pagination is stable. Lists are stored as text: redirect URIs
-- one per line, scopes separated by spaces (neither may contain the separator).

CREATE TABLE applications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL
);

CREATE TABLE clients (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      TEXT    NOT NULL UNIQUE,
    application_id INTEGER REFERENCES applications (id) ON DELETE SET NULL,
    name           TEXT    NOT NULL,
    name_key       TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    client_type    TEXT    NOT NULL CHECK (client_type IN ('confidential_pkce', 'public_pkce', 'client_credentials')),
    redirect_uris  TEXT    NOT NULL DEFAULT '',
    scopes         TEXT    NOT NULL DEFAULT '',
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at     INTEGER NOT NULL,
    created_by     TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL,
    updated_by     TEXT    NOT NULL
);
-- Keyset pagination by name or by creation time, and the application filter.
CREATE INDEX clients_name ON clients (name_key, id);
CREATE INDEX clients_created ON clients (created_at, id);
CREATE INDEX clients_application ON clients (application_id, name_key, id);
