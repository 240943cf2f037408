"""China's working days: statutory holidays and make-up working days (调休), for periods counted
in working days such as the public notice (公示).

Two sources, the first that knows a day wins:

1. the days an administrator entered in the national calendar table (`CalendarDay`, admin
   “工作日历”): the years the package does not cover yet, and corrections;
2. the chinese-calendar package (the State Council's yearly holiday notices, 2004 onwards).

A year the table holds at least one day of counts as covered, its other days following the week.
A day that neither source covers raises CalendarError: there is no silent Monday–Friday guess,
because a notice that "ends" in the middle of 国庆 is worse than one that asks for the calendar.

Each call reads the table once at most (the days from the first year it needs onwards), never
once per day.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import chinese_calendar
from django.utils.translation import gettext as _

# The years the installed chinese-calendar covers (the package's own rule: whole years from the
# first to the last year of its holiday table).
PACKAGE_FIRST_YEAR: int = min(chinese_calendar.holidays).year
PACKAGE_LAST_YEAR: int = max(chinese_calendar.holidays).year


class CalendarError(Exception):
    """A day outside the working calendar; the message (Chinese) tells the user what to do."""

    def __init__(self, message: str, *, day: datetime.date, covered_until: datetime.date) -> None:
        super().__init__(message)
        self.day = day
        self.covered_until = covered_until


@dataclass(frozen=True)
class _Calendar:
    """The entered days read from the table (for the years a call needs) over the package."""

    entered: dict[datetime.date, bool]

    @property
    def entered_years(self) -> set[int]:
        return {day.year for day in self.entered}

    def covered_until(self) -> datetime.date:
        year, entered_years = PACKAGE_LAST_YEAR, self.entered_years
        while year + 1 in entered_years:
            year += 1
        return datetime.date(year, 12, 31)

    def is_working_day(self, day: datetime.date) -> bool:
        if day in self.entered:
            return self.entered[day]
        if PACKAGE_FIRST_YEAR <= day.year <= PACKAGE_LAST_YEAR:
            # chinese_calendar.is_workday's own rule, without its per-call scan of the whole table.
            return day in chinese_calendar.workdays or (day.weekday() < 5 and day not in chinese_calendar.holidays)
        if day.year in self.entered_years:
            return day.weekday() < 5
        raise self.error(day)

    def error(self, day: datetime.date) -> CalendarError:
        until = self.covered_until()
        if day.year < PACKAGE_FIRST_YEAR:
            message = _("%(day)s 早于工作日历的覆盖范围（自 %(year)s 年起），请管理员在“工作日历”中补录。") % {
                "day": day.isoformat(), "year": PACKAGE_FIRST_YEAR}
        else:
            message = _(
                "%(day)s 不在工作日历覆盖范围内（法定节假日安排已录入至 %(year)s 年），请管理员在“工作日历”中补录。"
            ) % {"day": day.isoformat(), "year": until.year}
        return CalendarError(message, day=day, covered_until=until)


def _as_date(day: datetime.date) -> datetime.date:
    if isinstance(day, datetime.datetime):
        return day.date()
    if not isinstance(day, datetime.date):
        raise TypeError(f"expected a datetime.date, got {type(day).__name__}")
    return day


def _load(first_year: int, last_year: int | None = None) -> _Calendar:
    """One query: the entered days from `first_year` (and, past the package, from the first
    uncovered year, so that covered_until is right) to `last_year` (None: no end)."""
    from hardship.models import CalendarDay

    rows = CalendarDay.objects.filter(day__gte=datetime.date(min(first_year, PACKAGE_LAST_YEAR + 1), 1, 1))
    if last_year is not None:
        rows = rows.filter(day__lte=datetime.date(last_year, 12, 31))
    return _Calendar(entered=dict(rows.values_list("day", "is_working_day")))


def is_working_day(day: datetime.date) -> bool:
    """Whether `day` is a working day in China (entered day, else the package; else CalendarError)."""
    day = _as_date(day)
    return _load(day.year, day.year).is_working_day(day)


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The last day of a period of `days` working days beginning on `start`.

    `start` counts if it is a working day; a period starting on a holiday or weekend starts
    counting at the next working day. Raises CalendarError when the period runs past the calendar.
    """
    start = _as_date(start)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number of at least 1, got {days!r}")
    calendar = _load(start.year)
    day, counted = start, 0
    while True:
        if calendar.is_working_day(day):
            counted += 1
            if counted == days:
                return day
        day += datetime.timedelta(days=1)


def covered_until() -> datetime.date:
    """The last day the calendar covers without a gap: the package's last year, extended by the
    following years entered in the table."""
    return _load(PACKAGE_LAST_YEAR + 1).covered_until()
