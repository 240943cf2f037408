"""The register's rules that were found broken (issue 8): every way in or out goes through register.py, with
local dates, real working days, final exclusions, two people where the rules say two, and compare-and-set."""

import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from dossiers import register
from dossiers.choices import Category, Exclusion, Relationship, Sex, Status, WorkStatus
from dossiers.filing import FilingError, assess_household, save_household
from dossiers.models import ExitKind, Household, LocalStandard, Member, RegisterEvent, Transfer
from dossiers.register import TransitionError
from hardship.models import CalendarDay, Region
from tests.dossiers.conftest import POVERTY_LINE, at_beijing, default_members, exit_proposal, new_member
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(household: Household) -> Household:
    return Household.objects.get(pk=household.pk)


@pytest.fixture
def wuhan(unions):
    """武汉's line (1,000) is above 郑州's (800); a caseworker of 江岸区 receives files there."""
    LocalStandard.objects.create(region=Region.objects.get(code="420100"), effective_from=datetime.date(2020, 1, 1),
                                 poverty_line=Decimal("1000.00"), min_wage=Decimal("2200.00"))
    return UserFactory(username="jiangan", role="caseworker", home_union=unions["420102"], full_name="胡静")


# ---------------------------------------------------------------- transfers


def test_it_moves_the_region_with_the_union_so_the_new_line_applies(household, walk, caseworker, wuhan, unions):
    walk(household, Status.REGISTERED)
    transfer = register.request_transfer(household, by=caseworker, to_union=unions["420102"], reason="全家迁居武汉")

    register.decide_transfer(transfer, by=wuhan, accept=True, reason="同意接收")

    household = fresh(household)
    assert (household.union_id, household.region_id) == (unions["420102"].pk, "420102")
    with pytest.raises(TransitionError, match=r"1000\.00 元"):  # 900 is above 郑州's 800 but below 武汉's 1,000
        register.propose_exit(household, by=wuhan, **exit_proposal(monthly_incomes=[Decimal("900.00")] * 6))
    assert fresh(household).status == Status.REGISTERED


def test_it_refuses_the_requester_accepting_their_own_transfer(household, walk, unions):
    """A caseworker of the city sees both counties: she may ask for the move but not also accept it."""
    city = UserFactory(username="citycw", role="caseworker", home_union=unions["410100"])
    walk(household, Status.REGISTERED)
    transfer = register.request_transfer(household, by=city, to_union=unions["410105-C01"], reason="迁居金水区")

    with pytest.raises(TransitionError, match="申请转移的人不能自己接收"):
        register.decide_transfer(transfer, by=city, accept=True)

    transfer.refresh_from_db()
    assert transfer.accepted is None
    assert fresh(household).union == unions["410102-C01"]


def test_it_refuses_accepting_a_transfer_of_a_file_that_moved_meanwhile(household, walk, caseworker, outsider, unions):
    """The accept is a compare-and-set like every other move: a stale file is refused, the transfer stays open."""
    walk(household, Status.REGISTERED)
    transfer = register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason="迁居")
    Household.objects.filter(pk=household.pk).update(status=Status.EXIT_PROPOSED)

    register.decide_transfer(transfer, by=outsider, accept=True)

    event = RegisterEvent.objects.filter(household=household).order_by("-pk").first()
    assert (event.transition, event.from_status, event.to_status) == (
        "accept_transfer", Status.EXIT_PROPOSED, Status.EXIT_PROPOSED)


# ---------------------------------------------------------------- ways out of an application


def test_it_withdraws_an_application_and_frees_its_members(household, walk, caseworker, make_household, outsider,
                                                           unions):
    walk(household, Status.SUBMITTED)
    people = list(household.members.all())

    register.withdraw(household, by=caseworker, reason="本人申请撤回：已找到工作")

    household = fresh(household)
    assert (household.status, household.closed_on) == (Status.WITHDRAWN, timezone.localdate())
    assert not household.members.filter(is_open=True).exists()
    again = [new_member(id_number=m.id_number, name=m.name, sex=m.sex, relationship=m.relationship,
                        is_primary=m.is_primary) for m in people]
    assert make_household(by=outsider, union=unions["410105-C01"], members=again).status == Status.DRAFT


