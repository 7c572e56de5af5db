-- Why: each client's page shows its own audit trail, looked up by target, newest first.
CREATE INDEX audit_target_id ON audit_events (target, id);
