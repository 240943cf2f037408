"""The file page's 变更历史: its latest entries with 显示全部（共 N 条）, all of them on request (htmx) or as a page of
their own (a plain link), for the file's own subtree only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.choices import Status

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def history(client, household, **params):
    return client.get(reverse("dossiers:history", args=[household.file_number]), params, headers=HTMX)


def entries(response) -> int:
    return response.content.decode().count('class="history-entry"')


def test_it_shows_the_latest_entries_and_offers_all_of_them(client_for, household, caseworker, walk):
    walk(household, Status.REGISTERED)
    client = client_for(caseworker)

    latest = history(client, household)
    total = len(latest.context["rows"])
    everything = history(client, household, all="1")

    assert total > 6
    assert entries(latest) == 6
    assert f"显示全部（共 {total} 条）" in latest.content.decode()
    assert f'hx-get="{reverse("dossiers:history", args=[household.file_number])}?all=1"' in latest.content.decode()
    assert entries(everything) == total
    assert "显示全部" not in everything.content.decode()


def test_it_offers_nothing_more_when_all_entries_fit(client_for, household, caseworker):
    response = history(client_for(caseworker), household)

    assert entries(response) == len(response.context["rows"]) <= 6
    assert "显示全部" not in response.content.decode()


def test_it_is_a_page_of_its_own_without_htmx(client_for, household, caseworker, walk):
    walk(household, Status.REGISTERED)

    response = client_for(caseworker).get(reverse("dossiers:history", args=[household.file_number]))

    page = response.content.decode()
    assert response.status_code == 200 and "<html" in page
    assert "张建国 户的变更历史" in page and reverse("dossiers:detail", args=[household.file_number]) in page
    assert entries(response) == len(response.context["rows"]) > 6


def test_it_reads_the_rows_as_sentences(client_for, household, caseworker, reviewer, walk):
    walk(household, Status.FIRST_REVIEWED)

    page = history(client_for(caseworker), household, all="1").content.decode()

    assert "修改了困难职工家庭档案：" in page and "新建了家庭成员：李秀英（配偶）" in page
    assert "状态：由“待初审”改为“待入户调查”" in page
    assert "填写的内容（" in page  # a new record's values, folded
    assert "household" not in page


@pytest.mark.parametrize("htmx", [True, False])
def test_it_keeps_the_history_to_the_files_subtree(client_for, household, outsider, unions, htmx):
    from tests.factories import UserFactory

    hubei_auditor = UserFactory(username="hubei-auditor", role="auditor", home_union=unions["420000"])
    url = reverse("dossiers:history", args=[household.file_number])
    for user in (outsider, hubei_auditor):
        assert client_for(user).get(url, headers=HTMX if htmx else {}).status_code == 404
