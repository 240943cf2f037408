"""The monthly subsidy run (assistance.runs.generate) against Django bulk_create of the same payments, in the same run.

Data, built set-based in SQL (INSERT … SELECT generate_series; secondary indexes, keys and the history triggers of
the three tables off during the load and rebuilt after it), then VACUUM ANALYZE: the regions and regional unions,
one 帮扶中心 under 中原区, BENCH_SCHEDULES (default 1,000,000) households on its register (status registered), each
with 2 open members and a bank card (one value, Fernet-encrypted once, the ciphertext copied into every row), the
county's 低保 line (800 yuan), and one active monthly living schedule of 300.00 yuan from 2026-01 per household.

`run()` times, RUNS times, each from an empty payment table and an empty living-aid ledger (TRUNCATE, VACUUM
ANALYZE, CHECKPOINT), medians:
- `runs.generate(union, 2026-12)`: one INSERT … SELECT … ON CONFLICT DO NOTHING; checks N payments, batch.count N,
  batch.total N × 300, the ledger at N × 300;
- the same call again: must insert nothing (checked);
- the baseline, after clearing the run's payments: what a Python loop over the ORM does for the same N payments of
  the same period in a fresh batch — read the schedules with their households (`.values()`, which decrypts each
  bank card), build the Payment objects (memo as the run writes it), `Payment.objects.bulk_create(rows,
  batch_size=5000)` and the batch's totals, in one transaction; "bulk_create" alone is the insert and the commit
  (where the deferred foreign-key checks run). The baseline checks none of the run's rules (cap, register, card),
  so it is the generous side.
Every trigger stays on in both: the living-aid ledger (statement level, transition table, migration assistance/0005),
pghistory (update/delete only on payments, rows on the batch) and the foreign-key checks. The rows are compared
(a sample, every column but ids, batch and created_at) between the run and the baseline.

If the run is slower than the aim (AIM_RATIO × bulk_create; BENCH_EXPLAIN=1 to force it), the run's statement is
shown once under EXPLAIN (ANALYZE, BUFFERS), on a fresh table as in a measured run, then rolled back.

    BENCH_SCHEDULES=50000 ./dev bench subsidies      # a minute
"""

from __future__ import annotations

import datetime
import os
import statistics
import time
from decimal import Decimal
from unittest import mock

import pgtrigger
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from assistance import runs
from assistance.subsidy_models import LivingAidYear, Payment, PaymentBatch, Schedule, SkippedSchedule
from bench.dossiers import commit, drop_secondary_structures, restore_secondary_structures, table_schema
from dossiers.choices import ON_REGISTER_STATUSES
from dossiers.models import Household, LocalStandard, Member
from hardship.fields import encrypt
from hardship.management.commands.load_regions import load_regions
from hardship.models import PATH_SEPARATOR, Region, Union, User
from hardship.unions import create_regional_unions

