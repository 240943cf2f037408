"""Hardship category rules (dossiers.assessment): pure functions, no database."""

import json
from dataclasses import replace
from decimal import Decimal as D

import pytest
from django.utils import translation

from dossiers.assessment import RULE_VERSION, AssessmentInput, MemberInput, Standard, assess, input_as_dict
from dossiers.choices import Category, Exclusion, Outcome

STANDARD = Standard(poverty_line=D("600.00"), min_wage=D("2000.00"))
ZERO = D(0)


def worker(name: str = "王芳", income: str = "0") -> MemberInput:
    return MemberInput(name=name, annual_income=D(income), able_bodied_unemployed=False)


def household(size: int = 1, members: tuple[MemberInput, ...] | None = None, **amounts) -> AssessmentInput:
    fields = dict(
        wages=ZERO, business=ZERO, property=ZERO, transfers=ZERO, other_income=ZERO,
        illness_costs=ZERO, disability_costs=ZERO, schooling_costs=ZERO, housing_costs=ZERO, other_costs=ZERO,
    )
    fields.update({k: (D(v) if isinstance(v, str) else v) for k, v in amounts.items()})
    if members is None:
        members = tuple(worker(f"成员{i}") for i in range(size))
    return AssessmentInput(members=members, **fields)


def test_it_applies_the_formula_on_a_worked_example():
    # Three members: 李强 employed (30000), 张丽 able-bodied and unemployed (declares 0), 李小明 a pupil.
    # Income: wages 30000 + business 0 + property 1200 + transfers 3600 (incl. union aid) + other 0 = 34800
    # Imputed for 张丽: 2000 × 12 − 0 = 24000  → total income 58800
    # Rigid costs: illness 8000 + disability 0 + schooling 4000 + housing 6000 + other 1000 = 19000
    # Per capita monthly: (58800 − 19000) / 3 / 12 = 39800 / 36 = 1105.5555… → 1105.56
    # 600 ≤ 1105.56 < 2 × 600 = 1200 → RELATIVE; ratio 1105.5555… / 600 = 1.8425… → 1.84
    members = (
        worker("李强", "30000"),
        MemberInput(name="张丽", annual_income=D("0"), able_bodied_unemployed=True),
        worker("李小明"),
    )
    data = household(
        members=members, wages="30000", property="1200", transfers="3600",
        illness_costs="8000", schooling_costs="4000", housing_costs="6000", other_costs="1000",
    )
    result = assess(data, STANDARD)
    assert result.household_size == 3
    assert result.imputed_income == D("24000.00")
    assert result.total_income == D("58800.00")
    assert result.rigid_costs == D("19000.00")
    assert result.per_capita_monthly == D("1105.56")
    assert result.ratio_to_line == D("1.84")
    assert result.category == Category.RELATIVE
    assert result.exclusions == ()
    assert result.rule_version == RULE_VERSION == "2018.1"
    assert "人均月收入 1105.56 元，不低于当地低保标准 600.00 元，低于低保标准的 2 倍 1200.00 元" in result.reasons
    assert any("张丽" in r and "24000.00" in r for r in result.reasons)
    assert result.reasons[-1] == "认定结果：相对困难"


def test_it_explains_a_deep_case_in_chinese():
    result = assess(household(2, wages="12300"), STANDARD)  # 12300 / 24 = 512.50
    assert result.category == Category.DEEP
    assert "人均月收入 512.50 元，低于当地低保标准 600.00 元" in result.reasons


@pytest.mark.parametrize(
    ("wages", "category"),
    [
        ("7200.00", Category.RELATIVE),  # exactly 600.00: not below 低保
        ("7199.88", Category.DEEP),  # 599.99
        ("14400.00", Outcome.NOT_ELIGIBLE),  # exactly 2 × 600 = 1200.00
        ("14399.88", Category.RELATIVE),  # 1199.99
    ],
)
def test_it_treats_below_as_strict_at_the_boundaries(wages, category):
    assert assess(household(wages=wages), STANDARD).category == category


