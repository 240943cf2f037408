"""Filing a household (dossiers.filing): members, file numbers, duplicates, causes, assessments, privacy."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dossiers.choices import Category, Relationship, Sex, Status
from dossiers.filing import FilingError, assess_household, existing_membership_message, save_household
from dossiers.models import Assessment, FileNumberSequence, Household, LocalStandard, Member
from hardship.history import object_history
from hardship.models import Region
from tests.dossiers.conftest import new_member

pytestmark = pytest.mark.django_db

CARD = "6222021234567890123"


def fresh(household: Household) -> Household:
    return Household.objects.get(pk=household.pk)


def same_people(household: Household) -> list[Member]:
    """Unsaved copies of a household's members, as a new filing of the same family would have them."""
    return [new_member(id_number=m.id_number, name=m.name, sex=m.sex, relationship=m.relationship,
                       is_primary=m.is_primary) for m in household.members.all()]


# ---------------------------------------------------------------- members and file numbers


@pytest.mark.parametrize("primaries", [0, 2])
def test_it_needs_exactly_one_primary_worker(build_household, standard, caseworker, unions, primaries):
    household, members = build_household(union=unions["410102-C01"])
    members[0].is_primary = primaries >= 1
    members[1].is_primary = primaries >= 2

    with pytest.raises(FilingError, match="每户必须有且只有一名建档职工"):
        save_household(household, members, by=caseworker)
    assert not Household.objects.exists()
    assert not Member.objects.exists()


def test_it_numbers_files_by_region_and_year(make_household, caseworker, unions):
    year = timezone.localdate().year

    first = make_household(by=caseworker, union=unions["410102-C01"])
    second = make_household(by=caseworker, union=unions["410102-C01"])

    assert re.fullmatch(r"410102-\d{4}-\d{6}", first.file_number)
    assert first.file_number == f"410102-{year}-000001"
    assert second.file_number == f"410102-{year}-000002"


def test_it_keeps_a_separate_number_sequence_per_region(make_household, caseworker, outsider, unions):
    year = timezone.localdate().year
    make_household(by=caseworker, union=unions["410102-C01"])

    other = make_household(by=outsider, union=unions["410105-C01"])

    assert other.file_number == f"410105-{year}-000001"


def test_it_does_not_use_up_a_file_number_on_a_refused_filing(build_household, make_household, standard,
                                                               caseworker, unions):
    household, members = build_household(union=unions["410102-C01"])
    twin = new_member(id_number=members[0].id_number, relationship=Relationship.SIBLING, is_primary=False)

    with pytest.raises(FilingError, match="保存失败"):
        save_household(household, [*members, twin], by=caseworker)

    assert make_household(by=caseworker, union=unions["410102-C01"]).file_number.endswith("-000001")
    assert FileNumberSequence.objects.get().last == 1


def test_it_copies_the_primary_worker_to_the_household(build_household, standard, caseworker, unions):
    spouse = new_member(relationship=Relationship.SPOUSE, sex=Sex.FEMALE, name="李秀英")
    head = new_member(relationship=Relationship.SELF, name="张建国")
    household, members = build_household(union=unions["410102-C01"], members=[spouse, head])

    save_household(household, members, by=caseworker)

    household = fresh(household)
    assert (household.head_name, household.head_id_number) == ("张建国", head.id_number)
    assert (household.filed_by, household.entered_by, household.status) == (caseworker, caseworker, Status.DRAFT)
    assert household.members.count() == 2


def test_it_removes_members_left_out_when_editing(household, caseworker):
    head = household.members.get(is_primary=True)

    save_household(household, [head], by=caseworker)

    assert list(household.members.all()) == [head]
    assert household.assessments.first().inputs["members"] == [
        {"name": "张建国", "annual_income": "0.00", "able_bodied_unemployed": False}]


def test_it_lets_another_member_become_the_primary_worker(household, caseworker):
    """The head retires or dies and the spouse takes the file over."""
    old_head, spouse = household.members.get(is_primary=True), household.members.get(is_primary=False)
    old_head.is_primary, old_head.relationship = False, Relationship.SPOUSE
    spouse.is_primary, spouse.relationship = True, Relationship.SELF

    save_household(household, [old_head, spouse], by=caseworker)

    household = fresh(household)
    assert household.members.get(is_primary=True) == spouse
    assert (household.head_name, household.head_id_number) == (spouse.name, spouse.id_number)


# ---------------------------------------------------------------- the same person in two files


