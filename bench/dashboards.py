"""The supervisor dashboards (reporting/dashboard_views.py) at 25,000 and at 2,500,000 households, in one run.

Two registers from `bench.dossiers.generate_register()`: the big one (BENCH_HOUSEHOLDS, default 2,500,000) in the
bench database, kept and reused like the dossiers bench's (`--keep`, `--reuse`), and a small one
(BENCH_SMALL_HOUSEHOLDS, default 25,000) in a second database, <bench database>_small, made afresh by every run
and dropped at its end. The generator loads with the user triggers off, so each register's counts are then built
by `reporting_rebuild()` (timed; on `--reuse` only when the counts do not cover the register, or BENCH_REBUILD=1),
its dates merged as the nightly job does (`reporting_merge_dates`), and the reporting tables VACUUM ANALYZEd. Both
get the same fixtures: a national supervisor, this year's exit targets for the unions the pages show (two in five
of those on the register) and a monthly trend from 2015-12 (this month's snapshot copied to every month before).

Both databases stay open at once (two Django connections, swapped in as the default between the registers), so
the pages of both sizes are timed interleaved, round after round, each connection warm. `run()` times, with a
Django test client logged in as the supervisor (ms = client.get, DEBUG off), the national dashboard (the user's
home, /dashboard/), the drill-downs of the province, city and county of the big register's busiest county, and
the national chart data; and, on the same connections, two plain GROUP BYs over the household table. Medians of
BENCH_RUNS (default 30) rounds after 3 warm-up rounds. It checks the national figures against direct counts at
each size, and then, on the big register, what an unfolded minute costs: set-based household updates (2,000
open files a statement, updated_at = now()) until about 20,000 deltas wait for the fold, the pages timed with them,
folded, timed again, and again after a VACUUM of the delta table (the fold leaves its rows dead until autovacuum,
which may be off on a bench server). The same UPDATE is also timed, rolled back, with JIT off and without the
reporting trigger. "in SQL" is the page's time in its queries; "count rows kept" the maintained counts of the union
and its children, "rows read" the rows its read of them returns.

    BENCH_DATABASE=hardship_bench_dash ./dev bench dashboards --keep     # ~15 min, most of it generating
    BENCH_DATABASE=hardship_bench_dash ./dev bench dashboards --reuse    # a few minutes
"""

from __future__ import annotations

import copy
import datetime
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.__main__ import print_table
from bench.dossiers import bench_user, commit, generate_register
from dossiers.choices import CLOSED_STATUSES, ON_REGISTER_STATUSES
from dossiers.models import Household
from hardship.models import Union
from hardship.unions import NATIONAL_CODE
from reporting import snapshots
from reporting.figures import READ_SETTINGS, figures_of, fold, merge_dates, rebuild
from reporting.models import ExitTarget, FigureCount, FigureDelta, HouseholdFigures, Snapshot

BIG = int(os.environ.get("BENCH_HOUSEHOLDS", "2500000"))
SMALL = int(os.environ.get("BENCH_SMALL_HOUSEHOLDS", "25000"))
REPEATS = int(os.environ.get("BENCH_RUNS", "30"))
WARMUP = 3
AIM_MS = 50.0  # the issue: every dashboard page under 50 ms at 2.5 M households (median)
AIM_RATIO = 1.5  # … and at most 1.5 times its time at 25,000
DELTAS = 20_000  # unfolded deltas for the "unfolded minute"
UPDATE_BATCH = 2_000
MAX_UPDATES = 30
TREND_FROM = datetime.date(2015, 12, 1)
PLAN_LINES = int(os.environ.get("BENCH_PLAN_LINES", "40"))

# What every signed-in page pays (middleware, session, user, base template), on a page with almost nothing else.
FLOOR = "baseline: signed-in account page"
HOUSEHOLD_TABLE = Household._meta.db_table
REPORTING_TABLES = [model._meta.db_table for model in (HouseholdFigures, FigureCount, FigureDelta, Snapshot,
                                                       ExitTarget)]
