"""The four batches' measure types and the suggestions by cause of hardship: shipped complete, read by everyone,
kept by national administrators only."""

import pytest
from django.urls import reverse
from django.utils import translation

from assistance.models import Batch, CauseSuggestion, MeasureType
from assistance.suggestions import for_household, suggested_types
from dossiers.choices import Cause
from tests.dossiers.conftest import new_member

pytestmark = pytest.mark.django_db

# What domain.md and the issue name for each batch, as shipped.
EXPECTED = {
    Batch.EMPLOYMENT: {"技能培训", "职业介绍", "创业培训与指导", "小额贷款（免息或贴息）", "公益性岗位安置",
                       "阳光就业（高校毕业生）"},
    Batch.SOCIAL_INSURANCE: {"参加养老保险", "参加医疗保险", "参加失业保险", "参加工伤保险", "落实应享社保待遇",
                             "追缴单位欠缴社保费"},
    Batch.MEDICAL: {"大病保险", "职工医疗互助", "特殊医疗救助"},
    Batch.BACKSTOP: {"纳入最低生活保障（低保）", "特困人员救助供养", "临时救助", "受灾人员救助", "金秋助学",
                     "住房救助"},
    Batch.REGULAR: {"送温暖慰问", "法律援助", "定期生活补助"},
}


def names(types) -> list[str]:
    return [measure_type.name for measure_type in types]


def test_every_batch_ships_its_measure_types_with_english_names():
    for batch, expected in EXPECTED.items():
        shipped = MeasureType.objects.filter(batch=batch)
        assert set(names(shipped)) == expected, batch
        assert all(measure_type.name_en and measure_type.active for measure_type in shipped)
    assert MeasureType.objects.get(code="medical_mutual_aid").involves_money
    assert not MeasureType.objects.get(code="job_referral").involves_money


def test_every_cause_suggests_measures_and_the_issues_examples_come_first():
    assert {suggestion.cause for suggestion in CauseSuggestion.objects.all()} == set(Cause.values)
    assert names(suggested_types([Cause.ABLE_BUT_UNEMPLOYED]))[0] == "职业介绍"
    assert names(suggested_types([Cause.SERIOUS_ILLNESS]))[0] == "职工医疗互助"
    assert names(suggested_types([Cause.SCHOOLING]))[0] == "金秋助学"


def test_suggestions_follow_the_main_cause_first_each_type_once():
    types = suggested_types([Cause.LAID_OFF, Cause.ABLE_BUT_UNEMPLOYED, Cause.SERIOUS_ILLNESS])
    assert names(types)[:2] == ["职业介绍", "技能培训"]
    assert len(types) == len(set(types))
    assert names(types).index("职工医疗互助") > names(types).index("小额贷款（免息或贴息）")


def test_a_switched_off_type_is_not_suggested():
    MeasureType.objects.filter(code="job_referral").update(active=False)
    assert "职业介绍" not in names(suggested_types([Cause.ABLE_BUT_UNEMPLOYED]))


def test_a_zero_employment_family_able_to_work_is_proposed_employment_first(make_household, caseworker, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"], main_cause=Cause.SERIOUS_ILLNESS,
                               zero_employment=True)
    assert for_household(household)[0].batch == Batch.EMPLOYMENT
    unable = make_household(by=caseworker, union=unions["410102-C01"], main_cause=Cause.SERIOUS_ILLNESS,
                            zero_employment=True, members=[new_member(able_to_work=False, work_status="unable")])
    assert for_household(unable)[0].name == "职工医疗互助"


def test_the_label_follows_the_language():
    referral = MeasureType.objects.get(code="job_referral")
    with translation.override("en"):
        assert str(referral) == "Job referral"
    with translation.override("zh-hans"):
        assert str(referral) == "职业介绍"


def test_only_a_national_administrator_changes_them(client_for, national_admin, county_admin, caseworker, auditor):
    referral = MeasureType.objects.get(code="job_referral")
    change = reverse("admin:assistance_measuretype_change", args=[referral.pk])
    national = client_for(national_admin)
    response = national.post(change, {
        "batch": "employment", "name": "职业介绍（岗位推荐）", "name_en": "Job referral", "description": "",
        "involves_money": "", "active": "on", "position": "2",
        "suggested_for-TOTAL_FORMS": "0", "suggested_for-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    referral.refresh_from_db()
    assert referral.name == "职业介绍（岗位推荐）" and referral.code == "job_referral"
    assert MeasureType.pgh_event_model.objects.filter(pgh_obj=referral, pgh_label="update").exists()

    county = client_for(county_admin)
    assert county.get(change).status_code in (200, 403)  # may read
    assert county.post(change, {"name": "改名"}).status_code == 403
    assert county.get(reverse("admin:assistance_measuretype_add")).status_code == 403
    assert client_for(auditor).post(change, {"name": "改名"}).status_code == 403
    assert client_for(caseworker).get(change).status_code == 302  # no admin site for casework roles
    referral.refresh_from_db()
    assert referral.name == "职业介绍（岗位推荐）"
