"""The admin site is scoped like every other view, and only some roles may use it."""

import pytest
from django.urls import reverse

from hardship.models import Role, Union, User

pytestmark = pytest.mark.django_db


def test_it_keeps_caseworkers_and_supervisors_out_of_the_admin(client_for, caseworker, supervisor):
    for user in (caseworker, supervisor):
        response = client_for(user).get(reverse("admin:index"))
        assert response.status_code == 302 and "login" in response["Location"]


def test_it_lists_only_units_in_the_admins_subtree(client_for, county_admin, unions):
    response = client_for(county_admin).get(reverse("admin:hardship_union_changelist"))
    assert response.status_code == 200
    listed = {union.code for union in response.context["cl"].result_list}
    assert listed == {"410102", "410102-C01", "410102-S01"}


def test_it_does_not_open_a_sibling_unit_in_the_admin(client_for, county_admin, unions):
    url = reverse("admin:hardship_union_change", args=[unions["410105-C01"].pk])
    response = client_for(county_admin).get(url)
    assert response.status_code == 404  # out of scope is not found, as on every other page
    assert "金水区困难职工帮扶中心" not in response.content.decode()
    for view in ("history",):
        address = reverse(f"admin:hardship_union_{view}", args=[unions["410105-C01"].pk])
        assert client_for(county_admin).get(address).status_code == 404


def test_it_offers_only_subtree_units_when_creating_a_user(client_for, county_admin, unions):
    client = client_for(county_admin)
    form = client.get(reverse("admin:hardship_user_add")).context["adminform"].form
    assert {union.code for union in form.fields["home_union"].queryset} == {"410102", "410102-C01", "410102-S01"}
    response = client.post(reverse("admin:hardship_user_add"), {
        "username": "intruder", "full_name": "外区用户", "role": Role.ADMIN,
        "home_union": unions["410105"].pk, "password1": "Xy7!long-enough", "password2": "Xy7!long-enough",
    })
    assert response.status_code == 200 and response.context["adminform"].form.errors["home_union"]
    assert not User.objects.filter(username="intruder").exists()


def test_it_lets_an_admin_create_a_user_in_the_subtree(client_for, county_admin, unions):
    response = client_for(county_admin).post(reverse("admin:hardship_user_add"), {
        "username": "newcaseworker", "full_name": "新同事", "role": Role.CASEWORKER,
        "home_union": unions["410102-S01"].pk, "password1": "Xy7!long-enough", "password2": "Xy7!long-enough",
    })
    assert response.status_code == 302
    user = User.objects.get(username="newcaseworker")
    assert user.home_union == unions["410102-S01"] and not user.is_staff and not user.is_superuser


def test_it_lets_an_auditor_read_but_not_change(client_for, auditor, unions):
    client = client_for(auditor)
    url = reverse("admin:hardship_union_change", args=[unions["410102"].pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "改名", "kind": Union.Kind.COUNTY, "region": "", "is_active": "on"})
    assert response.status_code == 403
    assert Union.objects.get(code="410102").name == "中原区总工会"


def test_it_keeps_unit_codes_and_parents_fixed_once_made(client_for, county_admin, unions):
    client = client_for(county_admin)
    url = reverse("admin:hardship_union_change", args=[unions["410102-S01"].pk])
    response = client.post(url, {
        "name": "林山寨街道帮扶工作站", "kind": Union.Kind.HELP_STATION, "region": "", "code": "X",
        "parent": unions["410105"].pk, "contact_phone": "", "address": "", "is_active": "on",
    })
    assert response.status_code == 302
    station = Union.objects.get(pk=unions["410102-S01"].pk)
    assert (station.code, station.parent.code, station.name) == ("410102-S01", "410102-C01", "林山寨街道帮扶工作站")