def test_it_refuses_a_person_filed_by_another_county_without_naming_the_file(make_household, caseworker,
                                                                             outsider, unions):
    theirs = make_household(by=outsider, union=unions["410105-C01"])
    person = theirs.members.get(is_primary=True)
    members = [new_member(id_number=person.id_number, name=person.name)]

    with pytest.raises(FilingError) as error:
        make_household(by=caseworker, union=unions["410102-C01"], members=members)

    message = str(error.value)
    assert "已在其他单位建档，请联系" in message
    assert "金水区困难职工帮扶中心" in message
    assert theirs.file_number not in message
    assert person.masked_id_number in message
    assert person.id_number not in message
    assert Household.objects.count() == 1


def test_it_gives_the_other_unions_phone_number(make_household, caseworker, outsider, unions):
    unions["410105-C01"].contact_phone = "0371-65551234"
    unions["410105-C01"].save()
    theirs = make_household(by=outsider, union=unions["410105-C01"])

    message = existing_membership_message(theirs.head_id_number, user=caseworker)

    assert message.endswith("请联系金水区困难职工帮扶中心，电话 0371-65551234。")


def test_it_names_the_file_to_a_user_who_may_see_it(make_household, outsider, supervisor, unions):
    theirs = make_household(by=outsider, union=unions["410105-C01"])

    message = existing_membership_message(theirs.head_id_number, user=supervisor)

    assert theirs.file_number in message
    assert "张建国 户" in message
    assert "已在其他单位建档" not in message


def test_it_refuses_a_person_already_in_a_file_of_the_same_union_naming_it(make_household, household,
                                                                          caseworker, unions):
    spouse = household.members.get(is_primary=False)
    members = [new_member(name="王小明"), new_member(id_number=spouse.id_number, relationship=Relationship.SPOUSE,
                                                   sex=spouse.sex, is_primary=False)]

    with pytest.raises(FilingError, match=household.file_number):
        make_household(by=caseworker, union=unions["410102-C01"], members=members)


def test_it_does_not_count_the_household_being_edited_as_another_file(household, caseworker):
    assert existing_membership_message(household.head_id_number, user=caseworker,
                                       exclude_household=household) is None
    assert existing_membership_message("410102197501010000", user=caseworker) is None


