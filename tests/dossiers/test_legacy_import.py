"""Importing legacy registers (dossiers.legacy.importer.run_import), each test with a generated messy workbook.

The county administrator of 中原区 imports into the 中原区 help centre unless a test says otherwise.
"""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pghistory.models
import pytest
from django.core.exceptions import PermissionDenied

from dossiers.choices import Category, LegacyCategory, Status
from dossiers.legacy.importer import (
    ImportReport,
    RowProblem,
    SkippedRow,
    rejected_cells,
    rejected_rows_xlsx,
    run_import,
)
from dossiers.legacy.models import ImportBatch
from dossiers.models import Household, Member, RegisterEvent
from hardship.history import file_history
from tests.dossiers import legacy_files as lf

pytestmark = pytest.mark.django_db

INCOME_FIELDS = ("income_wages", "income_business", "income_property", "income_transfers", "income_other")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def target(unions):
    """The union the files are imported into: the 中原区 help centre."""
    return unions["410102-C01"]


@pytest.fixture
def run(county_admin, target, standard):
    """run(data, file_name, **options): run_import as the county administrator into `target`."""

    def go(data: bytes, file_name: str, **options) -> ImportReport:
        options.setdefault("union", target)
        options.setdefault("user", county_admin)
        return run_import(data, file_name, **options)

    return go


def counts() -> tuple[int, int, int]:
    return Household.objects.count(), Member.objects.count(), RegisterEvent.objects.count()


def household_of(who: lf.Family | lf.Person) -> Household:
    head = who.head if isinstance(who, lf.Family) else who
    return Household.objects.get(head_id_number=head.id_number)


def annual_income(household: Household) -> Decimal:
    return sum((getattr(household, name) for name in INCOME_FIELDS), Decimal("0.00"))


def problems_at(report: ImportReport, sheet: str, row: int) -> list[RowProblem]:
    return [problem for problem in report.rejected if problem.sheet == sheet and problem.row == row]


def one_problem(report: ImportReport, sheet: str, row: int) -> RowProblem:
    found = problems_at(report, sheet, row)
    assert found, f"no problem at {sheet} row {row}; got {report.rejected}"
    return found[0]


def assert_clean(report: ImportReport) -> None:
    assert report.rejected == [], report.rejected


def single_family_file(kind: str = "xlsx", **cells) -> tuple[lf.Family, list[lf.Table], bytes, str]:
    """A two-sheet register (one sheet for CSV) of one family whose household row carries `cells`."""
    fam = lf.family("张建国", children=1, **cells)
    tables = [lf.combined_table([fam])] if kind.startswith("csv") else lf.two_sheet_tables([fam])
    data, name = lf.write(tables, kind)
    return fam, tables, data, name


# --- formats and the mess around the data ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_it_imports_a_two_sheet_register_with_title_rows_blanks_totals_and_notes(run, kind, county_admin):
    families = [lf.family("张建国", children=1), lf.family("王秀兰", sex="女", children=2),
                lf.family("刘德华", spouse=False)]
    tables = lf.two_sheet_tables(families)
    data, name = lf.write(tables, kind)

    report = run(data, name)

    assert_clean(report)
    assert (report.households_created, report.households_updated, report.households_unchanged) == (3, 0, 0)
    assert report.written and not report.refused
    # household rows and member rows; titles, blanks and 合计 are not data
    assert report.total_rows == sum(len(fam.people) for fam in families) == 8
    assert report.unknown_columns == [f"家庭档案：{lf.UNKNOWN_HEADER}"]
    skipped = {(row.sheet, row.row) for row in report.skipped}
    assert ("家庭档案", tables[0].total_row) in skipped and ("家庭成员", tables[1].total_row) in skipped
    if kind == "xlsx":
        assert any(row.sheet == "填表说明" for row in report.skipped)  # a sheet with no header row
    assert all(isinstance(row, SkippedRow) and CHINESE.search(row.reason) for row in report.skipped)
    for fam in families:
        household = household_of(fam)
        people = {member.id_number: member for member in household.members.all()}
        assert set(people) == {person.id_number for person in fam.people}
        assert people[fam.head.id_number].is_primary and people[fam.head.id_number].name == fam.head.name
        for member in fam.members:
            assert people[member.id_number].name == member.name
            assert people[member.id_number].birth_date == member.birth
        assert household.union.code == "410102-C01"
        assert household.head_name == fam.head.name


@pytest.mark.parametrize("kind", ["csv-utf8", "csv-bom", "csv-gbk", "csv-gb18030"])
def test_it_imports_a_one_sheet_csv_in_each_encoding(run, kind):
    families = [lf.family("张建国", children=1), lf.family("王秀兰", sex="女")]
    table = lf.combined_table(families)
    data, name = lf.write([table], kind, stem="中原区困难职工汇总")

    report = run(data, name)

    assert_clean(report)
    assert report.households_created == 2
    assert ("中原区困难职工汇总", table.total_row) in {(row.sheet, row.row) for row in report.skipped}
    assert report.unknown_columns == [f"中原区困难职工汇总：{lf.UNKNOWN_HEADER}"]
    for fam in families:
        household = household_of(fam)
        assert household.head_name == fam.head.name  # no mojibake whatever the encoding
        assert sorted(household.members.values_list("id_number", flat=True)) == sorted(
            person.id_number for person in fam.people)


