"""The triggers that keep the dashboards' counts (see reporting/figures.py for why this design).

1. A statement that changes households, pairings, plans, measures, measure types, assessments or payments refreshes
   the HouseholdFigures row of each household it touched: the row is locked first (in household order), then
   recomputed from the tables as they stand, so two transactions touching one household are applied one after the
   other and the second sees the first's work (no lost update under READ COMMITTED).
2. A statement that changes HouseholdFigures appends to FigureDelta, for the household's union and every union
   above it, each key the old row counted −1 and each key the new row counts +1. Paid payments do the same for
   the money paid, keyed by the paying union and year. Appending takes no lock on any count, so the national rows,
   which every change touches, never make one caseworker wait for another.
3. reporting_fold() moves the deltas into FigureCount; reporting_rebuild() recomputes everything from the tables.

A trigger with transition tables has only the tables of its own event, so each table has three triggers.
Every function runs with JIT off: the planner takes a set-returning function for 1,000 rows, so it estimated a
2,000-household update's deltas at 45 M rows and spent 0.75 s compiling a 0.2 s statement (bench/RESULTS.md).
"""

from django.conf import settings
from django.db import migrations

ZONE = settings.TIME_ZONE
ON_REGISTER = "('registered', 'exit_proposed')"
CLOSED = "('exited', 'relieved', 'removed', 'withdrawn', 'declined')"
EXITS = "('exited', 'relieved', 'removed')"
FOLD_LOCK = 7_140_301  # pg advisory lock: one fold at a time

FIGURE_COLUMNS = ("union_id, status, category, main_cause, key_group, below_line, paired, has_plan, planned_year,"
                  " measures, paid, reverify_due, changed_on, closed_on")

