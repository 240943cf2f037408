"""A unit's row says how many units its own page lists (下级单位) and how many lie below it at every level
(全部所辖单位); its page says the same two figures above the rows."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def rows_of(client, code: str) -> dict:
    response = client.get(reverse("union_detail", args=[code]))
    assert response.status_code == 200
    return {child.code: child for child in response.context["children"]}


def test_it_counts_the_children_and_all_units_below_each_row(client_for, supervisor, unions):
    rows = rows_of(client_for(supervisor), "410000")
    assert (rows["410100"].child_count, rows["410100"].descendant_count) == (2, 5)


def test_it_makes_each_row_agree_with_the_page_it_opens(client_for, supervisor, unions):
    client = client_for(supervisor)
    for code, row in rows_of(client, "410000").items():
        response = client.get(reverse("union_detail", args=[code]))
        assert len(response.context["children"]) == row.child_count
        assert response.context["units_below"] == row.descendant_count
    for code, row in rows_of(client, "410100").items():
        assert len(rows_of(client, code)) == row.child_count


def test_it_says_both_figures_on_the_unit_page(client_for, supervisor, unions):
    page = client_for(supervisor).get(reverse("union_detail", args=["410100"])).content.decode()
    assert "下级单位 2 个，全部所辖单位 5 个。" in page
    assert '<th scope="col" class="num">全部所辖单位</th>' in page


def test_it_says_nothing_of_counts_on_a_unit_with_nothing_below(client_for, caseworker, unions):
    response = client_for(caseworker).get(reverse("union_detail", args=["410102-S01"]))
    assert response.context["units_below"] == 0
    assert "没有下级单位。" in response.content.decode() and "全部所辖单位" not in response.content.decode()


def test_it_shows_the_units_contact_person(client_for, caseworker, unions):
    station = unions["410102-S01"]
    station.contact_person, station.contact_phone = "马丽", "0371-67654321"
    station.save()
    page = client_for(caseworker).get(reverse("union_detail", args=["410102-S01"])).content.decode()
    assert "马丽" in page and "0371-67654321" in page


@pytest.mark.parametrize(("user_fixture", "code"), [
    ("outsider", "410102"),  # the sibling county's caseworker
    ("caseworker", "410100"),  # a caseworker above her own unit
    ("county_admin", "410105"),  # 中原区's admin in 金水区
])
def test_it_hides_a_unit_and_its_counts_outside_the_users_subtree(request, client_for, user_fixture, code, unions):
    client = client_for(request.getfixturevalue(user_fixture))
    assert client.get(reverse("union_detail", args=[code])).status_code == 404


def test_it_counts_only_within_the_subtree_on_the_home_page(client_for, county_admin, unions):
    children = client_for(county_admin).get(reverse("home")).context["children"]
    assert [(child.code, child.child_count, child.descendant_count) for child in children] == [("410102-C01", 1, 1)]


def test_it_reads_the_unit_page_in_a_bounded_number_of_queries(client_for, supervisor, unions,
                                                               django_assert_max_num_queries):
    client = client_for(supervisor)
    with django_assert_max_num_queries(10):
        client.get(reverse("union_detail", args=["410000"]))
