"""Fuzzing the import with random cells (hypothesis): whatever a legacy register holds, a preview returns a report,
and every problem in it is a RowProblem with a Chinese reason that points at a real row. Nothing else comes out.

Three ways in: raw cells as the reader hands them over (every type python-calamine returns, incl. nan/inf, control
characters, huge strings), and real .xlsx and .csv bytes whose cells were random. Each example is a dry run (a
rolled-back transaction), so one database fixture serves them all.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from dossiers.legacy import importer, reading
from dossiers.legacy.importer import ImportReport, RowProblem, SkippedRow, run_import
from dossiers.legacy.layout import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS
from dossiers.legacy.reading import Sheet, UnreadableFile
from dossiers.models import Household, Member, RegisterEvent
from tests.dossiers import legacy_files as lf

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")
FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
FEW = settings(FUZZ, max_examples=40)

# Text with what legacy cells hide: control characters, zero-width and full-width characters, surrogates excluded.
texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
awkward = st.sampled_from(["", " ", "\u3000", "\u200b", "合计", "本人", "是", "否", "√", "×", "nan", "inf", "-1",
                           "1e400", "=1+1", "@SUM(A1)", "'0001", "4.10102198503071E+17", "１２３", "1985.10",
                           "1985年13月", "0", "NULL", "#N/A", "#VALUE!", "万元", "1.2万", "-12,000元", "***"])
huge = st.builds(lambda char, n: char * n, st.sampled_from(["字", "9", " ", "\n", "、"]), st.integers(500, 120_000))
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10 ** 20), 10 ** 20),
                    st.sampled_from([0.0, -0.0, 1e308, 5e-324, 60, 2958466, 1985.03, 1985.1, 19850307]))
moments = st.one_of(st.dates(), st.datetimes(), st.times(),
                    st.timedeltas(min_value=datetime.timedelta(days=-3), max_value=datetime.timedelta(days=3)))
raw_cells = st.one_of(st.none(), st.booleans(), texts, awkward, numbers, moments, huge)


def valid_household_row(fam: lf.Family) -> dict[str, object]:
    record = lf.household_record(fam)
    return {"name": record["name"], "id_number": record["id_number"], "sex": record["sex"],
            "birth_date": record["birth_date"], "causes": record["causes"], "address": record["address"],
            "annual_income": record["annual_income"], "status": "在档", "legacy_category": "低保户"}


def valid_member_row(fam: lf.Family) -> dict[str, object]:
    member = fam.members[0]
    record = lf.member_record(member, fam.head)
    return {key: record.get(key) for key, _header in MEMBER_COLUMNS}


@st.composite
def registers(draw, cells=raw_cells) -> list[Sheet]:
    """A two-sheet register in the system's own layout, one household and one member, with a few (or, half the
    time, any number of) columns scrambled."""
    fam = lf.family("张建国")
    household, member = valid_household_row(fam), valid_member_row(fam)
    width = len(HOUSEHOLD_COLUMNS) + len(MEMBER_COLUMNS)
    if draw(st.booleans()):
        scrambled = draw(st.sets(st.integers(0, width - 1), max_size=3))
    else:
        scrambled = {index for index in range(width) if draw(st.booleans())}
    household_row = [draw(cells) if index in scrambled else household.get(key)
                     for index, (key, _) in enumerate(HOUSEHOLD_COLUMNS)]
    member_row = [draw(cells) if index + len(HOUSEHOLD_COLUMNS) in scrambled else member.get(key)
                  for index, (key, _) in enumerate(MEMBER_COLUMNS)]
    title = [draw(st.sampled_from([lf.TITLE, None, ""]))] if draw(st.booleans()) else []
    return [
        Sheet("家庭档案", ([title] if title else []) + [[h for _, h in HOUSEHOLD_COLUMNS], household_row]),
        Sheet("家庭成员", [[h for _, h in MEMBER_COLUMNS], member_row, draw(st.lists(cells, max_size=4))]),
    ]


def counts() -> tuple[int, int, int]:
    return Household.objects.count(), Member.objects.count(), RegisterEvent.objects.count()


def check(report: ImportReport, sheets: dict[str, int], households: int = 1) -> None:
    """Every problem a RowProblem at a real row of a real sheet, with a Chinese reason."""
    assert isinstance(report, ImportReport)
    assert not report.written
    for problem in report.rejected:
        assert isinstance(problem, RowProblem)
        assert problem.sheet in sheets and 1 <= problem.row <= sheets[problem.sheet], problem
        assert isinstance(problem.column, str)
        assert isinstance(problem.reason, str) and CHINESE.search(problem.reason), problem
    located = {(problem.sheet, problem.row) for problem in report.rejected}
    for row in report.rejected_rows:  # a row offered for download says why, and the report lists it
        assert row["reason"] and (row["sheet"], row["row"]) in located, row
    assert not report.refused or report.rejected
    for skipped in report.skipped:
        assert isinstance(skipped, SkippedRow) and CHINESE.search(skipped.reason)
    assert report.households_created + report.households_updated + report.households_unchanged <= households
    data = report.as_json()
    assert len(data["rejected"]) == len(report.rejected)


@pytest.fixture
def preview(county_admin, unions, standard):
    def go(data: bytes, name: str) -> ImportReport:
        return run_import(data, name, union=unions["410102-C01"], user=county_admin, dry_run=True)

    return go


@pytest.fixture
def feed(monkeypatch):
    """feed(sheets): the next read_workbook returns these sheets, exactly as the reader would hand them over."""
    box: dict[str, list[Sheet]] = {}

    def fake(data: bytes, filename: str) -> list[Sheet]:
        return box["sheets"]

    for module in (importer, reading):
        if hasattr(module, "read_workbook"):
            monkeypatch.setattr(module, "read_workbook", fake)

    def go(sheets: list[Sheet]) -> None:
        box["sheets"] = sheets

    return go


def test_any_cells_give_a_report_of_typed_row_problems(preview, feed):
    before = counts()
    outcomes: Counter = Counter()

    @FUZZ
    @given(sheets=registers())
    def fuzz(sheets):
        feed(sheets)
        report = preview(b"PK\x03\x04 not read", "汇总.xlsx")
        check(report, {sheet.name: len(sheet.rows) for sheet in sheets})
        outcomes["clean" if not report.rejected else "rejected"] += 1

    fuzz()
    assert counts() == before
    assert outcomes["clean"] and outcomes["rejected"]  # both the database side and the row checks were reached


@FEW
@given(cells=st.lists(st.one_of(st.none(), texts, awkward, numbers, st.dates(), st.booleans()), min_size=4,
                      max_size=60))
def test_any_cells_in_a_real_xlsx_give_a_report(cells, preview):
    header = [h for _, h in HOUSEHOLD_COLUMNS]
    rows = [header] + [cells[i:i + len(header)] for i in range(0, len(cells), len(header))]
    data = lf.rows_to_xlsx({"家庭档案": [[_storable(cell) for cell in row] for row in rows]})
    report = preview(data, "汇总.xlsx")
    check(report, {"家庭档案": len(rows)}, households=len(rows) - 1)


def _storable(cell: object) -> object:
    """openpyxl refuses control characters in strings (Excel cannot hold them either)."""
    return ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell


@FEW
@given(rows=st.lists(st.lists(st.one_of(texts.filter(lambda t: "\x00" not in t), awkward), max_size=12),
                     max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_any_text_in_a_real_csv_gives_a_report_or_a_chinese_refusal(rows, encoding, preview):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([h for _, h in lf.COMBINED_HEADERS.items()])
    writer.writerows(rows)
    try:
        data = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return  # GB18030 encodes every code point; nothing else is expected here
    try:
        report = preview(data, "汇总.csv")
    except UnreadableFile as refused:  # a file-level refusal is the one other allowed outcome
        assert CHINESE.search(refused.message)
        return
    check(report, {"汇总": len(buffer.getvalue().splitlines()) + 1}, households=len(rows))
