-- Why: the keys that sign access tokens live in the database, so that every replica signs
-- with the same key and publishes the same JWKS. The newest key without retired_at signs;
-- retired keys stay published until every token they signed has expired (access_token_ttl).
-- private_pkcs8 is the Ed25519 private key (PKCS#8 DER, base64url); it never leaves the server.

CREATE TABLE signing_keys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kid           TEXT    NOT NULL UNIQUE,
    alg           TEXT    NOT NULL,
    private_pkcs8 TEXT    NOT NULL,
    public_x      TEXT    NOT NULL,
    created_at    INTEGER  NOT NULL,
    retired_at    INTEGER
);
