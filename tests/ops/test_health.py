"""GET /health/: the database, Redis and the beat's heartbeat; details only for staff or the token's holder."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from hardship.models import Heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def beat_alive(db):
    return Heartbeat.objects.create(name="beat", last_seen=timezone.now(), worker="worker-host-7")


@pytest.fixture
def staff_client(county_admin, settings):
    """An administrator (is_staff follows the role); the second sign-in step is not what these tests are about."""
    settings.OTP_REQUIRED_ROLES = []
    assert county_admin.is_staff
    client = Client()
    client.force_login(county_admin, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_all_checks_pass_anonymous_gets_only_the_status(client, beat_alive):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "worker-host-7" not in response.content.decode()


def test_a_stale_heartbeat_fails_the_check(client, beat_alive, settings):
    Heartbeat.objects.filter(pk=beat_alive.pk).update(
        last_seen=timezone.now() - datetime.timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE + 1))

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_a_heartbeat_never_written_fails_the_check(client):
    assert client.get("/health/").status_code == 503


def test_the_threshold_is_a_setting(client, beat_alive, settings):
    Heartbeat.objects.filter(pk=beat_alive.pk).update(last_seen=timezone.now() - datetime.timedelta(minutes=10))
    settings.HEALTH_HEARTBEAT_MAX_AGE = 3600

    assert client.get("/health/").status_code == 200


def test_redis_unreachable_is_503_and_staff_see_which_check_failed(staff_client, beat_alive, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = staff_client.get("/health/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {
        "database": "ok", "redis": "error: ConnectionError", "celery_heartbeat": "ok"}}


def test_staff_see_each_check(staff_client, beat_alive):
    response = staff_client.get("/health/")

    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "celery_heartbeat": "ok"}}


def test_a_signed_in_user_who_is_not_staff_sees_no_details(client_for, caseworker, beat_alive):
    client = client_for(caseworker)

    assert client.get("/health/").json() == {"status": "ok"}


def test_the_token_shows_details(client, beat_alive, settings):
    settings.HEALTH_CHECK_TOKEN = "s3cret-monitoring-token"

    assert "checks" in client.get("/health/", headers={"X-Health-Token": "s3cret-monitoring-token"}).json()
    assert client.get("/health/", headers={"X-Health-Token": "wrong"}).json() == {"status": "ok"}


def test_no_token_set_means_no_token_accepted(client, beat_alive, settings):
    settings.HEALTH_CHECK_TOKEN = ""

    assert client.get("/health/", headers={"X-Health-Token": ""}).json() == {"status": "ok"}


def test_only_get_and_no_csrf_or_session_needed(beat_alive):
    client = Client(enforce_csrf_checks=True)

    assert client.get("/health/").status_code == 200
    assert "sessionid" not in client.cookies
    assert client.post("/health/").status_code == 405
    assert client.put("/health/").status_code == 405


def test_the_liveness_probe_needs_only_the_database(client, staff_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # and no heartbeat at all

    assert client.get("/health/?live=1").json() == {"status": "ok"}
    assert staff_client.get("/health/?live=1").json() == {"status": "ok", "checks": {"database": "ok"}}
    assert client.get("/health/").status_code == 503
