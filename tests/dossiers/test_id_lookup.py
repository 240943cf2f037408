"""The ID look-up tells of a file in another unit with that unit's contact person, phone and address, and
nothing of the file itself; the units' contacts are entered in the admin and filled in the demo."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hardship.models import Union

pytestmark = pytest.mark.django_db


def look_up(client, number: str) -> str:
    response = client.post(reverse("dossiers:lookup"), {"id_number": number})
    assert response.status_code == 200
    return response.content.decode().replace(f'value="{number}"', "")  # her own input echoes what she typed


@pytest.fixture
def theirs(make_household, outsider, unions):
    """A file of the sibling county's help centre, whose contacts are on record."""
    Union.objects.filter(code="410105-C01").update(contact_person="李强", contact_phone="0371-65951234",
                                                   address="郑州市金水区文化路 85 号")
    return make_household(by=outsider, union=unions["410105-C01"], phone="13912345678")


def test_it_gives_the_other_units_contact_person_phone_and_address(client_for, caseworker, theirs):
    page = look_up(client_for(caseworker), theirs.head_id_number)
    assert "已在其他单位建档" in page
    for shown in ("金水区困难职工帮扶中心", "李强", 'href="tel:0371-65951234"', "郑州市金水区文化路 85 号"):
        assert shown in page, shown
    member = theirs.members.get(is_primary=True)
    assert member.masked_id_number in page
    for hidden in (theirs.file_number, theirs.head_id_number, theirs.head_name, "李秀英", theirs.address, "13912345678",
                   "打开档案"):
        assert hidden not in page, hidden


def test_it_says_what_is_not_on_record_and_names_the_unit_above(client_for, caseworker, make_household, outsider,
                                                                 unions):
    Union.objects.filter(code="410105").update(contact_phone="0371-65952001")
    household = make_household(by=outsider, union=unions["410105-C01"])
    page = look_up(client_for(caseworker), household.head_id_number)
    assert "未登记" in page
    assert "该单位还没有登记联系电话，可先联系其上级单位金水区总工会（电话 0371-65952001）。" in page
    assert household.file_number not in page


def test_it_opens_a_file_of_ones_own_subtree_without_the_contact_block(client_for, caseworker, household):
    page = look_up(client_for(caseworker), household.head_id_number)
    assert household.file_number in page and "打开档案" in page
    assert "请联系建档单位" not in page


def test_it_edits_a_units_contacts_in_the_admin(client_for, county_admin, unions):
    client = client_for(county_admin)
    centre = unions["410102-C01"]
    url = reverse("admin:hardship_union_change", args=[centre.pk])
    form = client.get(url).content.decode()
    assert 'name="contact_person"' in form and 'name="contact_phone"' in form and "联系方式" in form
    response = client.post(url, {"name": centre.name, "kind": centre.kind, "region": "", "contact_person": "王芳",
                                 "contact_phone": "0371-67182345", "address": "建设西路 187 号", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    centre.refresh_from_db()
    assert (centre.contact_person, centre.contact_phone, centre.address) == ("王芳", "0371-67182345", "建设西路 187 号")


def test_it_keeps_a_unit_outside_the_admins_subtree_out_of_reach(client_for, county_admin, unions):
    url = reverse("admin:hardship_union_change", args=[unions["410105-C01"].pk])
    client = client_for(county_admin)
    assert client.get(url).status_code in (302, 404)
    client.post(url, {"name": "x", "kind": "help_centre", "contact_person": "冒名", "is_active": "on"})
    assert Union.objects.get(code="410105-C01").contact_person == ""
