-- Every instance remembers Client-Token credentials and entitlements (the two reads of every
-- SRM call). A change to a row those reads are made of tells every instance at once: one
-- notification a statement on the channel sessionhub_records, carrying the schema's name
-- (instances sharing a database may serve different schemas).
CREATE FUNCTION records_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sessionhub_records', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION records_changed();
CREATE TRIGGER devices_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION records_changed();
CREATE TRIGGER content_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON content
    FOR EACH STATEMENT EXECUTE FUNCTION records_changed();
CREATE TRIGGER entitlements_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON entitlements
    FOR EACH STATEMENT EXECUTE FUNCTION records_changed();
CREATE TRIGGER client_tokens_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON client_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION records_changed();
