"""走访 due dates: every household on the register is visited each VISIT_INTERVAL_MONTHS (深度困难 each
VISIT_INTERVAL_MONTHS_DEEP), counted from its latest visit, or from its entry on the register if it has none."""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import DateField, Max, Q, QuerySet
from django.db.models.functions import Coalesce

from dossiers.choices import Category, Status


def interval_months(category: str) -> int:
    return settings.VISIT_INTERVAL_MONTHS_DEEP if category == Category.DEEP else settings.VISIT_INTERVAL_MONTHS


def next_visit_on(household, last_visit: datetime.date | None) -> datetime.date | None:
    start = last_visit or household.registered_on
    if start is None or household.status != Status.REGISTERED:
        return None
    return start + relativedelta(months=interval_months(household.category))


def due(queryset: QuerySet, today: datetime.date) -> QuerySet:
    """Households on the register whose next visit falls within VISIT_DUE_AHEAD_DAYS, or has passed."""
    horizon = today + datetime.timedelta(days=settings.VISIT_DUE_AHEAD_DAYS)
    counted_from = Coalesce(Max("visits__visited_on"), "registered_on", output_field=DateField())
    deep_before = horizon - relativedelta(months=settings.VISIT_INTERVAL_MONTHS_DEEP)
    other_before = horizon - relativedelta(months=settings.VISIT_INTERVAL_MONTHS)
    return (queryset.filter(status=Status.REGISTERED).annotate(counted_from=counted_from)
            .filter(Q(category=Category.DEEP, counted_from__lte=deep_before)
                    | (~Q(category=Category.DEEP) & Q(counted_from__lte=other_before))))