FUNCTIONS = f"""
CREATE FUNCTION reporting_ancestors(union_id bigint) RETURNS SETOF bigint LANGUAGE sql STABLE AS $$
    SELECT a.id FROM hardship_union u
    CROSS JOIN LATERAL generate_series(1, u.depth + 1) AS i
    JOIN hardship_union a
      ON a.path = '/' || array_to_string((string_to_array(trim(BOTH '/' FROM u.path), '/'))[1:i], '/') || '/'
    WHERE u.id = union_id
$$;

-- What each household counts as, from the tables as they stand (all households when ids is NULL).
CREATE FUNCTION reporting_computed(ids bigint[]) RETURNS TABLE (
    household_id bigint, union_id bigint, status varchar, category varchar, main_cause smallint, key_group varchar,
    below_line boolean, paired boolean, has_plan boolean, planned_year smallint, measures jsonb, paid boolean,
    reverify_due date, changed_on date, closed_on date
) LANGUAGE sql STABLE AS $$
    SELECT h.id, h.union_id, h.status, h.category, h.main_cause::smallint, h.key_group,
        coalesce((SELECT a.per_capita_monthly < s.poverty_line FROM dossiers_assessment a
                  JOIN dossiers_localstandard s ON s.id = a.standard_id
                  WHERE a.household_id = h.id ORDER BY a.made_at DESC, a.id DESC LIMIT 1), false),
        EXISTS (SELECT 1 FROM dossiers_pairing p WHERE p.household_id = h.id AND p.ended_on IS NULL),
        plan.id IS NOT NULL, plan.target_year::smallint,
        coalesce((SELECT jsonb_object_agg(k.key, k.n) FROM (
                     SELECT t.batch || ':' || m.status AS key, count(*) AS n FROM assistance_measure m
                     JOIN assistance_measuretype t ON t.id = m.measure_type_id
                     WHERE m.household_id = h.id GROUP BY 1) AS k), '{{}}'::jsonb),
        EXISTS (SELECT 1 FROM assistance_payment y WHERE y.household_id = h.id AND y.status = 'paid'),
        h.reverify_due, (h.updated_at AT TIME ZONE '{ZONE}')::date, h.closed_on
    FROM dossiers_household h LEFT JOIN assistance_plan plan ON plan.household_id = h.id
    WHERE ids IS NULL OR h.id = ANY(ids)
$$;

-- The keys one household row counts under, with how many (measures count one per measure).
CREATE FUNCTION reporting_keys(f reporting_householdfigures) RETURNS TABLE (figure text, value text, n bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT 'stage', f.status, 1
    UNION ALL SELECT k.figure, k.value, 1 FROM (VALUES
        ('on', ''), ('category', f.category), ('cause', f.main_cause::text), ('group', f.key_group)) AS k(figure, value)
        WHERE f.status IN {ON_REGISTER}
    UNION ALL SELECT 'below', '', 1 WHERE f.status IN {ON_REGISTER} AND f.below_line
    UNION ALL SELECT 'unpaired', '', 1 WHERE f.status IN {ON_REGISTER} AND NOT f.paired
    UNION ALL SELECT 'noplan', '', 1 WHERE f.status IN {ON_REGISTER} AND NOT f.has_plan
    UNION ALL SELECT 'planned', f.planned_year::text, 1 WHERE f.status IN {ON_REGISTER} AND f.planned_year IS NOT NULL
    UNION ALL SELECT 'noopen', '', 1 WHERE f.status IN {ON_REGISTER} AND NOT EXISTS (
        SELECT 1 FROM jsonb_object_keys(f.measures) AS k WHERE k LIKE '%:planned' OR k LIKE '%:in_progress')
    UNION ALL SELECT 'unhelped', '', 1 WHERE f.status IN {ON_REGISTER} AND NOT f.paid
        AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(f.measures) AS k WHERE k LIKE '%:done')
    UNION ALL SELECT 'reverify', f.reverify_due::text, 1 WHERE f.status = 'registered' AND f.reverify_due IS NOT NULL
    UNION ALL SELECT 'changed', f.changed_on::text, 1 WHERE f.status NOT IN {CLOSED}
    UNION ALL SELECT 'exit', f.status || ':' || extract(year FROM f.closed_on)::int, 1
        WHERE f.status IN {EXITS} AND f.closed_on IS NOT NULL
    UNION ALL SELECT 'measure', m.key, m.value::bigint FROM jsonb_each_text(f.measures) AS m
$$;

CREATE FUNCTION reporting_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN RETURN; END IF;
    PERFORM 1 FROM reporting_householdfigures f WHERE f.household_id = ANY(ids) ORDER BY f.household_id FOR UPDATE;
    DELETE FROM reporting_householdfigures f WHERE f.household_id = ANY(ids)
        AND NOT EXISTS (SELECT 1 FROM dossiers_household h WHERE h.id = f.household_id);
    INSERT INTO reporting_householdfigures AS f (household_id, {FIGURE_COLUMNS})
    SELECT * FROM reporting_computed(ids)
    ON CONFLICT (household_id) DO UPDATE SET ({FIGURE_COLUMNS}) = (
        EXCLUDED.union_id, EXCLUDED.status, EXCLUDED.category, EXCLUDED.main_cause, EXCLUDED.key_group,
        EXCLUDED.below_line, EXCLUDED.paired, EXCLUDED.has_plan, EXCLUDED.planned_year, EXCLUDED.measures,
        EXCLUDED.paid, EXCLUDED.reverify_due, EXCLUDED.changed_on, EXCLUDED.closed_on)
    WHERE (f.{FIGURE_COLUMNS.replace(", ", ", f.")}) IS DISTINCT FROM (
        EXCLUDED.union_id, EXCLUDED.status, EXCLUDED.category, EXCLUDED.main_cause, EXCLUDED.key_group,
        EXCLUDED.below_line, EXCLUDED.paired, EXCLUDED.has_plan, EXCLUDED.planned_year, EXCLUDED.measures,
        EXCLUDED.paid, EXCLUDED.reverify_due, EXCLUDED.changed_on, EXCLUDED.closed_on);
END $$;

"""

# Appends the keys' changes, grouped per union, at every union from the household's own to the national one. It is
# written into each trigger function: the transition tables are visible only there, not in a function it calls.
APPEND = """
        INSERT INTO reporting_figuredelta (union_id, figure, value, n, amount)
        SELECT a, c.figure, c.value, sum(c.n), sum(c.amount) FROM (
            SELECT union_id, figure, value, sum(n) AS n, sum(amount) AS amount FROM ({changes}) AS raw
            GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(amount) <> 0) AS c
        CROSS JOIN LATERAL reporting_ancestors(c.union_id) AS a
        GROUP BY 1, 2, 3;"""

# Which households a statement touched, per table: the column naming the household in its rows.
SOURCES = {
    "dossiers_household": "id",
    "dossiers_pairing": "household_id",
    "assistance_plan": "household_id",
    "assistance_measure": "household_id",
    "dossiers_assessment": "household_id",
}
REFERENCING = {"insert": "NEW TABLE AS new_rows", "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
               "delete": "OLD TABLE AS old_rows"}
TABLES = {"insert": ("new_rows",), "update": ("old_rows", "new_rows"), "delete": ("old_rows",)}


def touched(column: str, event: str, where: str = "") -> str:
    return " UNION ".join(f"SELECT {column} FROM {table}{where}" for table in TABLES[event])


def source_trigger(table: str, column: str, event: str) -> str:
    name = f"reporting_{table}_{event}"
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    PERFORM reporting_refresh(ARRAY({touched(column, event)} ORDER BY 1));
    RETURN NULL;
