-- Tenants: every session, visitor and vendor identity belongs to one, and so does every
-- credential that can write them (SRM accounts, Nuance OAuth clients). Identities are keyed by
-- (tenant, kind, value): the same customer id in two tenants names two visitors, never one.
-- What existed before belongs to the tenant "default".
ALTER TABLE sessions ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
CREATE INDEX sessions_by_tenant ON sessions (tenant, started_at);
ALTER TABLE visitors ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
CREATE TABLE visitor_identities_by_tenant (
    tenant     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    visitor_id TEXT NOT NULL REFERENCES visitors (id),
    PRIMARY KEY (tenant, kind, value)
);
INSERT INTO visitor_identities_by_tenant (tenant, kind, value, visitor_id)
    SELECT 'default', kind, value, visitor_id FROM visitor_identities;
DROP TABLE visitor_identities;
ALTER TABLE visitor_identities_by_tenant RENAME TO visitor_identities;
CREATE INDEX visitor_identities_by_visitor ON visitor_identities (visitor_id);
ALTER TABLE accounts ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
ALTER TABLE oauth_clients ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
