"""Signing in: lockout per account across addresses, the counted address behind proxies, session limits and
their server-side end, the sign-in audit."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from hardship.models import AccessRecord
from hardship.security.sessions import end_sessions
from tests.dossiers.conftest import build_household, make_household, standard  # noqa: F401 (fixtures)
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def sign_in(client, username="caseworker", password=TEST_PASSWORD, **meta):
    return client.post(reverse("login"), {"username": username, "password": password}, **meta)


def is_signed_in(client) -> bool:
    response = client.get(reverse("account_security"))
    return response.status_code == 200


# --- lockout ---------------------------------------------------------------------------------------------------

def test_16_failures_from_4_addresses_lock_the_account(client, caseworker):
    for attempt in range(16):
        sign_in(client, password="wrong", REMOTE_ADDR=f"192.0.2.{attempt % 4 + 1}")
    response = sign_in(client, REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 429 and "账号暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_correct_password_is_refused_while_locked_and_from_a_new_address_too(client, caseworker):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, password="wrong", REMOTE_ADDR="192.0.2.1")
    assert sign_in(client, REMOTE_ADDR="198.51.100.7").status_code == 429
    assert not is_signed_in(client)


def test_a_locked_account_does_not_lock_others_at_the_same_address(client, caseworker, outsider):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, password="wrong", REMOTE_ADDR="192.0.2.1")
    assert sign_in(client, "outsider", REMOTE_ADDR="192.0.2.1").status_code == 302


def test_a_spoofed_forwarded_for_does_not_change_the_counted_address(client, caseworker, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 0
    for attempt in range(3):
        sign_in(client, password="wrong", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.1"}
    failed = AccessRecord.objects.filter(action=AccessRecord.Action.LOGIN_FAILED)
    assert set(failed.values_list("address", flat=True)) == {"192.0.2.1"}


def test_behind_one_proxy_it_counts_the_address_the_proxy_saw(client, caseworker, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    sign_in(client, password="wrong", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.9"]
    assert AccessRecord.objects.get(action=AccessRecord.Action.LOGIN_FAILED).address == "203.0.113.9"


# --- sessions --------------------------------------------------------------------------------------------------

def test_signing_in_rotates_the_session_key(client, caseworker):
    session = client.session
    session["before"] = "anonymous"
    session.save()
    before = session.session_key
    sign_in(client)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert not Session.objects.filter(session_key=before).exists()


def test_an_idle_session_ends_after_30_minutes(client, caseworker):
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client)
        clock.shift(datetime.timedelta(minutes=29))
        assert is_signed_in(client)  # and the request renews it
        clock.shift(datetime.timedelta(minutes=29))
        assert is_signed_in(client)
        clock.shift(datetime.timedelta(minutes=31))
        assert not is_signed_in(client)


def test_a_busy_session_ends_12_hours_after_signing_in(client, caseworker):
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client)
        for _step in range(28):  # 11 h 40 min, a request every 25 minutes
            clock.shift(datetime.timedelta(minutes=25))
            assert is_signed_in(client)
        clock.shift(datetime.timedelta(minutes=25))
        response = client.get(reverse("account_security"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert "_auth_user_id" not in client.session


def test_signing_out_ends_the_session_on_the_server(client, caseworker):
    sign_in(client)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("logout"))
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert not is_signed_in(replay)


def test_changing_the_password_ends_the_other_sessions(client, caseworker):
    other = Client()
    sign_in(client)
    sign_in(other)
    new = "Neues-Pass2026"
    response = client.post(reverse("password_change"), {
        "old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new,
    })
    assert response.status_code == 302
    assert is_signed_in(client) and not is_signed_in(other)


def test_a_deactivated_user_is_signed_out_on_the_next_request(client_for, caseworker):
    client = client_for(caseworker)
    assert is_signed_in(client)
    caseworker.is_active = False
    caseworker.save()
    assert not is_signed_in(client)


def test_a_user_moved_to_another_union_no_longer_sees_the_old_unions_household(
        client_for, caseworker, unions, make_household):  # noqa: F811
    household = make_household(by=caseworker, union=unions["410102-C01"])
    client = client_for(caseworker)
    url = reverse("dossiers:detail", args=[household.file_number])
    assert client.get(url).status_code == 200
    caseworker.home_union = unions["410105-C01"]
    caseworker.save()
    assert client.get(url).status_code == 404


def test_an_administrator_ends_a_users_sessions(client_for, caseworker, outsider, national_admin):
    first, second, bystander = Client(), Client(), Client()
    sign_in(first)
    sign_in(second)
    sign_in(bystander, "outsider")
    admin = client_for(national_admin)
    response = admin.post(reverse("admin:hardship_user_changelist"), {
        "action": "end_sessions_action", "_selected_action": [caseworker.pk],
    })
    assert response.status_code == 302
    assert not is_signed_in(first) and not is_signed_in(second)
    assert is_signed_in(bystander) and is_signed_in(admin)


def test_ending_sessions_counts_what_it_ended(caseworker, outsider):
    sign_in(Client())
    assert end_sessions(type(caseworker).objects.filter(pk=caseworker.pk)) == 1
    assert end_sessions(type(caseworker).objects.filter(pk=outsider.pk)) == 0


# --- the sign-in audit -----------------------------------------------------------------------------------------

def test_it_records_sign_in_and_sign_out_with_the_address(client, caseworker):
    sign_in(client, REMOTE_ADDR="192.0.2.5")
    client.post(reverse("logout"), REMOTE_ADDR="192.0.2.5")
    records = AccessRecord.objects.order_by("at", "pk")
    assert [(r.action, r.user, r.address, r.succeeded, r.union) for r in records] == [
        (AccessRecord.Action.LOGIN, caseworker, "192.0.2.5", True, caseworker.home_union),
        (AccessRecord.Action.LOGOUT, caseworker, "192.0.2.5", True, caseworker.home_union),
    ]


def test_it_records_a_failed_sign_in_as_typed(client, caseworker):
    sign_in(client, "nobody-here", password="guess", REMOTE_ADDR="192.0.2.6")
    sign_in(client, password="wrong", REMOTE_ADDR="192.0.2.6")
    unknown, known = AccessRecord.objects.order_by("at", "pk")
    assert (unknown.action, unknown.user, unknown.username, unknown.succeeded) == (
        AccessRecord.Action.LOGIN_FAILED, None, "nobody-here", False)
    assert (known.user, known.username, known.address, known.succeeded) == (caseworker, "caseworker", "192.0.2.6",
                                                                              False)


def test_a_security_admin_resets_a_lost_authenticator_and_nobody_else_may(client_for, security_admin, county_admin,
                                                                          auditor, unions):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import UserFactory

    lost = UserFactory(username="lostphone", role="auditor", home_union=unions["410102"])
    TOTPDevice.objects.create(user=lost, name="手机", confirmed=True)
    changelist = reverse("admin:hardship_user_changelist")
    data = {"action": "reset_two_factor_action", "_selected_action": [lost.pk]}
    for user in (county_admin, auditor):  # 三员分立: not the administrator; the auditor changes nothing
        client_for(user).post(changelist, data)
        assert TOTPDevice.objects.filter(user=lost).exists()
        assert "reset_two_factor_action" not in client_for(user).get(changelist).content.decode()
    assert "end_sessions_action" not in client_for(auditor).get(changelist).content.decode()
    client_for(security_admin).post(changelist, data)
    assert not TOTPDevice.objects.filter(user=lost).exists()
    assert AccessRecord.objects.filter(user=security_admin, subject__contains="lostphone").exists()
