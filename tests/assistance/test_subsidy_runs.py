"""The subsidy run and its schedules, in the domain (no views, no Celery): schedules only for households on the
register, the yearly living-aid cap at save and at each run (at its boundary, with the amount it exceeds by),
quarterly timing, every skip reason, one payment per (schedule, period), schedules ending through the register
event (脱困, 注销, transfer; 解困 keeps living aid), and the Beijing date at 23:30 and 00:30 on a month boundary.

The clock stands at 2026-12-02 10:00 Beijing unless a test is about the clock."""

from __future__ import annotations

import datetime
import itertools
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction

from assistance import runs, subsidies
from assistance.models import LivingAidYear, Payment, Schedule
from assistance.subsidy_models import PaymentBatch, SkipReason
from dossiers import register
from dossiers.choices import Relationship, Sex, Status
from dossiers.models import ExitKind, LocalStandard, RemovalReason
from hardship.models import Region
from tests.dossiers.conftest import exit_proposal, new_member

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
NOV, DEC, JAN = datetime.date(2026, 11, 1), datetime.date(2026, 12, 1), datetime.date(2027, 1, 1)
CAP = Decimal("19200.00")  # 800.00 × 2 members × 12 months
_cards = itertools.count(1)


def beijing(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=BEIJING)


def month(year: int, number: int) -> datetime.date:
    return datetime.date(year, number, 1)


def new_card() -> str:
    """A bank card of its own for each household (the fixture's default card is one for all)."""
    return f"62220210{next(_cards):011d}"


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(beijing(2026, 12, 2, 10), tick=False):
        yield


@pytest.fixture
def family(registered):
    """family(**fields): a registered household of 410102-C01 with a bank card of its own."""

    def make(**fields):
        fields.setdefault("bank_card", new_card())
        return registered(**fields)

    return make


@pytest.fixture
def paying_union(unions):
    return unions["410102-C01"]


@pytest.fixture
def run(paying_union):
    """run(period, by=None): the paying union's run of a period, its batch refreshed."""

    def go(period: datetime.date, by=None) -> runs.RunResult:
        [result] = runs.run_period(period, union_ids=[paying_union.pk], by=by)
        return result

    return go


def skips(batch: PaymentBatch) -> dict[int, tuple[str, Decimal | None]]:
    return {skip.schedule_id: (skip.reason, skip.exceeds_by) for skip in batch.skipped.all()}


def paid_schedules(batch: PaymentBatch) -> dict[int, Decimal]:
    return dict(batch.payments.values_list("schedule_id", "amount"))


def periods_paid(schedule: Schedule) -> list[datetime.date]:
    return sorted(schedule.payments.values_list("period", flat=True))


def ledger(household, year: int = 2026) -> Decimal:
    row = LivingAidYear.objects.filter(household=household, year=year).first()
    return row.amount if row else Decimal("0.00")


def reload(schedule: Schedule) -> Schedule:
    schedule.refresh_from_db()
    return schedule


# Setting up a schedule ----------------------------------------------------------------------------------------

def test_a_schedule_is_only_for_a_household_on_the_register(make_household, caseworker, unions, walk, schedule_for):
    draft = make_household(by=caseworker, union=unions["410102-C01"], bank_card=new_card())
    with pytest.raises(subsidies.SubsidyError, match="在档家庭"):
        schedule_for(draft)
    in_notice = walk(make_household(by=caseworker, union=unions["410102-C01"], bank_card=new_card()),
                     Status.IN_NOTICE)
    with pytest.raises(subsidies.SubsidyError, match="在档家庭"):
        schedule_for(in_notice)
    exited = walk(make_household(by=caseworker, union=unions["410102-C01"], bank_card=new_card()), Status.EXITED)
    with pytest.raises(subsidies.SubsidyError, match="在档家庭"):
        schedule_for(exited)
    assert not Schedule.objects.exists()


