"""The maintained counts equal a plain count over the register, at every level, whatever writes the tables: a
random sequence of filings, transitions, transfers, imports, pairings, plans, measures and payments, compared
after every step with the GROUP BYs of tests/reporting/direct.py."""

import datetime
import random

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from assistance import batches, plans, runs
from assistance.models import Measure, MeasureType, Plan
from assistance.subsidy_models import Payment
from dossiers import pairing, register
from dossiers.choices import Cause, KeyGroup, Status
from dossiers.filing import FilingError
from dossiers.models import Helper, Household
from dossiers.models.lifecycle import ExitKind
from dossiers.register import TransitionError
from hardship.models import Union
from reporting import figures
from reporting.dashboard import COLUMNS
from reporting.models import FigureCount, FigureDelta, HouseholdFigures
from tests.dossiers.conftest import exit_proposal
from tests.dossiers.test_import_engine import standard_file
from tests.reporting.direct import mismatches

pytestmark = pytest.mark.django_db
DEC = datetime.date(2026, 12, 1)


def assert_exact(today=None):
    """Every figure of every union equals the direct count, and a table's line (figures_of(brief=…)) the whole."""
    today = today or timezone.localdate()
    found = mismatches(Union.objects.all(), today)
    assert not found, "\n".join(found[:30])
    unions = list(Union.objects.all())
    whole, lines = figures.figures_of(unions, today), figures.figures_of([], today, brief=unions)
    for column in COLUMNS:
        assert {pk: column.value(f) for pk, f in lines.items()} == {pk: column.value(f) for pk, f in whole.items()}


