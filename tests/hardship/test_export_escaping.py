"""One formula escape for every export: the union list, the household files, the rejected rows of an import and the
auditor's access records, as csv and xlsx, with a hostile value in every text column: none comes out as a formula;
numbers (a negative net income) stay numbers."""

from __future__ import annotations

import csv
import io
import itertools
import re
from decimal import Decimal

import openpyxl
import pytest
import tablib
from django.urls import reverse

from dossiers.legacy.importer import rejected_rows_xlsx, seal_cells
from dossiers.models import Household, Member
from hardship.exports import FORMATS, FORMULA_START, escape_cell, escape_formula, table_content
from hardship.models import AccessRecord, Region, Union
from tests.dossiers.conftest import build_household, make_household, standard  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

HOSTILE = ["=HYPERLINK(\"http://evil\",\"点我\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1",
           "\r=1+1"]


def hostile():
    """A hostile value for each column in turn."""
    return itertools.cycle(HOSTILE)


def cells(content: bytes, file_format: str) -> list:
    """Every cell of an export: the csv's fields, or each xlsx cell's value with formulas kept as written."""
    if file_format == "csv":
        return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    found = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                found.append(cell.value)
    return found


# What may start so and is no formula: a number (csv has no types: -5 is Excel's number -5), and the household csv's
# ID numbers and phones after a tab (Excel's "text, not a number"; dossiers.legacy.export).
HARMLESS = re.compile(r"-?\d+(\.\d+)?|\t[\dXx]+")


def unescaped(content: bytes, file_format: str) -> list[str]:
    return [cell for cell in cells(content, file_format)
            if isinstance(cell, str) and cell.startswith(FORMULA_START) and not HARMLESS.fullmatch(cell)]


def assert_every_hostile_value_escaped(content: bytes, file_format: str, expected: int) -> None:
    found = cells(content, file_format)
    assert not unescaped(content, file_format)
    escaped = [cell for cell in found if isinstance(cell, str) and cell.startswith("'") and cell[1:] in HOSTILE]
    assert len(escaped) >= expected, found


# --- the one escape -----------------------------------------------------------------------------------------------

def test_the_escape_prefixes_every_formula_start_and_leaves_other_values_alone():
    assert [escape_formula(value) for value in HOSTILE] == ["'" + value for value in HOSTILE]
    assert [escape_cell(value) for value in ("郑州", "", "1-2", -5, Decimal("-1200.50"), None)] == [
        "郑州", "", "1-2", -5, Decimal("-1200.50"), None]


def test_the_household_layout_uses_the_same_escape():
    from dossiers.legacy import layout

    assert layout.escape_formula is escape_formula and layout.FORMULA_START is FORMULA_START


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_import_export_formats_escape_text_and_keep_numbers(file_format):
    dataset = tablib.Dataset(headers=["=名称", "金额"], title="单位")
    dataset.append(["=1+1", -5])
    dataset.append(["@x", 12.5])

    content = FORMATS[file_format]().export_data(dataset)

    content = content.encode("utf-8") if isinstance(content, str) else content
    assert not unescaped(content, file_format)
    if file_format == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        assert [row for row in sheet.iter_rows(values_only=True)] == [("'=名称", "金额"), ("'=1+1", -5), ("'@x", 12.5)]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_plain_table_escapes_text_and_keeps_numbers(file_format):
    content = table_content(file_format, ["=a", "b"], [["-1+1", -5], ["ok", Decimal("-3.5")]], title="表")

    assert not unescaped(content, file_format)
    if file_format == "xlsx":
        rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
        assert rows == [("'=a", "b"), ("'-1+1", -5), ("ok", -3.5)]
    else:
        assert content.decode("utf-8-sig").splitlines() == ["'=a,b", "'-1+1,-5", "ok,-3.5"]


# --- each export, end to end --------------------------------------------------------------------------------------

@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_union_export_escapes_every_text_column(client_for, supervisor, unions, file_format):
    values = hostile()
    for code in ("410102", "410102-C01", "410105"):
        Union.objects.filter(code=code).update(name=next(values), address=next(values), contact_phone=next(values))
    Region.objects.filter(code="410102").update(name=next(values))

    response = client_for(supervisor).get(reverse("union_export", args=["410000", file_format]))

    assert response.status_code == 200
    assert_every_hostile_value_escaped(response.content, file_format, expected=10)


@pytest.fixture
def hostile_household(make_household, caseworker, unions):  # noqa: F811
    household = make_household(by=caseworker, union=unions["410102-C01"])
    values = hostile()
    Household.objects.filter(pk=household.pk).update(
        address=next(values), phone=next(values), bank_name=next(values), bank_branch=next(values),
        head_name=next(values), income_business=Decimal("-1200.00"))
    for member in household.members.all():
        member.name, member.employer, member.health_notes = next(values), next(values), next(values)
        Member.objects.filter(pk=member.pk).update(name=member.name, employer=member.employer)
    return household


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_household_export_escapes_every_text_column_and_keeps_numbers(client_for, caseworker, hostile_household,
                                                                          file_format):
    response = client_for(caseworker).get(reverse("dossiers:export", args=[file_format]))

    assert response.status_code == 200
    assert_every_hostile_value_escaped(response.content, file_format, expected=6)
    found = cells(response.content, file_format)
    assert (-1200 in found) if file_format == "xlsx" else ("-1200.00" in found)  # a number, not "'-1200.00"


def test_the_rejected_rows_escape_headers_cells_and_reasons():
    values = hostile()
    rows = [{"sheet": "家庭档案", "headers": [next(values), "姓名"], "cells": seal_cells([next(values), next(values)]),
             "reason": next(values), "row": 3}]

    assert_every_hostile_value_escaped(rejected_rows_xlsx(rows), "xlsx", expected=4)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_audit_export_escapes_every_text_column(client_for, auditor, caseworker, unions, file_format):
    values = hostile()
    for action in (AccessRecord.Action.DENIED, AccessRecord.Action.LOGIN_FAILED):
        AccessRecord.objects.create(user=None, username=next(values), action=action, subject=next(values),
                                    union=unions["410102-C01"], succeeded=False)
    Union.objects.filter(code="410102-C01").update(name=next(values))
    caseworker.full_name = next(values)
    caseworker.save()
    AccessRecord.objects.create(user=caseworker, action=AccessRecord.Action.VIEW, subject=next(values),
                                union=unions["410102-C01"])

    response = client_for(auditor).get(reverse("audit_export", args=[file_format]))

    assert response.status_code == 200
    assert not unescaped(response.content, file_format)
    assert len([cell for cell in cells(response.content, file_format) if str(cell).startswith("'")]) >= 6