@pytest.mark.parametrize("head_key_on_members", [False, True])
def test_it_reads_one_sheet_where_本人_starts_each_household(run, head_key_on_members):
    families = [lf.family("张建国", children=2), lf.family("王秀兰", sex="女", children=1)]
    table = lf.combined_table(families, head_key_on_members=head_key_on_members)

    report = run(lf.to_xlsx([table]), "汇总.xlsx")

    assert_clean(report)
    assert report.households_created == 2
    for fam in families:
        household = household_of(fam)
        relationships = dict(household.members.values_list("id_number", "relationship"))
        assert relationships == {fam.head.id_number: "self",
                                 **{m.id_number: {"配偶": "spouse", "子女": "child"}[m.relationship]
                                    for m in fam.members}}


def test_it_imports_the_minimum_of_name_and_id_number_with_a_cause(run):
    """Registers that kept little more than who: the rest gets the importer's defaults."""
    fam = lf.family("张建国", spouse=False)
    headers = {"serial": "序号", "name": "姓名", "id_number": "身份证号码", "causes": "致困原因"}
    table = lf.Table("Sheet1", headers, [lf.household_record(fam)], title=False, total=False)

    report = run(lf.to_xlsx([table], notes_sheet=False), "名单.xlsx")

    assert_clean(report)
    assert report.households_created == 1
    household = household_of(fam)
    assert household.status == Status.REGISTERED
    assert household.members.get().sex == "M"  # from the ID number


# --- header synonyms -------------------------------------------------------------------------------------------

SYNONYM_HEADERS = [
    {"serial": "序号", "name": "姓名", "id_number": "身份证号", "employer": "工作单位名称",
     "household_size": "家庭人数", "annual_income": "家庭年收入（万元）", "legacy_category": "困难类型",
     "causes": "致困原因", "notes": "备注"},
    {"serial": "序 号", "name": " 职工 姓名 ", "id_number": "公民身份号码", "employer": "工作单位",
     "household_size": "家庭人口（人）", "annual_income": "家庭年总收入(万元)", "legacy_category": "困难类别",
     "causes": "主要致困原因", "notes": "备　注"},
]


@pytest.mark.parametrize("headers", SYNONYM_HEADERS, ids=["synonyms", "spaces-and-brackets"])
def test_it_reads_header_synonyms_and_income_in_wan(run, headers):
    fam = lf.family("张建国", spouse=False, annual_income=1.2, employer="郑州第一纺织厂",
                    legacy_category="低保户", causes="重特大疾病", household_size=1)
    members = {"head_id_number": "户主身份证号码", "name": "成员姓名", "id_number": "身份证号码",
               "relationship": "与户主关系"}
    tables = lf.two_sheet_tables([fam], household_headers=headers, member_headers=members)

    report = run(lf.to_xlsx(tables), "汇总.xlsx")

    assert_clean(report)
    assert report.unknown_columns == []
    household = household_of(fam)
    assert annual_income(household) == Decimal("12000.00")
    assert household.members.get(is_primary=True).employer == "郑州第一纺织厂"
    assert household.legacy_category == LegacyCategory.DIBAO
    assert household.main_cause == 6


def test_it_reports_an_unknown_column_without_refusing_the_file(run):
    fam, tables, data, name = single_family_file()
    report = run(data, name)
    assert report.unknown_columns == [f"家庭档案：{lf.UNKNOWN_HEADER}"]
    assert report.written and report.households_created == 1


# --- cell values -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mess", [lf.spaced_id, lf.full_width_id, lf.padded_id, lambda number: number.lower()],
                         ids=["spaces", "full-width", "blanks-around", "lowercase-x"])
def test_it_normalises_id_numbers(run, mess):
    head = lf.person_with_x("赵小兰")
    fam = lf.Family(head, [lf.person("刘志强", relationship="配偶")])
    tables = lf.two_sheet_tables([fam])
    tables[0].records[0]["id_number"] = mess(head.id_number)
    tables[1].records[0]["head_id_number"] = mess(head.id_number)
    tables[1].records[0]["id_number"] = mess(fam.members[0].id_number)

    report = run(lf.to_xlsx(tables), "汇总.xlsx")

    assert_clean(report)
    household = household_of(head)
    assert set(household.members.values_list("id_number", flat=True)) == {head.id_number, fam.members[0].id_number}


def test_it_converts_15_digit_id_numbers_to_18(run):
    fam = lf.family("张建国", birth=datetime.date(1965, 4, 9))
    tables = lf.two_sheet_tables([fam])
    tables[0].records[0]["id_number"] = lf.legacy_15(fam.head.id_number)
    tables[1].records[0]["head_id_number"] = lf.legacy_15(fam.head.id_number)

    report = run(lf.to_xlsx(tables), "汇总.xlsx")

    assert_clean(report)
    assert household_of(fam).members.get(is_primary=True).id_number == fam.head.id_number


