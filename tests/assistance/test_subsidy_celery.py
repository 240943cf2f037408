"""The monthly subsidy run pays each (schedule, period) exactly once with real Celery workers on real Redis (never
eager mode): the same period queued twice, a run in the worker racing one in this process, two workers at once,
a worker killed mid-transaction and its task redelivered, two beats firing, a run queued in a rolled-back
transaction, and Redis down when the run is queued.

The worker processes use the test database (tests/celery_worker.py). To make two runs overlap, or to stop a run in
the middle of its transaction, the test holds a lock from a connection of its own (`side`) and watches pg_locks
until the worker's backend waits for it: the union's run lock (pg_advisory_xact_lock(hashtext('assistance.run'),
union)) for a run that has not started, or the payments table (LOCK … IN SHARE MODE) for a run that has written its
batch row and waits to insert the payments.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import socket
import threading
import time
import uuid
from decimal import Decimal

import psycopg
import pytest
import redis
import time_machine
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from kombu.exceptions import OperationalError

from assistance import runs
from assistance.subsidies import current_period
from assistance.subsidy_models import LivingAidYear, Payment, PaymentBatch, SkippedSchedule
from assistance.tasks import run_subsidies, run_this_month
from hardship.celery import app as celery_app
from tests.celery_worker import start_worker, stop_worker
from tests.dossiers.conftest import at_beijing

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

PERIOD = datetime.date(2026, 12, 1)
# Amounts whose sum a float would get wrong (0.1 + 0.2 + 333.33 == 333.63000000000005).
AMOUNTS = [Decimal("0.10"), Decimal("0.20"), Decimal("333.33")]
TOTAL = "333.63"
# Workers that put back a dead worker's unacknowledged task after 2 s, looking every second (hardship/settings.py).
QUICK_REDELIVERY = {"CELERY_VISIBILITY_TIMEOUT": "2", "CELERY_UNACKED_RESTORE_INTERVAL": "1",
                    "CELERY_UNACKED_RESTORE_THROTTLE": "1"}


# --- data --------------------------------------------------------------------------------------------------------

@pytest.fixture
def scheduled(registered, schedule_for):
    """scheduled(first_period=PERIOD): three households on the register, each with a monthly living subsidy."""

    def make(first_period: datetime.date = PERIOD):
        return [schedule_for(registered(), amount=amount, first_period=first_period) for amount in AMOUNTS]

    return make


def assert_paid_once(schedules, period: datetime.date = PERIOD) -> PaymentBatch:
    """Each schedule paid exactly once in the period, in the union's one batch of the period, whose count and total
    are those of its payments (all Decimal), written by one run that created payments (version 1)."""
    union_id = schedules[0].union_id
    batches = list(PaymentBatch.objects.filter(union_id=union_id, period=period, campaign__isnull=True))
    assert len(batches) == 1, batches
    batch = batches[0]
    for schedule in schedules:
        assert Payment.objects.filter(schedule=schedule, period=period).count() == 1, schedule
    payments = list(Payment.objects.filter(batch=batch))
    assert len(payments) == len(schedules) == batch.count
    assert all(isinstance(p.amount, Decimal) for p in payments) and isinstance(batch.total, Decimal)
    assert batch.total == sum(p.amount for p in payments) == sum(s.amount for s in schedules)
    assert batch.version == 1  # refresh_totals ran once: exactly one run created payments
    assert Payment.objects.count() == len(schedules)  # nothing in another batch or period either
    ledger = LivingAidYear.objects.get(household=schedules[0].household, year=period.year)
    assert ledger.amount == schedules[0].amount  # the living-aid ledger counted the payment once
    return batch


def created(results: list[list[dict]]) -> list[int]:
    """The payments each task's run created (one union: one entry per task), sorted."""
    assert all(len(result) == 1 for result in results), results
    return sorted(result[0]["created"] for result in results)


# --- locks and waiting -------------------------------------------------------------------------------------------

@pytest.fixture
def side(transactional_db):
    """A connection of the test's own (autocommit) to the test database, beside Django's."""
    db = connection.settings_dict
    conn = psycopg.connect(host=db["HOST"], port=db["PORT"] or None, user=db["USER"],
                           password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True)
    yield conn
    conn.close()


def hold_run_lock(side, union_id: int) -> None:
    """The union's run lock, session-level: a run's pg_advisory_xact_lock waits until release_run_lock."""
    side.execute("SELECT pg_advisory_lock(hashtext('assistance.run'), %s::int)", [union_id])


