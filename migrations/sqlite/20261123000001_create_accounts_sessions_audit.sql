-- Why: the foundation. Console accounts with roles, server-side sessions that every replica can
-- read, and the append-only audit log. Times are unix milliseconds; flags are 0/1 integers, so
-- the same queries run on SQLite and PostgreSQL.

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT    NOT NULL UNIQUE,
    password_hash   TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('admin', 'support')),
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_sign_in_at INTEGER
);

-- token_hash is the SHA-256 of the cookie value; the cookie value itself is never stored.
CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT,
    ip         TEXT,
    detail     TEXT,
    request_id TEXT
);
-- Filters on /audit, and the sign-in failure counts per username and per IP.
CREATE INDEX audit_actor_action_at ON audit_events (actor, action, at);
CREATE INDEX audit_ip_action_at ON audit_events (ip, action, at);
CREATE INDEX audit_action_id ON audit_events (action, id);
CREATE INDEX audit_at ON audit_events (at);