@pytest.mark.parametrize("kind", ["xlsx", "xls", "csv-utf8"])
def test_it_refuses_an_id_number_excel_stored_as_a_number_and_never_guesses(run, kind):
    fam = lf.family("张建国", birth=datetime.date(1985, 3, 7))
    other = lf.family("王秀兰", sex="女")
    tables = [lf.combined_table([fam, other])] if kind.startswith("csv") else lf.two_sheet_tables([fam, other])
    tables[0].records[0]["id_number"] = lf.excel_float_id(fam.head.id_number)  # 4.10102198503071E+17
    if kind.startswith("csv"):
        tables[0].records[0]["id_number"] = f"{lf.excel_float_id(fam.head.id_number):.14E}"
    data, name = lf.write(tables, kind)

    report = run(data, name, dry_run=True)

    sheet = name.removesuffix(".csv") if kind.startswith("csv") else tables[0].name  # a CSV's sheet is its name
    problem = one_problem(report, sheet, tables[0].row_of(0))
    assert problem.column == "身份证号码"
    assert "科学计数法" in problem.reason and "15 位有效数字" in problem.reason
    assert not Household.objects.exists()
    ids_seen = " ".join(p.reason for p in report.rejected)
    assert fam.head.id_number not in ids_seen  # nothing guessed back into a "valid" number


BIRTH = datetime.date(1985, 3, 7)


@pytest.mark.parametrize("cell", [
    "1985.03", "1985年3月", "1985-03-07", "1985/3/7", "1985年3月7日", datetime.datetime(1985, 3, 7), BIRTH,
    lf.excel_serial(BIRTH), 1985.03,
], ids=["dot", "year-month", "iso", "slashes", "chinese", "datetime-cell", "date-cell", "serial", "number"])
def test_it_reads_legacy_dates(run, cell):
    fam = lf.family("张建国", birth=BIRTH, birth_date=cell)
    report = run(lf.to_xlsx(lf.two_sheet_tables([fam])), "汇总.xlsx")
    assert_clean(report)
    assert household_of(fam).members.get(is_primary=True).birth_date == BIRTH


def test_it_reads_dates_in_an_xls(run):
    fam = lf.family("张建国", birth=BIRTH, birth_date=BIRTH)
    tables = lf.two_sheet_tables([fam])
    tables[1].records[0]["birth_date"] = fam.members[0].birth  # a date cell in the member sheet too
    report = run(lf.to_xls(tables), "汇总.xls")
    assert_clean(report)
    assert household_of(fam).members.get(is_primary=True).birth_date == BIRTH


def test_it_rejects_a_birth_date_that_contradicts_the_id_number(run):
    fam = lf.family("张建国", birth=BIRTH, birth_date="1990-06-01")
    tables = lf.two_sheet_tables([fam])
    report = run(lf.to_xlsx(tables), "汇总.xlsx", dry_run=True)
    problem = one_problem(report, "家庭档案", tables[0].row_of(0))
    assert problem.column == "出生年月"
    assert "不一致" in problem.reason


@pytest.mark.parametrize("cell", [12000, "12000", "12,000", "12000元", "1.2万", "１２，０００"])
def test_it_reads_money_in_legacy_spellings(run, cell):
    fam = lf.family("张建国", annual_income=cell)
    report = run(lf.to_xlsx(lf.two_sheet_tables([fam])), "汇总.xlsx")
    assert_clean(report)
    assert annual_income(household_of(fam)) == Decimal("12000.00")


@pytest.mark.parametrize(("cell", "expected"), [("是", True), ("否", False), ("√", True), ("×", False),
                                                (None, False), (" 是 ", True)])
def test_it_reads_yes_and_no(run, cell, expected):
    fam = lf.family("王秀兰", sex="女", single_parent=cell)
    report = run(lf.to_xlsx(lf.two_sheet_tables([fam])), "汇总.xlsx")
    assert_clean(report)
    assert household_of(fam).single_parent is expected


def test_it_reads_sex_with_stray_spaces(run):
    fam = lf.family("王秀兰", sex="女", children=1)
    tables = lf.two_sheet_tables([fam])
    tables[0].records[0]["sex"] = " 女\u3000"
    tables[1].records[0]["sex"] = "男 "
    report = run(lf.to_xlsx(tables), "汇总.xlsx")
    assert_clean(report)
    assert dict(household_of(fam).members.values_list("name", "sex"))[fam.head.name] == "F"


def test_it_rejects_a_sex_that_contradicts_the_id_number(run):
    fam = lf.family("张建国", sex="男")
    tables = lf.two_sheet_tables([fam])
    tables[0].records[0]["sex"] = "女"
    report = run(lf.to_xlsx(tables), "汇总.xlsx", dry_run=True)
    assert one_problem(report, "家庭档案", tables[0].row_of(0)).column == "性别"


