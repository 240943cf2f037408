"""Password rules (等保 level 3): length 10, three kinds of character, not common, not like the account, not only
digits; the date a password was set, and the change it forces after PASSWORD_MAX_AGE_DAYS."""

import datetime

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hardship.models import User
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def problems(password: str, user=None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return [e.code for e in error.error_list]
    return []


@pytest.mark.parametrize("password, code", [
    ("Ab1!xyz", "password_too_short"),  # 7 characters
    ("abcdefghijk", "password_too_simple"),  # one kind
    ("abcdefgh12", "password_too_simple"),  # two kinds
    ("Password123", "password_too_common"),
    ("8412907365", "password_entirely_numeric"),
])
def test_it_refuses_weak_passwords(password, code):
    assert code in problems(password)


def test_it_refuses_a_password_like_the_account(caseworker):
    assert "password_too_similar" in problems("Caseworker1", caseworker)


@pytest.mark.parametrize("password", ["Huaiyang#river", "zhengzhou-2026", "QINGHE2026qing"])
def test_it_accepts_three_kinds_of_ten_characters(password):
    assert problems(password) == []


def test_the_kinds_message_is_in_chinese():
    with pytest.raises(ValidationError) as raised:
        validate_password("abcdefghijkl")
    assert "密码须包含大写字母、小写字母、数字、符号中的至少 3 种。" in raised.value.messages


def test_setting_a_password_records_when(caseworker):
    moment = datetime.datetime(2026, 5, 1, 8, 0, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        caseworker.set_password("Another-pass-26")
        caseworker.save()
    assert User.objects.get(pk=caseworker.pk).password_changed_at == moment
    assert caseworker.password_changed_at == moment


def test_an_old_password_sends_the_user_to_change_it_first(client, caseworker, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    with time_machine.travel(timezone.now() + datetime.timedelta(days=91), tick=False):
        client.post(reverse("login"), {"username": "caseworker", "password": TEST_PASSWORD})
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"] == reverse("password_change")
        page = client.get(reverse("password_change"))
        assert page.status_code == 200 and "密码已超过规定的使用期限" in page.content.decode()
        new = "Fresh-pass-2026"
        response = client.post(reverse("password_change"), {
            "old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new,
        })
        assert response.status_code == 302
        assert client.get(reverse("home")).status_code == 200


def test_the_password_change_page_refuses_a_weak_password_in_chinese(client_for, caseworker):
    client = client_for(caseworker)
    response = client.post(reverse("password_change"), {
        "old_password": TEST_PASSWORD, "new_password1": "abcdefghijkl", "new_password2": "abcdefghijkl",
    })
    assert response.status_code == 200 and "至少 3 种" in response.content.decode()


def test_a_max_age_of_zero_never_expires(client, caseworker, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 0
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2000), tick=False):
        client.post(reverse("login"), {"username": "caseworker", "password": TEST_PASSWORD})
        assert client.get(reverse("home")).status_code == 200


def test_a_fresh_password_is_not_old(caseworker):
    assert Client().post(reverse("login"), {"username": "caseworker", "password": TEST_PASSWORD}).status_code == 302
    assert caseworker.password_changed_at is not None
