"""The yearly living-aid total per household (LivingAidYear), kept by statement-level triggers on the payments.

A living payment counts while it is pending, sent or paid; a failed one stops counting, a re-issue counts again.
Each statement adds, per household and year, what its new rows count less what its old rows counted, with an
upsert that takes the row's lock: concurrent statements add up, none is lost. One function per event: a trigger
with transition tables has only the tables of its own event.
"""

from django.db import migrations

COUNTED = "kind = 'living' AND status <> 'failed'"
UPSERT = """
    INSERT INTO assistance_livingaidyear (household_id, year, amount)
    SELECT household_id, year, sum(delta) FROM ({changes}) AS changes
    GROUP BY household_id, year HAVING sum(delta) <> 0
    ON CONFLICT (household_id, year) DO UPDATE SET amount = assistance_livingaidyear.amount + EXCLUDED.amount;
"""
NEW = f"SELECT household_id, extract(year FROM period)::int AS year, amount AS delta FROM new_rows WHERE {COUNTED}"
OLD = f"SELECT household_id, extract(year FROM period)::int AS year, -amount AS delta FROM old_rows WHERE {COUNTED}"
CHANGES = {"insert": NEW, "update": f"{NEW} UNION ALL {OLD}", "delete": OLD}
REFERENCING = {"insert": "NEW TABLE AS new_rows", "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
               "delete": "OLD TABLE AS old_rows"}


def create(event: str) -> str:
    return f"""
CREATE FUNCTION assistance_living_aid_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{UPSERT.format(changes=CHANGES[event])}
    RETURN NULL;
END $$;
CREATE TRIGGER living_aid_{event} AFTER {event.upper()} ON assistance_payment
    REFERENCING {REFERENCING[event]} FOR EACH STATEMENT EXECUTE FUNCTION assistance_living_aid_{event}();
"""


def drop(event: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS living_aid_{event} ON assistance_payment;
DROP FUNCTION IF EXISTS assistance_living_aid_{event}();
"""


class Migration(migrations.Migration):
    dependencies = [("assistance", "0004_subsidies")]
    operations = [migrations.RunSQL(create(event), drop(event)) for event in ("insert", "update", "delete")]