ON_REGISTER = ", ".join(f"'{status}'" for status in ON_REGISTER_STATUSES)
CLOSED = ", ".join(f"'{status}'" for status in CLOSED_STATUSES)
BASELINES = [
    ("GROUP BY status, all households", f"SELECT status, count(*) FROM {HOUSEHOLD_TABLE} GROUP BY status"),
    ("GROUP BY category, on the register",
     f"SELECT category, count(*) FROM {HOUSEHOLD_TABLE} WHERE status IN ({ON_REGISTER}) GROUP BY category"),
]
# A minute's changes: files still open, not touched today, by the batch (each moves its 'changed' date to today).
UPDATE = f"""UPDATE {HOUSEHOLD_TABLE} SET updated_at = now() WHERE id IN (
    SELECT id FROM {HOUSEHOLD_TABLE} WHERE status NOT IN ({CLOSED}) AND updated_at < now() - interval '1 day'
    ORDER BY id LIMIT %s)"""
# The trend: this month's snapshot of a union, copied to every month from TREND_FROM to last month.
TREND = """
    INSERT INTO reporting_snapshot (union_id, month, on_register, exited, removed, figures, taken_at)
    SELECT s.union_id, m::date, s.on_register, s.exited, s.removed, s.figures, s.taken_at FROM reporting_snapshot s
    CROSS JOIN generate_series(%(start)s::date, %(month)s::date - interval '1 month', interval '1 month') AS m
    WHERE s.month = %(month)s AND s.union_id = ANY(%(ids)s)
    ON CONFLICT (union_id, month) DO NOTHING
"""


def short(households: int) -> str:
    return f"{households / 1e6:g}M" if households >= 1_000_000 else f"{households / 1e3:g}k"


@dataclass
class Register:
    households: int
    wrapper: object  # the Django DatabaseWrapper of its database
    client: Client | None = None
    cases: list[tuple[str, Callable[[], object]]] = field(default_factory=list)
    queries: dict[str, int] = field(default_factory=dict)
    rows_kept: dict[str, int] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return short(self.households)

    def activate(self) -> None:
        connections[DEFAULT_DB_ALIAS] = self.wrapper


# --- the two databases ------------------------------------------------------------------------


def server_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"],
                           password=db["PASSWORD"] or None, dbname="postgres", autocommit=True)


def small_database(name: str) -> Register:
    """A second, empty database on the same server, migrated, with a connection of its own."""
    with server_connection() as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{name}"')
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict["NAME"] = name
    register = Register(SMALL, type(connections[DEFAULT_DB_ALIAS])(settings_dict, DEFAULT_DB_ALIAS))
    big = connections[DEFAULT_DB_ALIAS]
    register.activate()
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"{name}: migrated in {time.perf_counter() - started:.1f} s")
        small_types = content_types()
    finally:
        connections[DEFAULT_DB_ALIAS] = big
    # Django caches content types per alias: both databases must number them alike.
    if small_types != content_types():
        raise RuntimeError("the two databases number their content types differently")
    return register


def drop_small(register: Register, big: Register) -> None:
    register.wrapper.close()
    big.activate()
    with server_connection() as server:
        server.execute(f'DROP DATABASE IF EXISTS "{register.wrapper.settings_dict["NAME"]}" WITH (FORCE)')


def content_types() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, app_label, model FROM django_content_type ORDER BY id")
        return cursor.fetchall()


def generated(households: int) -> None:
    started = time.perf_counter()
    print(f"generating {households:,} households …", flush=True)
    stats = generate_register(households)
    print(f"generated {stats['households']:,} households, {stats['members']:,} members in"
          f" {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in stats["timings"].items()), flush=True)


def big_register() -> Register:
    register = Register(BIG, connections[DEFAULT_DB_ALIAS])
    if os.environ.get("BENCH_REUSE") and Household.objects.exists():
        have = Household.objects.count()
        if have != BIG:
            raise RuntimeError(f"the kept database has {have:,} households, not {BIG:,}: run without --reuse")
        print(f"reusing the kept register: {have:,} households")
    else:
        generated(BIG)
    return register


def counted(register: Register) -> None:
    """The counts built from the tables (when missing), the dates merged as each night, the tables analysed."""
    households = Household.objects.count()
    covered = HouseholdFigures.objects.count() == households and FigureCount.objects.exists()
    if covered and not os.environ.get("BENCH_REBUILD"):
        print(f"{register.label}: counts already built ({households:,} households); BENCH_REBUILD=1 rebuilds them")
    else:
        started = time.perf_counter()
        rebuilt = rebuild()
        print(f"{register.label}: reporting_rebuild() of {rebuilt:,} households in"
              f" {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    merged = merge_dates(timezone.localdate())
    merge_s = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in REPORTING_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('reporting_figurecount')),"
                       " pg_size_pretty(pg_total_relation_size('reporting_householdfigures'))"
                       " FROM reporting_figurecount")
        rows, count_size, figures_size = cursor.fetchone()
    print(f"{register.label}: reporting_merge_dates() merged {merged:,} rows in {merge_s:.2f} s; VACUUM ANALYZE"
          f" {time.perf_counter() - started:.1f} s; reporting_figurecount {rows:,} rows ({count_size}),"
          f" reporting_householdfigures {figures_size}")


