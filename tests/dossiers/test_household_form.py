"""Filing a household in one form with its members: inline errors, nothing saved when invalid."""

import datetime

import pytest
from django.urls import reverse

from dossiers.models import Assessment, Household, Member
from hardship import idnumbers

pytestmark = pytest.mark.django_db


def member_data(index: int, *, name: str, id_number: str, birth: str, sex: str, primary: bool,
                relationship: str = "self", **extra) -> dict:
    prefix = f"members-{index}-"
    data = {
        "name": name, "relationship": relationship, "id_number": id_number, "sex": sex, "birth_date": birth,
        "ethnicity": "汉族", "health": "healthy", "disability": "", "medical_insurance": "employee",
        "work_status": "employed", "employer": "", "monthly_income": "0", "health_notes": "",
        "able_to_work": "on", **extra,
    }
    if primary:
        data["is_primary"] = "on"
    return {prefix + key: value for key, value in data.items()}


def household_post(unions, members: list[dict], **overrides) -> dict:
    data = {
        "union": unions["410102-C01"].pk, "address": "郑州市中原区建设路 8 号", "phone": "13800002222",
        "housing_type": "private_rental", "area_band": "under_15", "model_worker": "", "key_group": "",
        "consent_basis": "本人签字的申请书和授权书", "bank_name": "", "bank_branch": "", "bank_card": "",
        "main_cause": "3", "income_wages": "12,000".replace(",", ""), "income_business": "0",
        "income_property": "0", "income_transfers": "0", "income_other": "0", "cost_illness": "0",
        "cost_disability": "0", "cost_schooling": "0", "cost_housing": "0", "cost_other": "0",
        "members-TOTAL_FORMS": str(len(members)), "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1", "members-MAX_NUM_FORMS": "1000",
    }
    for member in members:
        data.update(member)
    data.update(overrides)
    return data


def three_members():
    head = idnumbers.generate("410102", datetime.date(1978, 4, 9), 21, "M")
    spouse = idnumbers.generate("410102", datetime.date(1980, 6, 1), 22, "F")
    child = idnumbers.generate("410102", datetime.date(2010, 9, 1), 23, "F")
    return [
        member_data(0, name="陈建华", id_number=head.lower().replace("1", "１", 1), birth="1978-04-09", sex="M",
                    primary=True),
        member_data(1, name="林秀芳", id_number=spouse, birth="1980-06-01", sex="F", primary=False,
                    relationship="spouse"),
        member_data(2, name="陈思雨", id_number=child, birth="2010-09-01", sex="F", primary=False,
                    relationship="child", work_status="student"),
    ]


def test_it_files_a_household_with_three_members_and_assesses_it(client_for, caseworker, unions, standard):
    response = client_for(caseworker).post(reverse("dossiers:create"), household_post(unions, three_members()))
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    household = Household.objects.get()
    assert household.members.count() == 3 and household.head_name == "陈建华"
    assert household.file_number.startswith("410102-")
    assessment = Assessment.objects.get(household=household)
    assert assessment.proposed_category == "deep"  # 12 000 a year for three: 333.33 a month each


def test_it_saves_nothing_when_a_member_is_invalid(client_for, caseworker, unions, standard):
    members = three_members()
    members[1]["members-1-id_number"] = "410102198006011234"  # wrong check character
    response = client_for(caseworker).post(reverse("dossiers:create"), household_post(unions, members))
    assert response.status_code == 200
    errors = response.context["formset"].forms[1].errors["id_number"]
    assert "校验位错误" in errors[0]
    assert not Household.objects.exists() and not Member.objects.exists()


def test_it_says_which_field_disagrees_with_the_id_number(client_for, caseworker, unions, standard):
    members = three_members()
    members[2]["members-2-birth_date"] = "2010-09-02"
    members[2]["members-2-sex"] = "M"
    formset = client_for(caseworker).post(reverse("dossiers:create"),
                                          household_post(unions, members)).context["formset"]
    assert "出生日期与身份证号码不一致" in formset.forms[2].errors["birth_date"][0]
    assert "性别与身份证号码不一致" in formset.forms[2].errors["sex"][0]


def test_it_requires_exactly_one_primary_worker(client_for, caseworker, unions, standard):
    members = three_members()
    members[1]["members-1-is_primary"] = "on"
    response = client_for(caseworker).post(reverse("dossiers:create"), household_post(unions, members))
    assert "只有一名" in str(response.context["formset"].non_form_errors())
    assert not Household.objects.exists()


