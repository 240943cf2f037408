"""The register lifecycle: every status change is a named transition that checks its rules,
records who, when and why, and refuses an illegal move with a message that says what is missing.

    draft/returned → submitted (初审) → first_reviewed (入户调查) → visited (复核) → reviewed (民政核对)
      → civil_checked (公示) → in_notice → registered (在档) → exit_proposed → exited / relieved / removed
    an application not yet on the register can be withdrawn (撤回申请) or declined (不予建档)

Each transition is a compare-and-set on (status, register_version) inside one transaction, so a second
click, or two people at once, make one move and the other is told to refresh.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dossiers.choices import CLOSED_STATUSES, Category, Status
from dossiers.models import (
    ExitKind,
    ExitProposal,
    Household,
    LocalStandard,
    Member,
    Objection,
    RegisterEvent,
    Transfer,
    Visit,
)
from hardship import punctuation, workdays
from hardship.bulk import copy_rows

REVIEW_STAGES = (Status.SUBMITTED, Status.FIRST_REVIEWED, Status.VISITED, Status.REVIEWED, Status.CIVIL_CHECKED)
APPLICATION_STAGES = (Status.DRAFT, Status.RETURNED, *REVIEW_STAGES, Status.IN_NOTICE)

STALE = gettext_lazy("该档案刚被其他人处理过，请刷新页面后再试。")

# Sent inside the transition's transaction after every move (household=, event=): the one hook for apps that
# must react when a file enters or leaves the register (a pairing ends, a subsidy schedule stops).
register_changed = Signal()


class TransitionError(Exception):
    """An illegal move; the message says what is missing, in the user's language."""


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]
    needs_reason: bool = False

    @property
    def permission(self) -> str:
        return f"dossiers.{self.name}"


TRANSITIONS = {t.name: t for t in [
    Transition("submit", gettext_lazy("提交初审"), (Status.DRAFT, Status.RETURNED)),
    Transition("first_review", gettext_lazy("初审通过"), (Status.SUBMITTED,)),
    Transition("record_visit", gettext_lazy("登记入户调查"), (Status.FIRST_REVIEWED,)),
    Transition("review", gettext_lazy("复核通过"), (Status.VISITED,)),
    Transition("record_civil_check", gettext_lazy("登记民政核对"), (Status.REVIEWED,), needs_reason=True),
    Transition("start_notice", gettext_lazy("开始公示"), (Status.CIVIL_CHECKED,)),
    Transition("finish_notice", gettext_lazy("公示期满，入档"), (Status.IN_NOTICE,)),
    Transition("return_for_correction", gettext_lazy("退回修改"), (*REVIEW_STAGES, Status.IN_NOTICE),
               needs_reason=True),
    Transition("withdraw", gettext_lazy("撤回申请"), APPLICATION_STAGES, needs_reason=True),
    Transition("decline", gettext_lazy("不予建档"), (Status.RETURNED, *REVIEW_STAGES, Status.IN_NOTICE),
               needs_reason=True),
    Transition("reverify", gettext_lazy("年度复核"), (Status.REGISTERED,), needs_reason=True),
    Transition("confirm_regrade", gettext_lazy("确认复核调整类别"), (Status.REGISTERED,)),
    Transition("reject_regrade", gettext_lazy("不同意复核调整类别"), (Status.REGISTERED,), needs_reason=True),
    Transition("propose_exit", gettext_lazy("申请退出"), (Status.REGISTERED,), needs_reason=True),
    Transition("approve_exit", gettext_lazy("批准退出"), (Status.EXIT_PROPOSED,)),
    Transition("reject_exit", gettext_lazy("不批准退出"), (Status.EXIT_PROPOSED,), needs_reason=True),
    Transition("request_transfer", gettext_lazy("申请转移"), (Status.REGISTERED, Status.DRAFT, Status.RETURNED),
               needs_reason=True),
    Transition("open_relapse", gettext_lazy("返困重新建档"), (Status.EXITED, Status.RELIEVED), needs_reason=True),
]}