def release_run_lock(side, union_id: int) -> None:
    assert side.execute("SELECT pg_advisory_unlock(hashtext('assistance.run'), %s::int)",
                        [union_id]).fetchone()[0]


def waiting_for_run_lock(side, union_id: int) -> list[int]:
    """The backends waiting for the union's run lock."""
    return [pid for (pid,) in side.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = hashtext('assistance.run')::oid AND objid = %s::int::oid AND objsubid = 2",
        [union_id])]


def waiting_for_table(side, table: str) -> list[int]:
    return [pid for (pid,) in side.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'relation' AND relation = %s::regclass AND NOT granted",
        [table])]


def holds_write_lock(side, pid: int, table: str) -> bool:
    """Whether the backend has written to the table in its open transaction (holds its RowExclusiveLock)."""
    return side.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'relation' AND granted"
        " AND relation = %s::regclass AND mode = 'RowExclusiveLock')", [pid, table]).fetchone()[0]


def backend_alive(side, pid: int) -> bool:
    return side.execute("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid]).fetchone()[0]


def wait_until(condition, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def queued(queue: str) -> int:
    """Messages waiting in the queue on Redis (kombu keeps one list per priority step, named after the queue)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    sep = "\x06\x16"
    return sum(client.llen(key) for key in [queue, *(f"{queue}{sep}{step}" for step in (3, 6, 9))])


def drain(queue: str) -> None:
    """Until the worker of this queue has run everything queued before now: it runs them in order (one solo
    worker, one message at a time), so a no-op task queued last has its result after all of them."""
    assert run_subsidies.apply_async(("2000-01",), queue=queue).get(timeout=30) == []  # nothing was due then


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture(autouse=True)
def settled(transactional_db, celery_worker):
    """After each test (before the database is flushed): the worker has finished whatever the test queued, so that
    a test failing with a run still queued or running does not leave it to deadlock with the flush."""
    yield
    try:
        drain(celery_worker)
    except Exception:  # noqa: BLE001 - the test's own failure is the one to report
        pass


# --- 1. the same period twice ------------------------------------------------------------------------------------

def test_the_same_period_queued_twice_pays_once_in_decimals(celery_worker, scheduled):
    schedules = scheduled()
    first, second = run_subsidies.delay("2026-12"), run_subsidies.delay("2026-12")
    results = [first.get(timeout=30), second.get(timeout=30)]

    assert created(results) == [0, len(schedules)]
    batch = assert_paid_once(schedules)
    assert {result[0]["batch"] for result in results} == {batch.pk}
    creating = next(result[0] for result in results if result[0]["created"])
    # The amount went through SQL, the task's JSON result and back without a float on the way.
    assert creating["amount"] == TOTAL == str(batch.total) == str(sum(AMOUNTS))
    assert Decimal(creating["amount"]) == sum(Payment.objects.values_list("amount", flat=True))
    assert not SkippedSchedule.objects.exists()


def test_a_run_queued_while_this_process_runs_the_period_pays_once(celery_worker, scheduled, side):
    schedules = scheduled()
    union_id = schedules[0].union_id
    with transaction.atomic():  # our run's transaction (and its run lock) stays open until the block ends
        ours = runs.run_period(PERIOD)
        task = run_subsidies.delay("2026-12")
        wait_until(lambda: waiting_for_run_lock(side, union_id), "the worker's run waits behind ours")
        assert [r.created for r in ours] == [len(schedules)]
    theirs = task.get(timeout=30)

    assert created([theirs]) == [0]
    assert Decimal(theirs[0]["amount"]) == 0
    assert assert_paid_once(schedules).pk == ours[0].batch.pk == theirs[0]["batch"]


def test_this_process_running_the_period_while_the_worker_is_mid_run_pays_once(celery_worker, scheduled, side):
    schedules = scheduled()
    union_id = schedules[0].union_id
    ours: list = []

    def run_here():
        try:
            ours.extend(runs.run_period(PERIOD))
        finally:
            connection.close()  # this thread's own connection

    with side.transaction():
        side.execute("LOCK TABLE assistance_payment IN SHARE MODE")  # the worker's INSERT of payments waits
        task = run_subsidies.delay("2026-12")
        [worker_pid] = wait_until(lambda: waiting_for_table(side, "assistance_payment"),
                                  "the worker's run waits to insert the payments")
        assert holds_write_lock(side, worker_pid, "assistance_paymentbatch")  # it has written its batch row
        here = threading.Thread(target=run_here)
        here.start()
        wait_until(lambda: waiting_for_run_lock(side, union_id), "our run waits behind the worker's")
    here.join(timeout=30)
    theirs = task.get(timeout=30)

    assert not here.is_alive()
    assert created([theirs]) == [len(schedules)] and [r.created for r in ours] == [0]
    assert theirs[0]["amount"] == TOTAL
    assert assert_paid_once(schedules).pk == theirs[0]["batch"] == ours[0].batch.pk


# --- 2. two workers at once --------------------------------------------------------------------------------------

def test_two_workers_running_the_same_period_at_once_pay_once(celery_worker, scheduled, side):
    schedules = scheduled()
    union_id = schedules[0].union_id
    second_worker, _queue = start_worker(celery_worker, name=f"{celery_worker}-second")
    try:
        hold_run_lock(side, union_id)
        try:
            tasks = [run_subsidies.delay("2026-12"), run_subsidies.delay("2026-12")]
            # Each worker takes one (solo pool, prefetch 1, acknowledged late) and both wait at the run lock.
            waiting = wait_until(lambda: len(pids := waiting_for_run_lock(side, union_id)) == 2 and pids,
                                 "both workers' runs wait at the union's run lock")
            assert len(set(waiting)) == 2
        finally:
            release_run_lock(side, union_id)
        results = [task.get(timeout=30) for task in tasks]
    finally:
        stop_worker(second_worker)

    assert created(results) == [0, len(schedules)]
    assert_paid_once(schedules)


# --- 3. a worker killed mid-run ----------------------------------------------------------------------------------
# Prefork workers, as in production: there the pool's child runs the task and the worker acknowledges a task that
# is not acks_late as soon as the child takes it (a solo worker would only get to it after the task).

def children(pid: int) -> list[int]:
    return [int(child) for task in os.listdir(f"/proc/{pid}/task")
            for child in open(f"/proc/{pid}/task/{task}/children").read().split()]


@contextlib.contextmanager
def blocked_mid_run(side, queue: str):
    """The run queued on `queue` stopped in the middle of its transaction (its batch row written, its payments
    waiting for the table lock): yields the task and its backend's pid; the lock is released on leaving."""
    with side.transaction():
        side.execute("LOCK TABLE assistance_payment IN SHARE MODE")
        task = run_subsidies.apply_async(("2026-12",), queue=queue)
        [pid] = wait_until(lambda: waiting_for_table(side, "assistance_payment"),
                           "the worker's run waits to insert the payments")
        assert holds_write_lock(side, pid, "assistance_paymentbatch")  # mid-transaction: its batch row written
        yield task, pid


def assert_nothing_committed() -> None:
    assert not PaymentBatch.objects.exists() and not Payment.objects.exists()
    assert not LivingAidYear.objects.exists() and not SkippedSchedule.objects.exists()


def test_a_worker_killed_mid_run_leaves_nothing_and_its_task_is_redelivered_and_pays_once(celery_worker, scheduled,
                                                                                           side):
    schedules = scheduled()
    queue = f"test-kill-{uuid.uuid4().hex[:8]}"
    doomed, _queue = start_worker(queue, name=f"{queue}-doomed", env=QUICK_REDELIVERY, pool="prefork")
    try:
        with blocked_mid_run(side, queue) as (task, backend):
            [child] = children(doomed.pid)
            doomed.send_signal(signal.SIGKILL)  # the whole worker, as a lost machine or container: parent first,
            os.kill(child, signal.SIGKILL)  # so that it cannot hand the task back itself
            assert doomed.wait(timeout=10) == -signal.SIGKILL
            assert_nothing_committed()  # its batch row is in a transaction that can no longer commit
        # The lock released, the killed run's backend finds its client gone and rolls back; no worker takes the
        # task before the replacement starts.
        wait_until(lambda: not backend_alive(side, backend), "the killed run's backend ends")
        assert_nothing_committed()
    finally:
        if doomed.poll() is None:
            doomed.kill()
    assert task.state == "PENDING"  # not acknowledged, no result: the message waits in Redis's unacked set
    unacked = redis.Redis.from_url(settings.CELERY_BROKER_URL).hvals("unacked")  # by delivery tag: the messages
    assert any(task.id.encode() in message for message in unacked)

    replacement, _queue = start_worker(queue, name=f"{queue}-replacement", env=QUICK_REDELIVERY, pool="prefork")
    try:
        result = task.get(timeout=30)  # put back after the visibility timeout, run by the new worker
        assert queued(queue) == 0
    finally:
        stop_worker(replacement)

    assert created([result]) == [len(schedules)] and result[0]["amount"] == TOTAL
    assert_paid_once(schedules)


def test_a_pool_process_killed_mid_run_hands_the_task_back_and_it_pays_once(celery_worker, scheduled, side):
    """The kernel's OOM killer takes the child running the task: reject_on_worker_lost puts the task back at once
    and the worker's next child runs it (without it, acks_late would acknowledge it as failed)."""
    schedules = scheduled()
    queue = f"test-oom-{uuid.uuid4().hex[:8]}"
    worker, _queue = start_worker(queue, name=f"{queue}-worker", pool="prefork")
    try:
        with blocked_mid_run(side, queue) as (task, backend):
            [child] = children(worker.pid)
            os.kill(child, signal.SIGKILL)
            wait_until(lambda: not os.path.exists(f"/proc/{child}/status")
                       or "zombie" in open(f"/proc/{child}/status").read(), "the child dies")
            # The task is back at once and the next child's run may commit as soon as the lock is released:
            # what the killed run committed (nothing) is checked before.
            assert_nothing_committed()
        result = task.get(timeout=30)
        wait_until(lambda: not backend_alive(side, backend), "the killed run's backend ends")
    finally:
        stop_worker(worker)

    assert created([result]) == [len(schedules)] and result[0]["amount"] == TOTAL
    assert_paid_once(schedules)


# --- 4. two beats ------------------------------------------------------------------------------------------------

def test_two_beats_firing_the_monthly_run_pay_this_month_once(celery_worker, scheduled, schedule_for, registered):
    this_month = current_period()  # the worker's run takes the real clock's Beijing month
    schedules = scheduled(first_period=this_month)
    last_month = this_month - relativedelta(months=1)
    # A schedule set up last month, from last month: the clock moved in this process only (the worker keeps
    # the real one), so the run pays it this month and not last month.
    household = registered()
    with time_machine.travel(at_beijing(last_month + datetime.timedelta(days=14), 10), tick=False):
        schedules.append(schedule_for(household, amount=Decimal("50.00"), first_period=last_month))

    results = [run_this_month.delay(), run_this_month.delay()]
    results = [result.get(timeout=30) for result in results]

    assert created(results) == [0, len(schedules)]
    batch = assert_paid_once(schedules, this_month)
    assert not Payment.objects.exclude(period=this_month).exists()
    assert next(r[0]["amount"] for r in results if r[0]["created"]) == str(sum(AMOUNTS) + Decimal("50.00"))
    assert batch.makers == []  # a beat's run has no maker


# --- 5. a rolled-back transaction --------------------------------------------------------------------------------

class RolledBack(Exception):
    pass


def test_a_run_queued_on_commit_of_a_rolled_back_transaction_is_never_queued(celery_worker, scheduled):
    schedules = scheduled()
    with pytest.raises(RolledBack), transaction.atomic():  # the supervisors' button, failing after the click
        run_subsidies.delay_on_commit("2026-12")
        raise RolledBack
    assert queued(celery_worker) == 0
    drain(celery_worker)  # anything queued above has run by now
    time.sleep(1)
    assert not PaymentBatch.objects.exists() and not Payment.objects.exists()
    assert queued(celery_worker) == 0

    with transaction.atomic():  # the same call committed does queue the run
        run_subsidies.delay_on_commit("2026-12")
    wait_until(lambda: PaymentBatch.objects.filter(count=len(schedules)).exists(), "the committed run's batch")
    assert_paid_once(schedules)


# --- 6. Redis down -----------------------------------------------------------------------------------------------

def test_queuing_the_run_with_redis_down_fails_loudly_and_queuing_it_again_pays_once(celery_worker, scheduled):
    schedules = scheduled()
    down = f"redis://127.0.0.1:{closed_port()}/0"
    started = time.monotonic()
    with pytest.raises(OperationalError, match="onnect"), celery_app.connection_for_write(down) as broken:
        run_subsidies.apply_async(("2026-12",), connection=broken)  # the task's own publish, with its retries
    elapsed = time.monotonic() - started
    # The publish retries of CELERY_BROKER_TRANSPORT_OPTIONS (hardship/settings.py; about 1.2 s on a refused
    # connection): the supervisor's page gets the error in seconds, not when the request times out.
    assert elapsed < 5, elapsed
    drain(celery_worker)
    assert not PaymentBatch.objects.exists() and not Payment.objects.exists()

    again = run_subsidies.delay("2026-12").get(timeout=30)  # Redis back: the supervisor clicks again
    and_again = run_subsidies.delay("2026-12").get(timeout=30)
    assert created([again, and_again]) == [0, len(schedules)]
    assert again[0]["amount"] == TOTAL
    assert_paid_once(schedules)
