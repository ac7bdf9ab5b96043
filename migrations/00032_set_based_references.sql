-- +goose Up
-- Two references checked once per statement instead of once per row.
--
-- A foreign key checks each inserted row on its own: one query per row,
-- which takes a KEY SHARE lock on the referenced row. A contacts import
-- writes 1,100,000 phones and 1,100,000 consent entries per million rows,
-- and those checks cost 4.1 s and 3.3 s of Postgres time (COPY of the same
-- rows with and without the key). The checks below keep the guarantee, that
-- no phone names a missing contact and no consent entry a missing brand,
-- with one anti-join per statement over the rows it wrote (a transition
-- table). They take no row locks. Instead, deleting a referenced row (or
-- changing its id) first takes a SHARE lock on the referencing table. That
-- lock waits for writers still in flight and holds off new ones, so the
-- delete's own check sees every reference. Contacts are never deleted and
-- brands hardly ever: while such a delete runs, it holds up every write of
-- phones or consent entries until it commits.
ALTER TABLE contact_phones DROP CONSTRAINT contact_phones_contact_id_fkey;
ALTER TABLE consent_events DROP CONSTRAINT consent_events_brand_id_fkey;

-- One function per reference, in static SQL: plpgsql keeps their plans,
-- where one function of dynamic SQL would plan again at every statement
-- (the inbound path writes phones and consent entries a row at a time).
-- +goose StatementBegin
CREATE FUNCTION contact_phones_check_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        -- A snapshot older than the statement may still show a contact
        -- deleted since: lock them as a foreign key would.
        PERFORM 1 FROM contacts c WHERE c.id IN (SELECT contact_id FROM written) FOR KEY SHARE OF c;
    END IF;
    IF EXISTS (SELECT 1 FROM written w WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = w.contact_id)) THEN
        RAISE EXCEPTION 'contact_phones.contact_id names no contact' USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER contact_phones_contact_exists AFTER INSERT ON contact_phones
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION contact_phones_check_contacts();
CREATE TRIGGER contact_phones_contact_exists_update AFTER UPDATE ON contact_phones
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION contact_phones_check_contacts();

-- +goose StatementBegin
CREATE FUNCTION consent_events_check_brands() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM 1 FROM brands b WHERE b.id IN (SELECT brand_id FROM written) FOR KEY SHARE OF b;
    END IF;
    IF EXISTS (SELECT 1 FROM written w WHERE NOT EXISTS (SELECT 1 FROM brands b WHERE b.id = w.brand_id)) THEN
        RAISE EXCEPTION 'consent_events.brand_id names no brand' USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER consent_events_brand_exists AFTER INSERT ON consent_events
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION consent_events_check_brands();

-- The referenced side: a contact or brand still referenced cannot be deleted
-- or renumbered. The trigger's arguments name the referencing table and
-- column.
-- +goose StatementBegin
CREATE FUNCTION keep_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    named boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        -- Its snapshot would not see references written after it began.
        RAISE EXCEPTION '% are deleted or renumbered only in READ COMMITTED transactions', TG_TABLE_NAME
            USING ERRCODE = 'serialization_failure';
    END IF;
    EXECUTE format('LOCK TABLE %I IN SHARE MODE', TG_ARGV[0]);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1)', TG_ARGV[0], TG_ARGV[1]) INTO named USING OLD.id;
    IF named THEN
        RAISE EXCEPTION '% % is still named by %', TG_TABLE_NAME, OLD.id, TG_ARGV[0] USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
-- +goose StatementEnd
CREATE TRIGGER contacts_referenced_by_phones BEFORE DELETE OR UPDATE OF id ON contacts
    FOR EACH ROW EXECUTE FUNCTION keep_referenced('contact_phones', 'contact_id');
CREATE TRIGGER brands_referenced_by_consent BEFORE DELETE OR UPDATE OF id ON brands
    FOR EACH ROW EXECUTE FUNCTION keep_referenced('consent_events', 'brand_id');

-- TRUNCATE … CASCADE follows foreign keys only: a contacts or brands
-- truncation that would leave phones or consent entries naming nothing is
-- refused.
-- +goose StatementBegin
CREATE FUNCTION truncate_keep_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'contacts' AND EXISTS (SELECT 1 FROM contact_phones) THEN
        RAISE EXCEPTION 'contact_phones names contacts: truncate it first' USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF TG_TABLE_NAME = 'brands' AND EXISTS (SELECT 1 FROM consent_events) THEN
        RAISE EXCEPTION 'consent_events names brands: truncate it first' USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER contacts_truncate_referenced BEFORE TRUNCATE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION truncate_keep_referenced();
CREATE TRIGGER brands_truncate_referenced BEFORE TRUNCATE ON brands
    FOR EACH STATEMENT EXECUTE FUNCTION truncate_keep_referenced();

-- Writers of these tables run READ COMMITTED (Parley's every write does):
-- under REPEATABLE READ or SERIALIZABLE the checks lock what they name, and
-- deletes of contacts and brands are refused.

-- +goose Down
DROP TRIGGER brands_truncate_referenced ON brands;
DROP TRIGGER contacts_truncate_referenced ON contacts;
DROP FUNCTION truncate_keep_referenced();
DROP TRIGGER brands_referenced_by_consent ON brands;
DROP TRIGGER contacts_referenced_by_phones ON contacts;
DROP TRIGGER consent_events_brand_exists ON consent_events;
DROP TRIGGER contact_phones_contact_exists_update ON contact_phones;
DROP TRIGGER contact_phones_contact_exists ON contact_phones;
DROP FUNCTION keep_referenced();
DROP FUNCTION consent_events_check_brands();
DROP FUNCTION contact_phones_check_contacts();
ALTER TABLE consent_events ADD CONSTRAINT consent_events_brand_id_fkey FOREIGN KEY (brand_id) REFERENCES brands(id);
ALTER TABLE contact_phones ADD CONSTRAINT contact_phones_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES contacts(id);