@pytest.mark.parametrize(("cell", "main", "secondary"), [
    ("6", 6, []), (6, 6, []), ("重特大疾病", 6, []), ("6-重特大疾病", 6, []), ("6、3、9", 6, [3, 9]),
    ("6，3", 6, [3]), ("6;3", 6, [3]), ("6 3 9", 6, [3, 9]), ("重特大疾病、下岗失业", 6, [3]),
    ("3-下岗失业，9-子女上学", 3, [9]),
])
def test_it_reads_causes_first_as_main_the_rest_as_secondary(run, cell, main, secondary):
    fam = lf.family("张建国", causes=cell)
    report = run(lf.to_xlsx(lf.two_sheet_tables([fam])), "汇总.xlsx")
    assert_clean(report)
    household = household_of(fam)
    assert (household.main_cause, list(household.secondary_causes)) == (main, secondary)


def test_it_rejects_an_unknown_cause_naming_the_column(run):
    fam = lf.family("张建国", causes="11")
    tables = lf.two_sheet_tables([fam])
    report = run(lf.to_xlsx(tables), "汇总.xlsx", dry_run=True)
    problem = one_problem(report, "家庭档案", tables[0].row_of(0))
    assert problem.column == "主要致困原因" and CHINESE.search(problem.reason)


@pytest.mark.parametrize(("cell", "legacy"), [("低保户", LegacyCategory.DIBAO),
                                              ("低保边缘户", LegacyCategory.NEAR_DIBAO),
                                              ("意外致困户", LegacyCategory.ACCIDENT)])
def test_it_keeps_the_legacy_category_beside_the_new_one(run, cell, legacy):
    fam = lf.family("张建国", legacy_category=cell)
    report = run(lf.to_xlsx(lf.two_sheet_tables([fam])), "汇总.xlsx")
    assert_clean(report)
    household = household_of(fam)
    assert household.legacy_category == legacy
    assert household.category in Category.values


@pytest.mark.parametrize(("cell", "status", "open_"), [("在档", Status.REGISTERED, True),
                                                       (None, Status.REGISTERED, True),
                                                       ("已脱困", Status.EXITED, False)])
def test_it_sets_the_status_from_the_register(run, cell, status, open_):
    fam = lf.family("张建国", status=cell, legacy_category="低保户")
    report = run(lf.to_xlsx(lf.two_sheet_tables([fam])), "汇总.xlsx")
    assert_clean(report)
    household = household_of(fam)
    assert household.status == status
    assert household.legacy_category == LegacyCategory.DIBAO
    assert set(household.members.values_list("is_open", flat=True)) == {open_}


# --- rows that cannot be imported ------------------------------------------------------------------------------

def test_it_flags_the_same_household_twice_and_never_makes_two(run):
    fam, other = lf.family("张建国"), lf.family("王秀兰", sex="女")
    tables = lf.two_sheet_tables([fam, other])
    again = lf.household_record(fam, serial=3)
    again["employer"] = "郑州第二纺织厂"
    tables[0].records.append(again)
    first, second = tables[0].row_for(fam.head.id_number, 0), tables[0].row_for(fam.head.id_number, 1)

    report = run(lf.to_xlsx(tables), "汇总.xlsx", mode="skip_invalid")

    problem = one_problem(report, "家庭档案", second)
    assert str(first) in problem.reason and CHINESE.search(problem.reason)
    assert Household.objects.filter(head_id_number=fam.head.id_number).count() <= 1
    assert Household.objects.filter(head_id_number=other.head.id_number).count() == 1


def test_it_rejects_a_member_whose_head_is_not_in_the_file(run):
    fam = lf.family("张建国")
    stranger = lf.person("孙大伟")
    tables = lf.two_sheet_tables([fam])
    tables[1].records.append(lf.member_record(lf.person("孙小梅", sex="女", relationship="子女"), stranger, 2))

    report = run(lf.to_xlsx(tables), "汇总.xlsx", dry_run=True)

    problem = one_problem(report, "家庭成员", tables[1].row_of(1))
    assert problem.column == "户主身份证号" and CHINESE.search(problem.reason)
    assert not report.written


def test_it_rejects_a_member_already_in_another_open_household(run, make_household, caseworker, unions):
    existing = make_household(by=caseworker, union=unions["410102-C01"])
    spouse = existing.members.get(is_primary=False)
    fam = lf.family("张建国", spouse=False)
    fam.members.append(lf.Person(spouse.name, spouse.id_number, "女", spouse.birth_date, "配偶"))
    tables = lf.two_sheet_tables([fam])
    before = counts()

    report = run(lf.to_xlsx(tables), "汇总.xlsx")

    problem = one_problem(report, "家庭成员", tables[1].row_for(spouse.id_number))
    assert CHINESE.search(problem.reason)
    assert report.refused and not report.written
    assert counts() == before


# --- preview ---------------------------------------------------------------------------------------------------

