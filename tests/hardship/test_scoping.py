"""Scope by subtree: out of scope is a 404; a province sees its counties; the nation sees all."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from hardship.models import AccessRecord, Union, User

pytestmark = pytest.mark.django_db


def codes(queryset) -> set[str]:
    return set(queryset.values_list("code", flat=True))


def test_it_limits_unions_to_the_home_subtree(caseworker, outsider, supervisor, national_admin, unions):
    assert codes(Union.objects.visible_to(caseworker)) == {"410102-C01", "410102-S01"}
    assert codes(Union.objects.visible_to(outsider)) == {"410105-C01"}
    assert {"410102", "410105", "410102-C01", "410105-C01"} <= codes(Union.objects.visible_to(supervisor))
    assert "420102" not in codes(Union.objects.visible_to(supervisor))
    assert codes(Union.objects.visible_to(national_admin)) == set(unions)


def test_it_shows_nothing_to_anonymous_or_inactive_users(caseworker, unions):
    from django.contrib.auth.models import AnonymousUser

    assert not Union.objects.visible_to(AnonymousUser()).exists()
    caseworker.is_active = False
    assert not Union.objects.visible_to(caseworker).exists()


def test_it_answers_404_for_a_sibling_county(client_for, caseworker, unions):
    client = client_for(caseworker)
    assert client.get(reverse("union_detail", args=["410102-C01"])).status_code == 200
    assert client.get(reverse("union_detail", args=["410105-C01"])).status_code == 404
    assert client.get(reverse("union_detail", args=["410102"])).status_code == 404  # her parent, above her
    assert client.get(reverse("union_detail", args=["no-such-unit"])).status_code == 404


def test_it_refuses_exports_of_a_sibling_county_with_404(client_for, caseworker, unions):
    client = client_for(caseworker)
    response = client.get(reverse("union_export", args=["410105-C01", "csv"]))
    assert response.status_code == 404
    assert not AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT).exists()


def test_it_exports_only_the_subtree_and_records_the_export(client_for, supervisor, unions):
    response = client_for(supervisor).get(reverse("union_export", args=["410100", "csv"]))
    assert response.status_code == 200
    rows = response.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("单位代码,名称")
    assert {row.split(",")[0] for row in rows[1:]} == {
        "410100", "410102", "410102-C01", "410102-S01", "410105", "410105-C01"}
    record = AccessRecord.objects.get(action=AccessRecord.Action.EXPORT)
    assert record.user == supervisor and record.action == AccessRecord.Action.EXPORT


def test_it_exports_xlsx(client_for, caseworker, unions):
    import io

    import openpyxl

    response = client_for(caseworker).get(reverse("union_export", args=["410102-C01", "xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:2] == ("单位代码", "名称")
    assert {row[0] for row in rows[1:]} == {"410102-C01", "410102-S01"}


def test_it_404s_an_unknown_export_format(client_for, caseworker, unions):
    assert client_for(caseworker).get(reverse("union_export", args=["410102-C01", "pdf"])).status_code == 404


def test_it_lets_a_province_supervisor_open_both_counties(client_for, supervisor, unions):
    client = client_for(supervisor)
    for code in ("410102", "410105", "410102-C01", "410105-C01"):
        assert client.get(reverse("union_detail", args=[code])).status_code == 200
    assert client.get(reverse("union_detail", args=["420102"])).status_code == 404


def test_it_lets_the_national_admin_see_everything(client_for, national_admin, unions):
    client = client_for(national_admin)
    for code in unions:
        assert client.get(reverse("union_detail", args=[code])).status_code == 200


def test_it_sends_anonymous_users_to_the_login_page(client, unions):
    response = client.get(reverse("union_detail", args=["410102"]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_it_scopes_users_by_home_union(caseworker, outsider, supervisor, county_admin):
    assert set(User.objects.visible_to(county_admin)) == {caseworker, county_admin}
    assert {caseworker, outsider, supervisor} <= set(User.objects.visible_to(supervisor))


def test_it_uses_the_path_index_for_a_subtree(supervisor, unions):
    queryset = Union.objects.visible_to(supervisor)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Either path index may serve it (the unique one in collation "C", or Django's pattern_ops one), as an index
    # or a bitmap scan: which one depends on the table's statistics at that moment, not on the code.
    assert re.search(r"Index Scan (using|on) hardship_union_path_", plan) and "Seq Scan" not in plan, plan
    assert re.search(r"Index Cond: \(\(\(path\)::text (>=|~>=~) ", plan), plan  # the prefix became an index range