# --- fixtures and the pages ---------------------------------------------------------------------


def drill_down() -> list[Union]:
    """National, then the province, city and county of the busiest county (its help centre's parent)."""
    centre_id = (Household.objects.values("union_id").annotate(n=Count("pk")).order_by("-n")
                 .values_list("union_id", flat=True)[0])
    county = Union.objects.get(pk=centre_id).parent
    city = county.parent
    unions = [Union.objects.get(code=NATIONAL_CODE), city.parent, city, county]
    kinds = [union.kind for union in unions]
    if kinds != [Union.Kind.NATIONAL, Union.Kind.PROVINCE, Union.Kind.CITY, Union.Kind.COUNTY]:
        raise RuntimeError(f"the busiest county's line is not national/province/city/county: {kinds}")
    return unions


def fixtures(unions: list[Union], codes: list[str]) -> None:
    """This year's targets for the pages' unions and their children; a monthly trend for the pages' unions."""
    supervisor = bench_user("bench_supervisor", role="supervisor", home_union=unions[0], full_name="全总帮扶督导")
    today = timezone.localdate()
    shown = list(Union.objects.filter(code__in=codes)) + list(Union.objects.filter(parent__code__in=codes))
    targets = [ExitTarget(union=f.union, year=today.year, households=max(1, round(f.on_register * 0.4)),
                          set_by=supervisor) for f in figures_of(shown, today).values()]
    ExitTarget.objects.bulk_create(targets, ignore_conflicts=True)
    snapshots.take(today)
    with connection.cursor() as cursor:
        cursor.execute(TREND, {"start": TREND_FROM, "month": snapshots.month_of(today),
                               "ids": [union.pk for union in unions]})
        cursor.execute("ANALYZE reporting_snapshot; ANALYZE reporting_exittarget")


def check_exact(label: str) -> None:
    """The national figures against direct counts of the household table."""
    national = Union.objects.get(code=NATIONAL_CODE)
    counts = figures_of([national], timezone.localdate())[national.pk].counts
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, count(*) FROM {HOUSEHOLD_TABLE} GROUP BY 1")
        stages = dict(cursor.fetchall())
        cursor.execute(f"SELECT category, count(*) FROM {HOUSEHOLD_TABLE} WHERE status IN ({ON_REGISTER}) GROUP BY 1")
        categories = dict(cursor.fetchall())
    on = sum(stages.get(status, 0) for status in ON_REGISTER_STATUSES)
    expected = {("on", ""): on, **{("stage", s): n for s, n in stages.items()},
                **{("category", c): n for c, n in categories.items()}}
    wrong = {key: (counts.get(key, 0), n) for key, n in expected.items() if counts.get(key, 0) != n}
    wrong.update({key: (n, 0) for key, n in counts.items() if key[0] == "stage" and key not in expected and n})
    verdict = "OK" if not wrong else f"MISMATCH (figure: dashboard, direct) {wrong}"
    print(f"exact, {label}: {verdict} — on the register {counts.get(('on', ''), 0):,} against {on:,};"
          f" {len(stages)} stages, {len(categories)} categories compared")


def page(client: Client, url: str) -> Callable[[], object]:
    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise AssertionError(f"GET {url}: {response.status_code}")
        return response
    return get


def plain(sql: str) -> Callable[[], object]:
    def select():
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    return select


