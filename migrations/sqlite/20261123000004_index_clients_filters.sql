-- Why: the client list filters by type and by status over many clients; these keep a
-- filtered page an index walk in name order instead of a scan.
CREATE INDEX clients_type_status_name ON clients (client_type, enabled, name_key, id);
CREATE INDEX clients_status_name ON clients (enabled, name_key, id);
