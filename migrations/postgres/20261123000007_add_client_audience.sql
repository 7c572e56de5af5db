-- Why: a client-credentials client may name the API its access tokens are for. The token
-- endpoint puts it in the `aud` claim; '' means "use the configured access_token_audience".
ALTER TABLE clients ADD COLUMN audience TEXT NOT NULL DEFAULT '';
