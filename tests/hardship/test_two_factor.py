"""Two-factor sign-in (django-otp): required for administrators, security administrators and auditors, optional
for the others; real TOTP codes computed from the device, the clock moved with time-machine."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hardship.models import AccessRecord
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def set_up(client) -> tuple[TOTPDevice, list[str]]:
    """Enrol through the setup page; the device and the recovery codes shown."""
    page = client.get(reverse("otp_setup"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=page.context["user"], confirmed=False)
    response = client.post(reverse("otp_setup"), {"code": code(device)})
    assert response.status_code == 200
    return device, response.context["codes"]


def test_a_required_role_is_sent_to_set_up_before_anything_else(national_admin):
    with time_machine.travel(START, tick=False):
        client = sign_in("national")
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("otp_setup"))
        response = client.get(reverse("otp_setup"))
        assert "no-store" in response["Cache-Control"]  # the secret stays out of caches
        page = response.content.decode()
        assert "<svg" in page and "<path" in page
        device = TOTPDevice.objects.get(user=national_admin, confirmed=False)
        secret = page.split('class="otp-secret">')[1].split("<")[0].replace(" ", "")
        from base64 import b32decode
        assert b32decode(secret) == device.bin_key  # the secret as text, for typing it in


def test_setting_up_shows_ten_recovery_codes_once_and_opens_the_site(national_admin):
    with time_machine.travel(START, tick=False):
        client = sign_in("national")
        device, codes = set_up(client)
        assert len(codes) == len(set(codes)) == 10
        device.refresh_from_db()
        assert device.confirmed
        assert client.get(reverse("home")).status_code == 200
        # Shown once: the setup page now leads to the account page, which tells how many are left.
        assert client.get(reverse("otp_setup"))["Location"] == reverse("otp_verify")
        assert codes[0] not in client.get(reverse("account_security")).content.decode()


def test_a_wrong_code_does_not_set_up(national_admin):
    with time_machine.travel(START, tick=False):
        client = sign_in("national")
        client.get(reverse("otp_setup"))
        response = client.post(reverse("otp_setup"), {"code": "000000"})
        assert "验证码不正确" in response.content.decode()
        assert not TOTPDevice.objects.filter(confirmed=True).exists()
        assert client.get(reverse("home")).status_code == 302


def test_the_next_sign_in_asks_for_a_code_and_accepts_the_current_one(national_admin):
    with time_machine.travel(START, tick=False) as clock:
        device, _codes = set_up(sign_in("national"))
        clock.shift(datetime.timedelta(minutes=5))
        client = sign_in("national")
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("otp_verify"))
        response = client.post(reverse("otp_verify"), {"code": code(device), "next": reverse("home")})
        assert response.status_code == 302 and response["Location"] == reverse("home")
        assert client.get(reverse("home")).status_code == 200
        logins = AccessRecord.objects.filter(action=AccessRecord.Action.LOGIN).order_by("at", "pk")
        assert [record.subject for record in logins] == ["national", "national · 两步验证"] * 2


def test_a_code_from_long_ago_or_used_already_is_refused(national_admin):
    with time_machine.travel(START, tick=False) as clock:
        device, _codes = set_up(sign_in("national"))
        old = code(device)
        clock.shift(datetime.timedelta(minutes=10))  # far outside the window of one step either side
        client = sign_in("national")
        response = client.post(reverse("otp_verify"), {"code": old})
        assert response.status_code == 200 and "验证码不正确" in response.content.decode()
        assert client.get(reverse("home")).status_code == 302
        failed = AccessRecord.objects.filter(action=AccessRecord.Action.LOGIN_FAILED, user=national_admin)
        assert [record.subject for record in failed] == ["national · 两步验证"]
        clock.shift(datetime.timedelta(seconds=40))  # past the failure's throttle delay
        current = code(device)
        assert client.post(reverse("otp_verify"), {"code": current}).status_code == 302
        replay = sign_in("national")
        assert replay.post(reverse("otp_verify"), {"code": current}).status_code == 200  # a code works once


def test_a_recovery_code_works_once(national_admin):
    with time_machine.travel(START, tick=False) as clock:
        _device, codes = set_up(sign_in("national"))
        clock.shift(datetime.timedelta(minutes=5))
        first = sign_in("national")
        assert first.post(reverse("otp_verify"), {"code": codes[0]}).status_code == 302
        assert first.get(reverse("home")).status_code == 200
        clock.shift(datetime.timedelta(minutes=5))
        second = sign_in("national")
        response = second.post(reverse("otp_verify"), {"code": codes[0]})
        assert response.status_code == 200 and second.get(reverse("home")).status_code == 302
        assert StaticToken.objects.filter(device__user=national_admin).count() == 9


def test_a_caseworker_without_a_device_signs_in_with_the_password_alone(caseworker):
    client = sign_in("caseworker")
    assert client.get(reverse("home")).status_code == 200


def test_a_caseworker_can_turn_two_factor_on_and_off(caseworker):
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in("caseworker")
        set_up(client)
        clock.shift(datetime.timedelta(minutes=5))
        again = sign_in("caseworker")
        assert again.get(reverse("home"))["Location"].startswith(reverse("otp_verify"))
        response = client.post(reverse("otp_disable"))
        assert response.status_code == 302
        assert not TOTPDevice.objects.filter(user=caseworker).exists()
        assert sign_in("caseworker").get(reverse("home")).status_code == 200


def test_a_required_role_cannot_turn_two_factor_off(auditor):
    with time_machine.travel(START, tick=False):
        client = sign_in("auditor")
        set_up(client)
        client.post(reverse("otp_disable"))
        assert TOTPDevice.objects.filter(user=auditor, confirmed=True).exists()


def test_the_admin_shows_no_device_secrets(client_for, national_admin):
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice

    assert not admin.site.is_registered(TOTPDevice) and not admin.site.is_registered(StaticDevice)


def test_wrong_codes_count_toward_the_lockout_and_end_the_half_signed_in_session(national_admin, settings):
    with time_machine.travel(START, tick=False) as clock:
        set_up(sign_in("national"))
        clock.shift(datetime.timedelta(minutes=5))
        client = sign_in("national")
        for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            assert client.post(reverse("otp_verify"), {"code": "000000"}).status_code == 200
        response = client.post(reverse("otp_verify"), {"code": "000000"})
        assert response.status_code == 429 and "账号暂时锁定" in response.content.decode()  # axes' lockout page
        assert client.get(reverse("home"))["Location"].startswith(reverse("login"))  # signed out
        refused = Client().post(reverse("login"), {"username": "national", "password": TEST_PASSWORD})
        assert refused.status_code == 429  # the right password too, while locked
        failed = AccessRecord.objects.filter(action=AccessRecord.Action.LOGIN_FAILED, user=national_admin)
        assert failed.filter(subject="national · 两步验证").count() == settings.AXES_FAILURE_LIMIT


def test_turning_two_factor_on_ends_the_other_sessions(caseworker):
    with time_machine.travel(START, tick=False):
        elsewhere = sign_in("caseworker")
        assert elsewhere.get(reverse("home")).status_code == 200
        here = sign_in("caseworker")
        set_up(here)
        assert here.get(reverse("home")).status_code == 200
        assert elsewhere.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_the_code_page_sends_a_user_without_an_authenticator_on(caseworker, national_admin):
    response = sign_in("caseworker").get(reverse("otp_verify"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    response = sign_in("national").get(reverse("otp_verify"))
    assert response.status_code == 302 and response["Location"] == reverse("otp_setup")
