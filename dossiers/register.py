"""The register lifecycle: every status change is a named transition that checks its rules,
records who, when and why, and refuses an illegal move with a message that says what is missing.

    draft/returned → submitted (初审) → first_reviewed (入户调查) → visited (复核) → reviewed (民政核对)
      → civil_checked (公示) → in_notice → registered (在档) → exit_proposed → exited / relieved / removed
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dossiers.choices import CLOSED_STATUSES, Category, Status
from dossiers.models import (
    ExitKind, ExitProposal, Household, LocalStandard, Member, Objection, RegisterEvent, Transfer, Visit,
)
from hardship.bulk import copy_rows

REVIEW_STAGES = (Status.SUBMITTED, Status.FIRST_REVIEWED, Status.VISITED, Status.REVIEWED, Status.CIVIL_CHECKED)


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
    Transition("reverify", gettext_lazy("年度复核"), (Status.REGISTERED,), needs_reason=True),
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


def _allow(household: Household, transition: str, *, by, reason: str = "") -> None:
    """The checks every transition makes first: status, permission, reason."""
    spec = TRANSITIONS[transition]
    if household.status not in spec.sources:
        raise TransitionError(_("当前状态为“%(status)s”，不能%(action)s。") % {
            "status": household.get_status_display(), "action": spec.label})
    if not by.has_perm(spec.permission, household):
        raise TransitionError(_("您没有权限%(action)s。") % {"action": spec.label})
    if spec.needs_reason and not reason.strip():
        raise TransitionError(_("请填写%(action)s的意见或理由。") % {"action": spec.label})


def _move(household: Household, transition: str, *, to: str, by, reason: str = "", **data) -> RegisterEvent:
    """Change the status only if it is still what the caller saw, and record the event."""
    _allow(household, transition, by=by, reason=reason)
    from_status = household.status
    updated = Household.objects.filter(pk=household.pk, status=from_status).update(
        status=to, updated_at=timezone.now(),
    )
    if not updated:
        raise TransitionError(_("该档案刚被其他人处理过，请刷新页面后再试。"))
    household.status = to
    return RegisterEvent.objects.create(
        household=household, transition=transition, from_status=from_status, to_status=to, actor=by,
        reason=reason.strip(), data=data,
    )


@transaction.atomic
def submit(household: Household, *, by, reason: str = "") -> RegisterEvent:
    _allow(household, "submit", by=by, reason=reason)
    missing = missing_for_submission(household)
    if missing:
        raise TransitionError(_("还不能提交：") + "；".join(missing) + "。")
    return _move(household, "submit", to=Status.SUBMITTED, by=by, reason=reason)


def is_current(latest, household: Household, members: list) -> bool:
    """Whether the latest assessment was made on exactly the household's present figures."""
    from dossiers.assessment import input_as_dict
    from dossiers.filing import assessment_input

    current = input_as_dict(assessment_input(household, members, on=latest.made_at.date()))
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


@transaction.atomic
def first_review(household: Household, *, by, reason: str = "") -> RegisterEvent:
    _refuse_own_file(household, by)
    return _move(household, "first_review", to=Status.FIRST_REVIEWED, by=by, reason=reason)


@transaction.atomic
def record_visit(household: Household, *, by, visit: Visit, reason: str = "") -> RegisterEvent:
    if not (visit.signed_application and visit.finance_authorisation):
        raise TransitionError(_("入户调查须收齐本人签字的申请书和家庭经济状况核对授权书。"))
    event = _move(household, "record_visit", to=Status.VISITED, by=by, reason=reason or visit.findings)
    visit.household, visit.visitor, visit.is_initial = household, by, True
    visit.save()
    return event


@transaction.atomic
def review(household: Household, *, by, reason: str = "") -> RegisterEvent:
    _refuse_own_file(household, by)
    event = _move(household, "review", to=Status.REVIEWED, by=by, reason=reason)
    household.reviewed_by = by
    household.save(update_fields=["reviewed_by"])
    return event


@transaction.atomic
def record_civil_check(household: Household, *, by, reason: str, on_dibao: bool = False,
                       dibao_amount: Decimal | None = None) -> RegisterEvent:
    return _move(household, "record_civil_check", to=Status.CIVIL_CHECKED, by=by, reason=reason,
                 on_dibao=on_dibao, dibao_amount=str(dibao_amount) if dibao_amount is not None else None)


