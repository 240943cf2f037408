"""The help plan (一户一计划) and its measures (一户一措施): written, changed and checked here, each change in one
transaction; the history (django-pghistory) records who changed what."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assistance.models import Batch, Measure, Plan
from dossiers.choices import Status

# A plan is written for a file on the register (在档), or one whose exit is being decided.
PLANNABLE_STATUSES = (Status.REGISTERED, Status.EXIT_PROPOSED)


class PlanError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def needs_employment(household) -> bool:
    """零就业家庭至少一人就业: a zero-employment family with a member able to work needs an employment measure."""
    return household.zero_employment and any(member.able_to_work for member in household.members.all())


def _check_employment(household, measures) -> None:
    if needs_employment(household) and not any(
            measure.measure_type.batch == Batch.EMPLOYMENT and measure.status != Measure.Status.FAILED
            for measure in measures):
        raise PlanError(_("零就业家庭至少要有一项就业创业类措施（零就业家庭至少一人就业）。"), field="measure_type")


def _check_plannable(household) -> None:
    if household.status not in PLANNABLE_STATUSES:
        raise PlanError(_("档案在档后才能制定帮扶计划（当前状态：%(status)s）。")
                        % {"status": household.get_status_display()})


def _validated(instance, exclude=()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise PlanError(messages[0], field=None if field == "__all__" else field) from error


def _check_amount(measure: Measure) -> None:
    if measure.measure_type.involves_money and measure.amount is None:
        raise PlanError(_("“%(type)s”涉及资金或物资，请填写金额（元）。") % {"type": measure.measure_type},
                        field="amount")


@transaction.atomic
def create_plan(household, plan: Plan, measures: list[Measure], *, by) -> Plan:
    """The household's plan with its first measures. Two people writing one at once: one plan is kept, the other
    is told (the household row is locked, and the database allows one plan per household)."""
    type(household).objects.select_for_update().filter(pk=household.pk).first()
    _check_plannable(household)
    if Plan.objects.filter(household=household).exists():
        raise PlanError(_("该户已有帮扶计划，请修改现有计划。"))
    if not measures:
        raise PlanError(_("帮扶计划至少要有一项帮扶措施。"), field="measure_type")
    plan.household, plan.created_by, plan.updated_by = household, by, by
    _validated(plan, exclude=["household"])
    for measure in measures:
        measure.created_by = by
        _validated(measure, exclude=["plan", "household"])
        _check_amount(measure)
    _check_employment(household, measures)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as error:
        raise PlanError(_("该户已有帮扶计划，请修改现有计划。")) from error
    for measure in measures:
        measure.plan = plan
        measure.save()
    return plan


@transaction.atomic
def update_plan(plan: Plan, *, by) -> Plan:
    """Save the plan's changed fields as its next version."""
    _check_plannable(plan.household)
    _validated(plan, exclude=["household"])
    plan.version += 1
    plan.updated_by, plan.updated_at = by, timezone.now()
    plan.save()
    return plan


@transaction.atomic
def save_measure(plan: Plan, measure: Measure, *, by) -> Measure:
    """Add a measure to the plan, or save a changed one; the plan must still hold an employment measure where the
    family needs one (a measure marked 未能落实 no longer counts)."""
    Plan.objects.select_for_update().filter(pk=plan.pk).first()
    _check_plannable(plan.household)
    if measure.pk is None:
        measure.created_by = by
    measure.plan, measure.household_id, measure.updated_at = plan, plan.household_id, timezone.now()
    _validated(measure)
    _check_amount(measure)
    others = [other for other in plan.measures.select_related("measure_type") if other.pk != measure.pk]
    _check_employment(plan.household, [*others, measure])
    measure.save()
    plan.updated_by, plan.updated_at = by, timezone.now()
    plan.save(update_fields=["updated_by", "updated_at"])
    return measure


@dataclass(frozen=True)
class IncomePath:
    """What the household's per-capita income would be with the income its measures bring, against the line."""

    per_capita_now: Decimal
    added_monthly: Decimal  # the measures' monthly income, for the whole household
    per_capita_with_measures: Decimal
    poverty_line: Decimal
    household_size: int

    @property
    def reaches_line(self) -> bool:
        return self.per_capita_with_measures >= self.poverty_line


def income_path(plan: Plan, assessment) -> IncomePath | None:
    """From the latest assessment (per-capita monthly income after rigid costs, the line it used) and the income of
    the measures not marked 未能落实. None without an assessment."""
    if assessment is None:
        return None
    size = int(assessment.result["household_size"])
    now = assessment.per_capita_monthly
    added = sum((measure.monthly_income or Decimal(0) for measure in plan.measures.all()
                 if measure.status != Measure.Status.FAILED), Decimal(0))
    line = Decimal(assessment.inputs.get("poverty_line") or assessment.standard.poverty_line)  # the one it used
    return IncomePath(per_capita_now=now, added_monthly=added,
                      per_capita_with_measures=(now + added / size).quantize(Decimal("0.01")),
                      poverty_line=line, household_size=size)
