"""Measures proposed for a household from its causes of hardship (因户施策): the caseworker chooses."""

from __future__ import annotations

from collections.abc import Iterable

from assistance.models import Batch, CauseSuggestion, MeasureType
from assistance.plans import needs_employment


def suggested_types(causes: Iterable[int]) -> list[MeasureType]:
    """The active measure types the causes suggest, each once: the first cause's first (the main cause is given
    first), in each cause the order the administrators set."""
    causes = list(dict.fromkeys(int(cause) for cause in causes))
    rows = (CauseSuggestion.objects.filter(cause__in=causes, measure_type__active=True)
            .select_related("measure_type"))
    ordered = sorted(rows, key=lambda row: (causes.index(row.cause), row.position, row.pk))
    return list(dict.fromkeys(row.measure_type for row in ordered))


def for_household(household) -> list[MeasureType]:
    """The household's suggestions: from its main and secondary causes; a zero-employment family (零就业家庭)
    with a member able to work is proposed an employment measure first, since its plan must hold one."""
    types = suggested_types([household.main_cause, *household.secondary_causes])
    if needs_employment(household):
        employment = [t for t in types if t.batch == Batch.EMPLOYMENT] or \
            list(MeasureType.objects.filter(batch=Batch.EMPLOYMENT, active=True)[:1])
        types = employment + [t for t in types if t not in employment]
    return types
