"""The register lifecycle (dossiers.register): legal moves, refused moves, and the events they leave."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from dossiers import register
from dossiers.choices import Category, Health, Relationship, Sex, Status, WorkStatus
from dossiers.filing import FilingError, save_household
from dossiers.models import (
    Assessment,
    ExitKind,
    ExitProposal,
    Household,
    Member,
    Objection,
    RegisterEvent,
    RemovalReason,
    Transfer,
)
from dossiers.register import TransitionError
from tests.dossiers.conftest import (
    LIFECYCLE,
    POVERTY_LINE,
    after_the_notice,
    at_beijing,
    default_members,
    exit_proposal,
    initial_visit,
    new_member,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def fresh(household: Household) -> Household:
    return Household.objects.get(pk=household.pk)


def last_event(household: Household) -> RegisterEvent:
    return household.register_events.order_by("-pk").first()


def names(transitions) -> set[str]:
    return {t.name for t in transitions}


# ---------------------------------------------------------------- submit


def test_it_submits_a_complete_draft(household, caseworker):
    event = register.submit(household, by=caseworker)

    assert fresh(household).status == Status.SUBMITTED
    assert (event.transition, event.from_status, event.to_status) == ("submit", Status.DRAFT, Status.SUBMITTED)


def test_it_lists_everything_missing_when_submitting_an_incomplete_file(household, caseworker):
    household.members.update(is_primary=False)
    Household.objects.filter(pk=household.pk).update(consent_basis="", income_wages=Decimal("30000.00"))
    household = fresh(household)

    with pytest.raises(TransitionError) as error:
        register.submit(household, by=caseworker)

    message = str(error.value)
    assert message.startswith("还不能提交")
    for missing in ("缺少建档职工", "缺少授权与依据", "家庭信息修改后还没有重新评估收入"):
        assert missing in message
    assert fresh(household).status == Status.DRAFT
    assert not household.register_events.exists()


def test_it_refuses_submission_by_a_caseworker_outside_the_scope(household, outsider):
    with pytest.raises(TransitionError, match="您没有权限提交初审"):
        register.submit(household, by=outsider)
    assert fresh(household).status == Status.DRAFT


# ---------------------------------------------------------------- first review, visit, review


def test_it_passes_the_first_review_by_another_caseworker(household, walk, reviewer):
    walk(household, Status.SUBMITTED)

    event = register.first_review(household, by=reviewer, reason="材料齐全")

    assert fresh(household).status == Status.FIRST_REVIEWED
    assert (event.actor, event.reason) == (reviewer, "材料齐全")


def test_it_refuses_the_filer_reviewing_their_own_file_at_first_review(household, walk, caseworker):
    walk(household, Status.SUBMITTED)

    with pytest.raises(TransitionError, match="建档人不能审核自己建立的档案"):
        register.first_review(household, by=caseworker)
    assert fresh(household).status == Status.SUBMITTED


def test_it_refuses_the_filer_reviewing_their_own_file_at_review(household, walk, caseworker):
    walk(household, Status.VISITED)

    with pytest.raises(TransitionError, match="建档人不能审核自己建立的档案"):
        register.review(household, by=caseworker)
    assert fresh(household).status == Status.VISITED


@pytest.mark.parametrize("stage", [Status.SUBMITTED, Status.VISITED, Status.IN_NOTICE])
def test_it_refuses_the_filer_returning_her_own_file(household, walk, caseworker, reviewer, stage):
    walk(household, stage)

    with pytest.raises(TransitionError, match="建档人不能审核自己建立的档案"):
        register.return_for_correction(household, by=caseworker, reason="自己发现填错了")
    assert fresh(household).status == stage
    register.return_for_correction(household, by=reviewer, reason="收入证明不全")
    assert fresh(household).status == Status.RETURNED


def test_it_records_the_initial_home_visit(household, walk, caseworker):
    walk(household, Status.FIRST_REVIEWED)

    event = register.record_visit(household, by=caseworker, **initial_visit())

    visit = household.visits.get()
    assert fresh(household).status == Status.VISITED
    assert (visit.visitor, visit.is_initial, visit.signed_application) == (caseworker, True, True)
    assert event.reason == visit.findings


def test_it_refuses_a_visit_without_the_signed_papers(household, walk, caseworker):
    walk(household, Status.FIRST_REVIEWED)
    with pytest.raises(TransitionError, match="核对授权书"):
        register.record_visit(household, by=caseworker, **initial_visit(finance_authorisation=False))
    assert fresh(household).status == Status.FIRST_REVIEWED
    assert not household.visits.exists()


def test_it_records_the_reviewer_at_review(household, walk, reviewer, second_reviewer):
    walk(household, Status.VISITED)

    register.review(household, by=second_reviewer, reason="复核属实")

    household = fresh(household)
    assert (household.status, household.first_reviewed_by, household.reviewed_by) == (
        Status.REVIEWED, reviewer, second_reviewer)


def test_it_refuses_review_at_a_help_station(make_household, unions):
    """复核 is for a help centre or a county-or-higher union, not for a help station."""
    station = unions["410102-S01"]
    filer = UserFactory(username="sfiler", role="caseworker", home_union=station)
    checker = UserFactory(username="schecker", role="caseworker", home_union=station)
    household = make_household(by=filer, union=station)
    register.submit(household, by=filer)
    other = UserFactory(username="sother", role="caseworker", home_union=station)
    register.first_review(household, by=checker)
    register.record_visit(household, by=filer, **initial_visit())

    with pytest.raises(TransitionError, match="您没有权限复核通过"):
        register.review(household, by=other)
    assert fresh(household).status == Status.VISITED


# ---------------------------------------------------------------- civil check, notice


def test_it_records_the_civil_check_and_its_findings(household, walk, caseworker):
    walk(household, Status.REVIEWED)

    event = register.record_civil_check(household, by=caseworker, reason="民政核对：享受低保",
                                        on_dibao=True, dibao_amount=Decimal("650.00"))

    assert fresh(household).status == Status.CIVIL_CHECKED
    assert event.data == {"on_dibao": True, "dibao_amount": "650.00"}


def test_it_needs_a_reason_for_the_civil_check(household, walk, caseworker):
    walk(household, Status.REVIEWED)

    with pytest.raises(TransitionError, match="请填写登记民政核对的意见或理由"):
        register.record_civil_check(household, by=caseworker, reason="  ")
    assert fresh(household).status == Status.REVIEWED


@pytest.mark.parametrize(("starts_on", "ends_on"), [
    (datetime.date(2026, 3, 2), datetime.date(2026, 3, 6)),  # Monday → Friday
    (datetime.date(2026, 3, 4), datetime.date(2026, 3, 10)),  # Wednesday → next Tuesday
    (datetime.date(2026, 3, 7), datetime.date(2026, 3, 13)),  # Saturday → next Friday
])
def test_it_starts_a_notice_of_five_working_days(household, walk, caseworker, starts_on, ends_on):
    with time_machine.travel(at_beijing(starts_on, 10), tick=False):
        walk(household, Status.CIVIL_CHECKED)

        event = register.start_notice(household, by=caseworker)

    household = fresh(household)
    assert (household.status, household.notice_ends_on) == (Status.IN_NOTICE, ends_on)
    assert event.data == {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}


def test_it_refuses_to_finish_the_notice_on_its_last_day(household, walk, caseworker):
    walk(household, Status.IN_NOTICE)

    with time_machine.travel(at_beijing(household.notice_ends_on, 23, 30), tick=False):
        with pytest.raises(TransitionError, match="期满后才能入档") as error:
            register.finish_notice(household, by=caseworker)
    assert household.notice_ends_on.isoformat() in str(error.value)
    assert fresh(household).status == Status.IN_NOTICE


def test_it_registers_the_file_the_day_after_the_notice_ends(household, walk, caseworker):
    walk(household, Status.IN_NOTICE)
    day_after = household.notice_ends_on + datetime.timedelta(days=1)

    with time_machine.travel(at_beijing(day_after, 0, 30), tick=False):
        register.finish_notice(household, by=caseworker)

    household = fresh(household)
    assert household.status == Status.REGISTERED
    assert household.registered_on == day_after
    assert household.reverify_due == day_after + relativedelta(years=1)
    assert household.category == household.assessments.first().final_category == Category.RELATIVE


def test_it_blocks_finishing_the_notice_while_an_objection_is_pending(household, walk, caseworker):
    walk(household, Status.IN_NOTICE)
    register.record_objection(household, by=caseworker, content="该户有私家车", received_on=TODAY())

    with after_the_notice(household), pytest.raises(TransitionError, match="还有未核实的公示异议"):
        register.finish_notice(household, by=caseworker)
    assert fresh(household).status == Status.IN_NOTICE


def test_it_registers_the_file_after_an_objection_is_found_unfounded(household, walk, caseworker, reviewer):
    walk(household, Status.IN_NOTICE)
    objection = register.record_objection(household, by=caseworker, content="该户有私家车", received_on=TODAY())

    register.decide_objection(objection, by=reviewer, upheld=False, decision="车辆登记在亲戚名下，异议不成立")
    with after_the_notice(household):
        register.finish_notice(household, by=caseworker)

    objection.refresh_from_db()
    assert (objection.upheld, objection.decided_by) == (False, reviewer)
    assert fresh(household).status == Status.REGISTERED


def test_it_returns_the_file_when_an_objection_is_upheld(household, walk, caseworker, reviewer):
    walk(household, Status.IN_NOTICE)
    objection = register.record_objection(household, by=caseworker, content="该户隐瞒经营收入",
                                           received_on=TODAY())

    register.decide_objection(objection, by=reviewer, upheld=True, decision="核实有个体经营收入")

    objection.refresh_from_db()
    assert (objection.upheld, objection.decided_by) == (True, reviewer)
    assert fresh(household).status == Status.RETURNED
    event = last_event(household)
    assert (event.transition, event.from_status, event.to_status, event.actor) == (
        "return_for_correction", Status.IN_NOTICE, Status.RETURNED, reviewer)
    assert event.reason == "公示异议成立：核实有个体经营收入"
    assert event.data == {"objection": objection.pk}


def test_it_refuses_an_objection_outside_the_notice(household, caseworker):
    with pytest.raises(TransitionError, match="只有公示中的档案可以登记异议"):
        register.record_objection(household, by=caseworker, content="异议", received_on=TODAY())
    assert not Objection.objects.exists()


# ---------------------------------------------------------------- return for correction


def test_it_returns_a_file_under_review_for_correction(household, walk, reviewer):
    walk(household, Status.VISITED)

    event = register.return_for_correction(household, by=reviewer, reason="缺少收入证明")

    assert fresh(household).status == Status.RETURNED
    assert (event.from_status, event.to_status, event.reason) == (Status.VISITED, Status.RETURNED, "缺少收入证明")


def test_it_needs_a_reason_to_return_a_file(household, walk, reviewer):
    walk(household, Status.SUBMITTED)

    with pytest.raises(TransitionError, match="请填写退回修改的意见或理由"):
        register.return_for_correction(household, by=reviewer, reason="")
    assert fresh(household).status == Status.SUBMITTED


def test_it_resubmits_a_returned_file_after_correction(household, walk, caseworker, reviewer):
    walk(household, Status.SUBMITTED)
    register.return_for_correction(household, by=reviewer, reason="缺少收入证明")
    household = fresh(household)
    household.income_other = Decimal("1200.00")
    save_household(household, list(household.members.all()), by=caseworker)

    event = register.submit(household, by=caseworker)

    assert (event.from_status, event.to_status) == (Status.RETURNED, Status.SUBMITTED)


def test_it_does_not_ask_for_a_new_assessment_when_only_the_status_changed(household, walk, caseworker, reviewer):
    """Returning a file changes nothing the assessment depends on; resubmitting it as it is must work."""
    walk(household, Status.SUBMITTED)
    an_hour_later = timezone.now() + datetime.timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=an_hour_later):  # the reviewer returns it later
        register.return_for_correction(household, by=reviewer, reason="请补充走访照片")
    household = fresh(household)  # as the next request sees it

    register.submit(household, by=caseworker)

    assert fresh(household).status == Status.SUBMITTED


# ---------------------------------------------------------------- wrong status


WRONG_STATUS = [
    ("first_review", Status.DRAFT, "草稿", lambda h, p: register.first_review(h, by=p["reviewer"])),
    ("record_visit", Status.SUBMITTED, "待初审",
     lambda h, p: register.record_visit(h, by=p["caseworker"], **initial_visit())),
    ("review", Status.FIRST_REVIEWED, "待入户调查", lambda h, p: register.review(h, by=p["reviewer"])),
    ("record_civil_check", Status.VISITED, "待复核",
     lambda h, p: register.record_civil_check(h, by=p["caseworker"], reason="核对")),
    ("start_notice", Status.REVIEWED, "待民政核对", lambda h, p: register.start_notice(h, by=p["caseworker"])),
    ("finish_notice", Status.REGISTERED, "在档",
     lambda h, p: register.finish_notice(h, by=p["caseworker"])),
    ("submit", Status.SUBMITTED, "待初审", lambda h, p: register.submit(h, by=p["caseworker"])),
    ("return_for_correction", Status.DRAFT, "草稿",
     lambda h, p: register.return_for_correction(h, by=p["reviewer"], reason="退回")),
    ("return_for_correction", Status.REGISTERED, "在档",
     lambda h, p: register.return_for_correction(h, by=p["reviewer"], reason="退回")),
    ("reverify", Status.IN_NOTICE, "公示中", lambda h, p: register.reverify(h, by=p["caseworker"], reason="复核")),
    ("propose_exit", Status.CIVIL_CHECKED, "待公示",
     lambda h, p: register.propose_exit(h, by=p["caseworker"], **exit_proposal())),
    ("request_transfer", Status.SUBMITTED, "待初审",
     lambda h, p: register.request_transfer(h, by=p["caseworker"], to_union=p["unions"]["410105-C01"],
                                            reason="迁居")),
    ("open_relapse", Status.EXIT_PROPOSED, "退出待审批",
     lambda h, p: register.open_relapse(h, by=p["caseworker"], reason="返困")),
]


@pytest.mark.parametrize(("transition", "status", "label", "call"), WRONG_STATUS,
                         ids=[f"{t}-from-{s}" for t, s, _, _ in WRONG_STATUS])
def test_it_refuses_a_move_from_the_wrong_status_naming_it(household, walk, caseworker, reviewer, unions,
                                                           transition, status, label, call):
    walk(household, status)
    before = household.register_events.count()

    with pytest.raises(TransitionError) as error:
        call(household, {"caseworker": caseworker, "reviewer": reviewer, "unions": unions})

    assert f"当前状态为“{label}”" in str(error.value)
    assert fresh(household).status == status
    assert household.register_events.count() == before


@pytest.mark.parametrize("decide", [
    lambda h, by: register.approve_exit(h, by=by, reason="同意"),
    lambda h, by: register.reject_exit(h, by=by, reason="不同意"),
], ids=["approve_exit", "reject_exit"])
def test_it_refuses_an_exit_decision_on_a_file_without_a_pending_exit(household, walk, supervisor, decide):
    """E.g. a second click on 批准退出 after the first one went through: a message, not a crash."""
    walk(household, Status.REGISTERED)

    with pytest.raises(TransitionError, match="当前状态为“在档”"):
        decide(household, supervisor)
    assert fresh(household).status == Status.REGISTERED


# ---------------------------------------------------------------- propose exit


def test_it_needs_six_monthly_incomes_to_propose_an_exit(household, walk, caseworker):
    walk(household, Status.REGISTERED)

    with pytest.raises(TransitionError, match="连续 6 个月的人均收入"):
        register.propose_exit(household, by=caseworker, **exit_proposal(monthly_incomes=[Decimal(900)] * 5))
    assert fresh(household).status == Status.REGISTERED
    assert not ExitProposal.objects.exists()


def test_it_refuses_an_exit_when_a_month_is_exactly_at_the_poverty_line(household, walk, caseworker):
    walk(household, Status.REGISTERED)
    incomes = [Decimal("900.00")] * 5 + [POVERTY_LINE]

    with pytest.raises(TransitionError, match="高于当月低保标准") as error:
        register.propose_exit(household, by=caseworker, **exit_proposal(monthly_incomes=incomes))
    last_month = register.evidence_months()[-1]
    assert f"{last_month.year}年{last_month.month}月 800.00 元（低保标准 800.00 元）" in str(error.value)
    assert fresh(household).status == Status.REGISTERED


def test_it_accepts_an_exit_when_every_month_is_above_the_poverty_line(household, walk, caseworker):
    walk(household, Status.REGISTERED)
    incomes = [POVERTY_LINE + Decimal("0.01")] * 6

    event = register.propose_exit(household, by=caseworker, **exit_proposal(monthly_incomes=incomes))

    proposal = household.exit_proposals.get()
    assert fresh(household).status == Status.EXIT_PROPOSED
    assert (proposal.kind, proposal.proposed_by, proposal.approved) == (ExitKind.EXIT, caseworker, None)
    assert proposal.monthly_incomes == incomes
    assert event.data == {"kind": ExitKind.EXIT}
    assert event.reason == proposal.evidence


def test_it_needs_evidence_to_propose_an_exit(household, walk, caseworker):
    walk(household, Status.REGISTERED)

    with pytest.raises(TransitionError, match="请填写申请退出的意见或理由"):
        register.propose_exit(household, by=caseworker, **exit_proposal(reason=" "))
    assert not ExitProposal.objects.exists()


def test_it_refuses_relief_when_every_member_can_work(household, walk, caseworker):
    walk(household, Status.REGISTERED)

    with pytest.raises(TransitionError, match="无劳动能力的成员"):
        register.propose_exit(household, by=caseworker, **exit_proposal(ExitKind.RELIEF))
    assert fresh(household).status == Status.REGISTERED


def test_it_accepts_relief_for_a_household_with_a_member_unable_to_work(make_household, caseworker, unions, walk):
    members = default_members()
    members[1].able_to_work, members[1].health, members[1].work_status = False, Health.SERIOUS, WorkStatus.SICK_LEAVE
    household = make_household(by=caseworker, union=unions["410102-C01"], members=members)
    walk(household, Status.REGISTERED)

    register.propose_exit(household, by=caseworker, **exit_proposal(ExitKind.RELIEF))

    assert fresh(household).status == Status.EXIT_PROPOSED
    assert household.exit_proposals.get().kind == ExitKind.RELIEF


def test_it_needs_a_reason_for_a_removal(household, walk, caseworker):
    walk(household, Status.REGISTERED)

    with pytest.raises(TransitionError, match="请选择注销原因"):
        register.propose_exit(household, by=caseworker, **exit_proposal(ExitKind.REMOVAL))
    assert fresh(household).status == Status.REGISTERED


def test_it_accepts_a_removal_with_a_reason(household, walk, caseworker):
    walk(household, Status.REGISTERED)
    proposal = exit_proposal(ExitKind.REMOVAL, removal_reason=RemovalReason.RETIREMENT, reason="建档职工已办理退休")

    register.propose_exit(household, by=caseworker, **proposal)

    assert fresh(household).status == Status.EXIT_PROPOSED
    assert household.exit_proposals.get().removal_reason == RemovalReason.RETIREMENT


# ---------------------------------------------------------------- approve / reject exit


def test_it_refuses_the_proposer_approving_their_own_exit(household, walk, caseworker):
    walk(household, Status.EXIT_PROPOSED)

    with pytest.raises(TransitionError, match="提出退出申请的人不能自己审批"):
        register.approve_exit(household, by=caseworker)
    assert fresh(household).status == Status.EXIT_PROPOSED


def test_it_refuses_a_caseworker_approving_an_exit(household, walk, reviewer):
    walk(household, Status.EXIT_PROPOSED)

    with pytest.raises(TransitionError, match="您没有权限批准退出"):
        register.approve_exit(household, by=reviewer)
    assert fresh(household).status == Status.EXIT_PROPOSED
    assert household.exit_proposals.get().approved is None


def test_it_refuses_a_supervisor_of_another_province_approving_an_exit(household, walk, unions):
    walk(household, Status.EXIT_PROPOSED)
    hubei = UserFactory(username="hubei", role="supervisor", home_union=unions["420000"])

    with pytest.raises(TransitionError, match="您没有权限批准退出"):
        register.approve_exit(household, by=hubei)


def test_it_closes_the_file_when_the_province_approves_the_exit(household, walk, supervisor):
    walk(household, Status.EXIT_PROPOSED)
    today = TODAY() + datetime.timedelta(days=3)

    with time_machine.travel(at_beijing(today, 0, 30), tick=False):
        register.approve_exit(household, by=supervisor, reason="同意脱困")

    household = fresh(household)
    assert household.status == Status.EXITED
    assert household.closed_on == today
    assert household.follow_up_until == today + relativedelta(months=12)
    assert list(household.members.values_list("is_open", flat=True)) == [False, False]
    proposal = household.exit_proposals.get()
    assert (proposal.approved, proposal.decided_by, proposal.decision_note) == (True, supervisor, "同意脱困")
    assert proposal.decided_at is not None


def test_it_lets_the_same_people_be_filed_again_after_an_exit(household, walk, make_household, outsider, unions):
    walk(household, Status.EXITED)
    again = [new_member(id_number=m.id_number, name=m.name, sex=m.sex, relationship=m.relationship,
                        is_primary=m.is_primary) for m in household.members.all()]

    refiled = make_household(by=outsider, union=unions["410105-C01"], members=again)

    assert refiled.pk != household.pk
    assert refiled.head_id_number == household.head_id_number
    assert Member.objects.filter(id_number=household.head_id_number, is_open=True).get().household == refiled


@pytest.mark.parametrize(("kind", "status", "follows_up"), [
    (ExitKind.RELIEF, Status.RELIEVED, True),
    (ExitKind.REMOVAL, Status.REMOVED, False),
])
def test_it_closes_relief_and_removal_with_their_own_status(make_household, caseworker, supervisor, unions, walk,
                                                           kind, status, follows_up):
    members = default_members()
    members[1].able_to_work = False
    household = make_household(by=caseworker, union=unions["410102-C01"], members=members)
    walk(household, Status.REGISTERED)
    register.propose_exit(household, by=caseworker, **exit_proposal(
        kind, removal_reason=RemovalReason.DEATH if kind == ExitKind.REMOVAL else ""))

    register.approve_exit(household, by=supervisor, reason="同意")

    household = fresh(household)
    assert household.status == status
    assert household.closed_on == TODAY()
    assert (household.follow_up_until is not None) is follows_up


def test_it_returns_the_file_to_the_register_when_the_exit_is_rejected(household, walk, caseworker, supervisor):
    walk(household, Status.EXIT_PROPOSED)

    event = register.reject_exit(household, by=supervisor, reason="收入不稳定")

    proposal = household.exit_proposals.get()
    assert fresh(household).status == Status.REGISTERED
    assert (proposal.approved, proposal.decided_by, proposal.decision_note) == (False, supervisor, "收入不稳定")
    assert event.data == {"proposal": proposal.pk}
    # A new proposal may be made later.
    register.propose_exit(household, by=caseworker, **exit_proposal())
    assert household.exit_proposals.filter(approved__isnull=True).count() == 1


def test_it_needs_a_reason_to_reject_an_exit(household, walk, supervisor):
    walk(household, Status.EXIT_PROPOSED)

    with pytest.raises(TransitionError, match="请填写不批准退出的意见或理由"):
        register.reject_exit(household, by=supervisor, reason="")
    assert fresh(household).status == Status.EXIT_PROPOSED
    assert household.exit_proposals.get().approved is None


# ---------------------------------------------------------------- yearly re-verification


def test_it_keeps_the_category_at_reverification(household, walk, caseworker):
    walk(household, Status.REGISTERED)
    today = datetime.date(2027, 4, 1)

    with time_machine.travel(at_beijing(today, 9), tick=False):
        event = register.reverify(household, by=caseworker, reason="年度复核：情况未变")

    household = fresh(household)
    assert (household.status, household.category, household.pending_category) == (
        Status.REGISTERED, Category.RELATIVE, "")
    assert household.reverify_due == datetime.date(2028, 4, 1)
    assessment = household.assessments.first()
    assert event.data == {"old_category": Category.RELATIVE, "assessed_category": Category.RELATIVE,
                          "assessment": assessment.pk}
    assert (event.from_status, event.to_status) == (Status.REGISTERED, Status.REGISTERED)


def test_it_needs_a_reason_to_reverify(household, walk, caseworker):
    walk(household, Status.REGISTERED)
    due = fresh(household).reverify_due
    assessments = household.assessments.count()

    with pytest.raises(TransitionError, match="请填写年度复核的意见或理由"):
        register.reverify(household, by=caseworker, reason="")
    assert (fresh(household).category, fresh(household).reverify_due) == (Category.RELATIVE, due)
    assert household.assessments.count() == assessments


# ---------------------------------------------------------------- transfer


def test_it_requests_a_transfer_without_changing_the_status(household, walk, caseworker, unions):
    walk(household, Status.REGISTERED)

    transfer = register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"],
                                         reason="全家迁居金水区")

    assert fresh(household).status == Status.REGISTERED
    assert fresh(household).union == unions["410102-C01"]
    assert (transfer.from_union, transfer.to_union, transfer.requested_by, transfer.accepted) == (
        unions["410102-C01"], unions["410105-C01"], caseworker, None)
    event = last_event(household)
    assert (event.transition, event.data) == ("request_transfer", {"to_union": "410105-C01"})


def test_it_refuses_a_transfer_to_the_owning_union(household, caseworker, unions):
    with pytest.raises(TransitionError, match="接收单位与现建档单位相同"):
        register.request_transfer(household, by=caseworker, to_union=unions["410102-C01"], reason="迁居")
    assert not Transfer.objects.exists()


def test_it_refuses_a_second_pending_transfer(household, caseworker, unions):
    register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason="迁居")

    with pytest.raises(TransitionError, match="已有一项待接收的转移申请"):
        register.request_transfer(household, by=caseworker, to_union=unions["420102"], reason="迁居外省")
    assert Transfer.objects.count() == 1


def test_it_needs_a_reason_to_request_a_transfer(household, caseworker, unions):
    with pytest.raises(TransitionError, match="请填写申请转移的意见或理由"):
        register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason=" ")
    assert not Transfer.objects.exists()


def test_it_moves_the_file_when_the_receiving_union_accepts(household, walk, caseworker, outsider, unions):
    walk(household, Status.REGISTERED)
    transfer = register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason="迁居")

    register.decide_transfer(transfer, by=outsider, accept=True, reason="同意接收")

    transfer.refresh_from_db()
    assert fresh(household).union == unions["410105-C01"]
    assert (transfer.accepted, transfer.decided_by) == (True, outsider)
    event = last_event(household)
    assert (event.transition, event.actor, event.from_status, event.to_status) == (
        "accept_transfer", outsider, Status.REGISTERED, Status.REGISTERED)
    assert event.data == {"from_union": "410102-C01", "to_union": "410105-C01"}
    # The new owner may now act on it; the old one may not.
    assert "reverify" in names(register.available_transitions(fresh(household), outsider))
    assert register.available_transitions(fresh(household), caseworker) == []


def test_it_keeps_the_file_when_the_receiving_union_declines(household, walk, caseworker, outsider, unions):
    walk(household, Status.REGISTERED)
    transfer = register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason="迁居")

    register.decide_transfer(transfer, by=outsider, accept=False, reason="该户不在本区居住")

    transfer.refresh_from_db()
    assert fresh(household).union == unions["410102-C01"]
    assert (transfer.accepted, transfer.decided_by) == (False, outsider)
    assert last_event(household).transition == "decline_transfer"


@pytest.mark.parametrize("who", ["caseworker", "hubei"])
def test_it_refuses_acceptance_by_a_user_outside_the_receiving_union(household, caseworker, unions, who):
    transfer = register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason="迁居")
    user = caseworker if who == "caseworker" else UserFactory(
        username="hubei", role="caseworker", home_union=unions["420102"])

    with pytest.raises(TransitionError, match="不能自己接收" if who == "caseworker" else "您没有权限办理"):
        register.decide_transfer(transfer, by=user, accept=True)

    transfer.refresh_from_db()
    assert transfer.accepted is None
    assert fresh(household).union == unions["410102-C01"]


def test_it_refuses_deciding_a_transfer_twice(household, caseworker, outsider, unions):
    transfer = register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason="迁居")
    register.decide_transfer(transfer, by=outsider, accept=False)

    with pytest.raises(TransitionError, match="该转移申请已办理"):
        register.decide_transfer(transfer, by=outsider, accept=True)
    assert fresh(household).union == unions["410102-C01"]


# ---------------------------------------------------------------- relapse


def test_it_opens_a_new_episode_for_a_relapse_within_the_follow_up(household, walk, caseworker):
    walk(household, Status.EXITED)
    old_people = sorted(household.members.values_list("id_number", "name", "is_primary"))

    episode = register.open_relapse(household, by=caseworker, reason="配偶重病，再次致困")

    assert episode.pk != household.pk
    assert episode.status == Status.DRAFT
    assert episode.previous_episode == household
    assert episode.file_number == f"{household.file_number}-R2"
    assert episode.filed_by == caseworker
    assert (episode.closed_on, episode.follow_up_until, episode.registered_on, episode.category) == (
        None, None, None, "")
    assert sorted(episode.members.values_list("id_number", "name", "is_primary")) == old_people
    assert set(episode.members.values_list("is_open", flat=True)) == {True}
    assert episode.assessments.count() == 1
    assert fresh(household).status == Status.EXITED
    event = last_event(household)
    assert (event.transition, event.reason) == ("open_relapse", "配偶重病，再次致困")


def test_it_refuses_a_relapse_after_the_follow_up_period(household, walk, caseworker):
    walk(household, Status.EXITED)
    household = fresh(household)

    with pytest.raises(TransitionError, match="已过防返困跟踪期"):
        with time_machine.travel(at_beijing(household.follow_up_until + datetime.timedelta(days=1), 0, 30),
                                 tick=False):
            register.open_relapse(household, by=caseworker, reason="返困")
    assert not Household.objects.filter(previous_episode=household).exists()


def test_it_allows_a_relapse_on_the_last_day_of_the_follow_up(household, walk, caseworker):
    walk(household, Status.EXITED)
    household = fresh(household)

    with time_machine.travel(at_beijing(household.follow_up_until, 23, 30), tick=False):
        episode = register.open_relapse(household, by=caseworker, reason="返困")

    assert episode.previous_episode == household


def test_it_refuses_a_second_relapse_of_the_same_file(household, walk, caseworker):
    walk(household, Status.EXITED)
    register.open_relapse(household, by=caseworker, reason="返困")

    with pytest.raises(TransitionError, match="该档案已经重新建档"):
        register.open_relapse(fresh(household), by=caseworker, reason="返困")
    assert Household.objects.count() == 2


def test_it_refuses_a_relapse_cleanly_when_a_member_is_now_in_another_open_file(household, walk, caseworker,
                                                                               make_household, outsider, unions):
    """The spouse remarried and was filed elsewhere during the follow-up: a message, not a database error."""
    walk(household, Status.EXITED)
    spouse = household.members.get(is_primary=False)
    make_household(by=outsider, union=unions["410105-C01"], members=[
        new_member(name="刘伟"),
        new_member(id_number=spouse.id_number, name=spouse.name, sex=Sex.FEMALE,
                   relationship=Relationship.SPOUSE, is_primary=False),
    ])

    with pytest.raises((TransitionError, FilingError), match="已在其他单位建档"):
        register.open_relapse(household, by=caseworker, reason="返困")
    assert not Household.objects.filter(previous_episode=household).exists()


def test_it_numbers_a_second_relapse_from_the_original_file(household, walk, caseworker):
    walk(household, Status.EXITED)
    second = register.open_relapse(household, by=caseworker, reason="第一次返困")
    walk(second, Status.EXITED)

    third = register.open_relapse(second, by=caseworker, reason="第二次返困")

    assert third.previous_episode == second
    assert third.file_number == f"{household.file_number}-R3"


# ---------------------------------------------------------------- events


def test_it_records_exactly_one_event_per_step_of_the_lifecycle(household, walk, caseworker, reviewer,
                                                                second_reviewer, supervisor):
    actors = {
        Status.SUBMITTED: caseworker, Status.FIRST_REVIEWED: reviewer, Status.VISITED: caseworker,
        Status.REVIEWED: second_reviewer, Status.CIVIL_CHECKED: caseworker, Status.IN_NOTICE: caseworker,
        Status.REGISTERED: caseworker, Status.EXIT_PROPOSED: caseworker, Status.EXITED: supervisor,
    }
    for before, after in zip(LIFECYCLE, LIFECYCLE[1:]):
        count = RegisterEvent.objects.count()
        walk(household, after)

        assert RegisterEvent.objects.count() == count + 1, after
        event = last_event(household)
        assert (event.from_status, event.to_status, event.actor) == (before, after, actors[after])
        assert event.transition == register.TRANSITIONS[event.transition].name
    reasons = dict(household.register_events.values_list("to_status", "reason"))
    assert reasons[Status.REVIEWED] == "复核属实"
    assert reasons[Status.CIVIL_CHECKED] == "民政核对：未享受低保"
    assert reasons[Status.EXITED] == "同意脱困"


@pytest.mark.parametrize("move", [
    lambda h, p: register.reverify(h, by=p["caseworker"], reason="  复核  "),
    lambda h, p: register.request_transfer(h, by=p["caseworker"], to_union=p["unions"]["410105-C01"],
                                           reason="  迁居  "),
], ids=["reverify", "request_transfer"])
def test_it_records_one_event_for_moves_that_keep_the_status(household, walk, caseworker, unions, move):
    walk(household, Status.REGISTERED)
    count = RegisterEvent.objects.count()

    move(household, {"caseworker": caseworker, "unions": unions})

    assert RegisterEvent.objects.count() == count + 1
    event = last_event(household)
    assert (event.from_status, event.to_status, event.actor) == (Status.REGISTERED, Status.REGISTERED, caseworker)
    assert event.reason in ("复核", "迁居")  # trimmed


def test_it_refuses_to_change_a_register_event(household, caseworker):
    event = register.submit(household, by=caseworker)
    event.reason = "改写历史"

    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()
    assert RegisterEvent.objects.get(pk=event.pk).reason == ""


def test_it_refuses_to_delete_a_register_event(household, caseworker):
    event = register.submit(household, by=caseworker)

    with pytest.raises(DatabaseError), transaction.atomic():
        event.delete()
    assert RegisterEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_to_change_an_assessment(household):
    assessment = household.assessments.get()
    assessment.final_category = Category.DEEP
    assessment.override_reason = "事后改动"

    with pytest.raises(DatabaseError), transaction.atomic():
        assessment.save()
    assert Assessment.objects.get(pk=assessment.pk).final_category == Category.RELATIVE


def test_it_refuses_to_delete_an_assessment(household):
    assessment = household.assessments.get()

    with pytest.raises(DatabaseError), transaction.atomic():
        Assessment.objects.filter(pk=assessment.pk).delete()
    assert Assessment.objects.filter(pk=assessment.pk).exists()


# ---------------------------------------------------------------- concurrency


def test_it_refuses_a_move_from_a_stale_status(household, caseworker):
    Household.objects.filter(pk=household.pk).update(status=Status.SUBMITTED)  # another request got there first

    with pytest.raises(TransitionError, match="刚被其他人处理过"):
        register._move(household, "submit", to=Status.SUBMITTED, by=caseworker)
    assert not RegisterEvent.objects.exists()


def test_it_submits_only_once_when_two_requests_race(household, caseworker):
    first, second = fresh(household), fresh(household)
    register.submit(first, by=caseworker)

    with pytest.raises(TransitionError, match="刚被其他人处理过"):
        register.submit(second, by=caseworker)
    assert RegisterEvent.objects.filter(transition="submit").count() == 1


# ---------------------------------------------------------------- available transitions


def test_it_offers_the_filer_submission_of_a_draft(household, caseworker):
    assert names(register.available_transitions(household, caseworker)) == {"submit", "request_transfer", "withdraw"}


@pytest.mark.parametrize("who", ["outsider", "auditor", "supervisor"])
def test_it_offers_nothing_on_a_draft_to_others(household, request, who):
    assert register.available_transitions(household, request.getfixturevalue(who)) == []


def test_it_offers_the_first_review_to_another_caseworker_only(household, walk, caseworker, reviewer):
    walk(household, Status.SUBMITTED)

    assert names(register.available_transitions(household, reviewer)) == {
        "first_review", "return_for_correction", "withdraw", "decline"}
    assert names(register.available_transitions(household, caseworker)) == {"withdraw"}


def test_it_offers_the_exit_decision_to_the_province_only(household, walk, caseworker, supervisor):
    walk(household, Status.EXIT_PROPOSED)

    assert names(register.available_transitions(household, supervisor)) == {"approve_exit", "reject_exit"}
    assert register.available_transitions(household, caseworker) == []