def test_the_preview_counts_exactly_and_writes_nothing(run):
    kept, changed = lf.family("张建国", children=1), lf.family("王秀兰", sex="女")
    run(lf.to_xlsx(lf.two_sheet_tables([kept, changed])), "2022年汇总.xlsx")
    changed.cells["annual_income"] = 36000
    new, bad = lf.family("刘德华", spouse=False), lf.family("赵本山", spouse=False)
    tables = lf.two_sheet_tables([kept, changed, new, bad])
    tables[0].record_for(bad.head.id_number)["id_number"] = lf.bad_check_digit(bad.head.id_number)
    before = counts()
    events = pghistory.models.Events.objects.count()

    report = run(lf.to_xlsx(tables), "2023年汇总.xlsx", dry_run=True, mode="skip_invalid")

    assert (report.households_created, report.households_updated, report.households_unchanged) == (1, 1, 1)
    assert (report.members_created, report.members_updated) == (1, 0)  # 刘德华 himself; 王秀兰's income is hers
    assert len(report.rejected) == 1
    [problem] = report.rejected
    assert (problem.sheet, problem.row, problem.column) == ("家庭档案", tables[0].row_for(bad.head.id_number),
                                                            "身份证号码")
    assert "校验位" in problem.reason
    assert {(row.sheet, row.row) for row in report.skipped} >= {("家庭档案", tables[0].total_row),
                                                                ("家庭成员", tables[1].total_row)}
    assert not report.written
    assert counts() == before
    assert pghistory.models.Events.objects.count() == events
    assert annual_income(household_of(changed)) == Decimal("24000.00")


def test_the_preview_gives_excel_row_numbers_counting_title_and_blank_rows(run):
    families = [lf.family(f"职工{n}", spouse=False) for n in range(5)]
    tables = lf.two_sheet_tables(families, blank_every=2)
    tables[0].records[4]["causes"] = "没有原因"
    report = run(lf.to_xlsx(tables), "汇总.xlsx", dry_run=True)
    # rows: 1 title, 2 填报单位, 3 header, 4-5 records, 6 blank, 7-8 records, 9 blank, 10 the fifth record
    assert [(p.sheet, p.row, p.column) for p in report.rejected] == [("家庭档案", 10, "主要致困原因")]


def test_it_reports_progress(run):
    families = [lf.family(f"职工{n}") for n in range(4)]
    seen: list[tuple[int, int]] = []
    report = run(lf.to_xlsx(lf.two_sheet_tables(families)), "汇总.xlsx", dry_run=True,
                 progress=lambda done, total: seen.append((done, total)))
    assert seen
    assert all(0 <= done <= total for done, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert report.total_rows == 8


# --- all or nothing, skip invalid --------------------------------------------------------------------------------

def test_all_or_nothing_writes_nothing_when_a_row_is_rejected(run):
    good, bad = lf.family("张建国"), lf.family("王秀兰", sex="女", causes="没有原因")
    before = counts()

    report = run(lf.to_xlsx(lf.two_sheet_tables([good, bad])), "汇总.xlsx", mode="all_or_nothing")

    assert report.refused and not report.written
    assert counts() == before


@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "run"])
def test_a_refused_run_still_counts_what_would_be_created(run, dry_run):
    """The all-or-nothing preview is where the admin decides: it must say what the file would do once fixed."""
    kept, new, bad = (lf.family("张建国"), lf.family("王秀兰", sex="女", children=1),
                      lf.family("刘德华", causes="无此原因"))
    run(lf.to_xlsx(lf.two_sheet_tables([kept])), "2022年汇总.xlsx")
    tables = lf.two_sheet_tables([kept, new, bad])

    report = run(lf.to_xlsx(tables), "2023年汇总.xlsx", dry_run=dry_run, mode="all_or_nothing")

    assert report.refused and not report.written
    assert [(p.sheet, p.row) for p in report.rejected][0] == ("家庭档案", tables[0].row_for(bad.head.id_number))
    assert (report.households_created, report.households_updated, report.households_unchanged) == (1, 0, 1)
    assert report.members_created == 3


def test_skip_invalid_writes_the_valid_households_and_leaves_a_bad_one_out_whole(run):
    good, bad, also_good = (lf.family("张建国", children=1), lf.family("王秀兰", sex="女", children=2),
                            lf.family("刘德华"))
    tables = lf.two_sheet_tables([good, bad, also_good])
    child = bad.members[1]
    tables[1].record_for(child.id_number)["id_number"] = lf.bad_check_digit(child.id_number)

    report = run(lf.to_xlsx(tables), "汇总.xlsx", mode="skip_invalid")

    assert report.written and not report.refused
    assert report.households_created == 2
    assert Household.objects.filter(head_id_number__in=[good.head.id_number, also_good.head.id_number]).count() == 2
    assert not Household.objects.filter(head_id_number=bad.head.id_number).exists()
    assert not Member.objects.filter(id_number__in=[p.id_number for p in bad.people]).exists()
    assert one_problem(report, "家庭成员", tables[1].row_for(child.id_number)).column == "身份证号码"
    rows = {(row["sheet"], row["row"]) for row in report.rejected_rows}
    expected = {("家庭档案", tables[0].row_for(bad.head.id_number))} | {
        ("家庭成员", tables[1].row_for(member.id_number)) for member in bad.members}
    assert rows == expected  # the whole household, so that it can be fixed and imported again
    assert all(row["reason"] and row["headers"] and len(rejected_cells(row)) <= len(row["headers"])
               for row in report.rejected_rows)
    assert not any(bad.head.id_number in row["cells"] for row in report.rejected_rows)  # sealed


