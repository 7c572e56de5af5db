-- People: the directory of those who sign in to the apps (authorization code with PKCE). They
-- are not console accounts and never reach the console. subject is the stable `sub` of their
-- ID tokens: random and opaque, never the username. password_hash is argon2id, as for accounts.
CREATE TABLE people (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subject         TEXT    NOT NULL UNIQUE,
    username        TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL,
    email           TEXT    NOT NULL DEFAULT '',
    password_hash   TEXT    NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at      INTEGER NOT NULL,
    created_by      TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_sign_in_at INTEGER
);
