"""Union subtree queries at national scale: the indexed path prefix against a recursive walk.

Builds the real regional tree (~3,300 local federations) plus generated grassroots units, help
centres and help stations under every county, then times the same count and first page for a
county, a province and the national union both ways, alternating the two so noise hits both.
"""

import statistics
import time
from collections.abc import Callable

import pgtrigger
from django.db import connection, transaction

from hardship.management.commands.load_regions import load_regions
from hardship.models import PATH_SEPARATOR, Union
from hardship.unions import NATIONAL_CODE, create_regional_unions

# Code letter and how many of each under every county: 60 units a county, ~180,000 in all.
UNITS_PER_COUNTY = {
    Union.Kind.GRASSROOTS: ("J", 50),
    Union.Kind.HELP_CENTRE: ("Z", 1),
    Union.Kind.HELP_STATION: ("S", 9),
}
SCOPES = {"county 中原区": "410102", "province 河南": "410000", "national": NATIONAL_CODE}
REPEATS = 30
WARMUP = 3
PAGE = 50

RECURSIVE_COUNT = """
    WITH RECURSIVE sub AS (
        SELECT id FROM hardship_union WHERE id = %s
        UNION ALL
        SELECT u.id FROM hardship_union u JOIN sub ON u.parent_id = sub.id
    )
    SELECT count(*) FROM sub
"""
# Without a stored path the walk has to build its own sort key; starting it from the scope's
# path makes the order (and so the page) identical to ORDER BY path.
RECURSIVE_PAGE = """
    WITH RECURSIVE sub AS (
        SELECT u.*, %s::text AS sort_key FROM hardship_union u WHERE u.id = %s
        UNION ALL
        SELECT u.*, sub.sort_key || u.code || '/' FROM hardship_union u JOIN sub ON u.parent_id = sub.id
    )
    SELECT * FROM sub ORDER BY sort_key LIMIT %s
"""


def generated_units(county: Union) -> list[Union]:
    units = []
    for kind, (letter, count) in UNITS_PER_COUNTY.items():
        for n in range(1, count + 1):
            code = f"{county.code}-{letter}{n:02d}"
            path = f"{county.path}{code}{PATH_SEPARATOR}"
            units.append(Union(
                code=code, name=f"{county.name}{kind.label}{n}", kind=kind, parent_id=county.pk,
                path=path, depth=county.depth + 1,
            ))
    return units


def build_tree() -> None:
    # The audit trigger would write a history row per insert; this throwaway data needs none.
    with pgtrigger.ignore("hardship.Union:insert_insert"), transaction.atomic():
        load_regions()
        create_regional_unions()
        for county in Union.objects.filter(kind=Union.Kind.COUNTY).iterator():
            Union.objects.bulk_create(generated_units(county), batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE hardship_union")


def check_parent_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'hardship_union' AND indexdef LIKE %s",
            ["%(parent_id)%"],
        )
        if not cursor.fetchone():
            raise RuntimeError("no index on hardship_union.parent_id: the recursive baseline would be unfair")


def prefix_count(scope: Union) -> int:
    return Union.objects.filter(path__startswith=scope.path).count()


def prefix_page(scope: Union) -> list[int]:
    return [u.pk for u in Union.objects.filter(path__startswith=scope.path).order_by("path")[:PAGE]]


def recursive_count(scope: Union) -> int:
    with connection.cursor() as cursor:
        cursor.execute(RECURSIVE_COUNT, [scope.pk])
        return cursor.fetchone()[0]


def recursive_page(scope: Union) -> list[int]:
    return [u.pk for u in Union.objects.raw(RECURSIVE_PAGE, [scope.path, scope.pk, PAGE])]


def compare(prefix: Callable[[], object], recursive: Callable[[], object]) -> tuple[float, float]:
    """Median seconds of each, interleaved, after a warm-up that also checks they agree."""
    for _ in range(WARMUP):
        expected, got = prefix(), recursive()
    if expected != got:
        raise AssertionError(f"prefix and recursive disagree: {expected!r} != {got!r}")
    prefix_times, recursive_times = [], []
    for _ in range(REPEATS):
        for fn, times in ((prefix, prefix_times), (recursive, recursive_times)):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    return statistics.median(prefix_times), statistics.median(recursive_times)


def explain_county_count(scope: Union) -> str:
    """The scan line of EXPLAIN for exactly the SQL that prefix_count sends."""
    sent = []

    def capture(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        prefix_count(scope)
    sql, params = sent[-1]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        lines = [row[0] for row in cursor.fetchall()]
    # The first line is the Aggregate; the scan under it is what shows the index.
    return next((line.strip().removeprefix("->").strip() for line in lines if "Scan" in line), lines[0])


def run() -> list[dict]:
    started = time.perf_counter()
    build_tree()
    check_parent_index()
    elapsed = time.perf_counter() - started
    counties = Union.objects.filter(kind=Union.Kind.COUNTY).count()
    per_county = sum(count for _, count in UNITS_PER_COUNTY.values())
    print(f"data: {Union.objects.count():,} unions ({counties:,} counties × {per_county} generated units),"
          f" built in {elapsed:.1f} s")
    print(f"timing: median of {REPEATS} runs after {WARMUP} warm-up, prefix and recursive interleaved")
    rows = []
    for label, code in SCOPES.items():
        scope = Union.objects.get(code=code)
        if scope.kind == Union.Kind.COUNTY:
            print(f"EXPLAIN county prefix count: {explain_county_count(scope)}")
        size = prefix_count(scope)
        for query, prefix, recursive in (
            ("count", prefix_count, recursive_count),
            (f"first {PAGE} by path", prefix_page, recursive_page),
        ):
            prefix_s, recursive_s = compare(lambda p=prefix, s=scope: p(s), lambda r=recursive, s=scope: r(s))
            rows.append({
                "scope": label, "units": size, "query": query, "prefix ms": prefix_s * 1000,
                "recursive ms": recursive_s * 1000, "ratio": recursive_s / prefix_s,
            })
    return rows