def test_it_withdraws_a_draft_with_a_reason_only(household, caseworker):
    with pytest.raises(TransitionError, match="请填写撤回申请的意见或理由"):
        register.withdraw(household, by=caseworker, reason=" ")
    assert fresh(household).status == Status.DRAFT

    register.withdraw(household, by=caseworker, reason="家庭情况好转，不再申请")
    assert fresh(household).status == Status.WITHDRAWN


def test_it_declines_an_application_by_a_reviewer_not_the_filer(household, walk, caseworker, reviewer):
    walk(household, Status.FIRST_REVIEWED)

    with pytest.raises(TransitionError, match="建档人不能审核自己建立的档案"):
        register.decline(household, by=caseworker, reason="不符合")
    event = register.decline(household, by=reviewer, reason="入户调查发现家庭成员经营企业")

    household = fresh(household)
    assert household.status == Status.DECLINED
    assert (event.from_status, event.to_status, event.reason) == (
        Status.FIRST_REVIEWED, Status.DECLINED, "入户调查发现家庭成员经营企业")
    assert not household.members.filter(is_open=True).exists()


def test_it_cannot_withdraw_a_file_on_the_register(household, walk, caseworker):
    walk(household, Status.REGISTERED)

    with pytest.raises(TransitionError, match="当前状态为“在档”"):
        register.withdraw(household, by=caseworker, reason="撤回")


# ---------------------------------------------------------------- the public notice


def test_it_refuses_a_backdated_notice(household, walk, caseworker):
    walk(household, Status.CIVIL_CHECKED)

    with pytest.raises(TransitionError, match="须在民政核对之日"):
        register.start_notice(household, by=caseworker, starts_on=timezone.localdate() - datetime.timedelta(days=30))
    assert fresh(household).status == Status.CIVIL_CHECKED


def test_it_starts_a_notice_posted_between_the_civil_check_and_today(household, walk, caseworker):
    with time_machine.travel(at_beijing(datetime.date(2026, 3, 2), 16), tick=False):  # Monday: civil check
        walk(household, Status.CIVIL_CHECKED)
    with time_machine.travel(at_beijing(datetime.date(2026, 3, 4), 9), tick=False):  # entered on Wednesday
        with pytest.raises(TransitionError, match="2026-03-02"):
            register.start_notice(household, by=caseworker, starts_on=datetime.date(2026, 3, 1))
        register.start_notice(household, by=caseworker, starts_on=datetime.date(2026, 3, 3))

    assert fresh(household).notice_ends_on == datetime.date(2026, 3, 9)  # Tue 3 … Mon 9


def test_it_counts_the_notice_in_real_working_days_over_national_day(household, walk, caseworker):
    with time_machine.travel(at_beijing(datetime.date(2025, 9, 29), 10), tick=False):
        walk(household, Status.CIVIL_CHECKED)
        register.start_notice(household, by=caseworker)

    # 9-29 and 9-30 work, 10-1 … 10-8 are the holiday, Saturday 10-11 is a make-up working day.
    assert fresh(household).notice_ends_on == datetime.date(2025, 10, 11)


def test_it_says_so_when_the_notice_runs_past_the_working_calendar(household, walk, caseworker):
    last_year = max(datetime.date(2026, 1, 1), max(CalendarDay.objects.values_list("day", flat=True), default=None)
                    or datetime.date(2026, 1, 1))
    beyond = datetime.date(2035, 12, 31)
    assert last_year < beyond
    with time_machine.travel(at_beijing(beyond, 10), tick=False):
        walk(household, Status.CIVIL_CHECKED)
        with pytest.raises(TransitionError, match="工作日历"):
            register.start_notice(household, by=caseworker)
    assert fresh(household).status == Status.CIVIL_CHECKED


# ---------------------------------------------------------------- exclusions are final


