"""Every dashboard figure counted the plain way, straight from the register's tables, for comparison with the
maintained counts. Deliberately written without the triggers' SQL: ORM queries over the subtree."""

from __future__ import annotations

import datetime
from collections import Counter

from django.db.models import Count, OuterRef, Subquery, Sum
from django.utils import timezone

from assistance.models import Measure, Plan
from assistance.subsidy_models import Payment
from dossiers.choices import CLOSED_STATUSES, EXIT_STATUSES, ON_REGISTER_STATUSES, Status
from dossiers.models import Assessment, Household, Pairing
from hardship.models import Union


def direct_counts(union: Union, today: datetime.date) -> dict[tuple[str, str], int]:
    households = Household.objects.filter(union__path__startswith=union.path)
    on = households.filter(status__in=ON_REGISTER_STATUSES)
    counts: Counter = Counter()
    for status, n in households.values_list("status").annotate(n=Count("pk")).order_by():
        counts[("stage", status)] = n
    counts[("on", "")] = on.count()
    for figure, column in (("category", "category"), ("cause", "main_cause"), ("group", "key_group")):
        for value, n in on.values_list(column).annotate(n=Count("pk")).order_by():
            counts[(figure, str(value))] = n
    latest = Assessment.objects.filter(household=OuterRef("pk")).order_by("-made_at", "-pk")
    below = on.annotate(per_capita=Subquery(latest.values("per_capita_monthly")[:1]),
                        line=Subquery(latest.values("standard__poverty_line")[:1]))
    counts[("below", "")] = sum(1 for per_capita, line in below.values_list("per_capita", "line")
                                if per_capita is not None and per_capita < line)
    paired = Pairing.objects.filter(ended_on__isnull=True).values("household")
    counts[("unpaired", "")] = on.exclude(pk__in=paired).count()
    counts[("noplan", "")] = on.exclude(pk__in=Plan.objects.values("household")).count()
    for year, n in Plan.objects.filter(household__in=on).values_list("target_year").annotate(n=Count("pk")).order_by():
        counts[("planned", str(year))] = n
    open_measures = Measure.objects.filter(status__in=Measure.OPEN_STATUSES).values("household")
    counts[("noopen", "")] = on.exclude(pk__in=open_measures).count()
    done = Measure.objects.filter(status=Measure.Status.DONE).values("household")
    paid = Payment.objects.filter(status=Payment.Status.PAID).values("household")
    counts[("unhelped", "")] = on.exclude(pk__in=done).exclude(pk__in=paid).count()
    counts[("reverify", "true")] = households.filter(status=Status.REGISTERED, reverify_due__lt=today).count()
    year_ago = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=365), datetime.time()))
    counts[("changed", "true")] = households.exclude(status__in=CLOSED_STATUSES).filter(updated_at__lt=year_ago).count()
    for status, closed_on in households.filter(status__in=EXIT_STATUSES, closed_on__isnull=False).values_list(
            "status", "closed_on"):
        counts[("exit", f"{status}:{closed_on.year}")] += 1
    measures = Measure.objects.filter(household__union__path__startswith=union.path)
    for batch, status, n in measures.values_list("measure_type__batch", "status").annotate(n=Count("pk")).order_by():
        counts[("measure", f"{batch}:{status}")] = n
    return {key: n for key, n in counts.items() if n}


def direct_paid(union: Union) -> dict[str, tuple[int, object]]:
    payments = Payment.objects.filter(status=Payment.Status.PAID, batch__union__path__startswith=union.path)
    rows = payments.values_list("period__year").annotate(n=Count("pk"), amount=Sum("amount")).order_by()
    return {str(year): amount for year, n, amount in rows}


def maintained_counts(figures) -> dict[tuple[str, str], int]:
    return {key: n for key, n in figures.counts.items() if n and not (key[0] in ("changed", "reverify")
                                                                     and key[1] == "false")}


def mismatches(unions, today: datetime.date) -> list[str]:
    from reporting.figures import figures_of

    found = []
    for figures in figures_of(list(unions), today).values():
        expected, actual = direct_counts(figures.union, today), maintained_counts(figures)
        if expected != actual:
            keys = sorted(set(expected) | set(actual))
            found += [f"{figures.union.code} {key}: direct {expected.get(key)} ≠ kept {actual.get(key)}"
                      for key in keys if expected.get(key) != actual.get(key)]
        paid = {year: amount for year, amount in figures.paid.items() if amount}
        if direct_paid(figures.union) != paid:
            found.append(f"{figures.union.code} paid: direct {direct_paid(figures.union)} ≠ kept {paid}")
    return found