SCHEDULES = int(os.environ.get("BENCH_SCHEDULES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PERIOD = datetime.date(2026, 12, 1)
FIRST_PERIOD = datetime.date(2026, 1, 1)
AMOUNT = Decimal("300.00")
POVERTY_LINE = Decimal("800.00")
BATCH_SIZE = 5000
AIM_RATIO = 2.5  # the issue: at least 2.5× bulk_create
AIM_RERUN_S = 3.0
COUNTY = "410102"  # 中原区, 郑州
CENTRE_CODE = f"{COUNTY}-C01"
BANK_CARD = "6222020200112233445"
ID_NUMBER = "410102198001011234"
PLAN_LINES = int(os.environ.get("BENCH_PLAN_LINES", "60"))
SAMPLE = 5  # payments compared column by column between the run and the baseline
COMPARED = ["household_id", "schedule_id", "campaign_id", "kind", "period", "amount", "fund_source", "account_name",
            "bank_name", "account", "memo", "status", "failure_reason", "reissue_of_id", "settled_at"]
CLEARED = ["assistance_discrepancy", "assistance_bankreturn", "assistance_skippedschedule", "assistance_payment",
           "assistance_paymentbatch", "assistance_livingaidyear"]

HOUSEHOLD_TABLE, MEMBER_TABLE, SCHEDULE_TABLE = (model._meta.db_table for model in (Household, Member, Schedule))
HEAD_NAMES = ["王建国", "李秀英", "张伟", "刘桂兰", "陈志明", "杨丽", "赵海", "黄淑珍", "周振华", "吴春梅"]
BANKS = ["中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "中国邮政储蓄银行"]

# Every NOT NULL column gets a value; the expression of each column (g = the household id, 1 … N).
HOUSEHOLD_SQL = {
    "id": "g", "file_number": "%(region)s || '-2025-' || lpad(g::text, 7, '0')", "union_id": "%(union)s",
    "region_id": "%(region)s", "status": "'registered'",
    "category": "(ARRAY['deep', 'relative', 'relative', 'accident'])[1 + g %% 4]", "category_override_reason": "''",
    "head_name": "(%(head_names)s::text[])[1 + g %% %(head_name_count)s]", "head_id_number": "%(id_cipher)s",
    "head_id_number_digest": "sha256(('head-' || g)::bytea)",
    "address": "'郑州市中原区建设路' || (1 + g %% 300) || '号院' || (1 + g %% 20) || '号楼'",
    "phone": "'139' || lpad((g %% 100000000)::text, 8, '0')", "housing_type": "'own'", "area_band": "'15_30'",
    "single_parent": "false", "zero_employment": "false", "self_reliant": "false", "model_worker": "''",
    "migrant_worker": "false", "key_group": "''", "legacy_tier": "''", "legacy_category": "''",
    "consent_basis": "'本人签字的申请书和家庭经济状况核对授权书'",
    "bank_name": "(%(banks)s::text[])[1 + g %% %(bank_count)s]", "bank_branch": "'中原区支行'",
    "bank_card": "%(card_cipher)s", "main_cause": "1 + g %% 10", "secondary_causes": "'{}'", "accident": "false",
    "exclusions": "'{}'", "income_wages": "24000.00", "income_business": "0", "income_property": "0",
    "income_transfers": "3000.00", "income_other": "0", "cost_illness": "6000.00", "cost_disability": "0",
    "cost_schooling": "0", "cost_housing": "0", "cost_other": "0", "filed_by_id": "%(user)s",
    "reviewed_by_id": "%(user)s", "first_reviewed_by_id": "%(user)s", "entered_by_id": "%(user)s",
    "previous_episode_id": "NULL", "notice_ends_on": "'2025-06-30'", "registered_on": "'2025-07-01'",
    "reverify_due": "'2027-07-01'", "closed_on": "NULL", "follow_up_until": "NULL",
    "created_at": "'2025-05-01T08:00:00+08:00'::timestamptz + g * interval '1 second'",
    "updated_at": "'2025-07-01T08:00:00+08:00'::timestamptz + g * interval '1 second'",
    "receives_dibao": "false", "dibao_amount": "0", "import_batch_id": "NULL", "pending_category": "''",
    "pending_category_by_id": "NULL", "register_version": "0",
}
# Two open members a household (m = 1 … 2N): the primary worker and the spouse.
MEMBER_SQL = {
    "id": "m", "household_id": "(m + 1) / 2", "is_primary": "m %% 2 = 1", "is_open": "true",
    "name": "(%(head_names)s::text[])[1 + m %% %(head_name_count)s]",
    "sex": "CASE WHEN m %% 2 = 1 THEN 'M' ELSE 'F' END",
    "ethnicity": "'汉族'", "relationship": "CASE WHEN m %% 2 = 1 THEN 'self' ELSE 'spouse' END",
    "id_number": "%(id_cipher)s", "id_number_digest": "sha256(('member-' || m)::bytea)",
    "birth_date": "DATE '1970-01-01' + (m %% 9000)::int", "health": "'healthy'", "disability": "''",
    "health_notes": "''", "medical_insurance": "'employee'",
    "work_status": "CASE WHEN m %% 2 = 1 THEN 'employed' ELSE 'laid_off' END", "able_to_work": "true",
    "employer": "''", "monthly_income": "0",
}
SCHEDULE_SQL = {
    "id": "g", "household_id": "g", "union_id": "%(union)s", "kind": "'living'", "amount": "%(amount)s",
    "frequency": "'monthly'", "first_period": "%(first_period)s", "last_period": "NULL", "fund_source": "'central'",
    "approved_by_id": "%(user)s", "status": "'active'", "status_reason": "''", "note": "''",
    "created_by_id": "%(user)s", "created_at": "'2025-12-20T09:00:00+08:00'::timestamptz",
}


# --- data -----------------------------------------------------------------------------------


def check_columns() -> None:
    for model, columns in ((Household, HOUSEHOLD_SQL), (Member, MEMBER_SQL), (Schedule, SCHEDULE_SQL)):
        expected = {field.column for field in model._meta.concrete_fields}
        if set(columns) != expected:
            raise RuntimeError(f"{model.__name__}: generated columns {sorted(set(columns) ^ expected)} "
                               "out of step with the model")


def insert_select(table: str, columns: dict, series: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns.values())}"
                       f" FROM {series}", params)
        return cursor.rowcount


def build_centre() -> tuple[Union, User]:
    with pgtrigger.ignore("hardship.Union:insert_insert"), transaction.atomic():
        load_regions()
        create_regional_unions()
        county = Union.objects.get(code=COUNTY)
        centre = Union.objects.create(
            code=CENTRE_CODE, name=f"{county.region.name}困难职工帮扶中心", kind=Union.Kind.HELP_CENTRE,
            region_id=county.region_id, parent_id=county.pk, path=f"{county.path}{CENTRE_CODE}{PATH_SEPARATOR}",
            depth=county.depth + 1)
    user = User.objects.create_user("bench_payer", role="caseworker", home_union=centre, full_name="发放经办人")
    LocalStandard.objects.create(region=Region.objects.get(code=COUNTY), effective_from=datetime.date(2016, 1, 1),
                                 poverty_line=POVERTY_LINE, min_wage=Decimal("2100.00"), source="基准测试")
    return centre, user


def generate_data(count: int) -> dict:
    """The register, its members and schedules, set-based; returns timings."""
    check_columns()
    timings = {}
    started = time.perf_counter()
    centre, user = build_centre()
    timings["regions, unions, user, standard"] = time.perf_counter() - started

    tables = (HOUSEHOLD_TABLE, MEMBER_TABLE, SCHEDULE_TABLE)
    schemas = {table: table_schema(table) for table in tables}
    drop_secondary_structures(schemas)  # and DISABLE TRIGGER USER: no insert history rows for the load
    params = {
        "union": centre.pk, "region": centre.region_id, "user": user.pk, "amount": AMOUNT,
        "first_period": FIRST_PERIOD, "head_names": HEAD_NAMES, "head_name_count": len(HEAD_NAMES),
        "banks": BANKS, "bank_count": len(BANKS), "card_cipher": encrypt(BANK_CARD), "id_cipher": encrypt(ID_NUMBER),
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        insert_select(HOUSEHOLD_TABLE, HOUSEHOLD_SQL, f"generate_series(1, {count}) g", params)
        timings["households"] = time.perf_counter() - started
        started = time.perf_counter()
        insert_select(MEMBER_TABLE, MEMBER_SQL, f"generate_series(1, {2 * count}) m", params)
        timings["members"] = time.perf_counter() - started
        started = time.perf_counter()
        insert_select(SCHEDULE_TABLE, SCHEDULE_SQL, f"generate_series(1, {count}) g", params)
        timings["schedules"] = time.perf_counter() - started
    started = time.perf_counter()
    restore_secondary_structures(schemas)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    timings["indexes and keys"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (*tables, LocalStandard._meta.db_table, Union._meta.db_table, Region._meta.db_table):
            cursor.execute(f"VACUUM ANALYZE {table}")
    timings["VACUUM ANALYZE"] = time.perf_counter() - started
    return timings


def data(count: int) -> Union:
    reusing = os.environ.get("BENCH_REUSE") and Union.objects.filter(code=CENTRE_CODE).exists()
    if reusing:
        have = Schedule.objects.count()
        if have != count:
            raise RuntimeError(f"the kept database has {have:,} schedules, not {count:,}: run without --reuse")
        print(f"reusing the kept data: {have:,} schedules")
    else:
        print(f"generating {count:,} households, {2 * count:,} members, {count:,} schedules …", flush=True)
        started = time.perf_counter()
        timings = generate_data(count)
        print(f"generated in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()))
    return Union.objects.get(code=CENTRE_CODE)


def clear_payments() -> None:
    """No payments, batches, skips or ledger rows; vacuumed and checkpointed, so each measurement starts alike."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(CLEARED)}")
        for table in CLEARED:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("CHECKPOINT")


# --- the baseline ----------------------------------------------------------------------------


def python_loop(union: Union, period: datetime.date) -> tuple[int, float, float]:
    """The same payments through the ORM: (rows, seconds reading and building, seconds for bulk_create + commit)."""
    memo, labels = runs._memo(period), {key.removeprefix("label_"): label for key, label in runs._labels().items()}
    started = time.perf_counter()
    with transaction.atomic():
        batch = PaymentBatch.objects.create(union=union, period=period)
        now = timezone.now()
        rows = (Schedule.objects.filter(union=union, first_period__lte=period, status=Schedule.Status.ACTIVE,
                                        frequency="monthly", household__status__in=ON_REGISTER_STATUSES)
                .exclude(household__bank_card="").order_by()
                .values("id", "household_id", "kind", "amount", "fund_source", "household__head_name",
                        "household__bank_name", "household__bank_card", "household__file_number"))
        payments = [
            Payment(batch_id=batch.pk, household_id=row["household_id"], schedule_id=row["id"], kind=row["kind"],
                    period=period, amount=row["amount"], fund_source=row["fund_source"],
                    account_name=row["household__head_name"], bank_name=row["household__bank_name"],
                    account=row["household__bank_card"],
                    memo=f"{memo}{labels[row['kind']]} {row['household__file_number']}"[:100],
                    status=Payment.Status.PENDING, failure_reason="", created_at=now)
            for row in rows
        ]
        built = time.perf_counter()
        Payment.objects.bulk_create(payments, batch_size=BATCH_SIZE)
        PaymentBatch.objects.filter(pk=batch.pk).update(
            count=len(payments), total=sum(payment.amount for payment in payments), version=1)
    done = time.perf_counter()
    return len(payments), built - started, done - built


# --- checks -----------------------------------------------------------------------------------


def check_batch(batch_id: int, count: int) -> None:
    batch = PaymentBatch.objects.get(pk=batch_id)
    payments = Payment.objects.filter(batch=batch).count()
    ledger = LivingAidYear.objects.filter(year=PERIOD.year).aggregate(n=Count("pk"), total=Sum("amount"))
    expected_total = count * AMOUNT
    problems = [f"{what}: {got} != {want}" for what, got, want in (
        ("payments", payments, count), ("batch.count", batch.count, count), ("batch.total", batch.total,
                                                                             expected_total),
        ("ledger rows", ledger["n"], count), ("ledger total", ledger["total"], expected_total),
        ("payments in the table", Payment.objects.count(), count), ("skips", SkippedSchedule.objects.count(), 0),
    ) if got != want]
    if problems:
        raise AssertionError("; ".join(problems))


def sample_rows() -> dict:
    return {row["schedule_id"]: row for row in Payment.objects.order_by("schedule_id").values(*COMPARED)[:SAMPLE]}


# --- EXPLAIN -----------------------------------------------------------------------------------


class ExplainingCursor:
    """Runs the run's statement under EXPLAIN (ANALYZE, BUFFERS) — so it really executes — and keeps the plan."""

    def __init__(self, cursor, plans: list):
        self.cursor, self.plans, self.faked = cursor, plans, None

    def __enter__(self):
        self.cursor.__enter__()
        return self

    def __exit__(self, *exc):
        return self.cursor.__exit__(*exc)

    def execute(self, sql, params=None):
        if sql == runs.SCHEDULE_RUN_SQL:
            self.cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING) " + sql, params)
            self.plans.append([row[0] for row in self.cursor.fetchall()])
            self.faked = (0, Decimal("0.00"), 0)
            return None
        return self.cursor.execute(sql, params)

    def fetchone(self):
        return self.faked if self.faked is not None else self.cursor.fetchone()

    def __getattr__(self, name):
        return getattr(self.cursor, name)


class ExplainingConnection:
    def __init__(self, plans: list):
        self.plans = plans

    def cursor(self):
        return ExplainingCursor(connection.cursor(), self.plans)

    def __getattr__(self, name):
        return getattr(connection, name)


def explain_run(union: Union) -> None:
    clear_payments()
    plans = []

    class Rollback(Exception):
        pass

    started = time.perf_counter()
    try:
        with transaction.atomic(), mock.patch.object(runs, "connection", ExplainingConnection(plans)):
            runs.generate(union.pk, PERIOD)
            raise Rollback
    except Rollback:
        pass
    elapsed = time.perf_counter() - started
    clear_payments()
    if not plans:
        print("\nEXPLAIN: the run did not send its statement")
        return
    plan = plans[0]
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the run's statement ({SCHEDULES:,} schedules, rolled back;"
          f" {elapsed:.1f} s with the plan's instrumentation):")
    split = next((index for index, line in enumerate(plan) if line.startswith("Planning")), len(plan))
    body, tail = plan[:split], plan[split:]  # the plan's tree; then planning, triggers, JIT, execution time
    for line in body[:PLAN_LINES]:
        print(f"    {line}")
    if len(body) > PLAN_LINES:
        print(f"    … {len(body) - PLAN_LINES} more lines")
    for line in tail:
        print(f"    {line}")


# --- the bench ---------------------------------------------------------------------------------


def run() -> list[dict]:
    total_started = time.perf_counter()
    print(f"code: {commit()}")
    union = data(SCHEDULES)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('shared_buffers'), current_setting('work_mem'),"
                       " current_setting('max_wal_size'), current_setting('synchronous_commit'),"
                       " pg_size_pretty(pg_database_size(current_database()))")
        version, shared_buffers, work_mem, max_wal, sync, size = cursor.fetchone()
    print(f"server: {version.split(' on ')[0]}, shared_buffers {shared_buffers}, work_mem {work_mem},"
          f" max_wal_size {max_wal}, synchronous_commit {sync}; database {size}")
    print(f"union {union.name} ({union.code}), period {PERIOD:%Y-%m}; triggers on in every measurement (living-aid"
          " ledger, pghistory, foreign keys); payments and ledger empty before each (TRUNCATE, VACUUM, CHECKPOINT)")

    times = {"run": [], "rerun": [], "loop": [], "read": [], "bulk": []}
    for repeat in range(1, RUNS + 1):
        clear_payments()
        started = time.perf_counter()
        result = runs.generate(union.pk, PERIOD)
        times["run"].append(time.perf_counter() - started)
        if result.created != SCHEDULES or result.amount != SCHEDULES * AMOUNT or result.skips_changed:
            raise AssertionError(f"the run created {result.created:,} payments of {result.amount} with "
                                 f"{result.skips_changed} skips; expected {SCHEDULES:,}, 0 skips")
        check_batch(result.batch.pk, SCHEDULES)
        sample = sample_rows() if repeat == 1 else None

        started = time.perf_counter()
        again = runs.generate(union.pk, PERIOD)
        times["rerun"].append(time.perf_counter() - started)
        if again.created or again.skips_changed or again.batch.pk != result.batch.pk:
            raise AssertionError(f"the re-run created {again.created:,} payments and changed {again.skips_changed}"
                                 " skips; expected none")
        check_batch(result.batch.pk, SCHEDULES)

        clear_payments()
        started = time.perf_counter()
        created, read_s, bulk_s = python_loop(union, PERIOD)
        times["loop"].append(time.perf_counter() - started)
        times["read"].append(read_s)
        times["bulk"].append(bulk_s)
        if created != SCHEDULES:
            raise AssertionError(f"the baseline created {created:,} payments; expected {SCHEDULES:,}")
        check_batch(PaymentBatch.objects.get().pk, SCHEDULES)
        if sample is not None and sample_rows() != sample:
            raise AssertionError(f"the baseline's rows differ from the run's: {sample_rows()} != {sample}")
        print(f"  repeat {repeat}: run {times['run'][-1]:.1f} s, re-run {times['rerun'][-1]:.2f} s, baseline"
              f" {times['loop'][-1]:.1f} s (read and build {read_s:.1f} s, bulk_create {bulk_s:.1f} s);"
              f" load average {os.getloadavg()[0]:.1f}", flush=True)
    clear_payments()

    median = {key: statistics.median(values) for key, values in times.items()}
    loop, bulk = median["loop"], median["bulk"]

    def row(what: str, key: str, rows: int | None) -> dict:
        seconds = median[key]
        return {"what": what, "schedules": SCHEDULES, "s (median)": seconds,
                "rows/s": round(rows / seconds) if rows else "", "× bulk_create": bulk / seconds if rows else "",
                "× ORM loop": loop / seconds if rows else "",
                "runs s": " ".join(f"{value:.2f}" for value in times[key])}

    rows = [
        row("runs.generate (INSERT … SELECT)", "run", SCHEDULES),
        row("runs.generate again (0 inserted)", "rerun", None),
        row("ORM loop: read, build, bulk_create", "loop", SCHEDULES),
        row("  of which read and build", "read", None),
        row("  of which bulk_create + commit", "bulk", SCHEDULES),
    ]
    ratio = bulk / median["run"]
    print(f"aim: ≥ {AIM_RATIO}× bulk_create — {ratio:.2f}×, {'met' if ratio >= AIM_RATIO else 'NOT met'};"
          f" re-run < {AIM_RERUN_S:.0f} s — {median['rerun']:.2f} s,"
          f" {'met' if median['rerun'] < AIM_RERUN_S else 'NOT met'}")
    if ratio < AIM_RATIO or os.environ.get("BENCH_EXPLAIN"):
        explain_run(union)
    print(f"\nwhole run {time.perf_counter() - total_started:.0f} s, load average {os.getloadavg()[0]:.1f}")
    return rows