OTHER_EVENT_LABELS = {
    "accept_transfer": gettext_lazy("接收转移"), "decline_transfer": gettext_lazy("不接收转移"),
    "import": gettext_lazy("历史档案导入"), "import_update": gettext_lazy("导入更新"),
    "civil_match": gettext_lazy("采纳民政比对结果"),
}


def event_label(name: str) -> str:
    spec = TRANSITIONS.get(name)
    return str(spec.label if spec else OTHER_EVENT_LABELS.get(name, name))


def transition(function):
    """One transaction per transition; a database constraint that refuses it (a race lost) is a TransitionError."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            with transaction.atomic():
                return function(*args, **kwargs)
        except IntegrityError as error:
            raise TransitionError(str(STALE)) from error
    return run


def record_event(household: Household, transition: str, *, by, from_status: str, to_status: str,
                 reason: str = "", **data) -> RegisterEvent:
    """The one way a register event is written for one file (the bulk import uses record_events)."""
    return RegisterEvent.objects.create(
        household=household, transition=transition, from_status=from_status, to_status=to_status, actor=by,
        reason=reason.strip(), data=data,
    )


def record_events(entries, *, by, at) -> None:
    """(household id, transition, from, to, reason, data) for many files at once, COPYed in (imports)."""
    from psycopg.types.json import Jsonb

    columns = ["household_id", "transition", "from_status", "to_status", "actor_id", "at", "reason", "data"]
    copy_rows(RegisterEvent._meta.db_table, columns, (
        (household_id, transition, old, new, by.pk, at, reason, Jsonb(data))
        for household_id, transition, old, new, reason, data in entries))


def member_is_open(status: str) -> bool:
    """Whether a file in this status holds its members: a person is in at most one open file (a unique index)."""
    return status not in CLOSED_STATUSES


def sync_open_members(household_ids) -> None:
    """Set Member.is_open from each file's status; closes before it opens, so a clash is the index's to refuse."""
    ids = list(household_ids)
    Member.objects.filter(household_id__in=ids, household__status__in=CLOSED_STATUSES).update(is_open=False)
    Member.objects.filter(household_id__in=ids).exclude(household__status__in=CLOSED_STATUSES).update(is_open=True)


def available_transitions(household: Household, user) -> list[Transition]:
    """The moves this user may make on this file now: the buttons the detail page shows."""
    return [t for t in TRANSITIONS.values() if household.status in t.sources and user.has_perm(t.permission, household)]


def perform(name: str, household: Household, *, by, **data):
    """Call the named transition with what its form collected (the form's fields are its keyword arguments)."""
    if name not in TRANSITIONS:
        raise TransitionError(_("没有这项操作。"))
    return globals()[name](household, by=by, **data)


def _allow(household: Household, transition_name: str, *, by, reason: str = "") -> None:
    """The checks every transition makes first: status, permission, reason."""
    spec = check_status(household, transition_name)
    if not by.has_perm(spec.permission, household):
        raise TransitionError(_("您没有权限%(action)s。") % {"action": spec.label})
    if spec.needs_reason and not reason.strip():
        raise TransitionError(_("请填写%(action)s的意见或理由。") % {"action": spec.label})


def check_status(household: Household, transition_name: str) -> Transition:
    spec = TRANSITIONS[transition_name]
    if household.status not in spec.sources:
        raise TransitionError(_("当前状态为“%(status)s”，不能%(action)s。") % {
            "status": household.get_status_display(), "action": spec.label})
    return spec


def _move(household: Household, transition_name: str, *, by, to: str | None = None, reason: str = "",
          **data) -> RegisterEvent:
    _allow(household, transition_name, by=by, reason=reason)
    return _commit(household, transition_name, by=by, to=to, reason=reason, **data)


def _commit(household: Household, transition_name: str, *, by, to: str | None = None, reason: str = "",
            **data) -> RegisterEvent:
    """Compare and set: the move happens only if the file is still in the status and version the caller saw
    (so two people acting at once, or one form sent twice, make one move), then it is recorded."""
    from_status, seen = household.status, household.register_version
    to = from_status if to is None else to
    updated = Household.objects.filter(pk=household.pk, status=from_status, register_version=seen).update(
        status=to, register_version=F("register_version") + 1, updated_at=timezone.now(),
    )
    if not updated:
        raise TransitionError(str(STALE))
    household.status, household.register_version = to, seen + 1
    if member_is_open(from_status) != member_is_open(to):
        sync_open_members([household.pk])
    event = record_event(household, transition_name, by=by, from_status=from_status, to_status=to, reason=reason,
                         **data)
    register_changed.send(sender=Household, household=household, event=event)
    return event


@transition
def submit(household: Household, *, by, reason: str = "") -> RegisterEvent:
    _allow(household, "submit", by=by, reason=reason)
    missing = missing_for_submission(household)
    if missing:
        raise TransitionError(_("还不能提交：%(missing)s。") % {"missing": punctuation.semicolon().join(missing)})
    return _move(household, "submit", to=Status.SUBMITTED, by=by, reason=reason)


def is_current(latest, household: Household, members: list) -> bool:
    """Whether the latest assessment was made on exactly the household's present figures."""
    from dossiers.assessment import input_as_dict
    from dossiers.filing import assessment_input

    made_on = timezone.localdate(latest.made_at)
    current = input_as_dict(assessment_input(household, members, on=made_on))
    return all(_numbers(latest.inputs.get(key)) == _numbers(value) for key, value in current.items())


def _numbers(value):
    """Compare amounts as numbers: "12000" and "12000.00" are the same figure."""
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def missing_for_submission(household: Household) -> list[str]:
    missing = []
    members = list(household.members.all())
    if not any(member.is_primary for member in members):
        missing.append(_("缺少建档职工"))
    if not household.main_cause:
        missing.append(_("缺少主要致困原因"))
    if not household.consent_basis:
        missing.append(_("缺少授权与依据"))
    latest = household.assessments.first()
    if latest is None or not is_current(latest, household, members):
        missing.append(_("家庭信息修改后还没有重新评估收入"))
    elif latest.final_category not in Category.values:
        missing.append(_("收入评估结果为不符合建档标准"))
    return missing


@transition
def first_review(household: Household, *, by, reason: str = "") -> RegisterEvent:
    check_status(household, "first_review")
    _refuse_own_file(household, by)
    event = _move(household, "first_review", to=Status.FIRST_REVIEWED, by=by, reason=reason)
    household.first_reviewed_by = by
    household.save(update_fields=["first_reviewed_by"])
    return event


@transition
def record_visit(household: Household, *, by, visited_on: datetime.date, findings: str, companions: str = "",
                 signed_application: bool = False, finance_authorisation: bool = False,
                 reason: str = "") -> RegisterEvent:
    if not (signed_application and finance_authorisation):
        raise TransitionError(_("入户调查须收齐本人签字的申请书和家庭经济状况核对授权书。"))
    if visited_on > timezone.localdate():
        raise TransitionError(_("走访日期不能晚于今天。"))
    event = _move(household, "record_visit", to=Status.VISITED, by=by, reason=reason or findings)
    Visit.objects.create(household=household, visitor=by, is_initial=True, visited_on=visited_on,
                         findings=findings, companions=companions, signed_application=signed_application,
                         finance_authorisation=finance_authorisation)
    return event


@transition
def review(household: Household, *, by, reason: str = "") -> RegisterEvent:
    check_status(household, "review")
    _refuse_own_file(household, by)
    if household.first_reviewed_by_id == by.pk:
        raise TransitionError(_("初审和复核须由两个不同的人办理：您已办理本档案的初审。"))
    event = _move(household, "review", to=Status.REVIEWED, by=by, reason=reason)
    household.reviewed_by = by
    household.save(update_fields=["reviewed_by"])
    return event


@transition
def record_civil_check(household: Household, *, by, reason: str, on_dibao: bool = False,
                       dibao_amount: Decimal | None = None) -> RegisterEvent:
    return _move(household, "record_civil_check", to=Status.CIVIL_CHECKED, by=by, reason=reason,
                 on_dibao=on_dibao, dibao_amount=str(dibao_amount) if dibao_amount is not None else None)


def civil_checked_on(household: Household) -> datetime.date | None:
    """The local day the civil-affairs check of this round was recorded: a notice cannot start before it."""
    event = household.register_events.filter(transition="record_civil_check").order_by("-at", "-pk").first()
    return timezone.localdate(event.at) if event else None


@transition
def start_notice(household: Household, *, by, reason: str = "", starts_on: datetime.date | None = None
                 ) -> RegisterEvent:
    """The notice starts today, or on a day between the civil check and today (posted first, entered later)."""
    _allow(household, "start_notice", by=by, reason=reason)
    today = timezone.localdate()
    starts_on = starts_on or today
    earliest = civil_checked_on(household) or today
    if not earliest <= starts_on <= today:
        raise TransitionError(_("公示开始日期须在民政核对之日（%(earliest)s）与今天（%(today)s）之间。") % {
            "earliest": earliest.isoformat(), "today": today.isoformat()})
    try:
        ends_on = workdays.add_working_days(starts_on, settings.PUBLIC_NOTICE_WORKING_DAYS)
    except workdays.CalendarError as error:
        raise TransitionError(str(error)) from error
    event = _move(household, "start_notice", to=Status.IN_NOTICE, by=by, reason=reason,
                  starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
    household.notice_ends_on = ends_on
    household.save(update_fields=["notice_ends_on"])
    return event


@transition
def finish_notice(household: Household, *, by, reason: str = "") -> RegisterEvent:
    today = timezone.localdate()
    _allow(household, "finish_notice", by=by, reason=reason)
    if household.notice_ends_on is None or today <= household.notice_ends_on:
        raise TransitionError(_("公示期至 %(date)s 止，期满后才能入档。") % {
            "date": household.notice_ends_on.isoformat() if household.notice_ends_on else "—"})
    if household.objections.filter(upheld__isnull=True).exists():
        raise TransitionError(_("还有未核实的公示异议。"))
    latest = household.assessments.first()
    event = _move(household, "finish_notice", to=Status.REGISTERED, by=by, reason=reason)
    household.registered_on = today
    household.reverify_due = today + relativedelta(years=1)
    household.category = latest.final_category
    household.save(update_fields=["registered_on", "reverify_due", "category"])
    return event


@transition
def record_objection(household: Household, *, by, content: str, received_on: datetime.date) -> Objection:
    if household.status != Status.IN_NOTICE:
        raise TransitionError(_("只有公示中的档案可以登记异议。"))
    if not by.has_perm("dossiers.decide_objection", household):
        raise TransitionError(_("您没有权限登记公示异议。"))
    if received_on > timezone.localdate():
        raise TransitionError(_("收到日期不能晚于今天。"))
    return Objection.objects.create(household=household, content=content, received_on=received_on, recorded_by=by)


@transition
def decide_objection(objection: Objection, *, by, upheld: bool, decision: str) -> None:
    household = objection.household
    if not by.has_perm("dossiers.decide_objection", household):
        raise TransitionError(_("您没有权限核实公示异议。"))
    if not decision.strip():
        raise TransitionError(_("请填写核实结论。"))
    decided = Objection.objects.filter(pk=objection.pk, upheld__isnull=True).update(
        upheld=upheld, decision=decision.strip(), decided_by=by)
    if not decided:
        raise TransitionError(_("该异议已核实。"))
    objection.upheld, objection.decision, objection.decided_by = upheld, decision.strip(), by
    if upheld:
        _move(household, "return_for_correction", to=Status.RETURNED, by=by,
              reason=_("公示异议成立：") + decision.strip(), objection=objection.pk)


@transition
def return_for_correction(household: Household, *, by, reason: str) -> RegisterEvent:
    check_status(household, "return_for_correction")
    _refuse_own_file(household, by)
    return _move(household, "return_for_correction", to=Status.RETURNED, by=by, reason=reason)


@transition
def withdraw(household: Household, *, by, reason: str) -> RegisterEvent:
    """撤回申请: the family no longer applies; the file closes and its members may be filed again later."""
    event = _move(household, "withdraw", to=Status.WITHDRAWN, by=by, reason=reason)
    household.closed_on = timezone.localdate()
    household.save(update_fields=["closed_on"])
    return event


@transition
def decline(household: Household, *, by, reason: str) -> RegisterEvent:
    """不予建档: a reviewer finds the application does not qualify; the reason is kept on the closed file."""
    check_status(household, "decline")
    _refuse_own_file(household, by)
    event = _move(household, "decline", to=Status.DECLINED, by=by, reason=reason)
    household.closed_on = timezone.localdate()
    household.save(update_fields=["closed_on"])
    return event


@transition
def reverify(household: Household, *, by, reason: str) -> RegisterEvent:
    """The yearly check: a new assessment on the file's figures and today's standard. The same category keeps
    the file; another one is proposed and waits for a second person (confirm_regrade); removal is propose_exit."""
    from dossiers.filing import FilingError, assess_household

    check_status(household, "reverify")
    if household.pending_category:
        raise TransitionError(_("已有一项待确认的类别调整，请先确认或不同意。"))
    _allow(household, "reverify", by=by, reason=reason)
    try:
        assessed = assess_household(household, by=by)
    except FilingError as error:
        raise TransitionError(str(error)) from error
    if assessed.final_category not in Category.values:
        raise TransitionError(_("复核评估结果为不符合建档标准（人均月收入 %(income)s 元）：请提出退出申请"
                                "（注销：经核查不符合标准）。") % {"income": assessed.per_capita_monthly})
    regrade = assessed.final_category != household.category
    event = _move(household, "reverify", by=by, reason=reason, old_category=household.category,
                  assessed_category=assessed.final_category, assessment=assessed.pk)
    household.reverify_due = timezone.localdate() + relativedelta(years=1)
    household.pending_category, household.pending_category_by = (assessed.final_category, by) if regrade else ("", None)
    household.save(update_fields=["reverify_due", "pending_category", "pending_category_by"])
    return event


@transition
def confirm_regrade(household: Household, *, by, reason: str = "") -> RegisterEvent:
    _check_regrade_decider(household, by)
    event = _move(household, "confirm_regrade", by=by, reason=reason, old_category=household.category,
                  new_category=household.pending_category)
    household.category, household.pending_category, household.pending_category_by = household.pending_category, "", None
    household.save(update_fields=["category", "pending_category", "pending_category_by"])
    return event


@transition
def reject_regrade(household: Household, *, by, reason: str) -> RegisterEvent:
    _check_regrade_decider(household, by)
    event = _move(household, "reject_regrade", by=by, reason=reason, proposed_category=household.pending_category)
    household.pending_category, household.pending_category_by = "", None
    household.save(update_fields=["pending_category", "pending_category_by"])
    return event


def _check_regrade_decider(household: Household, by) -> None:
    if not household.pending_category:
        raise TransitionError(_("没有待确认的类别调整。"))
    if household.pending_category_by_id == by.pk:
        raise TransitionError(_("复核调整类别须由另一人确认：您提出了这项调整。"))


def evidence_months(today: datetime.date | None = None) -> list[datetime.date]:
    """The first days of the months whose income 脱困 rests on: the last complete ones, oldest first."""
    this_month = (today or timezone.localdate()).replace(day=1)
    return [this_month - relativedelta(months=n) for n in range(settings.EXIT_INCOME_MONTHS, 0, -1)]


@transition
def propose_exit(household: Household, *, by, kind: str, reason: str, removal_reason: str = "",
                 monthly_incomes=(), first_income_month: datetime.date | None = None) -> RegisterEvent:
    proposal = ExitProposal(kind=kind, removal_reason=removal_reason, evidence=reason.strip(),
                            monthly_incomes=list(monthly_incomes), first_income_month=first_income_month)
    _allow(household, "propose_exit", by=by, reason=reason)
    _check_exit_evidence(household, proposal, months=evidence_months())
    event = _move(household, "propose_exit", to=Status.EXIT_PROPOSED, by=by, reason=reason, kind=kind)
    proposal.household, proposal.proposed_by = household, by
    proposal.save()
    return event


def _check_exit_evidence(household: Household, proposal: ExitProposal, *, months: list | None = None) -> None:
    if proposal.kind == ExitKind.EXIT:
        _check_exit_incomes(household, proposal, months)
    elif proposal.kind == ExitKind.RELIEF:
        cannot_work = household.members.filter(able_to_work=False).exists()
        if not cannot_work:
            raise TransitionError(_("解困适用于因病、因残无法脱困的家庭：请先在成员信息中注明无劳动能力的成员。"))
    elif not proposal.removal_reason:
        raise TransitionError(_("请选择注销原因。"))


def _check_exit_incomes(household: Household, proposal: ExitProposal, months: list | None) -> None:
    """Each month of the evidence above the 低保 line in force in that month, in the file's region now."""
    incomes = proposal.income_by_month()
    if len(incomes) != settings.EXIT_INCOME_MONTHS or (months is not None and [m for m, _i in incomes] != months):
        expected = months or [m for m, _i in incomes]
        raise TransitionError(_("脱困须提供 %(first)s 至 %(last)s 连续 %(n)d 个月的人均收入。") % {
            "n": settings.EXIT_INCOME_MONTHS, "first": _month_label(expected[0]) if expected else "—",
            "last": _month_label(expected[-1]) if expected else "—"})
    month_ends = {month: month + relativedelta(months=1, days=-1) for month, _income in incomes}
    standards = LocalStandard.in_force_on(household.region, list(month_ends.values()))
    below = []
    for month, income in incomes:
        standard = standards[month_ends[month]]
        if standard is None:
            raise TransitionError(_("%(region)s %(month)s 没有有效的低保标准，无法判断是否脱困。") % {
                "region": household.region.name, "month": _month_label(month)})
        if income <= standard.poverty_line:
            below.append(_("%(month)s %(income)s 元（低保标准 %(line)s 元）") % {
                "month": _month_label(month), "income": income, "line": standard.poverty_line})
    if below:
        raise TransitionError(_("脱困要求连续 %(n)d 个月人均收入高于当月低保标准，其中未达到的有：%(below)s。") % {
            "n": settings.EXIT_INCOME_MONTHS, "below": "；".join(below)})


def _month_label(month: datetime.date) -> str:
    return _("%(year)d年%(month)d月") % {"year": month.year, "month": month.month}


@transition
def approve_exit(household: Household, *, by, reason: str = "") -> RegisterEvent:
    """Approval re-checks the evidence: a standard entered since, or a transfer to another region, counts."""
    today = timezone.localdate()
    proposal = _pending_proposal(household, "approve_exit", by=by, reason=reason)
    _check_exit_evidence(household, proposal)
    target = {ExitKind.EXIT: Status.EXITED, ExitKind.RELIEF: Status.RELIEVED, ExitKind.REMOVAL: Status.REMOVED}
    event = _move(household, "approve_exit", to=target[proposal.kind], by=by, reason=reason, proposal=proposal.pk)
    _decide(proposal, by=by, approved=True, note=reason)
    for name, value in closing_dates(household.status, today).items():
        setattr(household, name, value)
    household.save(update_fields=["closed_on", "follow_up_until"])
    return event


def closing_dates(status: str, closed_on: datetime.date) -> dict:
    """The dates a file leaving the register gets: closed_on, and after 脱困 or 解困 (not 注销) the relapse
    follow-up to its end. The import gives a file it creates as closed the same."""
    dates = {"closed_on": closed_on}
    if status != Status.REMOVED:
        dates["follow_up_until"] = closed_on + relativedelta(months=settings.RELAPSE_FOLLOW_UP_MONTHS)
    return dates


@transition
def reject_exit(household: Household, *, by, reason: str) -> RegisterEvent:
    proposal = _pending_proposal(household, "reject_exit", by=by, reason=reason)
    event = _move(household, "reject_exit", to=Status.REGISTERED, by=by, reason=reason, proposal=proposal.pk)
    _decide(proposal, by=by, approved=False, note=reason)
    return event


def _pending_proposal(household: Household, transition_name: str, *, by, reason: str) -> ExitProposal:
    """The proposal awaiting a decision; its maker may not decide it (checked before the role)."""
    if household.status != Status.EXIT_PROPOSED:
        _allow(household, transition_name, by=by, reason=reason)  # says which status the file is in
    proposal = household.exit_proposals.get(approved__isnull=True)
    if proposal.proposed_by_id == by.pk:
        raise TransitionError(_("提出退出申请的人不能自己审批。"))
    _allow(household, transition_name, by=by, reason=reason)
    return proposal


def _decide(proposal: ExitProposal, *, by, approved: bool, note: str) -> None:
    proposal.approved, proposal.decided_by, proposal.decided_at, proposal.decision_note = (
        approved, by, timezone.now(), note)
    proposal.save(update_fields=["approved", "decided_by", "decided_at", "decision_note"])


@transition
def request_transfer(household: Household, *, by, to_union, reason: str) -> Transfer:
    _allow(household, "request_transfer", by=by, reason=reason)
    if to_union.pk == household.union_id:
        raise TransitionError(_("接收单位与现建档单位相同。"))
    if to_union.region_id is None:
        raise TransitionError(_("接收单位没有所在地区，无法转移。"))
    if household.transfers.filter(accepted__isnull=True).exists():
        raise TransitionError(_("该档案已有一项待接收的转移申请。"))
    _move(household, "request_transfer", by=by, reason=reason, to_union=to_union.code)
    return Transfer.objects.create(household=household, from_union=household.union, to_union=to_union,
                                   reason=reason, requested_by=by)


@transition
def decide_transfer(transfer: Transfer, *, by, accept: bool, reason: str = "") -> RegisterEvent:
    """The receiving union accepts (the file moves to it and to its region's 低保 line) or declines (it stays)."""
    if transfer.requested_by_id == by.pk:
        raise TransitionError(_("申请转移的人不能自己接收。"))
    if not by.has_perm("dossiers.accept_transfer", transfer):
        raise TransitionError(_("您没有权限办理这项转移。"))
    decided = Transfer.objects.filter(pk=transfer.pk, accepted__isnull=True).update(
        accepted=accept, decided_by=by, decided_at=timezone.now())
    if not decided:
        raise TransitionError(_("该转移申请已办理。"))
    household = Household.objects.select_related("union").get(pk=transfer.household_id)
    event = _commit(household, "accept_transfer" if accept else "decline_transfer", by=by, reason=reason,
                    from_union=transfer.from_union.code, to_union=transfer.to_union.code)
    if accept:
        household.union, household.region_id = transfer.to_union, transfer.to_union.region_id
        household.save(update_fields=["union", "region", "updated_at"])
    return event


@transition
def record_civil_match(household: Household, *, by, reason: str, **data) -> RegisterEvent:
    """A civil-affairs roster's 低保 figures accepted into the file: no status change, but a recorded move."""
    return _commit(household, "civil_match", by=by, reason=reason, **data)


@transition
def open_relapse(household: Household, *, by, reason: str) -> Household:
    """A household that fell back into hardship: a new episode, linked to the closed file."""
    today = timezone.localdate()
    _allow(household, "open_relapse", by=by, reason=reason)
    if household.follow_up_until is None or today > household.follow_up_until:
        raise TransitionError(_("该家庭已过防返困跟踪期，请按新申请建档。"))
    if hasattr(household, "next_episode"):
        raise TransitionError(_("该档案已经重新建档。"))
    _move(household, "open_relapse", by=by, reason=reason)
    from dossiers.filing import FilingError, copy_as_new_episode

    try:
        return copy_as_new_episode(household, by=by)
    except FilingError as error:
        raise TransitionError(str(error)) from error


def _refuse_own_file(household: Household, by) -> None:
    if household.filed_by_id == by.pk:
        raise TransitionError(_("建档人不能审核自己建立的档案。"))