def test_it_takes_the_relative_multiple_as_a_parameter():
    at_line = household(wages="10800")  # 900.00 = 1.5 × 600
    below = household(wages="10799.88")  # 899.99
    assert assess(at_line, STANDARD, relative_multiple=D("1.5")).category == Outcome.NOT_ELIGIBLE
    assert assess(below, STANDARD, relative_multiple=D("1.5")).category == Category.RELATIVE
    assert assess(at_line, STANDARD).category == Category.RELATIVE
    assert "低于低保标准的 1.5 倍 900.00 元" in assess(below, STANDARD, relative_multiple=D("1.5")).reasons[-2]


def test_it_imputes_the_minimum_wage_for_an_able_bodied_unemployed_member():
    # Declares 6000 a year; counted as 2000 × 12 = 24000, so 18000 is added.
    idle = MemberInput(name="赵刚", annual_income=D("6000"), able_bodied_unemployed=True)
    result = assess(household(members=(idle, worker()), wages="6000"), STANDARD)
    assert result.imputed_income == D("18000.00")
    assert result.total_income == D("24000.00")
    assert result.per_capita_monthly == D("1000.00")  # 24000 / 2 / 12
    assert any("赵刚" in r and "补计收入 18000.00 元" in r for r in result.reasons)


def test_it_imputes_nothing_when_declared_income_already_exceeds_the_minimum_wage():
    idle = MemberInput(name="赵刚", annual_income=D("30000"), able_bodied_unemployed=True)
    result = assess(household(members=(idle,), wages="30000"), STANDARD)
    assert result.imputed_income == D("0.00")
    assert result.total_income == D("30000.00")
    assert not any("赵刚" in r for r in result.reasons)


def test_it_imputes_nothing_for_members_who_are_not_able_bodied_unemployed():
    assert assess(household(3), STANDARD).imputed_income == D("0.00")


def test_it_gives_a_negative_per_capita_and_deep_when_costs_exceed_income():
    # (1200 − 13200) / 1 / 12 = −1000.00; ratio −1000 / 600 = −1.666… → −1.67
    result = assess(household(wages="1200", illness_costs="13200"), STANDARD)
    assert result.per_capita_monthly == D("-1000.00")
    assert result.ratio_to_line == D("-1.67")
    assert result.category == Category.DEEP


def accident_household(illness: str, accident: bool = True) -> AssessmentInput:
    # Income 120000; 80% of it is 96000. Even with 96000 of costs the per capita is
    # (120000 − 96000) / 12 = 2000 ≥ 1200, so income alone does not qualify.
    return replace(household(wages="120000", illness_costs=illness), accident=accident)


def test_it_does_not_propose_accident_at_exactly_the_cost_share():
    result = assess(accident_household("96000"), STANDARD)
    assert result.category == Outcome.NOT_ELIGIBLE
    assert any("未超过家庭总收入 120000.00 元的 80%" in r for r in result.reasons)


def test_it_proposes_accident_when_hardship_costs_exceed_the_share():
    result = assess(accident_household("96000.01"), STANDARD)
    assert result.category == Category.ACCIDENT
    assert any("超过家庭总收入 120000.00 元的 80%" in r for r in result.reasons)
    assert result.reasons[-1] == "认定结果：意外致困"


def test_it_needs_a_declared_accident_for_the_accident_rule():
    assert assess(accident_household("100000", accident=False), STANDARD).category == Outcome.NOT_ELIGIBLE


def test_it_counts_only_illness_disability_and_other_costs_towards_the_accident_rule():
    data = replace(
        accident_household("0"), disability_costs=D("40000"), other_costs=D("40000"), housing_costs=D("16000.01"),
    )
    assert assess(data, STANDARD).category == Outcome.NOT_ELIGIBLE  # 80000 ≤ 96000
    data = replace(data, other_costs=D("56000.01"), housing_costs=ZERO)
    assert assess(data, STANDARD).category == Category.ACCIDENT  # 96000.01 > 96000


def test_it_takes_the_accident_share_as_a_parameter():
    data = accident_household("60000.01")  # above half of 120000
    assert assess(data, STANDARD).category == Outcome.NOT_ELIGIBLE
    assert assess(data, STANDARD, accident_cost_share=D("0.5")).category == Category.ACCIDENT