def prepare_pages(register: Register, codes: list[str]) -> None:
    """The register's client, its cases (pages, then the baselines), their query counts and count rows read."""
    register.activate()
    unions = {union.code: union for union in Union.objects.filter(code__in=codes)}
    fixtures([unions[code] for code in codes], codes)
    register.client = Client(HTTP_HOST="localhost")
    register.client.force_login(bench_user("bench_supervisor", role="supervisor", home_union=unions[NATIONAL_CODE]))
    names = ["national", *(f"{unions[code].get_kind_display()} {unions[code].name}" for code in codes[1:])]
    urls = [reverse("reporting:dashboard"), *(reverse("reporting:dashboard", args=[code]) for code in codes[1:]),
            reverse("reporting:data", args=[NATIONAL_CODE])]
    register.cases = [(f"dashboard {name}", page(register.client, url)) for name, url in zip(names, urls)]
    register.cases.append(("data.json national", page(register.client, urls[-1])))
    register.cases += [(f"baseline: {name}", plain(sql)) for name, sql in BASELINES]
    register.cases.append((FLOOR, page(register.client, reverse("account_security"))))
    page_codes = dict(zip((label for label, _ in register.cases), [*codes, NATIONAL_CODE]))
    for label, fn in register.cases:
        with CaptureQueriesContext(connection) as captured:
            response = fn()
        register.queries[label] = len(captured.captured_queries)
        if label not in page_codes:
            continue
        union = unions[page_codes[label]]
        shown = [union.pk, *Union.objects.filter(parent=union, is_active=True).values_list("pk", flat=True)]
        register.rows_kept[label] = FigureCount.objects.filter(union_id__in=shown).count()
        register.rows_read[label] = rows_read(captured)
        if label.startswith("data.json"):
            check_chart(response.json(), unions[NATIONAL_CODE])


