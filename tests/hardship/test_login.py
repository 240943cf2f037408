"""Signing in: Chinese pages, a temporary lockout after repeated failures."""

import pytest
from django.urls import reverse

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_it_signs_in_and_lands_on_the_home_page(client, caseworker):
    response = client.post(reverse("login"), {"username": "caseworker", "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_it_shows_the_login_page_in_chinese(client):
    page = client.get(reverse("login")).content.decode()
    assert '<label for="id_username">用户名</label>' in page and 'lang="zh-hans"' in page


def test_it_locks_the_account_after_repeated_failures(client, caseworker, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "caseworker", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "caseworker", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "账号暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_rejects_a_login_form_without_csrf_token(caseworker):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": "caseworker", "password": TEST_PASSWORD},
    )
    assert response.status_code == 403
