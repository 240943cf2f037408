"""Hardship category assessment (困难类别认定), pure rules with no database.

Over the 12 months before filing:

    per-capita monthly net income
        = (wages + business + property + transfers + other income + imputed income
           − illness − disability − schooling − housing − other costs) / household size / 12

compared with the local 低保 standard (monthly, per person). Union aid is part of transfers.
Every able-bodied unemployed member of working age is counted as earning the local minimum wage
for the 12 months: max(min_wage × 12 − their declared annual income, 0) is added as imputed income.

Arithmetic is exact Decimal; money is rounded to 0.01 ROUND_HALF_UP only when the result is built.
The category is decided on the rounded per-capita figure, the one shown in the reasons, so the
explanation never contradicts the category.

The outcome and the exclusions are the vocabulary of dossiers.choices (Outcome, Exclusion), labels included.
The reasons are kept with the assessment as written, in Chinese, whatever the language of the page;
beside them each line is kept as a code and its figures (`lines`), from which `explanation()` words it
again in the language of the page that shows it.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from dossiers.choices import Exclusion, Outcome

RULE_VERSION = "2018.1"

CENT = Decimal("0.01")
MONTHS = 12


# Chinese names of the AssessmentInput amount fields, for validation messages.
FIELD_LABELS: dict[str, str] = {
    "wages": "工资性收入",
    "business": "经营净收入",
    "property": "财产净收入",
    "transfers": "转移净收入",
    "other_income": "其他收入",
    "illness_costs": "医疗支出",
    "disability_costs": "残疾康复支出",
    "schooling_costs": "教育支出",
    "housing_costs": "住房支出",
    "other_costs": "其他刚性支出",
}
INCOME_FIELDS = ("wages", "business", "property", "transfers", "other_income")
COST_FIELDS = ("illness_costs", "disability_costs", "schooling_costs", "housing_costs", "other_costs")
# Costs that count towards the accident rule (意外致困).
HARDSHIP_COST_FIELDS = ("illness_costs", "disability_costs", "other_costs")


# The wording of each line of the explanation, by code: rendered in the page's language by explain().
REASON_WORDING = {
    "imputed": gettext_noop("成员%(name)s有劳动能力但未就业，按当地最低工资标准 %(min_wage)s 元/月计算全年收入，"
                            "申报年收入 %(declared)s 元，补计收入 %(gap)s 元"),
    "household": gettext_noop("家庭人口 %(size)s 人，年度家庭总收入 %(income)s 元（含补计收入 %(imputed)s 元），"
                              "刚性支出 %(costs)s 元"),
    "below_line": gettext_noop("人均月收入 %(per_capita)s 元，低于当地低保标准 %(line)s 元"),
    "below_relative_line": gettext_noop("人均月收入 %(per_capita)s 元，不低于当地低保标准 %(line)s 元，"
                                        "低于低保标准的 %(multiple)s 倍 %(relative_line)s 元"),
    "above_relative_line": gettext_noop("人均月收入 %(per_capita)s 元，不低于低保标准的 %(multiple)s 倍 "
                                        "%(relative_line)s 元"),
    "accident_costs_over": gettext_noop("家庭申报突发事件、意外或重大疾病，年度致困支出 %(costs)s 元，"
                                        "超过家庭总收入 %(income)s 元的 %(share)s%%"),
    "accident_costs_under": gettext_noop("家庭申报突发事件、意外或重大疾病，但年度致困支出 %(costs)s 元，"
                                         "未超过家庭总收入 %(income)s 元的 %(share)s%%"),
    "exclusion": gettext_noop("存在排除情形：%(exclusion)s"),
    "outcome": gettext_noop("认定结果：%(category)s"),
}


def explain(line: dict) -> str:
    """One line of the explanation ({"code": …, figures…}) in the active language."""
    figures = {key: value for key, value in line.items() if key != "code"}
    if "exclusion" in figures:
        figures["exclusion"] = Exclusion(figures["exclusion"]).label
    if "category" in figures:
        figures["category"] = Outcome(figures["category"]).label
    return gettext(REASON_WORDING[line["code"]]) % figures


def explanation(result: dict) -> list[str]:
    """A stored result's explanation in the active language; a result stored before its lines were kept
    is shown as it was written."""
    if "lines" in result:
        return [explain(line) for line in result["lines"]]
    return list(result.get("reasons", []))


def _line(code: str, **figures) -> dict:
    return {"code": code, **{key: str(value) for key, value in figures.items()}}


@dataclass(frozen=True)
class MemberInput:
    name: str
    annual_income: Decimal
    able_bodied_unemployed: bool  # of working age, able to work, not a student, not employed


@dataclass(frozen=True)
class AssessmentInput:
    members: tuple[MemberInput, ...]  # household size = len(members); must be >= 1
    # Annual household totals.
    wages: Decimal
    business: Decimal
    property: Decimal
    transfers: Decimal
    other_income: Decimal
    illness_costs: Decimal
    disability_costs: Decimal
    schooling_costs: Decimal
    housing_costs: Decimal
    other_costs: Decimal
    accident: bool = False  # declared emergency / accident / major illness
    exclusions: frozenset[Exclusion] = frozenset()


@dataclass(frozen=True)
class Standard:
    poverty_line: Decimal  # 低保, monthly per person
    min_wage: Decimal  # monthly


@dataclass(frozen=True)
class AssessmentResult:
    per_capita_monthly: Decimal  # 2 decimals, can be negative
    total_income: Decimal  # declared income plus imputed_income
    imputed_income: Decimal
    rigid_costs: Decimal
    household_size: int
    category: Outcome  # compares equal to the Category of the same value
    exclusions: tuple[Exclusion, ...]
    reasons: tuple[str, ...]  # in Chinese, as the record of the assessment
    lines: tuple[dict, ...]  # the same, as codes and figures (see explain)
    ratio_to_line: Decimal  # per_capita_monthly / poverty_line, 2 decimals
    rule_version: str

    def as_dict(self) -> dict:
        return {
            "per_capita_monthly": str(self.per_capita_monthly),
            "total_income": str(self.total_income),
            "imputed_income": str(self.imputed_income),
            "rigid_costs": str(self.rigid_costs),
            "household_size": self.household_size,
            "category": self.category.value,
            "category_label": source_text(self.category.label),
            "exclusions": [e.value for e in self.exclusions],
            "reasons": list(self.reasons),
            "lines": list(self.lines),
            "ratio_to_line": str(self.ratio_to_line),
            "rule_version": self.rule_version,
        }

    @property
    def explained(self) -> list[str]:
        """The reasons in the active language."""
        return [explain(line) for line in self.lines]


def input_as_dict(data: AssessmentInput) -> dict:
    """The input as JSON-serialisable data (Decimals as strings), for the snapshot."""
    out: dict = {
        "members": [
            {
                "name": m.name,
                "annual_income": str(m.annual_income),
                "able_bodied_unemployed": m.able_bodied_unemployed,
            }
            for m in data.members
        ],
    }
    for name in INCOME_FIELDS + COST_FIELDS:
        out[name] = str(getattr(data, name))
    out["accident"] = data.accident
    out["exclusions"] = [e.value for e in Exclusion if e in data.exclusions]
    return out


def _amount(value: object, label: str) -> Decimal:
    if isinstance(value, (bool, float)) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{label}必须是精确的金额（Decimal），收到：{value!r}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"{label}不是有效金额：{value}")
    if amount < 0:
        raise ValueError(f"{label}不能为负数：{value}")
    return amount


def source_text(label) -> str:
    """A choice label as written in the source (Chinese), not in the language of the current request."""
    with translation.override(None):
        return str(label)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> str:
    """2 → "2", 1.50 → "1.5" (for multiples and percentages in reasons)."""
    return format(value.normalize(), "f")


def _parameters(standard: Standard, relative_multiple, accident_cost_share) -> tuple[Decimal, ...]:
    poverty_line = _amount(standard.poverty_line, "低保标准（poverty_line）")
    if poverty_line == 0:
        raise ValueError("低保标准（poverty_line）必须大于零")
    min_wage = _amount(standard.min_wage, "最低工资标准（min_wage）")
    relative_multiple = _amount(relative_multiple, "相对困难倍数（relative_multiple）")
    if relative_multiple < 1:
        raise ValueError(f"相对困难倍数（relative_multiple）不能小于 1：{relative_multiple}")
    accident_cost_share = _amount(accident_cost_share, "意外致困支出比例（accident_cost_share）")
    return poverty_line, min_wage, relative_multiple, accident_cost_share


def _imputed_income(members, member_incomes: list[Decimal], min_wage: Decimal, lines: list[dict]) -> Decimal:
    """Able-bodied unemployed members earn at least the minimum wage: the gap to it is added as income."""
    imputed = Decimal(0)
    for member, declared in zip(members, member_incomes, strict=True):
        if not member.able_bodied_unemployed:
            continue
        gap = min_wage * MONTHS - declared
        if gap > 0:
            imputed += gap
            lines.append(_line("imputed", name=member.name, min_wage=_money(min_wage), declared=_money(declared),
                               gap=_money(gap)))
    return imputed


def assess(
    data: AssessmentInput,
    standard: Standard,
    *,
    relative_multiple: Decimal = Decimal(2),
    accident_cost_share: Decimal = Decimal("0.8"),
) -> AssessmentResult:
    # Validation.
    size = len(data.members)
    if size < 1:
        raise ValueError("家庭人口不能为零，至少应有一名成员")
    amounts = {name: _amount(getattr(data, name), f"{FIELD_LABELS[name]}（{name}）") for name in FIELD_LABELS}
    member_incomes = [
        _amount(m.annual_income, f"成员{m.name}的年收入（annual_income）") for m in data.members
    ]
    poverty_line, min_wage, relative_multiple, accident_cost_share = _parameters(
        standard, relative_multiple, accident_cost_share)
    exclusions = tuple(e for e in Exclusion if e in {Exclusion(x) for x in data.exclusions})

    lines: list[dict] = []
    imputed = _imputed_income(data.members, member_incomes, min_wage, lines)

    total_income = sum((amounts[n] for n in INCOME_FIELDS), Decimal(0)) + imputed
    rigid_costs = sum((amounts[n] for n in COST_FIELDS), Decimal(0))
    hardship_costs = sum((amounts[n] for n in HARDSHIP_COST_FIELDS), Decimal(0))
    exact_per_capita = (total_income - rigid_costs) / (size * MONTHS)
    per_capita = _money(exact_per_capita)
    relative_line = poverty_line * relative_multiple

    lines.append(_line("household", size=size, income=_money(total_income), imputed=_money(imputed),
                       costs=_money(rigid_costs)))

    # Income tests, on the published (rounded) per-capita figure.
    if per_capita < poverty_line:
        income_category = Outcome.DEEP
        lines.append(_line("below_line", per_capita=per_capita, line=_money(poverty_line)))
    elif per_capita < relative_line:
        income_category = Outcome.RELATIVE
        lines.append(_line("below_relative_line", per_capita=per_capita, line=_money(poverty_line),
                           multiple=_plain(relative_multiple), relative_line=_money(relative_line)))
    else:
        income_category = Outcome.NOT_ELIGIBLE
        lines.append(_line("above_relative_line", per_capita=per_capita, multiple=_plain(relative_multiple),
                           relative_line=_money(relative_line)))

    # Accident rule, only when income alone does not qualify.
    category = income_category
    if income_category == Outcome.NOT_ELIGIBLE and data.accident:
        over = hardship_costs > total_income * accident_cost_share
        if over:
            category = Outcome.ACCIDENT
        lines.append(_line("accident_costs_over" if over else "accident_costs_under", costs=_money(hardship_costs),
                           income=_money(total_income), share=_plain(accident_cost_share * 100)))

    # Exclusions override everything.
    if exclusions:
        category = Outcome.NOT_ELIGIBLE
        for exclusion in exclusions:
            lines.append(_line("exclusion", exclusion=exclusion.value))

    lines.append(_line("outcome", category=category.value))
    with translation.override(None):  # the record is kept in the source language
        reasons = [explain(line) for line in lines]

    return AssessmentResult(
        per_capita_monthly=per_capita,
        total_income=_money(total_income),
        imputed_income=_money(imputed),
        rigid_costs=_money(rigid_costs),
        household_size=size,
        category=category,
        exclusions=exclusions,
        reasons=tuple(reasons),
        lines=tuple(lines),
        ratio_to_line=_money(exact_per_capita / poverty_line),
        rule_version=RULE_VERSION,
    )