def rows_read(captured: CaptureQueriesContext) -> int:
    """The rows the page's read of the counts returned, read again as the page read them."""
    sql = next(q["sql"] for q in captured.captured_queries if "reporting_figurecount" in q["sql"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(READ_SETTINGS)
        cursor.execute(sql)
        return len(cursor.fetchall())


def check_chart(data: dict, national: Union) -> None:
    on = figures_of([national], timezone.localdate())[national.pk].on_register
    if sum(item["value"] for item in data["categories"]) != on or len(data["ranking"]) < 30:
        raise AssertionError(f"data.json: categories sum to {sum(i['value'] for i in data['categories'])}, not {on};"
                             f" {len(data['ranking'])} children ranked")


# --- timing -----------------------------------------------------------------------------------------


def measure(registers: list[Register], only: tuple[str, ...] | None = None) -> dict[tuple[str, str], float]:
    """Median ms of each register's cases, interleaved round by round, after the warm-up rounds."""
    times: dict[tuple[str, str], list[float]] = {}
    for round_number in range(WARMUP + REPEATS):
        for register in registers:
            register.activate()
            for label, fn in register.cases:
                if only and label not in only:
                    continue
                started = time.perf_counter()
                fn()
                elapsed = time.perf_counter() - started
                if round_number >= WARMUP:
                    times.setdefault((register.label, label), []).append(elapsed)
    return {key: statistics.median(values) * 1000 for key, values in times.items()}


def sql_ms(fn: Callable[[], object], runs: int = 5) -> float:
    """Median over a few runs of the page's time in its queries (each from sent to its result received)."""
    spent = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - started

    totals = []
    for _ in range(runs):
        spent[0] = 0.0
        with connection.execute_wrapper(timed):
            fn()
        totals.append(spent[0] * 1000)
    return statistics.median(totals)


def table(small: Register, big: Register, medians: dict) -> list[dict]:
    national = medians[(big.label, big.cases[0][0])]
    in_sql = {}
    for register in (small, big):
        register.activate()
        in_sql.update({(register.label, label): sql_ms(fn) for label, fn in register.cases
                       if not label.startswith("baseline")})
    rows = []
    for label, _fn in big.cases:
        ms_small, ms_big = medians[(small.label, label)], medians[(big.label, label)]
        baseline = label.startswith("baseline")
        rows.append({
            "page": label, f"ms {small.label}": ms_small, f"ms {big.label}": ms_big,
            f"{big.label} ÷ {small.label}": ms_big / ms_small,
            "÷ national page": ms_big / national if baseline else "",
            f"in SQL {small.label}": "" if baseline else in_sql[(small.label, label)],
            f"in SQL {big.label}": "" if baseline else in_sql[(big.label, label)],
            "queries": small.queries[label] if small.queries[label] == big.queries[label]
            else f"{small.queries[label]}/{big.queries[label]}",
            f"count rows kept {small.label}": "" if baseline else small.rows_kept[label],
            f"count rows kept {big.label}": "" if baseline else big.rows_kept[label],
            f"rows read {small.label}": "" if baseline else small.rows_read[label],
            f"rows read {big.label}": "" if baseline else big.rows_read[label],
        })
    pages = [row for row in rows if not row["page"].startswith("baseline")]
    slowest = max(row[f"ms {big.label}"] for row in pages)
    worst = max(row[f"{big.label} ÷ {small.label}"] for row in pages)
    print(f"\naims at {big.households:,} households: median < {AIM_MS:.0f} ms — slowest page {slowest:.1f} ms,"
          f" {'met' if slowest < AIM_MS else 'NOT met'}; ≤ {AIM_RATIO}× the {small.households:,} figure — worst"
          f" {worst:.2f}×, {'met' if worst <= AIM_RATIO else 'NOT met'}")
    floor = medians[(big.label, FLOOR)]
    print(f"the signed-in account page takes {floor:.1f} ms in the same rounds: the dashboards take"
          f" {min(row[f'ms {big.label}'] for row in pages) - floor:.1f}–{slowest - floor:.1f} ms above it")
    return rows


def explain(label: str, fn: Callable[[], object], match: str = "reporting_figurecount") -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the page's query containing `match`, exactly as the page sent it."""
    with CaptureQueriesContext(connection) as captured:
        fn()
    sql = next((q["sql"] for q in captured.captured_queries if match in q["sql"]), None)
    if sql is None:
        print(f"\nEXPLAIN — {label}: no query with {match}")
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(READ_SETTINGS)  # as the page reads
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
        lines = [row[0] for row in cursor.fetchall()]
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) — {label}, the counts' read:")
    for line in lines[:PLAN_LINES]:
        print(f"    {line}")


def slowest_queries(label: str, fn: Callable[[], object], count: int = 3) -> None:
    """The page's queries by server time (EXPLAIN ANALYZE execution time), slowest first."""
    with CaptureQueriesContext(connection) as captured:
        fn()
    timed = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(READ_SETTINGS)  # as the page reads its counts (the others are too small to go parallel)
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().startswith(("SELECT", "WITH")):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, SUMMARY ON) {sql}")
            plan = [row[0] for row in cursor.fetchall()]
            ms = float(next(line for line in plan if line.startswith("Execution Time")).split()[2])
            timed.append((ms, " ".join(sql.split())[:100]))
    print(f"  {label}: {len(captured.captured_queries)} queries, {sum(ms for ms, _ in timed):.1f} ms executing"
          f" (SELECTs); slowest:")
    for ms, text in sorted(timed, reverse=True)[:count]:
        print(f"    {ms:7.2f} ms  {text}")


def update_costs(runs: int = 3) -> None:
    """One batch UPDATE as the unfolded minute sends it, rolled back: with every trigger, with JIT off, and without
    the reporting trigger (pghistory's only)."""
    variants = [("every trigger", ""), ("SET LOCAL jit = off", "SET LOCAL jit = off"),
                ("reporting trigger disabled",
                 f"ALTER TABLE {HOUSEHOLD_TABLE} DISABLE TRIGGER reporting_{HOUSEHOLD_TABLE}_update")]
    medians = {}
    for label, setup in variants:
        times = []
        for _ in range(runs):
            with transaction.atomic(), connection.cursor() as cursor:
                if setup:
                    cursor.execute(setup)
                started = time.perf_counter()
                cursor.execute(UPDATE, [UPDATE_BATCH])
                times.append(time.perf_counter() - started)
                transaction.set_rollback(True)
        medians[label] = statistics.median(times) * 1000
    print(f"the same UPDATE of {UPDATE_BATCH:,} households, rolled back (median of {runs}): "
          + "; ".join(f"{label} {ms:.0f} ms" for label, ms in medians.items()))


