-- What PKCE clients need for sign-in: the redirect URIs that RP-initiated logout may send
-- people back to (one per line, as redirect_uris), and whether the client is first-party, so
-- that people are not asked for consent.
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN first_party INTEGER NOT NULL DEFAULT 0 CHECK (first_party IN (0, 1));