END $$;
CREATE TRIGGER {name} AFTER {event.upper()} ON {table}
    REFERENCING {REFERENCING[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""


# A payment changes a household's figures only when it becomes paid or stops being paid; a run that writes a
# million pending payments refreshes none.
PAYMENT_HOUSEHOLDS = {
    "insert": "SELECT household_id FROM new_rows WHERE status = 'paid'",
    "update": "SELECT n.household_id FROM new_rows n JOIN old_rows o ON o.id = n.id"
              " WHERE (n.status = 'paid') <> (o.status = 'paid') OR n.household_id <> o.household_id",
    "delete": "SELECT household_id FROM old_rows WHERE status = 'paid'",
}
PAID = {
    "new_rows": "SELECT b.union_id, 'paid' AS figure, extract(year FROM r.period)::int::text AS value,"
                " 1 AS n, r.amount FROM new_rows r JOIN assistance_paymentbatch b ON b.id = r.batch_id"
                " WHERE r.status = 'paid'",
    "old_rows": "SELECT b.union_id, 'paid' AS figure, extract(year FROM r.period)::int::text AS value, -1 AS n,"
                " -r.amount AS amount FROM old_rows r"
                " JOIN assistance_paymentbatch b ON b.id = r.batch_id WHERE r.status = 'paid'",
}


def payment_trigger(event: str) -> str:
    name = f"reporting_assistance_payment_{event}"
    paid = " UNION ALL ".join(PAID[table] for table in TABLES[event])
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    PERFORM reporting_refresh(ARRAY(SELECT DISTINCT household_id FROM ({PAYMENT_HOUSEHOLDS[event]}) AS t ORDER BY 1));
    IF EXISTS ({paid}) THEN {APPEND.format(changes=paid)}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {name} AFTER {event.upper()} ON assistance_payment
    REFERENCING {REFERENCING[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""


def measure_type_trigger() -> str:
    return """
CREATE FUNCTION reporting_measuretype_update() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    PERFORM reporting_refresh(ARRAY(
        SELECT DISTINCT m.household_id FROM assistance_measure m JOIN new_rows n ON n.id = m.measure_type_id
        JOIN old_rows o ON o.id = n.id WHERE n.batch <> o.batch ORDER BY 1));
    RETURN NULL;
END $$;
CREATE TRIGGER reporting_measuretype_update AFTER UPDATE ON assistance_measuretype
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION reporting_measuretype_update();
"""


SIGNED = {"new_rows": "1", "old_rows": "-1"}


def figures_trigger(event: str) -> str:
    name = f"reporting_figures_{event}"
    keys = " UNION ALL ".join(
        f"SELECT f.union_id, k.figure, k.value, {SIGNED[table]} * k.n AS n, 0::numeric AS amount"
        f" FROM {table} f CROSS JOIN LATERAL reporting_keys(f::reporting_householdfigures) AS k"
        for table in TABLES[event])
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    {APPEND.format(changes=keys)}
    RETURN NULL;
END $$;
CREATE TRIGGER {name} AFTER {event.upper()} ON reporting_householdfigures
    REFERENCING {REFERENCING[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""


MAINTENANCE = f"""
-- Moves every committed delta into the counts; one fold at a time (another caller returns at once).
CREATE FUNCTION reporting_fold() RETURNS bigint LANGUAGE plpgsql SET jit = off AS $$
DECLARE folded bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock({FOLD_LOCK}) THEN RETURN 0; END IF;
    WITH moved AS (DELETE FROM reporting_figuredelta RETURNING union_id, figure, value, n, amount)
    INSERT INTO reporting_figurecount AS c (union_id, figure, value, n, amount)
    SELECT union_id, figure, value, sum(n), sum(amount) FROM moved GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (union_id, figure, value) DO UPDATE SET n = c.n + EXCLUDED.n, amount = c.amount + EXCLUDED.amount;
    GET DIAGNOSTICS folded = ROW_COUNT;
    RETURN folded;
END $$;

-- Dates only compared with a moving threshold (changed before a year ago, re-verification due before today) are
-- merged into one row per union once they lie below every threshold still to come: a union keeps about a year
-- of dates, not the register's whole history, and every sum below a threshold stays exact.
CREATE FUNCTION reporting_merge_dates(changed_before date, reverify_before date) RETURNS bigint
LANGUAGE plpgsql SET jit = off AS $$
DECLARE merged bigint;
BEGIN
    PERFORM pg_advisory_xact_lock({FOLD_LOCK});
    WITH moved AS (
        DELETE FROM reporting_figurecount WHERE value <> '0000-00-00' AND (
            (figure = 'changed' AND value < changed_before::text)
            OR (figure = 'reverify' AND value < reverify_before::text))
        RETURNING union_id, figure, n)
    INSERT INTO reporting_figurecount AS c (union_id, figure, value, n, amount)
    SELECT union_id, figure, '0000-00-00', sum(n), 0 FROM moved GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (union_id, figure, value) DO UPDATE SET n = c.n + EXCLUDED.n;
    GET DIAGNOSTICS merged = ROW_COUNT;
    DELETE FROM reporting_figurecount WHERE n = 0 AND amount = 0;
    RETURN merged;
END $$;

-- Everything again from the tables: after a union moves in the tree, a restore, or to check the triggers.
CREATE FUNCTION reporting_rebuild() RETURNS bigint LANGUAGE plpgsql SET jit = off AS $$
DECLARE households bigint;
BEGIN
    PERFORM pg_advisory_xact_lock({FOLD_LOCK});
    PERFORM set_config('reporting.rebuilding', 'on', true);
    LOCK TABLE reporting_householdfigures IN EXCLUSIVE MODE;
    DELETE FROM reporting_householdfigures;
    DELETE FROM reporting_figurecount;
    DELETE FROM reporting_figuredelta;
    INSERT INTO reporting_householdfigures (household_id, {FIGURE_COLUMNS}) SELECT * FROM reporting_computed(NULL);
    GET DIAGNOSTICS households = ROW_COUNT;
    INSERT INTO reporting_figurecount (union_id, figure, value, n, amount)
    SELECT a, c.figure, c.value, sum(c.n), sum(c.amount) FROM (
        SELECT f.union_id, k.figure, k.value, sum(k.n) AS n, 0::numeric AS amount FROM reporting_householdfigures f
        CROSS JOIN LATERAL reporting_keys(f) AS k GROUP BY 1, 2, 3
        UNION ALL
        SELECT b.union_id, 'paid', extract(year FROM p.period)::int::text, count(*), sum(p.amount)
        FROM assistance_payment p JOIN assistance_paymentbatch b ON b.id = p.batch_id WHERE p.status = 'paid'
        GROUP BY 1, 2, 3) AS c
    CROSS JOIN LATERAL reporting_ancestors(c.union_id) AS a
    GROUP BY 1, 2, 3;
    PERFORM set_config('reporting.rebuilding', 'off', true);
    RETURN households;
END $$;
"""

# A union moved in the tree moves every count above it: the counts are rebuilt once, when the transaction commits
# (rare, an administrator's act; minutes at national scale, exact).
UNION_MOVE = """
CREATE FUNCTION reporting_union_moved() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    IF current_setting('reporting.union_moved', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('reporting.union_moved', 'on', true);
        PERFORM reporting_rebuild();
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER reporting_union_moved AFTER UPDATE OF path ON hardship_union DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path) EXECUTE FUNCTION reporting_union_moved();
"""

TRIGGERS = "".join(
    [source_trigger(table, column, event) for table, column in SOURCES.items() for event in REFERENCING]
    + [payment_trigger(event) for event in REFERENCING] + [measure_type_trigger()]
    + [figures_trigger(event) for event in REFERENCING] + [UNION_MOVE]
)

DROP = "".join(
    [f"DROP TRIGGER IF EXISTS reporting_{table}_{event} ON {table}; DROP FUNCTION IF EXISTS reporting_{table}_{event}();"
     for table in [*SOURCES, "assistance_payment"] for event in REFERENCING]
    + [f"DROP TRIGGER IF EXISTS reporting_figures_{event} ON reporting_householdfigures;"
       f" DROP FUNCTION IF EXISTS reporting_figures_{event}();" for event in REFERENCING]
    + ["DROP TRIGGER IF EXISTS reporting_union_moved ON hardship_union; DROP FUNCTION IF EXISTS reporting_union_moved();"]
    + ["DROP TRIGGER IF EXISTS reporting_measuretype_update ON assistance_measuretype;"
       " DROP FUNCTION IF EXISTS reporting_measuretype_update();"]
    + [f"DROP FUNCTION IF EXISTS {name};" for name in (
        "reporting_rebuild()", "reporting_merge_dates(date, date)", "reporting_fold()",
        "reporting_refresh(bigint[])", "reporting_keys(reporting_householdfigures)", "reporting_computed(bigint[])",
        "reporting_ancestors(bigint)")]
)


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_initial"),
        ("assistance", "0005_living_aid_ledger"),
        ("dossiers", "0014_pairing_and_visits"),
        ("hardship", "0006_access_record_reset_2fa"),
    ]
    operations = [
        migrations.RunSQL(FUNCTIONS + MAINTENANCE + TRIGGERS, DROP),
        migrations.RunSQL("SELECT reporting_rebuild();", migrations.RunSQL.noop),
    ]