def test_a_schedule_needs_a_bank_card_and_a_supervisor_in_scope(registered, schedule_for, caseworker, outsider):
    with pytest.raises(subsidies.SubsidyError, match="未登记银行卡"):
        schedule_for(registered(bank_card=""))
    household = registered(bank_card=new_card())
    for who in (caseworker, outsider):  # (schedule_for(by=...) cannot be used: the fixture passes `by` to Schedule)
        with pytest.raises(subsidies.SubsidyError, match="审核人"):
            subsidies.save_schedule(Schedule(household=household, amount=Decimal("300.00"), first_period=DEC,
                                             fund_source="central"), by=who)
    made = schedule_for(household)
    assert (made.union_id, made.status, made.approved_by.username) == (household.union_id, "active",
                                                                        "county_supervisor")


def test_the_cap_at_save_allows_exactly_the_yearly_total_and_refuses_one_cent_more(family, schedule_for):
    household = family()
    at_cap = schedule_for(household, frequency="once", amount=CAP)
    with pytest.raises(subsidies.SubsidyError, match=r"上限 19200\.00 元.*超出 0\.01 元"):
        schedule_for(household, frequency="once", amount=Decimal("0.01"))
    # Saved again it is not counted twice; medical aid is not living aid and has no such cap.
    subsidies.save_schedule(at_cap, by=at_cap.approved_by)
    schedule_for(household, kind="medical", amount=Decimal("30000.00"))
    assert household.subsidy_schedules.count() == 2


@pytest.mark.parametrize(("frequency", "amount", "over"), [
    ("monthly", "1600.00", None), ("monthly", "1600.01", "0.12"),
    ("quarterly", "4800.00", None), ("quarterly", "4800.01", "0.04"),
])
def test_the_cap_at_save_counts_the_periods_of_a_whole_year(family, schedule_for, frequency, amount, over):
    household = family()
    if over is None:
        schedule_for(household, frequency=frequency, amount=Decimal(amount), first_period=JAN)
        assert household.subsidy_schedules.count() == 1
    else:
        with pytest.raises(subsidies.SubsidyError, match=rf"2027年.*超出 {over} 元"):
            schedule_for(household, frequency=frequency, amount=Decimal(amount), first_period=JAN)
        assert not household.subsidy_schedules.exists()


def test_the_cap_is_checked_again_at_each_run_exactly_at_the_cap_pays_a_cent_over_does_not(
        family, schedule_for, run):
    at_cap, over = family(), family()
    monthly = schedule_for(at_cap, amount=Decimal("1600.00"), first_period=month(2026, 1))
    other = schedule_for(over, amount=Decimal("1600.00"), first_period=month(2026, 1))
    # Saved while the year was empty: only the December period counted then.
    extra = schedule_for(over, frequency="once", amount=Decimal("0.01"))
    for number in range(1, 13):
        batch = run(month(2026, number)).batch
    assert len(periods_paid(monthly)) == 12 and ledger(at_cap) == CAP
    assert len(periods_paid(other)) == 11 and ledger(over) == CAP - Decimal("1600.00")
    # The household's whole December living aid is held back, and each schedule says by how much.
    assert skips(batch) == {other.pk: (SkipReason.OVER_CAP, Decimal("0.01")),
                            extra.pk: (SkipReason.OVER_CAP, Decimal("0.01"))}
    assert monthly.pk in paid_schedules(batch)


def test_the_run_uses_the_standard_in_force_in_the_period(family, schedule_for, run):
    household = family()
    full = schedule_for(household, frequency="once", amount=CAP)
    LocalStandard.objects.create(region=Region.objects.get(code="410102"), effective_from=DEC,
                                 poverty_line=Decimal("799.99"), min_wage=Decimal("2100.00"), source="中原区文件")
    batch = run(DEC).batch
    assert skips(batch) == {full.pk: (SkipReason.OVER_CAP, Decimal("0.24"))}  # 19 200.00 − 799.99 × 24
    assert not batch.payments.exists() and ledger(household) == 0


# Timing and the run's list of what it did not pay -------------------------------------------------------------

