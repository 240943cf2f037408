"""Monthly snapshots (one per union and month, however often the job runs, also through a real Celery worker) and
the counts under concurrent transactions on real connections (no lost update, no deadlock)."""

import datetime
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from assistance.models import Measure, MeasureType, Plan
from dossiers.choices import KeyGroup, Status
from dossiers.models import Household
from hardship.models import Union
from reporting import snapshots
from reporting.models import Snapshot
from reporting.tasks import fold_figures, take_snapshots
from tests.reporting.test_figures import assert_exact


@pytest.mark.django_db
def test_a_second_run_in_a_month_replaces_the_snapshot(make_household, walk, caseworker, unions):
    centre = unions["410102-C01"]
    walk(make_household(by=caseworker, union=centre), Status.REGISTERED)
    today = timezone.localdate()
    assert snapshots.take(today) > 0
    first = Snapshot.objects.get(union=unions["100000"], month=today.replace(day=1))
    assert (first.on_register, first.figures["on:"]) == (1, 1)
    walk(make_household(by=caseworker, union=centre), Status.REGISTERED)
    snapshots.take(today)
    snapshots.take(today)
    assert Snapshot.objects.filter(month=today.replace(day=1)).count() == Snapshot.objects.filter(
        month=today.replace(day=1)).values("union").distinct().count()
    again = Snapshot.objects.get(union=unions["100000"], month=today.replace(day=1))
    assert again.pk == first.pk and again.on_register == 2 and again.filed == 2


@pytest.mark.django_db
def test_a_union_emptied_during_the_month_is_set_to_nothing(make_household, walk, caseworker, outsider, unions):
    from dossiers import register

    household = walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    today = timezone.localdate()
    snapshots.take(today)
    assert Snapshot.objects.get(union=unions["410102"], month=today.replace(day=1)).on_register == 1
    move = register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason="搬家")
    register.decide_transfer(move, by=outsider, accept=True)
    snapshots.take(today)
    assert Snapshot.objects.get(union=unions["410102"], month=today.replace(day=1)).on_register == 0
    assert Snapshot.objects.get(union=unions["410105"], month=today.replace(day=1)).on_register == 1


@pytest.mark.django_db
def test_next_months_run_starts_a_new_snapshot(make_household, walk, caseworker, unions):
    walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    snapshots.take(datetime.date(2026, 11, 30))
    snapshots.take(datetime.date(2026, 12, 1))
    months = list(Snapshot.objects.filter(union=unions["100000"]).values_list("month", flat=True))
    assert months == [datetime.date(2026, 11, 1), datetime.date(2026, 12, 1)]
    assert [s.month for s in snapshots.trend(unions["100000"].pk)] == months


def test_the_beat_jobs_run_twice_on_a_real_worker_keep_one_snapshot(celery_worker, transactional_db, unions,
                                                                    make_household, walk, caseworker):
    walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    first = take_snapshots.apply_async(queue=celery_worker).get(timeout=60)
    second = take_snapshots.apply_async(queue=celery_worker).get(timeout=60)
    assert first["snapshots"] == second["snapshots"] > 0 and first["folded"] > 0 and second["folded"] == 0
    assert fold_figures.apply_async(queue=celery_worker).get(timeout=60) == 0
    month = timezone.localdate().replace(day=1)
    assert Snapshot.objects.filter(union=unions["100000"], month=month).count() == 1
    assert_exact()


def _together(*jobs) -> list:
    """Each job in its own thread and connection and transaction, started together, held open a moment."""
    barrier, errors = threading.Barrier(len(jobs)), []

    def run(job):
        try:
            with transaction.atomic():
                barrier.wait()
                job()
                time.sleep(0.3)  # keep the transaction open while the others write
        except Exception as error:  # noqa: BLE001 — reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_to_one_household_lose_nothing(make_household, walk, caseworker, unions):
    household = walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    plan = Plan.objects.create(household=household, goal="就业", target_year=2027,
                               deadline=datetime.date(2027, 6, 30), responsible="王芳", created_by=caseworker,
                               updated_by=caseworker)
    kind = MeasureType.objects.filter(batch="employment").first()

    def add_done_measure():
        Measure.objects.create(plan=plan, household=household, measure_type=kind, description="推荐就业",
                               responsible="王芳", due_on=datetime.date(2027, 1, 1), status="done", outcome="已就业",
                               created_by=caseworker)

    def regroup():
        Household.objects.filter(pk=household.pk).update(key_group=KeyGroup.ILLNESS)

    def add_open_measure():
        Measure.objects.create(plan=plan, household=household, measure_type=kind, description="技能培训",
                               responsible="王芳", due_on=datetime.date(2027, 1, 1), created_by=caseworker)

    assert _together(add_done_measure, regroup, add_open_measure) == []
    assert_exact()
    from reporting.figures import figures_of

    centre = unions["410102-C01"]
    kept = figures_of([centre], timezone.localdate())[centre.pk]
    assert (kept.unhelped, kept.no_open_measure, kept.count("group", KeyGroup.ILLNESS)) == (0, 0, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_of_many_households_all_count(make_household, walk, caseworker, unions):
    households = [walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
                  for _ in range(4)]

    def exit_one(household):
        return lambda: Household.objects.filter(pk=household.pk).update(
            status=Status.EXITED, closed_on=timezone.localdate())

    assert _together(*(exit_one(h) for h in households)) == []
    assert_exact()
    national = Union.objects.get(code="100000")
    from reporting.figures import figures_of

    kept = figures_of([national], timezone.localdate())[national.pk]
    assert (kept.on_register, kept.exited_this_year) == (0, 4)