def test_it_does_not_apply_the_accident_rule_when_already_deep():
    data = replace(household(wages="6000", illness_costs="6000"), accident=True)
    result = assess(data, STANDARD)
    assert result.category == Category.DEEP
    assert not any("突发事件" in r for r in result.reasons)


@pytest.mark.parametrize("exclusion", list(Exclusion))
def test_it_makes_each_exclusion_not_eligible_even_when_income_is_deep(exclusion):
    data = replace(household(wages="1200"), exclusions=frozenset({exclusion}))
    result = assess(data, STANDARD)
    assert result.per_capita_monthly == D("100.00")
    assert result.category == Outcome.NOT_ELIGIBLE
    assert result.exclusions == (exclusion,)
    assert result.reasons[-2:] == (f"存在排除情形：{exclusion.label}", "认定结果：不符合建档标准")


@pytest.mark.parametrize(
    ("exclusion", "reason"),
    [
        (Exclusion.COMPANY, "存在排除情形：家庭成员控制企业"),
        (Exclusion.HOMES, "存在排除情形：拥有两套以上超当地标准住房"),
        (Exclusion.VEHICLE, "存在排除情形：拥有机动车（残疾人代步车除外）"),
        (Exclusion.SCHOOLING, "存在排除情形：子女高收费择校或自费留学"),
        (Exclusion.CONCEALMENT, "存在排除情形：拒绝调查或隐瞒收入"),
        (Exclusion.REFUSES_WORK, "存在排除情形：有劳动能力成员拒绝就业"),
    ],
)
def test_it_names_each_exclusion_with_the_label_of_the_household_form(exclusion, reason):
    assert reason in assess(replace(household(), exclusions=frozenset({exclusion})), STANDARD).reasons


def test_it_labels_every_outcome_with_the_category_labels_and_not_eligible():
    assert dict(Outcome.choices) == {
        "deep": "深度困难", "relative": "相对困难", "accident": "意外致困", "not_eligible": "不符合建档标准",
    }
    assert {value: str(label) for value, label in Category.choices} == {
        value: label for value, label in Outcome.choices if value != Outcome.NOT_ELIGIBLE
    }
    assert Outcome.NOT_ELIGIBLE not in Category.values  # no file is registered as not eligible


def test_it_keeps_the_reasons_in_chinese_on_an_english_page():
    data = replace(household(wages="1200"), exclusions=frozenset({Exclusion.VEHICLE}))
    with translation.override("en"):
        assert str(Exclusion.VEHICLE.label) != "拥有机动车（残疾人代步车除外）"  # the page itself is in English
        result = assess(data, STANDARD)
    assert result.reasons[-2:] == ("存在排除情形：拥有机动车（残疾人代步车除外）", "认定结果：不符合建档标准")
    assert result.as_dict()["category_label"] == "不符合建档标准"


def test_it_lists_several_exclusions_in_a_stable_order():
    data = replace(household(), exclusions=frozenset({Exclusion.VEHICLE, Exclusion.COMPANY}))
    assert assess(data, STANDARD).exclusions == (Exclusion.COMPANY, Exclusion.VEHICLE)


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("wages", "工资性收入"), ("business", "经营净收入"), ("property", "财产净收入"),
        ("transfers", "转移净收入"), ("other_income", "其他收入"), ("illness_costs", "医疗支出"),
        ("disability_costs", "残疾康复支出"), ("schooling_costs", "教育支出"),
        ("housing_costs", "住房支出"), ("other_costs", "其他刚性支出"),
    ],
)
def test_it_rejects_a_negative_amount_naming_the_field(field, label):
    with pytest.raises(ValueError, match=f"{label}.*不能为负数"):
        assess(household(**{field: "-0.01"}), STANDARD)