def test_it_refuses_to_override_an_exclusion_into_a_category(make_household, caseworker, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"], exclusions=[Exclusion.COMPANY],
                               income_wages=Decimal("6000.00"))
    assert household.assessments.first().final_category == "not_eligible"

    with pytest.raises(FilingError, match="排除情形"):
        assess_household(household, by=caseworker, final_category=Category.DEEP, override_reason="家庭确实困难")

    assert household.assessments.first().final_category == "not_eligible"
    with pytest.raises(TransitionError, match="不符合建档标准"):
        register.submit(household, by=caseworker)


def test_it_shows_the_exclusion_refusal_on_the_override_page(client_for, make_household, caseworker, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"], exclusions=[Exclusion.VEHICLE])

    response = client_for(caseworker).post(reverse("dossiers:override_category", args=[household.file_number]),
                                           {"final_category": Category.DEEP, "override_reason": "代步车"})

    assert response.status_code == 200
    assert "排除情形" in str(response.context["form"].errors)
    assert household.assessments.count() == 1


# ---------------------------------------------------------------- re-grading needs an assessment and a second person


@pytest.fixture
def raised_line(unions):
    """From today 郑州's line is 1,100: the relative household (1,000 a head) is now below it."""
    return LocalStandard.objects.create(region=Region.objects.get(code="410100"), effective_from=timezone.localdate(),
                                        poverty_line=Decimal("1100.00"), min_wage=Decimal("2300.00"))


def test_it_proposes_a_regrade_from_a_new_assessment_and_waits_for_a_second_person(household, walk, caseworker,
                                                                                  reviewer, raised_line):
    walk(household, Status.REGISTERED)
    assert fresh(household).category == Category.RELATIVE

    event = register.reverify(household, by=caseworker, reason="低保标准提高后复核")

    household = fresh(household)
    assessment = household.assessments.first()
    assert (assessment.standard, assessment.final_category, assessment.made_by) == (raised_line, Category.DEEP,
                                                                                    caseworker)
    assert (household.category, household.pending_category, household.pending_category_by) == (
        Category.RELATIVE, Category.DEEP, caseworker)
    assert event.data["assessed_category"] == Category.DEEP
    with pytest.raises(TransitionError, match="须由另一人确认"):
        register.confirm_regrade(household, by=caseworker)
    with pytest.raises(TransitionError, match="已有一项待确认的类别调整"):
        register.reverify(household, by=reviewer, reason="再次复核")

    register.confirm_regrade(household, by=reviewer, reason="核实无误")

    household = fresh(household)
    assert (household.category, household.pending_category, household.pending_category_by) == (
        Category.DEEP, "", None)
    last = household.register_events.order_by("-pk").first()
    assert (last.transition, last.actor, last.data) == (
        "confirm_regrade", reviewer, {"old_category": Category.RELATIVE, "new_category": Category.DEEP})


def test_it_keeps_the_category_when_the_regrade_is_not_confirmed(household, walk, caseworker, reviewer, raised_line):
    walk(household, Status.REGISTERED)
    register.reverify(household, by=caseworker, reason="复核")

    register.reject_regrade(household, by=reviewer, reason="收入材料不全，维持原类别")

    household = fresh(household)
    assert (household.category, household.pending_category) == (Category.RELATIVE, "")


def test_it_refuses_to_keep_a_file_that_no_longer_qualifies_at_reverification(household, walk, caseworker):
    walk(household, Status.REGISTERED)
    Household.objects.filter(pk=household.pk).update(income_wages=Decimal("90000.00"))
    household = fresh(household)
    events = household.register_events.count()

    with pytest.raises(TransitionError, match="不符合建档标准"):
        register.reverify(household, by=caseworker, reason="复核")

    assert (fresh(household).category, household.register_events.count()) == (Category.RELATIVE, events)


def test_it_offers_the_regrade_decision_only_to_another_person(household, walk, caseworker, reviewer, raised_line):
    walk(household, Status.REGISTERED)
    register.reverify(household, by=caseworker, reason="复核")
    household = fresh(household)

    offered = {t.name for t in register.available_transitions(household, reviewer)}
    assert {"confirm_regrade", "reject_regrade"} <= offered and "reverify" not in offered
    assert not {"confirm_regrade", "reject_regrade", "reverify"} & {
        t.name for t in register.available_transitions(household, caseworker)}


# ---------------------------------------------------------------- two-level review


def test_it_refuses_one_person_doing_both_first_review_and_review(household, walk, reviewer):
    walk(household, Status.VISITED)  # the first review was `reviewer`'s

    with pytest.raises(TransitionError, match="初审和复核须由两个不同的人办理"):
        register.review(household, by=reviewer)
    assert fresh(household).status == Status.VISITED
    assert "review" not in {t.name for t in register.available_transitions(fresh(household), reviewer)}


# ---------------------------------------------------------------- local dates


@pytest.mark.parametrize(("hour", "minute"), [(23, 30), (0, 30)])
def test_it_submits_on_a_members_sixteenth_birthday_at_any_hour(make_household, caseworker, unions, hour, minute):
    """An unemployed son turning 16 today counts at the minimum wage from today, Beijing time, all day long."""
    today = datetime.date(2026, 6, 15)
    members = default_members() + [new_member(relationship=Relationship.CHILD, name="张小军", is_primary=False,
                                              birth=datetime.date(2010, 6, 15), work_status=WorkStatus.NONE)]
    with time_machine.travel(at_beijing(today, hour, minute), tick=False):
        household = make_household(by=caseworker, union=unions["410102-C01"], members=members)
        assert household.assessments.first().inputs["members"][2]["able_bodied_unemployed"] is True

        register.submit(household, by=caseworker)

    assert fresh(household).status == Status.SUBMITTED


@pytest.mark.parametrize(("hour", "minute"), [(23, 30), (0, 30)])
def test_it_closes_the_file_on_the_beijing_day(household, walk, supervisor, hour, minute):
    walk(household, Status.EXIT_PROPOSED)
    today = timezone.localdate() + datetime.timedelta(days=1)

    with time_machine.travel(at_beijing(today, hour, minute), tick=False):
        register.approve_exit(household, by=supervisor, reason="同意")

    assert fresh(household).closed_on == today


# ---------------------------------------------------------------- working age by sex


@pytest.mark.parametrize(("sex", "retirement", "imputed"), [
    (Sex.FEMALE, 50, False), (Sex.FEMALE, 55, True), (Sex.MALE, 60, True),
])
def test_it_counts_working_age_by_sex_from_the_setting(make_household, caseworker, unions, settings, sex, retirement,
                                                       imputed):
    settings.RETIREMENT_AGE = {**settings.RETIREMENT_AGE, sex: retirement}
    fifty_two = timezone.localdate().replace(year=timezone.localdate().year - 52) - datetime.timedelta(days=10)
    members = [new_member(name="张建国"), new_member(relationship=Relationship.SPOUSE, sex=sex, is_primary=False,
                                                   birth=fifty_two, work_status=WorkStatus.UNEMPLOYED)]

    household = make_household(by=caseworker, union=unions["410102-C01"], members=members)

    assert household.assessments.first().inputs["members"][1]["able_bodied_unemployed"] is imputed


# ---------------------------------------------------------------- exit evidence by named month


def test_it_names_the_last_six_months_and_refuses_others(household, walk, caseworker):
    walk(household, Status.REGISTERED)
    months = register.evidence_months()
    assert len(months) == 6 and months[-1] < timezone.localdate().replace(day=1) and months[0].day == 1

    with pytest.raises(TransitionError, match="连续 6 个月的人均收入"):
        register.propose_exit(household, by=caseworker, **exit_proposal(first_income_month=months[0].replace(
            year=months[0].year - 1)))
    assert fresh(household).status == Status.REGISTERED


def test_it_checks_each_month_against_the_line_in_force_that_month(household, walk, caseworker, unions):
    walk(household, Status.REGISTERED)
    months = register.evidence_months()
    LocalStandard.objects.create(region=Region.objects.get(code="410100"), effective_from=months[3],
                                 poverty_line=Decimal("950.00"), min_wage=Decimal("2200.00"))
    incomes = [Decimal("900.00")] * 6  # above 800 for the first three months, not above 950 after

    with pytest.raises(TransitionError) as error:
        register.propose_exit(household, by=caseworker, **exit_proposal(monthly_incomes=incomes))

    message = str(error.value)
    for month in months[3:]:
        assert f"{month.year}年{month.month}月 900.00 元（低保标准 950.00 元）" in message
    for month in months[:3]:
        assert f"{month.year}年{month.month}月 " not in message


def test_it_rechecks_the_evidence_when_approving(household, walk, caseworker, supervisor):
    walk(household, Status.REGISTERED)
    months = register.evidence_months()
    register.propose_exit(household, by=caseworker, **exit_proposal(monthly_incomes=[POVERTY_LINE + 50] * 6))
    # The city enters a standard it had published for the last month only after the proposal.
    LocalStandard.objects.create(region=Region.objects.get(code="410100"), effective_from=months[-1],
                                 poverty_line=Decimal("880.00"), min_wage=Decimal("2200.00"))

    with pytest.raises(TransitionError, match="低保标准 880.00 元"):
        register.approve_exit(household, by=supervisor, reason="同意")
    assert fresh(household).status == Status.EXIT_PROPOSED


def test_it_takes_one_income_field_per_named_month_in_the_exit_form(client_for, household, walk, caseworker):
    walk(household, Status.REGISTERED)
    months = register.evidence_months()
    page = client_for(caseworker).get(reverse("dossiers:transition", args=[household.file_number, "propose_exit"]))
    text = page.content.decode()
    for month in months:
        assert f"{month.year}年{month.month}月" in text
    data = {"kind": ExitKind.EXIT, "reason": "工资流水", "version": fresh(household).register_version,
            **{f"income_{month:%Y_%m}": "950.00" for month in months}}
    data.pop(f"income_{months[2]:%Y_%m}")

    response = client_for(caseworker).post(page.request["PATH_INFO"], data)
    assert response.status_code == 200 and fresh(household).status == Status.REGISTERED

    data[f"income_{months[2]:%Y_%m}"] = "950.00"
    response = client_for(caseworker).post(page.request["PATH_INFO"], data)
    assert response.status_code == 302
    proposal = fresh(household).exit_proposals.get()
    assert proposal.income_by_month() == [(month, Decimal("950.00")) for month in months]


# ---------------------------------------------------------------- compare-and-set


def test_it_refuses_a_form_drawn_before_the_file_moved(client_for, household, walk, caseworker):
    walk(household, Status.REGISTERED)
    seen = fresh(household).register_version
    register.reverify(fresh(household), by=caseworker, reason="年度复核")

    response = client_for(caseworker).post(
        reverse("dossiers:transition", args=[household.file_number, "reverify"]),
        {"reason": "又点了一次", "version": seen})

    assert response.status_code == 200
    assert "刚被其他人处理过" in str(response.context["form"].non_field_errors())
    assert household.register_events.filter(transition="reverify").count() == 1


def test_it_records_a_civil_match_through_the_register(household, walk, caseworker):
    walk(household, Status.REGISTERED)
    before = fresh(household).register_version

    event = register.record_civil_match(fresh(household), by=caseworker, reason="民政比对", on_dibao=True)

    assert (event.transition, fresh(household).register_version) == ("civil_match", before + 1)


def test_it_tells_the_apps_listening_when_a_file_leaves_the_register(household, walk, supervisor):
    walk(household, Status.EXIT_PROPOSED)
    heard = []

    def listener(sender, household, event, **kwargs):
        heard.append((household.pk, event.to_status))

    register.register_changed.connect(listener)
    try:
        register.approve_exit(household, by=supervisor, reason="同意")
    finally:
        register.register_changed.disconnect(listener)
    assert heard == [(household.pk, Status.EXITED)]


def test_it_drives_every_transition_page_from_the_table(client_for, household, caseworker):
    """Every transition has a page: its form where it can be made now, else back to the file saying why."""
    for name, spec in register.TRANSITIONS.items():
        response = client_for(caseworker).get(reverse("dossiers:transition", args=[household.file_number, name]))
        if not caseworker.has_perm(spec.permission, household):
            assert response.status_code == 403, name
        elif household.status in spec.sources:
            assert response.status_code == 200 and response.context["spec"] == spec, name
        else:
            assert response.status_code == 302, name
            assert "当前状态为“草稿”" in str(list(response.wsgi_request._messages)[0]), name


# ---------------------------------------------------------------- races with real connections


def race(count: int, action) -> list:
    """Run `action(i)` in `count` threads released together, each on its own database connection."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = action(index)
        except Exception as error:  # noqa: BLE001 - the test asserts on what came out
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def clients(client_for, caseworker, django_user_model):
    from django.test import Client

    made = []
    for _ in range(4):
        client = Client()
        client.force_login(caseworker, backend="django.contrib.auth.backends.ModelBackend")
        made.append(client)
    return made


@pytest.mark.django_db(transaction=True)
def test_it_makes_one_transfer_request_when_four_arrive_at_once(household, walk, clients, unions):
    walk(household, Status.REGISTERED)
    path = reverse("dossiers:transition", args=[household.file_number, "request_transfer"])
    data = {"to_union": "410105-C01", "reason": "全家迁居金水区", "version": fresh(household).register_version}

    responses = race(4, lambda i: clients[i].post(path, data))

    # One goes through (302 to the file). The others are refused without an error page: with the form again (200)
    # when they lose the race on the file's version, or back to the file with the reason (302) when they arrive
    # after the winner committed and the request is no longer a move the file offers.
    assert {response.status_code for response in responses} <= {200, 302}, responses
    assert Transfer.objects.filter(household=household).count() == 1
    assert household.register_events.filter(transition="request_transfer").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_records_one_reverification_when_four_arrive_at_once(household, walk, clients):
    walk(household, Status.REGISTERED)
    path = reverse("dossiers:transition", args=[household.file_number, "reverify"])
    data = {"reason": "年度复核：情况未变", "version": fresh(household).register_version}

    responses = race(4, lambda i: clients[i].post(path, data))

    assert sorted(response.status_code for response in responses) == [200, 200, 200, 302], responses
    assert household.register_events.filter(transition="reverify").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_approves_an_exit_once_when_two_supervisors_click_at_once(household, walk, supervisor, unions):
    walk(household, Status.EXIT_PROPOSED)
    city = UserFactory(username="citysup", role="supervisor", home_union=unions["410100"])

    results = race(2, lambda i: register.approve_exit(fresh(household), by=(supervisor, city)[i], reason="同意"))

    assert sum(isinstance(result, RegisterEvent) for result in results) == 1
    assert [str(r) for r in results if isinstance(r, TransitionError)] == [str(register.STALE)]
    assert household.register_events.filter(transition="approve_exit").count() == 1
    assert not Member.objects.filter(household=household, is_open=True).exists()


def test_it_never_lets_an_integrity_error_out_of_a_transition(household, caseworker, monkeypatch):
    from django.db import IntegrityError

    def clash(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(register, "missing_for_submission", clash)
    with pytest.raises(TransitionError, match="刷新页面"):
        register.submit(household, by=caseworker)


def test_it_saves_a_household_only_with_a_single_writer_for_is_open(household, caseworker):
    """Filing sets is_open with the register's own rule (a draft holds its members)."""
    household = fresh(household)
    save_household(household, list(household.members.all()), by=caseworker)
    assert set(household.members.values_list("is_open", flat=True)) == {register.member_is_open(Status.DRAFT)}


def test_it_lists_in_awaiting_me_only_what_the_user_may_do(household, walk, caseworker, reviewer, second_reviewer,
                                                           raised_line):
    from dossiers.search import households_for

    def awaiting(user):
        return set(households_for(user, {}, "awaiting_me").values_list("pk", flat=True))

    walk(household, Status.VISITED)  # 初审 by `reviewer`
    assert household.pk not in awaiting(reviewer) and household.pk in awaiting(second_reviewer)
    walk(household, Status.REGISTERED)
    register.reverify(fresh(household), by=caseworker, reason="低保标准提高后复核")
    assert household.pk not in awaiting(caseworker) and household.pk in awaiting(reviewer)
