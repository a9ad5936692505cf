-- PostgreSQL: the payments refuse updates, deletes and truncation.
CREATE FUNCTION drgdip_payments_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'payments are append-only';
END;
$$;
CREATE TRIGGER payments_no_update_delete BEFORE UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION drgdip_payments_append_only();
CREATE TRIGGER payments_no_truncate BEFORE TRUNCATE ON payments
    FOR EACH STATEMENT EXECUTE FUNCTION drgdip_payments_append_only();