@transaction.atomic
def start_notice(household: Household, *, by, reason: str = "", starts_on: datetime.date | None = None) -> RegisterEvent:
    starts_on = starts_on or timezone.localdate()
    ends_on = add_working_days(starts_on, settings.PUBLIC_NOTICE_WORKING_DAYS)
    event = _move(household, "start_notice", to=Status.IN_NOTICE, by=by, reason=reason,
                  starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
    household.notice_ends_on = ends_on
    household.save(update_fields=["notice_ends_on"])
    return event


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The last day of a notice of `days` working days (Monday–Friday) beginning on `start`."""
    day, counted = start, 0
    while True:
        if day.weekday() < 5:
            counted += 1
            if counted == days:
                return day
        day += datetime.timedelta(days=1)


@transaction.atomic
def finish_notice(household: Household, *, by, reason: str = "", today: datetime.date | None = None) -> RegisterEvent:
    today = today or timezone.localdate()
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


@transaction.atomic
def record_objection(household: Household, *, by, content: str, received_on: datetime.date) -> Objection:
    if household.status != Status.IN_NOTICE:
        raise TransitionError(_("只有公示中的档案可以登记异议。"))
    if not by.has_perm("dossiers.decide_objection", household):
        raise TransitionError(_("您没有权限登记公示异议。"))
    return Objection.objects.create(household=household, content=content, received_on=received_on, recorded_by=by)


@transaction.atomic
def decide_objection(objection: Objection, *, by, upheld: bool, decision: str) -> None:
    household = objection.household
    if not by.has_perm("dossiers.decide_objection", household) or objection.upheld is not None:
        raise TransitionError(_("该异议已核实，或您没有权限核实。"))
    if not decision.strip():
        raise TransitionError(_("请填写核实结论。"))
    objection.upheld, objection.decision, objection.decided_by = upheld, decision.strip(), by
    objection.save(update_fields=["upheld", "decision", "decided_by"])
    if upheld:
        _move(household, "return_for_correction", to=Status.RETURNED, by=by,
              reason=_("公示异议成立：") + decision.strip(), objection=objection.pk)


@transaction.atomic
def return_for_correction(household: Household, *, by, reason: str) -> RegisterEvent:
    return _move(household, "return_for_correction", to=Status.RETURNED, by=by, reason=reason)


@transaction.atomic
def reverify(household: Household, *, by, reason: str, category: str | None = None,
             today: datetime.date | None = None) -> RegisterEvent:
    """The yearly check: keep (same category) or re-grade; removal goes through propose_exit."""
    today = today or timezone.localdate()
    data = {"old_category": household.category, "new_category": category or household.category}
    event = _move(household, "reverify", to=Status.REGISTERED, by=by, reason=reason, **data)
    household.category = category or household.category
    household.reverify_due = today + relativedelta(years=1)
    household.save(update_fields=["category", "reverify_due"])
    return event


@transaction.atomic
def propose_exit(household: Household, *, by, proposal: ExitProposal) -> RegisterEvent:
    _allow(household, "propose_exit", by=by, reason=proposal.evidence)
    _check_exit_evidence(household, proposal)
    event = _move(household, "propose_exit", to=Status.EXIT_PROPOSED, by=by, reason=proposal.evidence,
                  kind=proposal.kind)
    proposal.household, proposal.proposed_by = household, by
    proposal.save()
    return event


def _check_exit_evidence(household: Household, proposal: ExitProposal) -> None:
    if proposal.kind == ExitKind.EXIT:
        months = settings.EXIT_INCOME_MONTHS
        incomes = [Decimal(value) for value in proposal.monthly_incomes]
        standard = LocalStandard.in_force(household.region, timezone.localdate())
        if len(incomes) < months:
            raise TransitionError(_("脱困须提供连续 %(n)d 个月的人均收入。") % {"n": months})
        if standard is None:
            raise TransitionError(_("当地没有有效的低保标准，无法判断是否脱困。"))
        below = [str(value) for value in incomes[-months:] if value <= standard.poverty_line]
        if below:
            raise TransitionError(_("脱困要求连续 %(n)d 个月人均收入高于低保标准 %(line)s 元，其中 %(below)s 元未达到。") % {
                "n": months, "line": standard.poverty_line, "below": "、".join(below)})
    elif proposal.kind == ExitKind.RELIEF:
        cannot_work = household.members.filter(able_to_work=False).exists()
        if not cannot_work:
            raise TransitionError(_("解困适用于因病、因残无法脱困的家庭：请先在成员信息中注明无劳动能力的成员。"))
    elif not proposal.removal_reason:
        raise TransitionError(_("请选择注销原因。"))


@transaction.atomic
def approve_exit(household: Household, *, by, reason: str = "", today: datetime.date | None = None) -> RegisterEvent:
    today = today or timezone.localdate()
    proposal = _pending_proposal(household, "approve_exit", by=by, reason=reason)
    target = {ExitKind.EXIT: Status.EXITED, ExitKind.RELIEF: Status.RELIEVED, ExitKind.REMOVAL: Status.REMOVED}
    event = _move(household, "approve_exit", to=target[proposal.kind], by=by, reason=reason, proposal=proposal.pk)
    _decide(proposal, by=by, approved=True, note=reason)
    household.closed_on = today
    if proposal.kind != ExitKind.REMOVAL:
        household.follow_up_until = today + relativedelta(months=settings.RELAPSE_FOLLOW_UP_MONTHS)
    household.save(update_fields=["closed_on", "follow_up_until"])
    household.members.update(is_open=False)
    return event


@transaction.atomic
def reject_exit(household: Household, *, by, reason: str) -> RegisterEvent:
    proposal = _pending_proposal(household, "reject_exit", by=by, reason=reason)
    event = _move(household, "reject_exit", to=Status.REGISTERED, by=by, reason=reason, proposal=proposal.pk)
    _decide(proposal, by=by, approved=False, note=reason)
    return event


def _pending_proposal(household: Household, transition: str, *, by, reason: str) -> ExitProposal:
    """The proposal awaiting a decision; its maker may not decide it (checked before the role)."""
    if household.status != Status.EXIT_PROPOSED:
        _allow(household, transition, by=by, reason=reason)  # says which status the file is in
    proposal = household.exit_proposals.get(approved__isnull=True)
    if proposal.proposed_by_id == by.pk:
        raise TransitionError(_("提出退出申请的人不能自己审批。"))
    _allow(household, transition, by=by, reason=reason)
    return proposal


def _decide(proposal: ExitProposal, *, by, approved: bool, note: str) -> None:
    proposal.approved, proposal.decided_by, proposal.decided_at, proposal.decision_note = (
        approved, by, timezone.now(), note)
    proposal.save(update_fields=["approved", "decided_by", "decided_at", "decision_note"])


@transaction.atomic
def request_transfer(household: Household, *, by, to_union, reason: str) -> Transfer:
    _allow(household, "request_transfer", by=by, reason=reason)
    if to_union.pk == household.union_id:
        raise TransitionError(_("接收单位与现建档单位相同。"))
    if household.transfers.filter(accepted__isnull=True).exists():
        raise TransitionError(_("该档案已有一项待接收的转移申请。"))
    _move(household, "request_transfer", to=household.status, by=by, reason=reason, to_union=to_union.code)
    return Transfer.objects.create(household=household, from_union=household.union, to_union=to_union,
                                   reason=reason, requested_by=by)


@transaction.atomic
def decide_transfer(transfer: Transfer, *, by, accept: bool, reason: str = "") -> None:
    """The receiving union accepts (the file moves to it) or declines (it stays)."""
    if transfer.accepted is not None or not by.has_perm("dossiers.accept_transfer", transfer):
        raise TransitionError(_("该转移申请已办理，或您没有权限办理。"))
    household = transfer.household
    transfer.accepted, transfer.decided_by, transfer.decided_at = accept, by, timezone.now()
    transfer.save(update_fields=["accepted", "decided_by", "decided_at"])
    RegisterEvent.objects.create(
        household=household, transition="accept_transfer" if accept else "decline_transfer",
        from_status=household.status, to_status=household.status, actor=by, reason=reason,
        data={"from_union": transfer.from_union.code, "to_union": transfer.to_union.code},
    )
    if accept:
        household.union = transfer.to_union
        household.save(update_fields=["union", "updated_at"])


@transaction.atomic
def open_relapse(household: Household, *, by, reason: str, today: datetime.date | None = None) -> Household:
    """A household that fell back into hardship: a new episode, linked to the closed file."""
    today = today or timezone.localdate()
    _allow(household, "open_relapse", by=by, reason=reason)
    if household.follow_up_until is None or today > household.follow_up_until:
        raise TransitionError(_("该家庭已过防返困跟踪期，请按新申请建档。"))
    if hasattr(household, "next_episode"):
        raise TransitionError(_("该档案已经重新建档。"))
    _move(household, "open_relapse", to=household.status, by=by, reason=reason)
    from dossiers.filing import FilingError, copy_as_new_episode

    try:
        return copy_as_new_episode(household, by=by)
    except FilingError as error:
        raise TransitionError(str(error)) from error


def _refuse_own_file(household: Household, by) -> None:
    if household.filed_by_id == by.pk:
        raise TransitionError(_("建档人不能审核自己建立的档案。"))