def test_rejected_rows_come_back_as_an_xlsx_that_can_be_fixed_and_imported(run):
    good, bad = lf.family("张建国", children=1), lf.family("王秀兰", sex="女", children=1)
    tables = lf.two_sheet_tables([good, bad])
    child = bad.members[1]
    tables[1].record_for(child.id_number)["id_number"] = lf.bad_check_digit(child.id_number)
    report = run(lf.to_xlsx(tables), "汇总.xlsx", mode="skip_invalid")

    workbook = openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(report.rejected_rows)))

    assert set(workbook.sheetnames) >= {"家庭档案", "家庭成员"}
    members = workbook["家庭成员"]
    header_row = next(row for row in members.iter_rows(values_only=True) if "身份证号码" in row)
    header = list(header_row)
    assert "错误原因" in header
    id_column, reason_column = header.index("身份证号码") + 1, header.index("错误原因") + 1
    fixed = 0
    for row in members.iter_rows(min_row=2):
        if row[id_column - 1].value == lf.bad_check_digit(child.id_number):
            assert "校验位" in row[reason_column - 1].value
            row[id_column - 1].value = child.id_number
            fixed += 1
    assert fixed == 1
    buffer = io.BytesIO()
    workbook.save(buffer)

    again = run(buffer.getvalue(), "汇总_错误行_已修改.xlsx", mode="all_or_nothing")

    assert_clean(again)
    assert again.households_created == 1
    household = household_of(bad)
    assert set(household.members.values_list("id_number", flat=True)) == {p.id_number for p in bad.people}
    assert Household.objects.count() == 2


# --- re-import ---------------------------------------------------------------------------------------------------

def test_reimporting_the_same_file_changes_nothing(run):
    families = [lf.family("张建国", children=1, annual_income="1.2万", causes="6、3"),
                lf.family("王秀兰", sex="女", single_parent="√", legacy_category="低保户")]
    tables = lf.two_sheet_tables(families)
    tables[0].records[0]["id_number"] = lf.spaced_id(families[0].head.id_number)
    tables[1].records[0]["id_number"] = lf.full_width_id(families[0].members[0].id_number)
    data = lf.to_xlsx(tables)
    first = run(data, "汇总.xlsx")
    assert first.households_created == 2
    before = counts()
    events = pghistory.models.Events.objects.count()

    second = run(data, "汇总.xlsx")

    assert_clean(second)
    assert (second.households_created, second.households_updated, second.households_unchanged) == (0, 0, 2)
    assert (second.members_created, second.members_updated) == (0, 0)
    assert counts() == before
    assert pghistory.models.Events.objects.count() == events


def test_a_later_file_updates_the_household_and_records_the_import_as_the_source(run, county_admin):
    fam = lf.family("张建国", children=1)
    run(lf.to_xlsx(lf.two_sheet_tables([fam])), "2022年汇总.xlsx")
    household = household_of(fam)
    households, members, _ = counts()
    fam.cells["annual_income"] = 30000
    fam.members.append(lf.person("张小军", relationship="子女", birth=datetime.date(2012, 8, 1)))
    tables = lf.two_sheet_tables([fam])
    tables[1].record_for(fam.members[0].id_number)["employer"] = "郑州市环卫处"
    batch = ImportBatch.objects.create(union=household.union, uploaded_by=county_admin, file_name="2023年汇总.xlsx",
                                       sha256="0" * 64, size=1)

    report = run(lf.to_xlsx(tables), "2023年汇总.xlsx", batch=batch)

    assert_clean(report)
    assert (report.households_created, report.households_updated, report.households_unchanged) == (0, 1, 0)
    assert (report.members_created, report.members_updated) == (1, 1)
    assert counts()[:2] == (households, members + 1)
    household.refresh_from_db()
    assert annual_income(household) == Decimal("30000.00")
    assert household.members.get(id_number=fam.members[0].id_number).employer == "郑州市环卫处"
    event = household.register_events.get(transition="import_update")
    assert event.actor == county_admin
    assert "2023年汇总.xlsx" in event.reason + str(event.data)
    history = file_history(household)
    assert history and history[0].actor == county_admin and history[0].source == "2023年汇总.xlsx"
    assert {row.source for row in history} == {"2022年汇总.xlsx", "2023年汇总.xlsx"}
    contexts = [event.pgh_context for event in pghistory.models.MiddlewareEvents.objects.references(household)
                if event.pgh_context and event.pgh_context.get("import_file") == "2023年汇总.xlsx"]
    assert contexts and all(context.get("user") == county_admin.pk for context in contexts)
    assert all(context.get("import_batch") == batch.pk for context in contexts)


