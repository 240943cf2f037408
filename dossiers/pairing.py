"""一帮一结对帮扶: pairing a household with its one responsible helper, handing it over, and ending it when the
household leaves the register; suggestions for one file and an optimal proposal for a union subtree.

Every write is one transaction. Capacity is taken by a conditional update of the helper's count (`active_pairings
< capacity`): two sessions taking a helper's last free slot at once queue on the helper's row and the second
finds it full. Two sessions pairing one household at once meet the partial unique index on active pairings.
Either way the loser gets a PairingError with a clear message, never an IntegrityError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dossiers.choices import Status
from dossiers.models import EndReason, Helper, HelpKind, Household, Pairing
from dossiers.register import register_changed
from hardship import punctuation
from hardship.access import reads_files, scope_path

if TYPE_CHECKING:
    from dossiers import pairing_solver

# A household is paired while it is on the register (在档), including while its exit is being decided.
PAIRABLE_STATUSES = (Status.REGISTERED, Status.EXIT_PROPOSED)


class PairingError(Exception):
    pass


def province_of(union_path: str) -> str | None:
    """The province's part of a union's materialised path ("/100000/410000/…/" → "/100000/410000/"); None for the
    national union."""
    segments = union_path.strip("/").split("/")
    return f"/{segments[0]}/{segments[1]}/" if len(segments) > 1 else None


def active_pairing(household: Household) -> Pairing | None:
    return household.pairings.filter(ended_on__isnull=True).select_related("helper__union").first()


def _take_slot(helper: Helper) -> None:
    taken = Helper.objects.filter(pk=helper.pk, is_active=True, active_pairings__lt=F("capacity")).update(
        active_pairings=F("active_pairings") + 1)
    if not taken:
        raise PairingError(_("%(helper)s 的结对名额已满（或已不在岗），请选择其他帮扶责任人。")
                           % {"helper": helper.name})


def _free_slot(helper_id: int) -> None:
    Helper.objects.filter(pk=helper_id, active_pairings__gt=0).update(active_pairings=F("active_pairings") - 1)


def _check_pairable(household: Household, helper: Helper) -> None:
    if household.status not in PAIRABLE_STATUSES:
        raise PairingError(_("档案在档后才能结对帮扶（当前状态：%(status)s）。")
                           % {"status": household.get_status_display()})
    if province_of(helper.union.path) != province_of(household.union.path):
        raise PairingError(_("帮扶责任人与家庭不在同一省份，不能结对。"))


def _begin(household: Household, helper: Helper, *, by, on) -> Pairing:
    _take_slot(helper)
    try:
        with transaction.atomic():
            return Pairing.objects.create(household=household, helper=helper, started_on=on, created_by=by)
    except IntegrityError as error:
        raise PairingError(_("该户已有结对帮扶责任人（可能刚被其他人结对），请刷新页面后查看。")) from error


@transaction.atomic
def pair(household: Household, helper: Helper, *, by, on=None) -> Pairing:
    """Pair a household that has no helper with one who has a free slot."""
    _check_pairable(household, helper)
    if household.pairings.filter(ended_on__isnull=True).exists():
        raise PairingError(_("该户已有结对帮扶责任人；更换请办理移交。"))
    return _begin(household, helper, by=by, on=on or timezone.localdate())


@transaction.atomic
def hand_over(household: Household, successor: Helper, *, by, note: str) -> Pairing:
    """The old pairing ends and the successor's begins on the same day, in one transaction: no gap, no overlap."""
    if not note.strip():
        raise PairingError(_("请填写移交原因。"))
    current = household.pairings.select_for_update().filter(ended_on__isnull=True).first()
    if current is None:
        raise PairingError(_("该户目前没有结对帮扶责任人，请直接结对。"))
    if current.helper_id == successor.pk:
        raise PairingError(_("接续责任人与现责任人相同。"))
    _check_pairable(household, successor)
    today = timezone.localdate()
    _end(current, EndReason.HANDOVER, by=by, on=today, note=note)
    new = _begin(household, successor, by=by, on=max(today, current.started_on))
    Pairing.objects.filter(pk=current.pk).update(successor=new)
    return new


def _end(pairing: Pairing, reason: str, *, by, on, note: str = "") -> None:
    ended = Pairing.objects.filter(pk=pairing.pk, ended_on__isnull=True).update(
        ended_on=max(on, pairing.started_on), end_reason=reason, end_note=note.strip(), ended_by=by)
    if ended:
        _free_slot(pairing.helper_id)


@receiver(register_changed, dispatch_uid="pairing_ends_with_the_register")
def end_when_leaving_the_register(sender, household: Household, event, **kwargs) -> None:
    """不达目标不脱钩: the pairing ends only when the household leaves the register (or its union, by transfer)."""
    leaves = event.to_status not in PAIRABLE_STATUSES
    transferred = event.transition == "accept_transfer"
    if not (leaves or transferred):
        return
    current = household.pairings.select_for_update().filter(ended_on__isnull=True).first()
    if current is not None:
        reason = EndReason.TRANSFER if transferred and not leaves else EndReason.LEFT_REGISTER
        _end(current, reason, by=event.actor, on=timezone.localdate(), note=event.label)


