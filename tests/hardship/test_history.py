"""Every change to a unit or a user is in the audit history, shown readably."""

import pytest
from django.urls import reverse

from hardship.history import object_history, recent_events_visible_to
from hardship.models import Role, Union

pytestmark = pytest.mark.django_db


def rename_station(client, unions, new_name: str):
    station = unions["410102-S01"]
    return client.post(reverse("admin:hardship_union_change", args=[station.pk]), {
        "name": new_name, "kind": Union.Kind.HELP_STATION, "region": station.region_id, "contact_phone": "",
        "address": "", "is_active": "on",
    })


def test_it_records_who_changed_which_field_from_what_to_what(client_for, county_admin, unions):
    assert rename_station(client_for(county_admin), unions, "林山寨街道帮扶工作站").status_code == 302
    latest = object_history(unions["410102-S01"])[0]
    assert latest.actor == county_admin
    assert latest.action == "修改"
    assert [(c.field, c.old, c.new) for c in latest.changes] == [("名称", "林山寨街道帮扶站", "林山寨街道帮扶工作站")]


def test_it_records_set_based_writes_too(unions):
    Union.objects.filter(code__startswith="410102").update(contact_phone="0371-12345678")
    rows = object_history(unions["410102-C01"])
    assert rows[0].actor is None  # no request: the system
    assert rows[0].changes[0].new == "0371-12345678"


def test_it_shows_role_changes_with_labels(county_admin, caseworker):
    caseworker.role = Role.SUPERVISOR
    caseworker.save()
    change = object_history(caseworker)[0].changes
    assert ("角色", "帮扶工作人员", "上级工会负责人") in [(c.field, c.old, c.new) for c in change]


def test_it_never_puts_password_hashes_in_the_history(caseworker):
    caseworker.set_password("another-password-2026")
    caseworker.save()
    for row in object_history(caseworker):
        assert all(change.field != "密码" for change in row.changes)


def test_it_shows_the_auditor_recent_changes_in_scope_only(client_for, county_admin, auditor, unions):
    rename_station(client_for(county_admin), unions, "林山寨街道帮扶工作站")
    Union.objects.filter(code="420102").update(name="江岸区总工会（新）")
    subjects = [row.subject for row in recent_events_visible_to(auditor)]
    assert "工会单位：林山寨街道帮扶工作站" in subjects
    assert not any("江岸区" in subject for subject in subjects)


def test_it_renders_the_auditor_home_with_bounded_queries(client_for, auditor, county_admin, unions,
                                                          django_assert_max_num_queries):
    rename_station(client_for(county_admin), unions, "林山寨街道帮扶工作站")
    client = client_for(auditor)
    with django_assert_max_num_queries(20):  # a fixed few per audited table, never per row
        response = client.get(reverse("home"))
    assert "林山寨街道帮扶工作站" in response.content.decode()