def test_it_rejects_invalid_households_and_standards():
    with pytest.raises(ValueError, match="家庭人口"):
        assess(household(members=()), STANDARD)
    with pytest.raises(ValueError, match="低保标准"):
        assess(household(), Standard(poverty_line=D("0"), min_wage=D("2000")))
    with pytest.raises(ValueError, match="低保标准"):
        assess(household(), Standard(poverty_line=D("-600"), min_wage=D("2000")))
    with pytest.raises(ValueError, match="最低工资标准"):
        assess(household(), Standard(poverty_line=D("600"), min_wage=D("-1")))
    negative_member = MemberInput(name="赵刚", annual_income=D("-1"), able_bodied_unemployed=True)
    with pytest.raises(ValueError, match="赵刚"):
        assess(household(members=(negative_member,)), STANDARD)
    with pytest.raises(TypeError):
        assess(household(wages=1200.5), STANDARD)


def test_it_round_trips_the_result_and_input_through_json():
    idle = MemberInput(name="张丽", annual_income=D("1000.50"), able_bodied_unemployed=True)
    data = replace(
        household(members=(idle, worker()), wages="3000", illness_costs="12000.25"),
        accident=True, exclusions=frozenset({Exclusion.HOMES}),
    )
    result = assess(data, STANDARD)
    snapshot = result.as_dict()
    assert json.loads(json.dumps(snapshot, ensure_ascii=False)) == snapshot
    assert snapshot["category"] == "not_eligible"
    assert snapshot["category_label"] == "不符合建档标准"
    assert snapshot["exclusions"] == ["homes"]
    assert snapshot["per_capita_monthly"] == str(result.per_capita_monthly)
    assert D(snapshot["imputed_income"]) == D("22999.50")
    assert snapshot["rule_version"] == "2018.1"

    given = input_as_dict(data)
    assert json.loads(json.dumps(given, ensure_ascii=False)) == given
    assert given["members"][0] == {"name": "张丽", "annual_income": "1000.50", "able_bodied_unemployed": True}
    assert given["illness_costs"] == "12000.25"
    assert given["accident"] is True
    assert given["exclusions"] == ["homes"]


def test_it_rounds_half_up_only_at_the_end():
    # 20005 / 7 / 12 = 238.1547… → 238.15. Rounding the annual per capita first
    # (2857.857… → 2857.86, / 12 = 238.155 → 238.16) would give a cent more.
    assert assess(household(7, wages="20005"), STANDARD).per_capita_monthly == D("238.15")
    # 7200.06 / 12 = 600.005 → 600.01 half up (banker's rounding would give 600.00).
    assert assess(household(wages="7200.06"), STANDARD).per_capita_monthly == D("600.01")


def test_it_decides_on_the_rounded_figure_it_reports():
    # 7199.94 / 12 = 599.995 → 600.00, reported and judged as "not below 低保".
    result = assess(household(wages="7199.94"), STANDARD)
    assert result.per_capita_monthly == D("600.00")
    assert result.category == Category.RELATIVE


def test_it_words_the_explanation_in_the_language_of_the_page_and_keeps_the_record_in_chinese():
    members = (worker("李强", "30000"), MemberInput(name="张丽", annual_income=ZERO, able_bodied_unemployed=True))
    data = household(members=members, wages="30000", illness_costs="50000", accident=True,
                     exclusions=frozenset({Exclusion.VEHICLE}))
    result = assess(data, STANDARD)
    with translation.override("en"):
        english = result.explained
        assert result.reasons[-1] == "认定结果：不符合建档标准"  # the record does not follow the page
    assert english[0].startswith("Member 张丽 can work but has no job")
    assert "Excluded: " in english[-2] and english[-1] == "Result: Not eligible"
    assert not any("元" in line or "：" in line for line in english)
    with translation.override("zh-hans"):
        assert result.explained == list(result.reasons)


def test_it_shows_a_stored_result_in_the_page_language_and_an_older_one_as_written():
    from dossiers.assessment import explanation

    stored = json.loads(json.dumps(assess(household(2, wages="12300"), STANDARD).as_dict()))
    with translation.override("en"):
        below = "Per-capita monthly income 512.50 yuan, below the local dibao line of 600.00 yuan"
        assert explanation(stored)[1] == below
        older = {key: value for key, value in stored.items() if key != "lines"}
        assert explanation(older) == stored["reasons"]
