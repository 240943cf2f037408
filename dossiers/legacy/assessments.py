"""The income assessment of each file an import puts on the register, so that it does not land there 尚未评估.

The register the file was kept in gave it its category; the assessment records what the imported figures come to
under the real rules (dossiers.assessment) and the standard in force on the day of the import. Where the two
categories differ the assessment says so in its override reason, and the file keeps the register's category:
re-grading is the yearly re-verification's work, with a new assessment. Written with COPY, like the households.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from psycopg.types.json import Jsonb

from dossiers import assessment
from dossiers.choices import Category, Status
from dossiers.filing import able_bodied_unemployed
from dossiers.legacy.rows import HouseholdRecord
from dossiers.models import Assessment, Household, LocalStandard
from hardship.bulk import copy_rows
from hardship.models import Region

RULE_VERSION = f"import-{assessment.RULE_VERSION}"
UNLISTED_MEMBER = "（未列明的家庭成员）"
ZERO = Decimal("0.00")
COLUMNS = ["household_id", "made_at", "made_by_id", "standard_id", "inputs", "result", "per_capita_monthly",
           "proposed_category", "final_category", "override_reason", "rule_version"]
_COST_INPUTS = dict(zip(assessment.COST_FIELDS, Household.COST_FIELDS))
_INCOME_INPUTS = dict(zip(assessment.INCOME_FIELDS, Household.INCOME_FIELDS))


def standard_in_force(region_code: str, on: datetime.date) -> tuple[LocalStandard | None, str]:
    """The standard the imported files are assessed against, or None and the warning the report gives once."""
    region = Region.objects.get(code=region_code)
    standard = LocalStandard.in_force(region, on)
    if standard is not None:
        return standard, ""
    return None, _("%(region)s在 %(date)s 没有有效的低保标准，导入的在档户未做收入评估（档案显示“尚未评估”）："
                   "请先录入当地低保标准，年度复核时再评估") % {"region": region.name, "date": f"{on:%Y-%m-%d}"}


def assessable(record: HouseholdRecord, status: str) -> bool:
    """A file created on the register whose row gives its income (the household size always follows: 家庭人口, or
    the people the file lists). A closed file is an archive: a relapse assesses it afresh."""
    given = record.values
    has_income = "annual_income" in given or any(key in given for key in _INCOME_INPUTS.values())
    return status == Status.REGISTERED and has_income


def write_assessments(made: list[tuple], *, standard: LocalStandard, user, now: datetime.datetime,
                      today: datetime.date) -> None:
    """made: (household id, record, household values, people) of the files just created."""
    line = assessment.Standard(poverty_line=standard.poverty_line, min_wage=standard.min_wage)
    options = {"relative_multiple": Decimal(str(settings.RELATIVE_HARDSHIP_MULTIPLE)),
               "accident_cost_share": Decimal(str(settings.ACCIDENT_COST_SHARE))}

    def rows():
        for household_id, record, values, people in made:
            if not assessable(record, values["status"]):
                continue
            data = assessment_input(values, people, size=record.values.get("household_size"), on=today)
            result = assessment.assess(data, line, **options)
            inputs = {**assessment.input_as_dict(data), "poverty_line": str(standard.poverty_line),
                      "min_wage": str(standard.min_wage)}
            final = values.get("category") or ""
            yield (household_id, now, user.pk, standard.pk, Jsonb(inputs), Jsonb(result.as_dict()),
                   result.per_capita_monthly, result.category.value, final, override_reason(final, result),
                   RULE_VERSION)

    copy_rows(Assessment._meta.db_table, COLUMNS, rows())


def assessment_input(values: dict, people: list[dict], *, size: int | None, on: datetime.date
                     ) -> assessment.AssessmentInput:
    """As filing.assessment_input makes it from a saved file, from the values the import writes. A 家庭人口 larger
    than the people listed counts the others with no income of their own."""
    members = [assessment.MemberInput(name=person["name"], annual_income=person.get("monthly_income", ZERO) * 12,
                                      able_bodied_unemployed=_able_bodied_unemployed(person, on))
               for person in people]
    unlisted = assessment.MemberInput(name=UNLISTED_MEMBER, annual_income=ZERO, able_bodied_unemployed=False)
    members += [unlisted] * max(0, (size or 0) - len(members))
    amounts = {name: values.get(column, ZERO) for name, column in {**_INCOME_INPUTS, **_COST_INPUTS}.items()}
    return assessment.AssessmentInput(members=tuple(members), **amounts, accident=bool(values.get("accident")))


def _able_bodied_unemployed(person: dict, on: datetime.date) -> bool:
    """On the person's imported values (a member's defaults where a column is absent)."""
    return able_bodied_unemployed(able_to_work=person.get("able_to_work", True), work_status=person.get("work_status"),
                                  birth_date=person["birth_date"], sex=person["sex"], on=on)


def override_reason(final: str, result: assessment.AssessmentResult) -> str:
    """Kept with the assessment as written, in Chinese, like its reasons."""
    if final == result.category.value:
        return ""
    computed = assessment.source_text(result.category.label)
    if not final:
        return f"历史档案导入：原台账未载明困难类别，按导入的收入测算为“{computed}”"
    kept = assessment.source_text(Category(final).label)
    return f"历史档案导入：原台账类别为“{kept}”，按导入的收入测算为“{computed}”"
