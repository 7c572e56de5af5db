-- Signing people in to apps (authorization code with PKCE, OpenID Connect).
--
-- person_sessions: a person's session at Clavis, apart from console sessions (own cookie). The
-- cookie holds 256 random bits; the table only their SHA-256. auth_time is when the person
-- last typed their password (ID token `auth_time`, `max_age`).
CREATE TABLE person_sessions (
    token_hash TEXT    PRIMARY KEY,
    person_id  BIGINT  NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    auth_time  BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX person_sessions_person ON person_sessions (person_id);

-- The scopes a person has granted an app, so that consent is asked once.
CREATE TABLE consents (
    person_id  BIGINT  NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    granted_at BIGINT  NOT NULL,
    PRIMARY KEY (person_id, client_id)
);

-- Authorization codes, by the SHA-256 of the code. Single use: used_at is set by the exchange;
-- an exchange that finds it set is a replay and revokes the grant's family. family is the
-- grant that the code starts (its refresh tokens and access tokens).
CREATE TABLE authorization_codes (
    code_hash      TEXT    PRIMARY KEY,
    family         TEXT    NOT NULL UNIQUE,
    client_id      TEXT    NOT NULL,
    person_id      BIGINT  NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    nonce          TEXT,
    scope          TEXT    NOT NULL,
    auth_time      BIGINT  NOT NULL,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL,
    used_at        BIGINT 
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

-- Refresh tokens, by the SHA-256 of the token. Each use rotates: the used token gets used_at and
-- a new one of the same family is stored. A used token presented again revokes the family
-- (RFC 9700 §4.14). access_jti and access_expires_at name the access token issued with it, so
-- that a revoked family's access tokens are revoked too.
CREATE TABLE refresh_tokens (
    token_hash        TEXT    PRIMARY KEY,
    family            TEXT    NOT NULL,
    client_id         TEXT    NOT NULL,
    person_id         BIGINT  NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    scope             TEXT    NOT NULL,
    auth_time         BIGINT  NOT NULL,
    created_at        BIGINT  NOT NULL,
    expires_at        BIGINT  NOT NULL,
    used_at           BIGINT ,
    revoked_at        BIGINT ,
    access_jti        TEXT    NOT NULL,
    access_expires_at BIGINT  NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