class World:
    """The people and places of a random sequence, and the operations it draws from."""

    def __init__(self, rng, unions, people, make_household, walk):
        self.rng, self.unions, self.people, self.make_household, self.walk = rng, unions, people, make_household, walk
        self.helpers = [Helper.objects.create(name=f"帮扶人{n}", union=unions["410102-C01"], helping_unit="纺织厂工会",
                                              capacity=3, kinds=["employment"]) for n in range(3)]
        self.types = list(MeasureType.objects.filter(active=True))

    def households(self, *statuses):
        queryset = Household.objects.filter(union__path__startswith=self.unions["410102-C01"].path)  # her scope
        return list(queryset.filter(status__in=statuses) if statuses else queryset)

    def pick(self, *statuses):
        found = self.households(*statuses)
        return self.rng.choice(found) if found else None

    def file(self):
        return self.make_household(by=self.people["caseworker"], union=self.unions["410102-C01"],
                            main_cause=self.rng.choice(Cause.values), key_group=self.rng.choice(KeyGroup.values))

    def advance(self):
        household = self.pick(Status.DRAFT, Status.SUBMITTED, Status.REVIEWED)
        if household:
            self.walk(household, self.rng.choice([Status.VISITED, Status.REGISTERED, Status.REGISTERED]))
        return household

    def leave(self):
        household = self.pick(Status.REGISTERED)
        if household:
            kind = self.rng.choice(ExitKind.values)
            extra = {"removal_reason": "death"} if kind == ExitKind.REMOVAL else {}
            register.propose_exit(household, by=self.people["caseworker"], **exit_proposal(kind=kind, **extra))
            register.approve_exit(household, by=self.people["supervisor"], reason="同意")
        return household

    def transfer(self):
        household = self.pick(Status.REGISTERED)
        if household and household.union_id == self.unions["410102-C01"].pk:
            move = register.request_transfer(household, by=self.people["caseworker"],
                                             to_union=self.unions["410102-S01"], reason="搬家")
            register.decide_transfer(move, by=self.people["caseworker"], accept=True)
            return move

    def pair(self):
        household = self.pick(Status.REGISTERED, Status.EXIT_PROPOSED)
        if household and not pairing.active_pairing(household):
            return pairing.pair(household, self.rng.choice(self.helpers), by=self.people["caseworker"])

    def plan(self):
        household = self.pick(Status.REGISTERED)
        if household and not Plan.objects.filter(household=household).exists():
            year = self.rng.choice([2026, 2027, 2028])
            plan = Plan(goal="稳定就业", target_year=year, deadline=datetime.date(year, 6, 30), responsible="王芳")
            return plans.create_plan(household, plan, [self.measure()], by=self.people["caseworker"])

    def measure(self) -> Measure:
        kind = self.rng.choice([t for t in self.types if t.batch == "employment"])
        return Measure(measure_type=kind, description="推荐就业", responsible="王芳", due_on=DEC,
                       monthly_income=None, amount=1000 if kind.involves_money else None)

    def measure_status(self):
        measure = Measure.objects.order_by("?").first()
        if measure:  # as the admin or a bulk correction would: straight to the table
            return Measure.objects.filter(pk=measure.pk).update(status=self.rng.choice(Measure.Status.values),
                                                         outcome="已落实")

    def bulk_correction(self):  # set-based, as the import's merge writes
        ids = [h.pk for h in self.households()][:5]
        return Household.objects.filter(pk__in=ids).update(key_group=self.rng.choice(KeyGroup.values),
                                                    updated_at=timezone.now())

    def import_register(self):
        from dossiers.legacy.importer import run_import

        return run_import(standard_file(), "旧台账.xlsx", union=self.unions["410102"], user=self.people["county_admin"])

    OPERATIONS = ["file", "file", "advance", "advance", "leave", "transfer", "pair", "plan", "measure_status",
                  "bulk_correction", "import_register"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_sequence_keeps_every_figure_of_every_level_exact(seed, unions, caseworker, supervisor,
                                                                  county_admin, make_household, walk):
    world = World(random.Random(seed), unions, {"caseworker": caseworker, "supervisor": supervisor,
                                                "county_admin": county_admin}, make_household, walk)
    done = []
    # Every operation at least once (filings and advances first, so there is something to move), in random order.
    sequence = ["file", "file", "file", "advance", "advance"]
    rest = World.OPERATIONS + [world.rng.choice(World.OPERATIONS) for _ in range(8)] + ["advance", "leave"]
    world.rng.shuffle(rest)
    for operation in sequence + rest:
        try:
            if getattr(world, operation)():
                done.append(operation)
        except (TransitionError, FilingError, plans.PlanError, pairing.PairingError, ValidationError):
            pass  # refused by the rules: nothing written, and the counts must agree all the same
        assert_exact()
        if world.rng.random() < 0.3:
            figures.fold()
    assert HouseholdFigures.objects.count() == Household.objects.count()
    assert len(done) >= 12 and {"leave", "import_register", "file", "advance"} <= set(done), done


def test_payments_count_once_paid_against_the_paying_union(registered, schedule_for, county_supervisor, checker,
                                                           budgets, unions):
    households = [registered() for _ in range(3)]
    for household in households:
        schedule_for(household)
    batch = runs.run_period(DEC, union_ids=None, by=county_supervisor)[0].batch
    assert_exact()
    centre = unions["410102-C01"]
    assert figures.figures_of([centre], DEC)[centre.pk].unhelped == 3  # pending money is not help given yet
    batches.approve(batch, by=checker)
    batch.refresh_from_db()
    batches.mark_sent(batch, by=county_supervisor)
    first, second, _third = batch.payments.order_by("pk")
    batches.settle(first, paid=True)
    batches.settle(second, paid=False, reason="账户已冻结")
    assert_exact()
    for code in ("410102-C01", "410102", "410000", "100000"):
        union = unions[code]
        kept = figures.figures_of([union], DEC)[union.pk]
        assert (kept.paid_this_year, kept.unhelped) == (first.amount, 2)
    assert figures.figures_of([unions["410105"]], DEC)[unions["410105"].pk].paid_this_year == 0
    Payment.objects.filter(pk=first.pk).delete()
    assert_exact()


def test_the_moving_figures_follow_the_clock_and_the_merge_keeps_them(make_household, walk, caseworker, unions):
    centre = unions["410102-C01"]
    with time_machine.travel(datetime.datetime(2025, 3, 1, 10, tzinfo=datetime.UTC), tick=False):
        old = walk(make_household(by=caseworker, union=centre), Status.REGISTERED)
    walk(make_household(by=caseworker, union=centre), Status.REGISTERED)
    for today in (datetime.date(2026, 3, 1), datetime.date(2026, 3, 2), old.reverify_due, old.reverify_due
                  + datetime.timedelta(days=1), datetime.date(2027, 6, 1)):
        assert_exact(today)
    figures.fold()
    figures.merge_dates(datetime.date(2027, 6, 1))
    assert FigureCount.objects.filter(figure="changed", value="0000-00-00").exists()
    for today in (datetime.date(2027, 6, 1), datetime.date(2028, 1, 1)):
        assert_exact(today)


@pytest.mark.parametrize("hour, minute", [(23, 30), (0, 30)])
def test_unchanged_for_a_year_is_counted_by_the_beijing_date(hour, minute, make_household, caseworker, unions):
    """A file last changed at 23:30 or 00:30 Beijing time falls on that Beijing date, not the UTC one."""
    beijing = datetime.timezone(datetime.timedelta(hours=8))
    changed = datetime.datetime(2025, 6, 10, hour, minute, tzinfo=beijing)
    with time_machine.travel(changed, tick=False):
        make_household(by=caseworker, union=unions["410102-C01"])
    centre = unions["410102-C01"]
    day = changed.date() + datetime.timedelta(days=365)
    assert figures.figures_of([centre], day)[centre.pk].unchanged_year == 0
    assert figures.figures_of([centre], day + datetime.timedelta(days=1))[centre.pk].unchanged_year == 1
    assert_exact(day)
    assert_exact(day + datetime.timedelta(days=1))


def test_a_tables_line_refuses_the_figures_it_did_not_read(make_household, walk, caseworker, unions):
    walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    line = figures.figures_of([], timezone.localdate(), brief=[unions["410100"]])[unions["410100"].pk]
    assert line.on_register == 1 and line.unchanged_year == 0
    for name in ("by_category", "by_stage", "planned_this_year", "measures", "overall_progress"):
        with pytest.raises(LookupError):
            getattr(line, name)


def test_a_rebuild_gives_the_same_counts_as_the_triggers(make_household, walk, caseworker, unions):
    for _ in range(3):
        walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    today = timezone.localdate()
    before = {pk: f.counts for pk, f in figures.figures_of(list(Union.objects.all()), today).items()}
    assert FigureDelta.objects.exists()
    assert figures.rebuild() == Household.objects.count()
    after = {pk: f.counts for pk, f in figures.figures_of(list(Union.objects.all()), today).items()}
    assert {pk: {k: n for k, n in c.items() if n} for pk, c in before.items()} == {
        pk: {k: n for k, n in c.items() if n} for pk, c in after.items()}
    assert not FigureDelta.objects.exists()


def test_a_fold_moves_the_deltas_and_changes_no_figure(make_household, walk, caseworker, unions):
    walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    national = unions["100000"]
    before = figures.figures_of([national], timezone.localdate())[national.pk].counts
    assert figures.fold() > 0 and not FigureDelta.objects.exists()
    assert figures.figures_of([national], timezone.localdate())[national.pk].counts == before
    assert figures.fold() == 0


def test_a_rolled_back_change_moves_no_count(make_household, caseworker, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"])
    deltas = FigureDelta.objects.count()
    with pytest.raises(RuntimeError), connection.cursor() as cursor:
        from django.db import transaction

        with transaction.atomic():
            cursor.execute("UPDATE dossiers_household SET status = 'registered' WHERE id = %s", [household.pk])
            raise RuntimeError
    assert FigureDelta.objects.count() == deltas
    assert_exact()


@pytest.mark.django_db(transaction=True)
def test_a_union_moved_in_the_tree_takes_its_counts_along(make_household, walk, caseworker, unions):
    walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    county = Union.objects.get(code="410102")
    county.parent = Union.objects.get(code="420100")  # 中原区 under 武汉市, as an administrator might correct it
    county.save()
    today = timezone.localdate()
    assert_exact(today)
    moved = figures.figures_of([unions["420000"], unions["410000"]], today)
    assert (moved[unions["420000"].pk].on_register, moved[unions["410000"].pk].on_register) == (1, 0)


@pytest.mark.django_db(transaction=True)  # the command VACUUMs what the rebuild deleted: no transaction around it
def test_the_rebuild_command_finds_a_corrupted_count_and_puts_it_right(make_household, walk, caseworker, unions):
    from io import StringIO

    from django.core.management import call_command

    walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    out = StringIO()
    call_command("rebuild_figures", "--check", stdout=out)
    assert "the kept counts were exact" in out.getvalue()
    figures.fold()
    FigureCount.objects.filter(union=unions["410000"], figure="on").update(n=99)  # as a bad restore might leave it
    out = StringIO()
    call_command("rebuild_figures", "--check", stdout=out)
    assert "1 unions' counts differed" in out.getvalue()
    assert_exact()
