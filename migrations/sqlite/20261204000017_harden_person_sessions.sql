-- Disabling a person or resetting their password revokes their refresh tokens and codes by
-- person_id, which had no index: every row of both tables was scanned.
CREATE INDEX refresh_tokens_person ON refresh_tokens (person_id);
CREATE INDEX authorization_codes_person ON authorization_codes (person_id);

-- Person sessions end after a time without use (person_session_idle_timeout), as console
-- sessions do. Sessions from before this column count as seen when they were made.
ALTER TABLE person_sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE person_sessions SET last_seen_at = created_at;

-- The authorization request (a digest of its parameters) whose sign-in page opened the
-- session: `prompt=login` is met only by a sign-in inside the same request.
ALTER TABLE person_sessions ADD COLUMN sign_in_request TEXT;
