-- An exchanged code remembers the access token it gave, so that a replay revokes that token
-- even when no refresh token was issued (the app did not ask for offline_access).
ALTER TABLE authorization_codes ADD COLUMN access_jti TEXT;
ALTER TABLE authorization_codes ADD COLUMN access_expires_at INTEGER;

-- When a grant began (its code was exchanged): a family stops refreshing a fixed time after
-- it, however often it rotates. Families from before this column start at their oldest token.
ALTER TABLE refresh_tokens ADD COLUMN granted_at INTEGER NOT NULL DEFAULT 0;
UPDATE refresh_tokens SET granted_at = (
    SELECT MIN(r2.created_at) FROM refresh_tokens r2 WHERE r2.family = refresh_tokens.family
);