def test_quarterly_is_due_in_january_april_july_and_october(family, schedule_for, run):
    from_january = schedule_for(family(), frequency="quarterly", first_period=JAN)
    from_february = schedule_for(family(), frequency="quarterly", first_period=month(2027, 2))
    monthly = schedule_for(family(), first_period=JAN)
    batches = {number: run(month(2027, number)).batch for number in range(1, 13)}
    assert periods_paid(from_january) == [month(2027, n) for n in (1, 4, 7, 10)]
    assert periods_paid(from_february) == [month(2027, n) for n in (4, 7, 10)]
    assert len(periods_paid(monthly)) == 12
    # Not due is not skipped: the off-quarter batches list nothing.
    assert not any(batch.skipped.exists() for batch in batches.values())
    assert [runs.is_due(from_february, month(2027, n)) for n in range(1, 13)] == [
        n in (4, 7, 10) for n in range(1, 13)]


def test_the_run_lists_every_schedule_it_skipped_with_the_reason(family, schedule_for, run, caseworker, walk,
                                                                 county_supervisor):
    paid = schedule_for(family())
    left = schedule_for(family())
    walk(left.household, Status.EXITED)
    suspended = schedule_for(family())
    subsidies.set_status(suspended, Schedule.Status.SUSPENDED, by=county_supervisor, reason="外出务工，待核实")
    ended = schedule_for(family(), first_period=month(2026, 10), last_period=NOV)
    over = schedule_for(family(), frequency="once", amount=CAP)
    LocalStandard.objects.create(region=Region.objects.get(code="410102"), effective_from=DEC,
                                 poverty_line=Decimal("799.99"), min_wage=Decimal("2100.00"), source="中原区文件")
    no_card = schedule_for(family())
    type(no_card.household).objects.filter(pk=no_card.household_id).update(bank_card="")

    result = run(DEC)
    assert paid_schedules(result.batch) == {paid.pk: Decimal("300.00")}
    assert skips(result.batch) == {
        left.pk: (SkipReason.LEFT_REGISTER, None), suspended.pk: (SkipReason.SUSPENDED, None),
        ended.pk: (SkipReason.ENDED, None), over.pk: (SkipReason.OVER_CAP, Decimal("0.24")),
        no_card.pk: (SkipReason.NO_BANK_CARD, None),
    }
    assert (result.created, result.amount, result.skips_changed) == (1, Decimal("300.00"), 5)


def test_a_second_run_changes_nothing_and_a_resumed_schedule_is_paid_then(family, schedule_for, run,
                                                                          county_supervisor):
    suspended = schedule_for(family())
    subsidies.set_status(suspended, Schedule.Status.SUSPENDED, by=county_supervisor, reason="待核实")
    first = run(DEC, by=county_supervisor)
    again = run(DEC, by=county_supervisor)
    assert (again.created, again.skips_changed, again.batch.version) == (0, 0, first.batch.version)
    with pytest.raises(subsidies.SubsidyError, match="状态已变化"):
        subsidies.set_status(suspended, Schedule.Status.SUSPENDED, by=county_supervisor, reason="重复提交")
    subsidies.set_status(suspended, Schedule.Status.ACTIVE, by=county_supervisor, reason="核实无误")
    resumed = run(DEC)
    assert (resumed.created, resumed.skips_changed) == (1, 1)
    assert paid_schedules(resumed.batch) == {suspended.pk: Decimal("300.00")} and not resumed.batch.skipped.exists()


def test_ending_a_suspended_schedule_does_not_pay_it_again(family, schedule_for, run, county_supervisor):
    schedule = schedule_for(family())
    subsidies.set_status(schedule, Schedule.Status.SUSPENDED, by=county_supervisor, reason="外出务工，待核实")
    subsidies.set_status(schedule, Schedule.Status.ENDED, by=county_supervisor, reason="核实已就业")
    assert not run(DEC).batch.payments.exists()


def test_one_payment_per_schedule_and_period(family, schedule_for, run):
    schedule = schedule_for(family())
    first = run(DEC)
    for _attempt in range(2):
        assert run(DEC).created == 0
    original = schedule.payments.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(batch=first.batch, household=schedule.household, schedule=schedule, kind="living",
                               period=DEC, amount=Decimal("300.00"), fund_source="central", account_name="张建国",
                               account=new_card(), memo="重复")
    assert list(schedule.payments.all()) == [original] and PaymentBatch.objects.count() == 1