def test_a_new_household_cites_the_file_sheet_and_row(run, county_admin, target):
    fam = lf.family("张建国")
    tables = lf.two_sheet_tables([lf.family("王秀兰", sex="女"), fam])
    batch = ImportBatch.objects.create(union=target, uploaded_by=county_admin, file_name="汇总.xlsx",
                                       sha256="0" * 64, size=1)
    run(lf.to_xlsx(tables), "汇总.xlsx", batch=batch)
    household = household_of(fam)
    row = tables[0].row_for(fam.head.id_number)
    event = household.register_events.get(transition="import")
    assert event.actor == county_admin and event.to_status == Status.REGISTERED
    assert "汇总.xlsx" in event.reason and "家庭档案" in event.reason and f"第{row}行" in event.reason.replace(" ", "")
    assert event.data == {"batch": batch.pk, "file": "汇总.xlsx", "sheet": "家庭档案", "row": row}
    assert household.import_batch == batch
    assert household.filed_by == county_admin


# --- scope and roles ---------------------------------------------------------------------------------------------

def test_a_county_admin_may_not_import_into_another_county(run, unions):
    before = counts()
    for dry_run in (True, False):
        with pytest.raises(PermissionDenied):
            run(lf.to_xlsx(lf.two_sheet_tables([lf.family()])), "汇总.xlsx", union=unions["410105"], dry_run=dry_run)
    assert counts() == before


def test_a_caseworker_may_not_import(run, caseworker):
    before = counts()
    with pytest.raises(PermissionDenied):
        run(lf.to_xlsx(lf.two_sheet_tables([lf.family()])), "汇总.xlsx", user=caseworker)
    assert counts() == before


def test_a_head_filed_in_another_county_is_rejected_saying_only_the_union(run, make_household, outsider, unions):
    theirs = make_household(by=outsider, union=unions["410105-C01"])
    head = theirs.members.get(is_primary=True)
    fam = lf.Family(lf.Person("张建民", head.id_number, "男", head.birth_date), [])
    mine = lf.family("王秀兰", sex="女")
    tables = lf.two_sheet_tables([fam, mine])

    report = run(lf.to_xlsx(tables), "汇总.xlsx", mode="skip_invalid")

    problem = one_problem(report, "家庭档案", tables[0].row_for(head.id_number))
    assert "金水区困难职工帮扶中心" in problem.reason
    for secret in (theirs.file_number, theirs.head_name, head.id_number, theirs.address):
        assert secret not in problem.reason
    assert Household.objects.get(head_id_number=head.id_number) == theirs
    assert household_of(mine).union.code == "410102-C01"


# --- the system's own export layout, and more re-imports -------------------------------------------------------

@pytest.mark.parametrize("kind", ["xlsx", "csv-utf8"])
def test_every_column_of_the_export_layout_lands_and_reimports_unchanged(run, kind):
    families = [lf.family("张建国", children=1), lf.family("王秀兰", sex="女")]
    if kind == "xlsx":
        data, name = lf.to_xlsx(lf.export_layout_tables(families), notes_sheet=False), "档案导出.xlsx"
    else:
        data, name = lf.to_csv(lf.export_layout_csv_table(families)), "档案导出.csv"

    first = run(data, name)

    assert_clean(first)
    assert first.unknown_columns == []
    household = household_of(families[0])
    assert (household.housing_type, household.area_band, household.key_group, household.legacy_tier) == (
        "private_rental", "under_15", "illness", "county")
    assert (household.main_cause, list(household.secondary_causes)) == (3, [6, 9])
    assert household.receives_dibao and household.dibao_amount == Decimal("600.00")
    assert household.bank_card == "6222021702000123456" and household.bank_branch == "郑州建设路支行"
    assert (household.income_wages, household.income_transfers, household.income_other) == (
        Decimal("18000.00"), Decimal("7200.00"), Decimal("4800.00"))
    assert (household.cost_illness, household.cost_housing) == (Decimal("6000.00"), Decimal("9600.00"))
    assert household.registered_on == datetime.date(2019, 5, 1)
    head = household.members.get(is_primary=True)
    assert (head.work_status, head.health, head.medical_insurance, head.monthly_income) == (
        "laid_off", "chronic", "employee", Decimal("1500.00"))
    spouse = household.members.get(relationship="spouse")
    assert (spouse.ethnicity, spouse.medical_insurance, spouse.work_status) == ("回族", "resident", "unemployed")
    before = counts()
    events = pghistory.models.Events.objects.count()

    second = run(data, name)

    assert (second.households_created, second.households_updated, second.households_unchanged) == (0, 0, 2)
    assert (second.members_created, second.members_updated) == (0, 0)
    assert counts() == before and pghistory.models.Events.objects.count() == events


def test_a_later_file_marking_the_household_exited_is_refused_and_changes_nothing(run, county_admin):
    """An exit is proposed and approved in the system (register.propose_exit / approve_exit), never imported."""
    fam = lf.family("张建国", children=1)
    run(lf.to_xlsx(lf.two_sheet_tables([fam])), "2022年汇总.xlsx")
    before = counts()
    fam.cells["status"] = "已脱困"
    tables = lf.two_sheet_tables([fam])

    report = run(lf.to_xlsx(tables), "2023年汇总.xlsx")

    assert report.households_updated == 0 and report.refused and not report.written
    problem = one_problem(report, "家庭档案", tables[0].row_for(fam.head.id_number))
    assert problem.column == "档案状态" and "提出脱困申请" in problem.reason
    household = household_of(fam)
    assert household.status == Status.REGISTERED and household.closed_on is None
    assert set(household.members.values_list("is_open", flat=True)) == {True}
    assert counts() == before


