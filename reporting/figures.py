"""The dashboards' figures, read from the maintained counts.

Why maintained counts, and why these: a plain GROUP BY over a national register of 2.5 M households takes about
250 ms, and a dashboard shows some forty figures for a union and each of its children. So every figure is kept,
per union and its whole subtree, by triggers in the database (migration 0002), in the same transaction as the
change that moves it: whatever writes a household, a pairing, a plan, a measure, an assessment or a payment (a
form, a transition, the import, a transfer, a Celery run, the admin, raw SQL) moves the counts with it, and a
rolled-back change moves nothing. Alternatives weighed:
- materialised views: exact only after a refresh, and a refresh recomputes the whole register (minutes at 2.5 M);
- counts updated in place (UPDATE … SET n = n + 1): every transition in the country would queue for the lock on
  the national row until its transaction ends, and two transactions touching two households in opposite orders
  could deadlock over them;
- so the counts are appended as deltas (FigureDelta: insert only, no lock on any count) and folded into
  FigureCount by one job at a time (reporting_fold, each minute). A read sums both in one statement, so it sees
  every committed change at once (no delay beyond the commit) and never half a fold.
Concurrency: the one row per household (HouseholdFigures) is locked before it is recomputed from the tables, so
of two transactions touching one household the second waits, then sees the first's committed work; nothing is
lost. Dates compared with a moving threshold (last change, re-verification due) are counted per date and merged
below the threshold daily (reporting_merge_dates), so a union holds about a year of dates.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction

from assistance.models import Batch, Measure
from dossiers.choices import Category, Cause, KeyGroup, Status
from hardship.models import Union

UNCHANGED_DAYS = 365  # "files unchanged for a year", as the saved search counts them
EXIT_KINDS = (Status.EXITED, Status.RELIEVED, Status.REMOVED)
PROGRESS_KINDS = (Status.EXITED, Status.RELIEVED)  # what a target counts: 脱困 and 解困, not removals

# The figures reporting_keys() (migration 0002) writes. A union keeps a row per date for the two moving ones; only
# the dates below today's thresholds count, so only those are read, by ranges of the unique index (union, figure,
# value), and summed into one figure each. Naming the others lets the index skip the dates too: at 2.5 M households
# a national read otherwise walked 24,000 date rows to keep 2,000.
UNDATED = ("stage", "on", "category", "cause", "group", "below", "unpaired", "noplan", "noopen", "unhelped",
           "planned", "exit", "measure", "paid")
# A child unit's line of the dashboard's table needs only these flags, the year's exits and the year's money: a fifth
# of its rows, each part an exact range of the index.
BRIEF_FLAGS = ("on", "below", "unpaired", "noplan", "noopen", "unhelped")
BRIEF = (*BRIEF_FLAGS, "exit", "paid", "changed", "reverify")  # what such a line holds (the moving ones as below)
ROWS = """
    SELECT union_id, figure, value, n, amount FROM {table} WHERE union_id = ANY(%(whole)s) AND figure = ANY(%(undated)s)
    UNION ALL
    SELECT union_id, figure, value, n, amount FROM {table}
    WHERE union_id = ANY(%(brief)s) AND figure = ANY(%(brief_flags)s) AND value = ''
    UNION ALL
    SELECT union_id, figure, value, n, amount FROM {table}
    WHERE union_id = ANY(%(brief)s) AND figure = 'exit' AND value = ANY(%(brief_exits)s)
    UNION ALL
    SELECT union_id, figure, value, n, amount FROM {table}
    WHERE union_id = ANY(%(brief)s) AND figure = 'paid' AND value = %(year)s
    UNION ALL
    SELECT union_id, figure, 'true', n, amount FROM {table}
    WHERE union_id = ANY(%(ids)s) AND figure = 'changed' AND value < %(unchanged_before)s
    UNION ALL
    SELECT union_id, figure, 'true', n, amount FROM {table}
    WHERE union_id = ANY(%(ids)s) AND figure = 'reverify' AND value < %(today)s
"""
# A few hundred rows by index ranges: the parallel plan the planner likes for them takes about 15 ms to start, three
# times the read itself.
READ_SETTINGS = "SET LOCAL max_parallel_workers_per_gather = 0"
READ = f"""
    SELECT union_id, figure, value, sum(n)::bigint, sum(amount)
    FROM ({ROWS.format(table="reporting_figurecount")} UNION ALL {ROWS.format(table="reporting_figuredelta")}) AS t
    GROUP BY 1, 2, 3
