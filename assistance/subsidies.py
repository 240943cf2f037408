"""Subsidy schedules: set up by a supervisor for a household on the register (先建档后帮扶), within the yearly cap on
living aid, suspended and resumed, and ended from the next period when the household leaves the register."""

from __future__ import annotations

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from assistance import runs
from assistance.subsidy_models import LivingAidYear, Schedule, SubsidyKind, first_of_month
from dossiers.choices import ON_REGISTER_STATUSES, Status
from dossiers.models import Household, LocalStandard
from dossiers.register import register_changed


class SubsidyError(Exception):
    """A schedule that may not be saved or changed; the message says why."""


def current_period() -> datetime.date:
    return first_of_month(timezone.localdate())


def annual_cap(household: Household, period: datetime.date) -> Decimal | None:
    """The household's yearly living-aid ceiling: the local 低保 line × open members × SUBSIDY_CAP_MONTHS."""
    standard = LocalStandard.in_force(household.region, period + relativedelta(months=1, days=-1))
    if standard is None:
        return None
    members = household.members.all()
    size = (members if household.status == Status.RELIEVED else members.filter(is_open=True)).count()
    return standard.poverty_line * size * settings.SUBSIDY_CAP_MONTHS


def remaining_periods(schedule: Schedule, year: int, from_period: datetime.date) -> int:
    """The schedule's periods in `year` from `from_period` on that have no payment yet."""
    paid = set(schedule.payments.filter(reissue_of__isnull=True, period__year=year)
               .values_list("period", flat=True)) if schedule.pk else set()
    months = [datetime.date(year, month, 1) for month in range(1, 13)]
    return sum(1 for month in months if month >= from_period and month not in paid and runs.is_due(schedule, month))


def projected_living_aid(household: Household, year: int, extra: Schedule | None = None) -> Decimal:
    """Paid or promised this year (the ledger) plus what the household's living schedules will still pay."""
    booked = LivingAidYear.objects.filter(household=household, year=year).values_list("amount", flat=True).first()
    start = max(current_period(), datetime.date(year, 1, 1))
    schedules = [s for s in household.subsidy_schedules.filter(kind=SubsidyKind.LIVING, status=Schedule.Status.ACTIVE)
                 if extra is None or s.pk != extra.pk]
    if extra is not None:
        schedules.append(extra)
    planned = sum((s.amount * remaining_periods(s, year, start) for s in schedules), Decimal("0.00"))
    return (booked or Decimal("0.00")) + planned


def check_cap(schedule: Schedule) -> None:
    """Refuse a living schedule that would take the household's year over its cap, saying by how much."""
    if schedule.kind != SubsidyKind.LIVING:
        return
    household = schedule.household
    start = max(schedule.first_period, current_period())
    last_year = schedule.last_period.year if schedule.last_period else start.year + 1
    for year in range(start.year, min(last_year, start.year + 1) + 1):  # this year and, if it runs on, the next
        cap = annual_cap(household, datetime.date(year, 12, 1))
        if cap is None:
            raise SubsidyError(_("该家庭所在地区没有低保标准，无法核对年度生活救助上限。"))
        projected = projected_living_aid(household, year, extra=schedule)
        if projected > cap:
            message = _("%(year)s年生活救助合计 %(total)s 元，超过年度上限 %(cap)s 元（当地年度低保总额），"
                        "超出 %(over)s 元。")
            raise SubsidyError(message % {"year": year, "total": projected, "cap": cap, "over": projected - cap})


@transaction.atomic
def save_schedule(schedule: Schedule, *, by) -> Schedule:
    household = Household.objects.select_for_update().get(pk=schedule.household_id)
    if not by.has_perm("assistance.change_schedule", household):
        raise SubsidyError(_("只有本单位及上级单位的审核人可以设立或修改补助。"))
    if household.status not in ON_REGISTER_STATUSES:
        raise SubsidyError(_("只能为在档家庭设立补助（先建档后帮扶）。"))
    if not household.bank_card:
        raise SubsidyError(_("该家庭未登记银行卡，补助须发放到本人银行卡。"))
    if schedule.frequency == "once":
        schedule.last_period = schedule.first_period
    schedule.household = household
    check_cap(schedule)
    if schedule.pk is None:
        schedule.union_id, schedule.created_by = household.union_id, by
    schedule.approved_by = by
    schedule.save()
    return schedule


def end_period(schedule: Schedule) -> datetime.date:
    """The last period of a schedule ended now: this one for an active schedule ("from the next period"), the
    previous one for a suspended schedule (it was not being paid); never later than it was to end. A schedule ended
    before its first period ends the month before it (it never pays)."""
    period = current_period()
    if schedule.status == Schedule.Status.SUSPENDED:
        period -= relativedelta(months=1)
    if schedule.last_period:
        period = min(period, schedule.last_period)
    return max(period, schedule.first_period - relativedelta(months=1))


@transaction.atomic
def set_status(schedule: Schedule, status: str, *, by, reason: str) -> None:
    """Suspend, resume or end a schedule (ending takes effect from the next period)."""
    if not by.has_perm("assistance.change_schedule", schedule.household):
        raise SubsidyError(_("只有本单位及上级单位的审核人可以设立或修改补助。"))
    if not reason.strip():
        raise SubsidyError(_("请写明原因。"))
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    active, suspended, ended = Schedule.Status.ACTIVE, Schedule.Status.SUSPENDED, Schedule.Status.ENDED
    allowed = {suspended: [active], active: [suspended], ended: [active, suspended]}[status]
    fields = {"status": status, "status_reason": reason.strip()[:200]}
    if status == Schedule.Status.ENDED:
        fields["last_period"] = end_period(schedule)
    if not Schedule.objects.filter(pk=schedule.pk, status__in=allowed).update(**fields):
        raise SubsidyError(_("补助状态已变化，请刷新后再试。"))


@receiver(register_changed, dispatch_uid="subsidies_end_with_the_register")
def end_when_leaving_the_register(sender, household: Household, event, **kwargs) -> None:
    """Leaving the register (脱困, 注销, 解困 unless the rule keeps its living subsidy) or the union (transfer):
    the household's schedules end from the next period, in the same transaction as the event."""
    transferred = event.transition == "accept_transfer"
    if event.to_status in ON_REGISTER_STATUSES and not transferred:
        return
    schedules = Schedule.objects.filter(household=household).exclude(status=Schedule.Status.ENDED)
    if not transferred and event.to_status in runs.payable_statuses(SubsidyKind.LIVING):
        schedules = schedules.exclude(kind=SubsidyKind.LIVING)
    for schedule in schedules.select_for_update():
        Schedule.objects.filter(pk=schedule.pk).update(
            status=Schedule.Status.ENDED, status_reason=str(event.label)[:200], last_period=end_period(schedule))
