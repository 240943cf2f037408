"""送温暖 campaigns: which households a campaign reaches, its 慰问 visits, and its coverage per union."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from assistance.subsidy_models import Campaign, CampaignVisit, Payment
from dossiers.choices import ON_REGISTER_STATUSES
from dossiers.models import Household
from hardship.models import Union


class CampaignError(Exception):
    """A visit that may not be recorded; the message says why."""


def households(campaign: Campaign) -> QuerySet[Household]:
    """The households on the register the campaign reaches (the run's SQL chooses the same)."""
    chosen = Household.objects.filter(union__path__startswith=campaign.union.path, status__in=ON_REGISTER_STATUSES,
                                      category__in=campaign.categories)
    return chosen.filter(key_group__in=campaign.key_groups) if campaign.key_groups else chosen


def visit_queue(campaign: Campaign, user) -> QuerySet[Household]:
    """The campaign's households in the user's scope with no 慰问 visit yet."""
    visited = CampaignVisit.objects.filter(campaign=campaign, household=OuterRef("pk"))
    return (households(campaign).filter(pk__in=Household.objects.visible_to(user).values("pk"))
            .exclude(Exists(visited)).select_related("union").order_by("union__path", "file_number"))


@transaction.atomic
def record_visit(campaign: Campaign, household: Household, *, by, visited_on, note: str, goods: str = "",
                 helper=None) -> CampaignVisit:
    if not households(campaign).filter(pk=household.pk).exists():
        raise CampaignError(_("该家庭不在本次活动的慰问范围内。"))
    if visited_on < campaign.starts_on or visited_on > campaign.ends_on:
        raise CampaignError(_("慰问日期应在活动期间（%(start)s 至 %(end)s）。")
                            % {"start": f"{campaign.starts_on:%Y-%m-%d}", "end": f"{campaign.ends_on:%Y-%m-%d}"})
    try:
        with transaction.atomic():
            return CampaignVisit.objects.create(campaign=campaign, household=household, visited_on=visited_on,
                                                visitor=by, helper=helper, note=note.strip(), goods=goods.strip())
    except IntegrityError as error:
        raise CampaignError(_("该家庭已登记过本次活动的慰问。")) from error


@dataclass
class Coverage:
    union: Union
    households: int = 0
    visited: int = 0
    paid: int = 0

    @property
    def visited_share(self) -> float:
        return self.visited / self.households if self.households else 0.0


def coverage(campaign: Campaign, user) -> list[Coverage]:
    """Per union one level below the campaign's (or the campaign's own, for its own households): households
    reached, visited, paid. Counted per household union in three grouped queries, then summed by path."""
    top = campaign.union
    children = list(Union.objects.filter(parent=top).order_by("path"))
    rows = {child.path: Coverage(child) for child in children}
    own = Coverage(top)
    reached = households(campaign).filter(pk__in=Household.objects.visible_to(user).values("pk"))
    visited = reached.filter(Exists(CampaignVisit.objects.filter(campaign=campaign, household=OuterRef("pk"))))
    paid = reached.filter(Exists(Payment.objects.filter(campaign=campaign, household=OuterRef("pk"),
                                                        status=Payment.Status.PAID)))
    for name, queryset in (("households", reached), ("visited", visited), ("paid", paid)):
        for path, n in queryset.values_list("union__path").annotate(n=Count("pk")).values_list("union__path", "n"):
            target = next((row for prefix, row in rows.items() if path.startswith(prefix)), own)
            setattr(target, name, getattr(target, name) + n)
    listed = [row for row in rows.values() if row.households]
    return ([own] if own.households else []) + listed
