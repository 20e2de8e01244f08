-- Tenants: every session, visitor and vendor identity belongs to one, and so does every
-- credential that can write them (SRM accounts, Nuance OAuth clients). Identities are keyed by
-- (tenant, kind, value): the same customer id in two tenants names two visitors, never one.
-- What existed before belongs to the tenant "default".
ALTER TABLE sessions ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
CREATE INDEX sessions_by_tenant ON sessions (tenant, started_at);
ALTER TABLE visitors ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
ALTER TABLE visitor_identities ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
ALTER TABLE visitor_identities DROP CONSTRAINT visitor_identities_pkey;
ALTER TABLE visitor_identities ADD PRIMARY KEY (tenant, kind, value);
ALTER TABLE accounts ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
ALTER TABLE oauth_clients ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
