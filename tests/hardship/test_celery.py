"""Background jobs run in a real Celery worker over Redis."""

import pytest

from hardship.models import Heartbeat
from hardship.tasks import heartbeat

pytestmark = pytest.mark.celery


@pytest.mark.django_db(transaction=True)
def test_it_runs_a_job_in_the_worker_and_records_it(celery_worker):
    result = heartbeat.delay("test-beat")
    assert result.get(timeout=30)
    beat = Heartbeat.objects.get(name="test-beat")
    assert beat.worker  # written by the worker process, into the test database


@pytest.mark.django_db(transaction=True)
def test_it_is_harmless_to_run_the_job_twice(celery_worker):
    heartbeat.delay("twice").get(timeout=30)
    heartbeat.delay("twice").get(timeout=30)
    assert Heartbeat.objects.filter(name="twice").count() == 1


def test_it_schedules_the_heartbeat_with_beat():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["heartbeat"]["task"] == "hardship.tasks.heartbeat"