# Suggestions and proposals ---------------------------------------------------------------------------------------

def _solver():
    """The solver, imported when first needed: numpy and SciPy would add up to a second to every process start
    (web, Celery, each manage command), and most processes never propose a pairing."""
    from dossiers import pairing_solver

    return pairing_solver


def _need(household: Household) -> pairing_solver.HouseholdNeed:
    return _solver().HouseholdNeed(id=household.pk, union_path=household.union.path,
                                        causes=frozenset([household.main_cause, *household.secondary_causes]))


def _offer(helper: Helper) -> pairing_solver.HelperOffer:
    return _solver().HelperOffer(id=helper.pk, union_path=helper.union.path, kinds=frozenset(helper.kinds),
                                      free=helper.free, load=helper.active_pairings)


def _ancestor_paths(union_path: str) -> list[str]:
    """The paths of the unions above this one up to its province ("/100000/410000/", "/100000/410000/410100/", …)."""
    segments = union_path.strip("/").split("/")
    return [f"/{'/'.join(segments[:depth])}/" for depth in range(2, len(segments))]


def visible_helpers(user):
    """The helpers a user works with: those of the user's subtree and those of the unions above it within the
    province (county and city cadres help grassroots households too). Only the subtree's are the user's to edit."""
    home = scope_path(user)
    if home is None or not reads_files(user):
        return Helper.objects.none()
    helpers = Helper.objects.select_related("union")
    if home:
        helpers = helpers.filter(Q(union__path__startswith=home) | Q(union__path__in=_ancestor_paths(home)))
    return helpers


def candidate_helpers(user, household: Household | None = None):
    """The helpers this user may pair households with: visible, on duty and with a free slot."""
    helpers = visible_helpers(user).filter(is_active=True, active_pairings__lt=F("capacity"))
    if household is not None:
        helpers = helpers.filter(union__path__startswith=province_of(household.union.path) or "/-")
    return helpers


def suggestions_for(user, household: Household, limit: int = 5) -> list[tuple[Helper, list[str]]]:
    """The `limit` best helpers for this file, each with why (in the user's language)."""
    helpers = {helper.pk: helper for helper in candidate_helpers(user, household)}
    lines = _solver().best_helpers(_need(household), [_offer(h) for h in helpers.values()], limit=limit)
    return [(helpers[line.helper_id], describe(line.reasons)) for line in lines]


REASONS = {
    "same_unit": gettext_lazy("同一单位"), "same_county": gettext_lazy("同一县区"),
    "same_city": gettext_lazy("同一地市"), "same_province": gettext_lazy("同一省份"),
    "no_fit": gettext_lazy("专长与致困原因不对应"),
}


def describe(reasons) -> list[str]:
    """The solver's reason codes in words, the kinds of help that fit given together where the first one stood."""
    labels = dict(HelpKind.choices)
    fits = [str(labels.get(reason[5:], reason[5:])) for reason in reasons if reason.startswith("fits:")]
    described = []
    for reason in reasons:
        code, _colon, value = reason.partition(":")
        if code == "fits":
            if fits:
                described.append(_("专长对应：%(kinds)s") % {"kinds": punctuation.enumeration_comma().join(fits)})
                fits = []
        elif code == "load":
            described.append(_("已结对 %(count)s 户") % {"count": value})
        else:
            described.append(str(REASONS.get(reason, reason)))
    return described


def unpaired(queryset):
    """Households on the register without an active pairing (the 在档未结对 queue)."""
    return queryset.filter(status__in=PAIRABLE_STATUSES).exclude(
        pk__in=Pairing.objects.filter(ended_on__isnull=True).values("household_id"))


def propose_for(user, households) -> tuple[pairing_solver.Proposal, dict, dict]:
    """An optimal assignment of these (unpaired) households to the user's helpers with free slots."""
    households = {h.pk: h for h in households.select_related("union")}
    helpers = {h.pk: h for h in candidate_helpers(user)}
    proposal = _solver().propose([_need(h) for h in households.values()], [_offer(h) for h in helpers.values()])
    return proposal, households, helpers


@transaction.atomic
def confirm(lines: list[tuple[Household, Helper]], *, by) -> list[Pairing]:
    """Create every confirmed pairing or none: capacity and the one-pairing rule are checked again here."""
    created = []
    for household, helper in lines:
        try:
            created.append(pair(household, helper, by=by))
        except PairingError as error:
            raise PairingError(_("%(file)s：%(error)s 未创建任何结对，请调整后重新确认。")
                               % {"file": household.file_number, "error": error}) from error
    return created
