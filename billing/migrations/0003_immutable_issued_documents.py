"""Issued invoices and credit notes are immutable, enforced by PostgreSQL.

An issued invoice is a tax document (directive 2006/112/EC art. 226): the
buyer deducts VAT on it and both parties book it, so its content may never
change afterwards; corrections are credit notes. The triggers refuse every
UPDATE of the legal content and every DELETE once a number is set, whatever
code path (admin, shell, a bulk update) tries it. Only the settlement
columns (amount_paid, amount_credited, status) and the PDF path may change.
Lines and tax rows are written once and never updated.
"""

from django.db import migrations

SQL = """
CREATE FUNCTION billing_issued_document_guard() RETURNS trigger AS $$
DECLARE
    mutable text[] := COALESCE(TG_ARGV, ARRAY[]::text[]);
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.number IS NOT NULL THEN
            RAISE EXCEPTION 'issued document % cannot be deleted (use a credit note)', OLD.number
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.number IS NOT NULL
       AND (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable) THEN
        RAISE EXCEPTION 'issued document % is immutable (use a credit note)', OLD.number
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_immutable
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_issued_document_guard(
        'amount_paid', 'amount_credited', 'status', 'pdf_path');

CREATE TRIGGER billing_creditnote_immutable
    BEFORE UPDATE OR DELETE ON billing_creditnote
    FOR EACH ROW EXECUTE FUNCTION billing_issued_document_guard();

CREATE FUNCTION billing_document_line_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'lines of issued documents are written once (%)', TG_TABLE_NAME
        USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoiceline_immutable BEFORE UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_document_line_guard();
CREATE TRIGGER billing_invoicetaxrate_immutable BEFORE UPDATE OR DELETE
    ON billing_invoicetaxrate FOR EACH ROW EXECUTE FUNCTION billing_document_line_guard();
CREATE TRIGGER billing_creditnoteline_immutable BEFORE UPDATE OR DELETE
    ON billing_creditnoteline FOR EACH ROW EXECUTE FUNCTION billing_document_line_guard();
"""

REVERSE_SQL = """
DROP TRIGGER billing_creditnoteline_immutable ON billing_creditnoteline;
DROP TRIGGER billing_invoicetaxrate_immutable ON billing_invoicetaxrate;
DROP TRIGGER billing_invoiceline_immutable ON billing_invoiceline;
DROP FUNCTION billing_document_line_guard();
DROP TRIGGER billing_creditnote_immutable ON billing_creditnote;
DROP TRIGGER billing_invoice_immutable ON billing_invoice;
DROP FUNCTION billing_issued_document_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_invoicing")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