"""


@dataclass
class Figures:
    """One union's subtree, on one day of one year."""

    union: Union
    year: int
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    paid: dict[str, Decimal] = field(default_factory=dict)  # year → yuan paid
    target: int | None = None
    children_target: int | None = None  # the sum of the direct children's targets, when any is set
    budget: Decimal = Decimal("0.00")
    committed: Decimal = Decimal("0.00")
    brief: bool = False  # read for a line of a table only: BRIEF, of the exits and money only the year's

    def count(self, figure: str, value: str = "") -> int:
        if self.brief and figure not in BRIEF:
            raise LookupError(f"'{figure}' is not read for a table's line (figures_of(brief=…))")
        return self.counts.get((figure, value), 0)

    def values(self, figure: str) -> dict[str, int]:
        if self.brief:
            raise LookupError("a table's line has only the year's figures (figures_of(brief=…))")
        return {value: n for (name, value), n in self.counts.items() if name == figure and n}

    @property
    def on_register(self) -> int:
        return self.count("on")

    @property
    def by_category(self) -> list[tuple[str, str, int]]:
        return [(value, label, self.count("category", value)) for value, label in Category.choices]

    @property
    def by_cause(self) -> list[tuple[str, str, int]]:
        return [(str(value), label, self.count("cause", str(value))) for value, label in Cause.choices]

    @property
    def by_group(self) -> list[tuple[str, str, int]]:
        return [(value, label, self.count("group", value)) for value, label in KeyGroup.choices]

    @property
    def by_stage(self) -> list[tuple[str, str, int]]:
        return [(value, label, self.count("stage", value)) for value, label in Status.choices]

    def exits_in(self, year: int, kinds=PROGRESS_KINDS) -> int:
        return sum(self.count("exit", f"{kind}:{year}") for kind in kinds)

    @property
    def exits_this_year(self) -> list[tuple[str, str, int]]:
        return [(kind.value, kind.label, self.count("exit", f"{kind}:{self.year}")) for kind in EXIT_KINDS]

    @property
    def exited_this_year(self) -> int:
        return self.exits_in(self.year)

    def exits_total(self, kinds=PROGRESS_KINDS) -> int:
        kinds = {str(kind) for kind in kinds}
        return sum(n for value, n in self.values("exit").items() if value.split(":")[0] in kinds)

    @property
    def removed_this_year(self) -> int:
        return self.count("exit", f"{Status.REMOVED}:{self.year}")

    @property
    def below_line(self) -> int:
        return self.count("below")

    @property
    def unpaired(self) -> int:
        return self.count("unpaired")

    @property
    def no_plan(self) -> int:
        return self.count("noplan")

    @property
    def no_open_measure(self) -> int:
        return self.count("noopen")

    @property
    def unhelped(self) -> int:
        """建档未帮扶: on the register, no measure done and nothing paid."""
        return self.count("unhelped")

    @property
    def progress(self) -> Decimal | None:
        """Exits of the year against its target, in per cent (none without a target)."""
        if not self.target:
            return None
        return (Decimal(100 * self.exited_this_year) / self.target).quantize(Decimal("0.1"))

    @property
    def overall_progress(self) -> Decimal | None:
        """Of every household that was on the register (still on it, or out by 脱困 or 解困), the share out."""
        out = self.exits_total()
        total = out + self.on_register
        return (Decimal(100 * out) / total).quantize(Decimal("0.1")) if total else None

    @property
    def planned_this_year(self) -> int:
        """Bottom-up: what the year's exits come to if every plan due this year is met."""
        return self.exited_this_year + self.count("planned", str(self.year))

    @property
    def plan_shortfall(self) -> int:
        """How many households the year's target asks for beyond what the plans promise (0 when they cover it)."""
        return max(0, (self.target or 0) - self.planned_this_year)

    @property
    def children_gap(self) -> int | None:
        if self.target is None or self.children_target is None:
            return None
        return self.children_target - self.target

    @property
    def planned_by_year(self) -> list[tuple[str, int]]:
        return sorted(self.values("planned").items())

    @property
    def reverify_overdue(self) -> int:
        return self.count("reverify", "true")

    @property
    def unchanged_year(self) -> int:
        return self.count("changed", "true")

    @property
    def measures(self) -> list[tuple[str, list[int]]]:
        """Per batch: how many measures in each status, in the order of Measure.Status."""
        return [(label, [self.count("measure", f"{batch}:{status}") for status in Measure.Status.values])
                for batch, label in Batch.choices]

    @property
    def paid_this_year(self) -> Decimal:
        return self.paid.get(str(self.year), Decimal("0.00"))

    @property
    def budget_used(self) -> Decimal | None:
        return (Decimal(100) * self.paid_this_year / self.budget).quantize(Decimal("0.1")) if self.budget else None