def test_it_refuses_a_second_open_membership_in_the_database(household, make_household, caseworker, unions):
    other = make_household(by=caseworker, union=unions["410102-C01"])
    person = household.members.get(is_primary=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(household=other, **_person_fields(person))
    assert Member.objects.filter(id_number=person.id_number).count() == 1


def test_it_allows_the_same_person_in_a_closed_household(household, make_household, caseworker, unions):
    Household.objects.filter(pk=household.pk).update(status=Status.EXITED)
    household.members.update(is_open=False)
    other = make_household(by=caseworker, union=unions["410102-C01"])
    person = household.members.get(is_primary=True)

    Member.objects.create(household=other, **_person_fields(person))

    assert Member.objects.filter(id_number=person.id_number).count() == 2
    assert Member.objects.get(id_number=person.id_number, is_open=True).household == other


def test_it_lets_a_closed_households_members_be_filed_again(household, make_household, caseworker, unions):
    Household.objects.filter(pk=household.pk).update(status=Status.EXITED)
    household.members.update(is_open=False)

    again = make_household(by=caseworker, union=unions["410102-C01"], members=same_people(household))

    assert again.head_id_number == household.head_id_number
    assert set(again.members.values_list("is_open", flat=True)) == {True}


def _person_fields(member: Member) -> dict:
    return {field: getattr(member, field) for field in (
        "name", "sex", "relationship", "id_number", "birth_date", "medical_insurance", "work_status")}


# ---------------------------------------------------------------- causes


def test_it_refuses_more_than_three_secondary_causes(household):
    household.secondary_causes = [1, 2, 4, 5]

    with pytest.raises(ValidationError) as error:
        household.full_clean()
    assert "其他致困原因最多选三项。" in error.value.message_dict["secondary_causes"]


def test_it_refuses_a_repeated_secondary_cause(household):
    household.secondary_causes = [2, 2]

    with pytest.raises(ValidationError) as error:
        household.full_clean()
    assert error.value.message_dict["secondary_causes"] == ["其他致困原因不能重复。"]


def test_it_refuses_the_main_cause_as_a_secondary_cause(household):
    household.secondary_causes = [household.main_cause, 6]

    with pytest.raises(ValidationError) as error:
        household.full_clean()
    assert error.value.message_dict["secondary_causes"] == ["主要致困原因不能同时作为其他致困原因。"]


def test_it_accepts_three_distinct_secondary_causes(household, caseworker):
    household.secondary_causes = [1, 6, 9]

    save_household(household, list(household.members.all()), by=caseworker)

    assert fresh(household).secondary_cause_labels() == ["无劳动能力", "重特大疾病", "子女上学"]


def test_it_refuses_a_secondary_cause_list_through_save_household(household, caseworker):
    household.secondary_causes = [1, 2, 4, 5]

    with pytest.raises(FilingError, match="不应该超过 3 项"):
        save_household(household, list(household.members.all()), by=caseworker)
    assert fresh(household).secondary_causes == []


def test_the_database_refuses_more_than_three_secondary_causes(household):
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.filter(pk=household.pk).update(secondary_causes=[1, 2, 4, 5])
    assert fresh(household).secondary_causes == []


@pytest.mark.parametrize("cause", [0, 11])
def test_the_database_refuses_a_main_cause_outside_the_codes(household, cause):
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.filter(pk=household.pk).update(main_cause=cause)
    assert fresh(household).main_cause == 3


# ---------------------------------------------------------------- assessment


def test_it_keeps_a_snapshot_of_the_assessment(household, standard, caseworker):
    assessment = household.assessments.get()

    assert (assessment.standard, assessment.made_by) == (standard, caseworker)
    assert assessment.inputs["poverty_line"] == "800.00"
    assert assessment.inputs["min_wage"] == "2100.00"
    assert assessment.inputs["wages"] == "24000.00"
    assert [m["name"] for m in assessment.inputs["members"]] == ["张建国", "李秀英"]
    assert assessment.result["category"] == Category.RELATIVE
    assert assessment.result["per_capita_monthly"] == "1000.00"
    assert assessment.result["household_size"] == 2
    assert assessment.per_capita_monthly == Decimal("1000.00")
    assert assessment.proposed_category == assessment.final_category == Category.RELATIVE
    assert (assessment.override_reason, assessment.rule_version) == ("", "2018.1")


def test_it_keeps_an_old_assessment_as_made_when_the_standard_changes(household, standard, caseworker):
    raised = LocalStandard.objects.create(region_id="410100", effective_from=datetime.date(2021, 1, 1),
                                          poverty_line=Decimal("1200.00"), min_wage=Decimal("2200.00"))
    old = household.assessments.get()

    new = assess_household(household, by=caseworker)

    old.refresh_from_db()
    assert (old.standard, old.inputs["poverty_line"], old.proposed_category) == (
        standard, "800.00", Category.RELATIVE)
    assert (new.standard, new.inputs["poverty_line"], new.proposed_category) == (raised, "1200.00", Category.DEEP)
    assert household.assessments.first() == new


def test_it_proposes_deep_hardship_when_costs_exceed_income(make_household, caseworker, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"], income_wages=Decimal("12000.00"),
                               cost_illness=Decimal("30000.00"))

    assessment = household.assessments.get()
    assert assessment.proposed_category == Category.DEEP
    assert assessment.per_capita_monthly == Decimal("-750.00")


def test_it_needs_a_reason_to_override_the_proposed_category(household, caseworker):
    with pytest.raises(FilingError, match="调整建议的困难类别须填写理由") as error:
        assess_household(household, by=caseworker, final_category=Category.DEEP, override_reason=" ")
    assert error.value.field == "override_reason"
    assert household.assessments.count() == 1


def test_it_records_an_override_with_its_reason(household, caseworker):
    assessment = assess_household(household, by=caseworker, final_category=Category.DEEP,
                                  override_reason="配偶确诊尿毒症，支出尚未计入")

    assert (assessment.proposed_category, assessment.final_category) == (Category.RELATIVE, Category.DEEP)
    assert assessment.override_reason == "配偶确诊尿毒症，支出尚未计入"


def test_the_database_refuses_an_override_without_a_reason(household, standard, caseworker):
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(
            household=household, made_by=caseworker, standard=standard, inputs={}, result={},
            per_capita_monthly=Decimal("1000.00"), proposed_category=Category.RELATIVE,
            final_category=Category.DEEP, override_reason="", rule_version="2018.1",
        )
    assert household.assessments.count() == 1


# ---------------------------------------------------------------- the standard in force


def _standard(code: str, effective_from: datetime.date, line: str) -> LocalStandard:
    return LocalStandard.objects.create(region_id=code, effective_from=effective_from,
                                        poverty_line=Decimal(line), min_wage=Decimal("2100.00"))


def test_it_prefers_the_countys_standard_over_the_prefectures(standard, unions):
    county = _standard("410102", datetime.date(2021, 1, 1), "900.00")
    _standard("410100", datetime.date(2024, 1, 1), "1000.00")  # newer, but less specific

    assert LocalStandard.in_force(Region.objects.get(code="410102"), datetime.date(2025, 6, 1)) == county


def test_it_falls_back_to_the_prefectures_standard(standard, unions):
    _standard("410102", datetime.date(2021, 1, 1), "900.00")

    assert LocalStandard.in_force(Region.objects.get(code="410105"), datetime.date(2025, 6, 1)) == standard


@pytest.mark.parametrize(("on", "line"), [
    (datetime.date(2022, 12, 31), "900.00"),
    (datetime.date(2023, 1, 1), "950.00"),
    (datetime.date(2029, 12, 31), "950.00"),
    (datetime.date(2030, 1, 1), "1100.00"),
])
def test_it_takes_the_latest_standard_not_after_the_date(unions, on, line):
    for effective_from, value in [(datetime.date(2021, 1, 1), "900.00"), (datetime.date(2023, 1, 1), "950.00"),
                                  (datetime.date(2030, 1, 1), "1100.00")]:
        _standard("410102", effective_from, value)

    assert LocalStandard.in_force(Region.objects.get(code="410102"), on).poverty_line == Decimal(line)


def test_it_has_no_standard_before_the_first_one(standard, unions):
    assert LocalStandard.in_force(Region.objects.get(code="410102"), datetime.date(2019, 12, 31)) is None


def test_it_assesses_against_the_countys_standard(standard, make_household, caseworker, unions):
    county = _standard("410102", datetime.date(2021, 1, 1), "1100.00")

    household = make_household(by=caseworker, union=unions["410102-C01"])

    assessment = household.assessments.get()
    assert (assessment.standard, assessment.proposed_category) == (county, Category.DEEP)


def test_it_refuses_to_file_without_a_standard(build_household, caseworker, unions):
    household, members = build_household(union=unions["410102-C01"])

    with pytest.raises(FilingError, match="低保标准") as error:
        save_household(household, members, by=caseworker)
    assert "中原区" in str(error.value)
    assert error.value.field == "region"
    assert not Household.objects.exists()


# ---------------------------------------------------------------- privacy and history


def test_it_stores_the_bank_card_encrypted(make_household, caseworker, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"], bank_name="中国工商银行", bank_card=CARD)

    with connection.cursor() as cursor:
        cursor.execute("SELECT bank_card FROM dossiers_household WHERE id = %s", [household.pk])
        (stored,) = cursor.fetchone()

    assert stored and CARD not in stored
    assert fresh(household).bank_card == CARD


def test_it_masks_the_bank_card_to_its_last_four_digits(make_household, caseworker, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"], bank_card=CARD)

    assert fresh(household).masked_bank_card == "**** 0123"
    assert Household(bank_card="").masked_bank_card == ""


def test_it_records_an_address_change_in_the_history(household, caseworker):
    old_address = household.address
    household.address = "郑州市中原区桐柏路 8 号"

    save_household(household, list(household.members.all()), by=caseworker)

    latest = object_history(household)[0]
    assert latest.action == "修改"
    assert ("家庭住址", old_address, "郑州市中原区桐柏路 8 号") in [(c.field, c.old, c.new) for c in latest.changes]


def test_it_does_not_show_an_unchanged_bank_card_as_a_change_in_the_history(make_household, caseworker, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"], bank_card=CARD)
    household.address = "郑州市中原区桐柏路 8 号"

    save_household(household, list(household.members.all()), by=caseworker)

    changed = [c.field for c in object_history(household)[0].changes]
    assert "家庭住址" in changed
    assert "银行卡号" not in changed


@pytest.mark.django_db
def test_another_units_file_names_its_contact_person_and_phone(unions):
    from dossiers.filing import union_contact

    unit = unions["410105-C01"]
    unit.contact_person, unit.contact_phone = "赵敏", "0371-63330000"
    assert union_contact(unit) == f"{unit.name}，联系人 赵敏，电话 0371-63330000"
    unit.contact_person = unit.contact_phone = ""
    assert union_contact(unit) == unit.name
