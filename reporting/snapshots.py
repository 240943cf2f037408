"""Monthly snapshots: every union's counts copied, in one statement, into this month's row (replaced, not added,
by a second run: one snapshot per union and month, the month's last run being its month-end figure)."""

from __future__ import annotations

import datetime
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Case, JSONField, Value, When
from django.utils import timezone

from reporting.models import Snapshot

# The trend keeps what the register is (stages, categories, causes, groups, the flags, exits, plans), not the
# dates behind the moving figures nor the money, which the budgets and batches keep.
KEPT = ("on", "stage", "category", "cause", "group", "below", "unpaired", "noplan", "noopen", "unhelped", "exit",
        "planned")

TAKE = """
    INSERT INTO reporting_snapshot AS s (union_id, month, on_register, exited, removed, figures, taken_at)
    SELECT union_id, %(month)s,
        coalesce(sum(n) FILTER (WHERE figure = 'on'), 0),
        coalesce(sum(n) FILTER (WHERE figure = 'exit' AND split_part(value, ':', 1) IN ('exited', 'relieved')), 0),
        coalesce(sum(n) FILTER (WHERE figure = 'exit' AND split_part(value, ':', 1) = 'removed'), 0),
        jsonb_object_agg(figure || ':' || value, n), %(stamp)s
    FROM (SELECT union_id, figure, value, sum(n) AS n FROM (
              SELECT union_id, figure, value, n FROM reporting_figurecount WHERE figure = ANY(%(kept)s)
              UNION ALL
              SELECT union_id, figure, value, n FROM reporting_figuredelta WHERE figure = ANY(%(kept)s)) AS t
          GROUP BY 1, 2, 3 HAVING sum(n) <> 0) AS counts
    GROUP BY union_id
    ON CONFLICT (union_id, month) DO UPDATE SET on_register = EXCLUDED.on_register, exited = EXCLUDED.exited,
        removed = EXCLUDED.removed, figures = EXCLUDED.figures, taken_at = EXCLUDED.taken_at
"""


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


@transaction.atomic
def take(day: datetime.date | None = None) -> int:
    """This month's snapshot of every union with anything to count; one whose files have all moved away since an
    earlier run of the month is set to nothing rather than left with the earlier figures."""
    month = month_of(day or timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")  # this run's mark (now() is the same for a whole transaction)
        stamp = cursor.fetchone()[0]
        cursor.execute(TAKE, {"month": month, "kept": list(KEPT), "stamp": stamp})
        taken = cursor.rowcount
        cursor.execute("""UPDATE reporting_snapshot SET on_register = 0, exited = 0, removed = 0, figures = '{}',
                          taken_at = %(stamp)s WHERE month = %(month)s AND taken_at <> %(stamp)s""",
                       {"month": month, "stamp": stamp})
    return taken


class Month(NamedTuple):
    month: datetime.date
    on_register: int
    exited: int
    removed: int
    figures: dict | None  # the month's full counts, only where asked for

    @property
    def filed(self) -> int:
        return self.on_register + self.exited + self.removed


def trend(union_id: int, year: int | None = None) -> list[Month]:
    """A union's monthly figures, oldest first, with the full counts only of `year`'s months (the lines need none,
    and a dozen years of them are most of the read)."""
    figures = (Case(When(month__year=year, then="figures"), default=None, output_field=JSONField()) if year
               else Value(None, output_field=JSONField()))
    rows = (Snapshot.objects.filter(union_id=union_id).order_by("month")
            .values_list("month", "on_register", "exited", "removed", figures))
    return [Month(*row) for row in rows]