def overall_target_year() -> int:
    return settings.OVERALL_EXIT_TARGET_YEAR


def unchanged_before(today: datetime.date) -> datetime.date:
    return today - datetime.timedelta(days=UNCHANGED_DAYS)


def figures_of(unions: list[Union], today: datetime.date, year: int | None = None,
               brief: list[Union] = ()) -> dict[int, Figures]:
    """The figures of each union's subtree, and of each `brief` union those of a table's line (Figures.brief):
    one read of the counts, one of the targets, one of the budgets."""
    year = year or today.year
    result = {union.pk: Figures(union=union, year=year) for union in unions}
    result |= {union.pk: Figures(union=union, year=year, brief=True) for union in brief}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(READ_SETTINGS)
        cursor.execute(READ, {
            "whole": [union.pk for union in unions], "brief": [union.pk for union in brief], "ids": list(result),
            "undated": list(UNDATED), "brief_flags": list(BRIEF_FLAGS), "year": str(year),
            "brief_exits": [f"{kind}:{year}" for kind in EXIT_KINDS],
            "today": today.isoformat(), "unchanged_before": unchanged_before(today).isoformat()})
        for union_id, figure, value, n, amount in cursor.fetchall():
            figures = result[union_id]
            if figure == "paid":
                figures.paid[value] = amount
            else:
                figures.counts[(figure, value)] = n
    _add_targets(result, year)
    _add_budgets(result, year)
    return result


TARGETS = """
    SELECT union_id, households, false FROM reporting_exittarget WHERE year = %(year)s AND union_id = ANY(%(ids)s)
    UNION ALL
    SELECT u.parent_id, sum(t.households), true FROM reporting_exittarget t JOIN hardship_union u ON u.id = t.union_id
    WHERE t.year = %(year)s AND u.parent_id = ANY(%(whole)s) GROUP BY u.parent_id
"""


def _add_targets(result: dict[int, Figures], year: int) -> None:
    """Each union's own target, and (but for a table's line) the sum of its direct children's when any is set."""
    whole = [pk for pk, figures in result.items() if not figures.brief]
    with connection.cursor() as cursor:
        cursor.execute(TARGETS, {"year": year, "ids": list(result), "whole": whole})
        for union_id, households, of_children in cursor.fetchall():
            if of_children:
                result[union_id].children_target = households
            else:
                result[union_id].target = households


BUDGETS = """
    SELECT u.id, sum(b.amount), sum(b.committed) FROM assistance_fundbudget b
    JOIN hardship_union owner ON owner.id = b.union_id
    JOIN hardship_union u ON u.id = ANY(%(ids)s) AND owner.path LIKE u.path || '%%'
    WHERE b.year = %(year)s GROUP BY u.id
"""


def _add_budgets(result: dict[int, Figures], year: int) -> None:
    """The budgets of every union in each subtree (a small table: a few rows per union that pays)."""
    with connection.cursor() as cursor:
        cursor.execute(BUDGETS, {"ids": list(result), "year": year})
        for union_id, amount, committed in cursor.fetchall():
            result[union_id].budget, result[union_id].committed = amount, committed


def fold() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporting_fold()")
        return cursor.fetchone()[0]


def vacuum(*tables: str) -> None:
    """VACUUM ANALYZE of the counts' tables (outside any transaction). The fold deletes the deltas it folds and
    updates the counts it adds them to; a read scans those dead rows until a vacuum, and autovacuum may come late
    or be off. The tables are small (the deltas of a minute; a few hundred rows a union), so it takes milliseconds."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")


def merge_dates(today: datetime.date) -> int:
    """Merges dates that no threshold to come can split (a week's margin for the day boundary)."""
    margin = datetime.timedelta(days=7)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporting_merge_dates(%s, %s)", [unchanged_before(today) - margin, today - margin])
        return cursor.fetchone()[0]


def rebuild() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporting_rebuild()")
        return cursor.fetchone()[0]
