"""What a dashboard shows of a union: its figures, its children's table, the trend and the charts' data.
Counts only: nothing here names a household or a person."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from assistance.models import Measure
from hardship.models import Union
from reporting import snapshots
from reporting.figures import Figures, figures_of, overall_target_year
from reporting.templatetags.figures import NumberFormat


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    money: bool = False
    percent: bool = False

    def value(self, figures: Figures):
        return getattr(figures, self.key)

    def text(self, figures: Figures, number: NumberFormat) -> str:
        value = self.value(figures)
        if value is None:
            return escape(_("未设目标")) if self.percent else "—"
        if self.percent:
            return f"{number(value)}%"
        return number(value, 2) if self.money else number(value)


@dataclass(frozen=True)
class Header:
    """A column head of the child table: what a click sorts by (descending when already ascending), and its state."""

    label: str
    sort: str
    aria_sort: str  # "ascending", "descending" or ""


@dataclass(frozen=True)
class ChildRow:
    """A child unit's line of the table, its cells formatted in the order of COLUMNS."""

    code: str
    name: str
    cells: list[str]


# The child table's columns, in order; the export and the sort use the same list.
COLUMNS = [
    Column("on_register", _("在档户数")),
    Column("exited_this_year", _("本年脱困解困")),
    Column("target", _("本年目标")),
    Column("progress", _("完成进度"), percent=True),
    Column("removed_this_year", _("本年注销")),
    Column("below_line", _("低于低保")),
    Column("unpaired", _("未结对")),
    Column("no_plan", _("无帮扶计划")),
    Column("no_open_measure", _("无在办措施")),
    Column("unhelped", _("建档未帮扶")),
    Column("reverify_overdue", _("复核逾期")),
    Column("unchanged_year", _("一年未更新")),
    Column("paid_this_year", _("本年发放（元）"), money=True),
    Column("budget", _("本年预算（元）"), money=True),
]
COLUMN_KEYS = {column.key for column in COLUMNS}
DEFAULT_SORT = "progress"  # worst first: the lowest share of the year's target met, units without one last


def sort_children(children: list[Figures], sort: str) -> list[Figures]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in COLUMN_KEYS and key != "name":
        key, descending = DEFAULT_SORT, False
    if key == "name":
        return sorted(children, key=lambda f: f.union.path, reverse=descending)
    present = [f for f in children if getattr(f, key) is not None]
    missing = [f for f in children if getattr(f, key) is None]
    present.sort(key=lambda f: (getattr(f, key), f.union.path), reverse=descending)
    return present + sorted(missing, key=lambda f: f.union.path)


@dataclass
class Dashboard:
    union: Union
    today: datetime.date
    year: int
    figures: Figures
    children: list[Figures]
    trend: list[snapshots.Month]  # with their full counts only in the year shown
    sort: str

    @property
    def year_choices(self) -> range:
        return range(max(self.today.year - 11, 2015), self.today.year + 2)

    @property
    def measure_statuses(self) -> list[str]:
        return Measure.Status.labels

    @property
    def overall_year(self) -> int:
        return overall_target_year()

    @property
    def overall_overdue(self) -> bool:
        return self.today.year > self.overall_year and self.figures.on_register > 0

    @cached_property
    def headers(self) -> list[Header]:
        return [Header(str(c.label), f"-{c.key}" if self.sort == c.key else c.key,
                       "ascending" if self.sort == c.key else "descending" if self.sort == f"-{c.key}" else "")
                for c in COLUMNS]

    # The two long tables, formatted once (reporting/templatetags/figures.py writes their rows).
    @cached_property
    def child_rows(self) -> list[ChildRow]:
        number = NumberFormat()
        return [ChildRow(child.union.code, child.union.name, [column.text(child, number) for column in COLUMNS])
                for child in self.children]

    @cached_property
    def trend_rows(self) -> list[tuple[str, str, str, str, str]]:
        """The monthly table, newest first."""
        number = NumberFormat()
        return [(f"{s.month:%Y-%m}", number(s.on_register), number(s.exited), number(s.removed), number(s.filed))
                for s in reversed(self.trend)]

    def year_line(self) -> list[dict]:
        """This year's exits month by month (from the snapshots, and today's figure for this month) against the
        target spread evenly over the year."""
        exits = {s.month.month: sum(s.figures.get(f"exit:{kind}:{self.year}", 0) for kind in ("exited", "relieved"))
                 for s in self.trend if s.figures is not None}
        if self.today.year == self.year:
            exits[self.today.month] = self.figures.exited_this_year
        last = self.today.month if self.today.year == self.year else 12
        target = self.figures.target
        return [{"month": month, "exited": exits.get(month) if month <= last else None,
                 "target": round(target * month / 12) if target else None} for month in range(1, 13)]


def build(union: Union, children: list[Union], today: datetime.date, year: int, sort: str) -> Dashboard:
    by_union = figures_of([union], today, year, brief=children)
    child_figures = [by_union[child.pk] for child in children]
    return Dashboard(union=union, today=today, year=year, figures=by_union[union.pk],
                     children=sort_children(child_figures, sort or DEFAULT_SORT), trend=snapshots.trend(union.pk, year),
                     sort=sort or DEFAULT_SORT)


def as_number(value):
    """A figure as JSON and xlsx carry it: yuan and per cents as floats, counts as they are."""
    return float(value) if isinstance(value, Decimal) else value


def chart_data(dashboard: Dashboard) -> dict:
    """The charts' numbers, the same as the tables beside them."""
    figures = dashboard.figures
    return {
        "scope": dashboard.union.name,
        "year": dashboard.year,
        "progress": {"exited": figures.exited_this_year, "target": figures.target,
                     "planned": figures.planned_this_year},
        "categories": [{"name": str(label), "value": n} for _value, label, n in figures.by_category],
        "causes": [{"name": str(label), "value": n} for _value, label, n in figures.by_cause],
        "ranking": [{"name": child.union.name, "progress": as_number(child.progress), "exited": child.exited_this_year,
                     "target": child.target} for child in dashboard.children],
        "trend": {"months": [f"{s.month:%Y-%m}" for s in dashboard.trend],
                  "on_register": [s.on_register for s in dashboard.trend],
                  "exited": [s.exited for s in dashboard.trend],
                  "filed": [s.filed for s in dashboard.trend]},
        "year_line": dashboard.year_line(),
        "labels": {"exited": str(_("脱困解困")), "target": str(_("目标")), "planned": str(_("计划")),
                   "on_register": str(_("在档")), "filed": str(_("累计建档")), "progress": str(_("完成进度"))},
    }