def test_an_approved_batch_takes_nothing_more_and_the_next_period_does(family, schedule_for, run, county_supervisor,
                                                                       checker, budgets):
    from assistance import batches

    schedule_for(family())
    batch = run(DEC, by=county_supervisor).batch
    batches.approve(batch, by=checker)
    late = schedule_for(family())
    again = run(DEC)
    assert again.locked and again.created == 0 and late.pk not in paid_schedules(again.batch)
    assert late.pk in paid_schedules(run(JAN).batch)


# Ending with the register -------------------------------------------------------------------------------------

@pytest.fixture
def two_schedules(family, schedule_for):
    """A household with a living and a medical schedule, and an earlier short one that ends in November."""

    def make(**fields):
        household = family(**fields)
        return household, [schedule_for(household), schedule_for(household, kind="medical", amount=Decimal("500.00")),
                           schedule_for(household, kind="schooling", first_period=month(2026, 10), last_period=NOV)]

    return make


def assert_ended(schedules, last_periods, reason: str) -> None:
    for schedule, last in zip(schedules, last_periods, strict=True):
        reload(schedule)
        assert (schedule.status, schedule.last_period, schedule.status_reason) == ("ended", last, reason)


def test_an_exit_ends_the_schedules_from_the_next_period(two_schedules, walk, run):
    household, schedules = two_schedules()
    walk(household, Status.EXIT_PROPOSED)
    assert {s.status for s in map(reload, schedules)} == {"active"}  # on the register until the exit is decided
    walk(household, Status.EXITED)
    assert_ended(schedules, [DEC, DEC, NOV], "批准退出")
    december = run(DEC).batch
    assert {reason for reason, _over in skips(december).values()} == {SkipReason.LEFT_REGISTER, SkipReason.ENDED}
    assert not december.payments.exists()
    assert set(skips(run(JAN).batch).values()) == {(SkipReason.ENDED, None)}


def test_a_rejected_exit_keeps_the_schedules(two_schedules, caseworker, supervisor, run):
    household, schedules = two_schedules()
    register.propose_exit(household, by=caseworker, **exit_proposal())
    register.reject_exit(household, by=supervisor, reason="收入证明不足")
    assert [s.status for s in map(reload, schedules)] == ["active", "active", "active"]
    assert set(paid_schedules(run(DEC).batch)) == {schedules[0].pk, schedules[1].pk}


def test_a_removal_ends_the_schedules(two_schedules, caseworker, supervisor):
    household, schedules = two_schedules()
    register.propose_exit(household, by=caseworker,
                          **exit_proposal(ExitKind.REMOVAL, reason="户主去世", removal_reason=RemovalReason.DEATH))
    register.approve_exit(household, by=supervisor, reason="同意注销")
    household.refresh_from_db()
    assert household.status == Status.REMOVED
    assert_ended(schedules, [DEC, DEC, NOV], "批准退出")


def test_a_transfer_out_ends_the_schedules_of_the_old_union(two_schedules, caseworker, outsider, unions, run):
    household, schedules = two_schedules()
    transfer = register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason="搬迁")
    assert [s.status for s in map(reload, schedules)] == ["active", "active", "active"]
    register.decide_transfer(transfer, by=outsider, accept=True)
    household.refresh_from_db()
    assert household.union == unions["410105-C01"] and household.status == Status.REGISTERED
    assert {(s.status, s.last_period) for s in map(reload, schedules)} == {("ended", DEC), ("ended", NOV)}
    january = run(JAN).batch
    assert not january.payments.exists()
    assert set(skips(january).values()) == {(SkipReason.ENDED, None)}


@pytest.fixture
def relief_family(two_schedules):
    """A household with a member who cannot work (解困 needs one), its schedules, on the register."""
    return lambda: two_schedules(members=[
        new_member(), new_member(relationship=Relationship.SPOUSE, sex=Sex.FEMALE, able_to_work=False,
                                 work_status="unable")])


def relieve(household, caseworker, supervisor) -> None:
    register.propose_exit(household, by=caseworker, **exit_proposal(ExitKind.RELIEF, reason="丧失劳动能力，政府兜底"))
    register.approve_exit(household, by=supervisor, reason="同意解困")