def unfolded_minute(big: Register) -> list[dict]:
    """Set-based household updates until DELTAS deltas wait for the fold; the pages with them; the fold."""
    big.activate()
    fold()
    timings = []
    with connection.cursor() as cursor:
        while FigureDelta.objects.count() < DELTAS and len(timings) < MAX_UPDATES:
            started = time.perf_counter()
            cursor.execute(UPDATE, [UPDATE_BATCH])
            timings.append(time.perf_counter() - started)
    deltas = FigureDelta.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('jit_above_cost')")
        jit, jit_above = cursor.fetchone()
    print(f"\nunfolded minute: {len(timings)} UPDATEs of {UPDATE_BATCH:,} open households (updated_at = now(), every"
          f" trigger on; jit {jit}, jit_above_cost {jit_above}) in {statistics.median(timings) * 1000:.0f} ms each"
          f" (median) left {deltas:,} deltas")
    check_exact(f"{big.label}, {deltas:,} deltas unfolded")
    only = tuple(label for label, _ in big.cases if not label.startswith("baseline"))
    unfolded = measure([big], only)
    started = time.perf_counter()
    folded_rows = fold()
    fold_ms = (time.perf_counter() - started) * 1000
    print(f"reporting_fold(): {deltas:,} deltas into {folded_rows:,} counts in {fold_ms:.0f} ms")
    check_exact(f"{big.label}, after the fold")
    folded = measure([big], only)
    # The fold leaves its deltas as dead rows, which every read scans until a VACUUM (autovacuum's job) clears them.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {FigureDelta._meta.db_table}")
    vacuumed = measure([big], only)
    update_costs()  # after the timings: its rolled-back rows are dead rows until the VACUUM below
    with connection.cursor() as cursor:
        for table in (HOUSEHOLD_TABLE, *REPORTING_TABLES[:3]):
            cursor.execute(f"VACUUM {table}")
    return [{"page": label, f"ms {deltas:,} deltas": unfolded[(big.label, label)],
             "ms folded": folded[(big.label, label)], "ms folded, vacuumed": vacuumed[(big.label, label)],
             "unfolded ÷ vacuumed": unfolded[(big.label, label)] / vacuumed[(big.label, label)]}
            for label in only]


def run() -> list[dict]:
    total_started = time.perf_counter()
    print(f"code: {commit()}")
    big = big_register()
    counted(big)
    small = small_database(f"{connection.settings_dict['NAME']}_small")
    try:
        small.activate()
        generated(SMALL)
        counted(small)
        big.activate()
        unions = drill_down()
        codes = [union.code for union in unions]
        print("pages: " + " > ".join(f"{union.name} ({union.code})" for union in unions)
              + "; the same unions in both registers")
        for register in (small, big):
            prepare_pages(register, codes)
            check_exact(register.label)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version(), current_setting('shared_buffers'), current_setting('work_mem'),"
                           " current_setting('max_parallel_workers_per_gather'), current_setting('autovacuum')")
            version, shared_buffers, work_mem, workers, autovacuum = cursor.fetchone()
        print(f"server: {version.split(' on ')[0]}, shared_buffers {shared_buffers}, work_mem {work_mem},"
              f" max_parallel_workers_per_gather {workers}, autovacuum {autovacuum}")
        print(f"timing: median of {REPEATS} rounds after {WARMUP} warm-up, every page and baseline of both registers"
              f" interleaved; ms = Django test client GET, DEBUG off; load average {os.getloadavg()[0]:.1f}",
              flush=True)
        medians = measure([small, big])
        rows = table(small, big, medians)
        for register in (small, big):
            register.activate()
            explain(f"national dashboard, {register.households:,} households", register.cases[0][1])
        print(f"\nqueries of each page at {big.households:,} households:")
        for label, fn in big.cases:
            if not label.startswith("baseline"):
                slowest_queries(label, fn)
        print_table(unfolded_minute(big))
    finally:
        drop_small(small, big)
    print(f"\nwhole run {time.perf_counter() - total_started:.0f} s, load average {os.getloadavg()[0]:.1f}")
    return rows