def test_it_refuses_more_than_three_secondary_causes(client_for, caseworker, unions, standard):
    data = household_post(unions, three_members(), secondary_causes=["1", "2", "4", "5"])
    response = client_for(caseworker).post(reverse("dossiers:create"), data)
    assert "最多选三项" in response.context["form"].errors["secondary_causes"][0]
    assert not Household.objects.exists()


def test_it_refuses_a_person_filed_in_another_county(client_for, caseworker, outsider, unions, standard):
    members = three_members()
    client_for(outsider).post(reverse("dossiers:create"),
                              household_post(unions, members[:1], union=unions["410105-C01"].pk))
    assert Household.objects.count() == 1
    response = client_for(caseworker).post(reverse("dossiers:create"), household_post(unions, members))
    assert "已在其他单位建档，请联系金水区困难职工帮扶中心" in str(response.context["form"].non_field_errors())
    assert Household.objects.count() == 1


def test_it_refuses_a_union_outside_the_subtree(client_for, caseworker, unions, standard):
    data = household_post(unions, three_members(), union=unions["410105-C01"].pk)
    response = client_for(caseworker).post(reverse("dossiers:create"), data)
    assert response.context["form"].errors["union"]
    assert not Household.objects.exists()


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "=cmd|' /C calc'!A0", "'; DROP TABLE x; --"])
def test_it_stores_hostile_text_as_text(client_for, caseworker, unions, standard, hostile):
    data = household_post(unions, three_members(), address=hostile)
    assert client_for(caseworker).post(reverse("dossiers:create"), data).status_code == 302
    household = Household.objects.get()
    assert household.address == hostile
    page = client_for(caseworker).get(reverse("dossiers:detail", args=[household.file_number])).content.decode()
    assert "<script>alert(1)</script>" not in page


def test_it_adds_a_member_row_in_place(client_for, caseworker):
    response = client_for(caseworker).get(reverse("dossiers:member_row"), {"members-TOTAL_FORMS": "3"},
                                          HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'name="members-3-name"' in page and 'value="4"' in page and 'hx-swap-oob' in page


def test_it_previews_the_assessment_while_typing(client_for, caseworker, unions, standard):
    response = client_for(caseworker).post(reverse("dossiers:assessment_preview"),
                                           household_post(unions, three_members()))
    page = response.content.decode()
    assert "333.33" in page and "800.00" in page and "深度困难" in page


def test_it_edits_a_draft_and_removes_a_member(client_for, caseworker, unions, standard):
    client = client_for(caseworker)
    client.post(reverse("dossiers:create"), household_post(unions, three_members()))
    household = Household.objects.get()
    members = list(household.members.order_by("pk"))
    data = household_post(unions, three_members(), **{"members-INITIAL_FORMS": "3"})
    for index, member in enumerate(members):
        data[f"members-{index}-id"] = member.pk
    data["members-2-DELETE"] = "on"
    response = client.post(reverse("dossiers:edit", args=[household.file_number]), data)
    assert response.status_code == 302
    assert household.members.count() == 2 and household.assessments.count() == 2


def test_the_edit_form_shows_the_numbers_masked_and_keeps_them_when_sent_back(client_for, caseworker, unions,
                                                                              standard):
    client = client_for(caseworker)
    client.post(reverse("dossiers:create"), household_post(unions, three_members()))
    household = Household.objects.get()
    members = list(household.members.order_by("pk"))
    page = client.get(reverse("dossiers:edit", args=[household.file_number])).content.decode()
    assert not [member for member in members if member.id_number in page]
    assert all(f'value="{idnumbers.mask(member.id_number)}"' in page for member in members)

    data = household_post(unions, three_members(), **{"members-INITIAL_FORMS": "3", "phone": "13900001111"})
    for index, member in enumerate(members):
        data[f"members-{index}-id"] = member.pk
        data[f"members-{index}-id_number"] = idnumbers.mask(member.id_number)
    preview = client.post(reverse("dossiers:assessment_preview"), data)
    assert preview.status_code == 200 and preview.context["result"].household_size == 3
    assert client.post(reverse("dossiers:edit", args=[household.file_number]), data).status_code == 302
    assert [m.id_number for m in household.members.order_by("pk")] == [m.id_number for m in members]
    assert Household.objects.get().phone == "13900001111"

    # Another masked value is not a number: it is refused, not stored.
    data["members-1-id_number"] = "410102********9999"
    response = client.post(reverse("dossiers:edit", args=[household.file_number]), data)
    assert response.status_code == 200 and not any("*" in member.id_number for member in household.members.all())
