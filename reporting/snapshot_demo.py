"""Demo targets and monthly snapshots back to 2015, for the dashboards' trend lines.

The campaign years follow the shape of the national series (seed 004) at one thousandth of its size: 345.58万
households on the register at the end of 2015, 247.24万 in January 2018, none by the end of 2020, with 549.87万
filed over the campaign and 63.95万 leaving the file otherwise (the national outcome). Each demo union takes the
share of the series its files are of the demo's. From 2021 the register of today's rules fills up again, month by
month, to the figures the demo files have now; this month's snapshot is taken from them.
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from hardship.models import Union, User
from reporting import snapshots
from reporting.figures import figures_of
from reporting.models import ExitTarget, Snapshot

SCALE = 1000
# (month, on the register, filed so far, removed so far), in households, nationally; linear in between.
ANCHORS = [(datetime.date(2015, 12, 1), 3_455_800, 3_455_800, 0),
           (datetime.date(2018, 1, 1), 2_472_400, 4_700_000, 330_000),
           (datetime.date(2020, 12, 1), 0, 5_498_700, 639_500)]
CAMPAIGN_END = ANCHORS[-1][0]


def _between(month: datetime.date) -> tuple[float, float, float]:
    for (start, *low), (end, *high) in zip(ANCHORS, ANCHORS[1:], strict=False):
        if start <= month <= end:
            share = (month - start).days / (end - start).days
            return tuple(a + (b - a) * share for a, b in zip(low, high, strict=True))
    raise ValueError(month)


def _months(start: datetime.date, end: datetime.date):
    month = start
    while month <= end:
        yield month
        month += relativedelta(months=1)


def load_snapshot_demo() -> str:
    today = timezone.localdate()
    national = Union.objects.get(parent=None)
    counted = [u for u in Union.objects.filter(depth__lte=3).order_by("path")]
    live = {pk: f for pk, f in figures_of(counted, today).items() if f.on_register or f.exits_total()}
    national_filed = live[national.pk].on_register + live[national.pk].exits_total() or 1
    rows = []
    for union_id, figures in live.items():
        share = (figures.on_register + figures.exits_total()) / national_filed / SCALE
        rows += _campaign_rows(union_id, share) + _recent_rows(union_id, figures, today)
    Snapshot.objects.bulk_create(rows, ignore_conflicts=True)
    taken = snapshots.take(today)
    targets = _targets(live, national_filed, today)
    return f"，月度快照 {len(rows) + taken} 个，脱困目标 {targets} 个"


def _campaign_rows(union_id: int, share: float) -> list[Snapshot]:
    rows = []
    for month in _months(ANCHORS[0][0], CAMPAIGN_END):
        on, filed, removed = (round(value * share) for value in _between(month))
        rows.append(Snapshot(union_id=union_id, month=month, on_register=on, exited=max(filed - on - removed, 0),
                             removed=removed, figures={"on:": on}))
    return rows


def _recent_rows(union_id: int, figures, today: datetime.date) -> list[Snapshot]:
    """From January 2021 to last month, rising evenly to today's figures (this year's exits from January)."""
    months = list(_months(CAMPAIGN_END + relativedelta(months=1), today.replace(day=1) - relativedelta(months=1)))
    rows = []
    for index, month in enumerate(months, start=1):
        share = index / (len(months) + 1)
        exits = {f"exit:{kind}:{today.year}": round(figures.count("exit", f"{kind}:{today.year}") * month.month
                                                    / today.month) for kind in ("exited", "relieved")}
        this_year = month.year == today.year
        rows.append(Snapshot(
            union_id=union_id, month=month, on_register=round(figures.on_register * share),
            exited=round(figures.exits_total() * share), removed=round(figures.exits_total(("removed",)) * share),
            figures={"on:": round(figures.on_register * share), **(exits if this_year else {})}))
    return rows


def _targets(live: dict, national_filed: int, today: datetime.date) -> int:
    """Each campaign year's exits as that year's target, and this year's: two in five of those on the register."""
    by = User.objects.filter(username="national").first() or User.objects.filter(role="supervisor").first()
    targets = []
    for union_id, figures in live.items():
        share = (figures.on_register + figures.exits_total()) / national_filed / SCALE
        for year in range(2016, 2021):
            start, end = _between(datetime.date(year - 1, 12, 1)), _between(datetime.date(year, 12, 1))
            exits = (end[1] - end[0] - end[2]) - (start[1] - start[0] - start[2])
            targets.append(ExitTarget(union_id=union_id, year=year, households=round(exits * share), set_by=by))
        targets.append(ExitTarget(union_id=union_id, year=today.year, set_by=by,
                                  households=max(1, round(figures.on_register * 0.4))))
    ExitTarget.objects.bulk_create(targets, ignore_conflicts=True)
    return len(targets)
