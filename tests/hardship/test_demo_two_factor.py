"""The demo's accounts that must pass the second sign-in step can, without a phone: `demo_code` prints the code."""

import io

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from hardship.demo import load_union_demo

pytestmark = pytest.mark.django_db


def test_the_demo_code_signs_in_an_account_that_needs_two_steps():
    load_union_demo()
    for username in ("admin", "national", "security", "auditor"):
        out = io.StringIO()
        call_command("demo_code", username, stdout=out)
        device = TOTPDevice.objects.get(user__username=username)
        assert device.verify_token(out.getvalue().strip())
    assert not TOTPDevice.objects.filter(user__username="caseworker").exists()
    with pytest.raises(CommandError):
        call_command("demo_code", "caseworker")