def test_a_person_in_two_households_of_the_file_is_rejected(run):
    first, second = lf.family("张建国", spouse=False), lf.family("王秀兰", sex="女", spouse=False)
    child = lf.person("张小军", relationship="子女", birth=datetime.date(2010, 1, 1))
    first.members.append(child)
    second.members.append(child)
    tables = lf.two_sheet_tables([first, second])

    report = run(lf.to_xlsx(tables), "汇总.xlsx", mode="skip_invalid")

    problem = one_problem(report, "家庭成员", tables[1].row_for(child.id_number, 1))
    assert str(tables[0].row_for(first.head.id_number)) in problem.reason
    assert Member.objects.filter(id_number=child.id_number).count() <= 1


def test_the_rejected_rows_xlsx_never_holds_a_formula(run):
    fam = lf.family("张建国", causes="没有原因", notes="=HYPERLINK(\"http://example.com\",\"点击\")",
                    address="+cmd|' /C calc'!A0", phone="@SUM(1+1)")
    report = run(lf.to_csv(lf.combined_table([fam])), "汇总.csv", mode="skip_invalid")  # CSV keeps "=…" as text
    workbook = openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(report.rejected_rows)))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert cells and all(cell.data_type != "f" for cell in cells)
    assert any("HYPERLINK" in str(cell.value) for cell in cells)


def test_skip_invalid_with_every_household_rejected_writes_nothing(run):
    fam = lf.family("张建国", causes="没有原因")
    before = counts()
    report = run(lf.to_xlsx(lf.two_sheet_tables([fam])), "汇总.xlsx", mode="skip_invalid")
    assert report.rejected and report.households_created == 0
    assert counts() == before
    assert not report.written


def test_a_member_row_above_every_household_row_is_rejected_with_a_reason(run):
    """One sheet whose first data row is a 配偶 with no 户主身份证号: it belongs to no household in the file."""
    orphan = lf.person("李秀英", sex="女", relationship="配偶")
    fam = lf.family("张建国", spouse=False)
    table = lf.combined_table([fam])
    table.records.insert(0, {**lf.member_record(orphan, fam.head), "head_id_number": None})

    report = run(lf.to_csv(table), "汇总.csv", dry_run=True)

    problem = one_problem(report, "汇总", table.row_of(0))
    assert CHINESE.search(problem.reason)
    assert all(row["reason"] for row in report.rejected_rows)


def test_reopening_an_exited_household_is_refused_even_when_its_old_member_moved_on(
        run, make_household, caseworker, target):
    """A household imported as 已脱困; its spouse later joined another open file; a new register says 在档 again."""
    fam = lf.family("张建国")
    fam.cells["status"] = "已脱困"
    run(lf.to_xlsx(lf.two_sheet_tables([fam])), "2021年汇总.xlsx")
    spouse = fam.members[0]
    from tests.dossiers.conftest import new_member

    moved_on = make_household(by=caseworker, union=target, members=[
        new_member(name="王强"), new_member(relationship="spouse", sex="F", name=spouse.name,
                                           id_number=spouse.id_number)])
    fam.cells["status"] = "在档"
    fam.members = []  # the new register lists the worker alone
    before = counts()

    report = run(lf.to_xlsx(lf.two_sheet_tables([fam])), "2024年汇总.xlsx", mode="skip_invalid")

    assert Member.objects.filter(id_number=spouse.id_number, is_open=True).get().household == moved_on
    # an import never reopens a closed file (返困 is done in the system): refused, saying so, nothing written
    assert report.households_updated == 0 and report.rejected
    assert "返困重新建档" in report.rejected[0].reason
    assert household_of(fam).status == Status.EXITED
    assert counts() == before


@pytest.mark.parametrize("bool_first", [True, False], ids=["TRUE-then-1", "1-then-TRUE"])
def test_a_cell_parses_the_same_whatever_came_before_it(run, bool_first):
    """Excel TRUE and the number 1 are equal in Python (True == 1, same hash): a cache keyed by the raw cell
    alone would let one stand for the other, within a file or from an earlier import in the same process."""
    boolean = lf.family("张建国", spouse=False, causes=True, annual_income=True)
    number = lf.family("王秀兰", sex="女", spouse=False, causes=1, annual_income=1)
    for _ in range(2):  # the second time, every cell has been seen before
        tables = lf.two_sheet_tables([boolean, number] if bool_first else [number, boolean])
        report = run(lf.to_xlsx(tables), "汇总.xlsx", dry_run=True, mode="skip_invalid")
        columns = {p.column for p in problems_at(report, "家庭档案", tables[0].row_for(boolean.head.id_number))}
        assert columns == {"主要致困原因", "家庭年总收入（元）"}
        assert problems_at(report, "家庭档案", tables[0].row_for(number.head.id_number)) == []
        assert report.households_created == 1