def test_relief_keeps_the_living_schedule_and_ends_the_others(relief_family, caseworker, supervisor):
    household, (living, medical, schooling) = relief_family()
    relieve(household, caseworker, supervisor)
    assert (reload(living).status, living.last_period) == ("active", None)
    assert_ended([medical, schooling], [DEC, NOV], "批准退出")


def test_relief_ends_the_living_schedule_too_when_the_rule_says_so(relief_family, caseworker, supervisor,
                                                                   settings):
    settings.SUBSIDY_RELIEF_KEEPS_LIVING = False
    household, schedules = relief_family()
    relieve(household, caseworker, supervisor)
    assert_ended(schedules, [DEC, DEC, NOV], "批准退出")


def test_a_relieved_household_is_still_paid_its_living_subsidy(relief_family, caseworker, supervisor, run):
    household, (living, _medical, _schooling) = relief_family()
    relieve(household, caseworker, supervisor)
    january = run(JAN).batch
    assert skips(january).get(living.pk) is None
    assert paid_schedules(january) == {living.pk: Decimal("300.00")}


# The Beijing date on a month boundary -------------------------------------------------------------------------

LATE_NOVEMBER, EARLY_DECEMBER = beijing(2026, 11, 30, 23, 30), beijing(2026, 12, 1, 0, 30)


@pytest.mark.parametrize(("moment", "period"), [(LATE_NOVEMBER, NOV), (EARLY_DECEMBER, DEC)])
def test_the_current_period_is_the_beijing_month(moment, period):
    with time_machine.travel(moment, tick=False):
        assert subsidies.current_period() == period
        assert runs.first_of_month(datetime.datetime.now(datetime.UTC).date()) == NOV  # UTC: still 30 November


@pytest.mark.parametrize(("moment", "last"), [(LATE_NOVEMBER, NOV), (EARLY_DECEMBER, DEC)])
def test_ending_a_schedule_takes_effect_after_the_beijing_month(family, schedule_for, county_supervisor, run,
                                                               moment, last):
    schedule = schedule_for(family(), first_period=NOV)
    with time_machine.travel(moment, tick=False):
        subsidies.set_status(schedule, Schedule.Status.ENDED, by=county_supervisor, reason="已就业")
    assert reload(schedule).last_period == last
    december = run(DEC).batch
    assert (schedule.pk in paid_schedules(december)) == (last == DEC)
    assert (skips(december).get(schedule.pk) == (SkipReason.ENDED, None)) == (last == NOV)


@pytest.mark.parametrize(("moment", "last"), [(LATE_NOVEMBER, NOV), (EARLY_DECEMBER, DEC)])
def test_an_exit_ends_the_schedules_after_the_beijing_month(family, schedule_for, walk, moment, last):
    schedule = schedule_for(family(), first_period=NOV)
    with time_machine.travel(moment, tick=False):
        walk(schedule.household, Status.EXITED)
    assert (reload(schedule).status, schedule.last_period) == ("ended", last)


@pytest.mark.parametrize(("moment", "accepted"), [(LATE_NOVEMBER, False), (EARLY_DECEMBER, True)])
def test_the_cap_at_save_counts_from_the_beijing_month(family, schedule_for, moment, accepted):
    """9 600.01 a month in November and December: both still to pay at 23:30, December only at 00:30."""
    household = family()
    with time_machine.travel(moment, tick=False):
        if accepted:
            schedule_for(household, first_period=NOV, last_period=DEC, amount=Decimal("9600.01"))
        else:
            with pytest.raises(subsidies.SubsidyError, match=r"超出 0\.02 元"):
                schedule_for(household, first_period=NOV, last_period=DEC, amount=Decimal("9600.01"))
            schedule_for(household, first_period=NOV, last_period=DEC, amount=Decimal("9600.00"))
    assert household.subsidy_schedules.count() == 1


def test_the_cap_at_save_also_looks_at_next_year_for_a_schedule_that_runs_on(family, schedule_for):
    """1 700 a month saved in December: December fits the 2026 cap, but 2027 would pay 20 400 against 19 200."""
    with time_machine.travel(EARLY_DECEMBER, tick=False):
        with pytest.raises(subsidies.SubsidyError, match=r"2027年.*超出 1200\.00 元"):
            schedule_for(family(), first_period=DEC, amount=Decimal("1700.00"))
