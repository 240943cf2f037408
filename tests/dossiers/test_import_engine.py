"""The import engine end to end on small workbooks built here (the messy-file suite is test_legacy_import.py)."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from dossiers.choices import Category, Status
from dossiers.legacy.importer import rejected_rows_xlsx, run_import
from dossiers.legacy.layout import HOUSEHOLD_SHEET, MEMBER_SHEET
from dossiers.models import Household, Member, RegisterEvent
from hardship import idnumbers
from hardship.history import file_history


def ids(count: int, start: int = 1) -> list[str]:
    return [idnumbers.generate("410102", datetime.date(1970, 1, 1) + datetime.timedelta(days=start + n), 10 + n, "M")
            for n in range(count)]


HEADS = ids(3, start=100)
SPOUSES = [idnumbers.generate("410102", datetime.date(1972, 5, 1) + datetime.timedelta(days=n), 20 + n, "F")
           for n in range(3)]


def workbook(households: list[list], members: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = HOUSEHOLD_SHEET
    sheet.append(["中原区总工会困难职工家庭档案汇总表"])
    sheet.append(["序号", "职工姓名", "身份证号码", "家庭住址", "家庭人口", "家庭年总收入（元）", "困难类别",
                  "主要致困原因", "档案状态", "备注"])
    for row in households:
        sheet.append(row)
    sheet.append(["合计", None, None, None, 6])
    members_sheet = book.create_sheet(MEMBER_SHEET)
    members_sheet.append(["户主身份证号", "姓名", "身份证号码", "与户主关系", "就业状况"])
    for row in members:
        members_sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def standard_file(income: str = "12000") -> bytes:
    return workbook(
        [[1, "张建国", HEADS[0], "建设路 1 号", 2, income, "低保户", "3、6", "在档", ""],
         [2, "王大力", HEADS[1], "建设路 2 号", 2, "1.2万", "低保边缘户", "6-重特大疾病", "已脱困", ""],
         [3, "赵小明", f" {HEADS[2][:6]} {HEADS[2][6:]} ".lower(), "建设路 3 号", 2, "8,000元", "意外致困户",
          "意外事故", "", ""]],
        [[HEADS[0], "李秀英", SPOUSES[0], "妻", "无业"], [HEADS[1], "刘芳", SPOUSES[1], "配偶", "在岗"],
         [HEADS[2], "孙丽", SPOUSES[2], "配偶", "失业"]],
    )


@pytest.fixture
def county(unions):
    return unions["410102"]


def test_it_imports_households_with_members_and_records_the_source(county, county_admin, standard):
    report = run_import(standard_file(), "旧台账.xlsx", union=county, user=county_admin)
    assert (report.households_created, report.members_created, report.rejected) == (3, 6, [])
    assert [(s.sheet, s.row, s.reason) for s in report.skipped] == [(HOUSEHOLD_SHEET, 6, "合计行")]
    assert report.unknown_columns == []
    first = Household.objects.get(head_id_number=HEADS[0])
    assert (first.status, first.legacy_category, first.category) == (Status.REGISTERED, "dibao", Category.DEEP)
    assert (first.main_cause, first.secondary_causes, first.income_other) == (3, [6], Decimal("12000.00"))
    assert first.union == county and first.region_id == "410102" and first.filed_by == county_admin
    assert first.reverify_due and first.registered_on == datetime.date.today()
    assert Household.objects.get(head_id_number=HEADS[1]).status == Status.EXITED
    assert Household.objects.get(head_id_number=HEADS[2]).category == Category.ACCIDENT
    assert sorted(first.members.values_list("name", "is_primary", "is_open")) == [
        ("张建国", True, True), ("李秀英", False, True)]
    assert not Member.objects.get(id_number=SPOUSES[1]).is_open  # an exited file frees its members
    event = RegisterEvent.objects.get(household=first)
    assert (event.transition, event.actor, event.to_status) == ("import", county_admin, Status.REGISTERED)
    assert event.reason == f"导入：旧台账.xlsx“{HOUSEHOLD_SHEET}”第 3 行"
    assert event.data["row"] == 3 and event.data["file"] == "旧台账.xlsx"
    latest = file_history(first)[0]
    assert (latest.actor, latest.source) == (county_admin, "旧台账.xlsx")


def test_it_changes_nothing_on_a_second_import_and_updates_on_a_later_file(county, county_admin, standard):
    run_import(standard_file(), "旧台账.xlsx", union=county, user=county_admin)
    events = RegisterEvent.objects.count()
    again = run_import(standard_file(), "旧台账.xlsx", union=county, user=county_admin)
    assert (again.households_created, again.households_updated, again.households_unchanged) == (0, 0, 3)
    assert (again.members_created, again.members_updated) == (0, 0)
    assert RegisterEvent.objects.count() == events
    later = run_import(standard_file(income="15000"), "2019年台账.xlsx", union=county, user=county_admin)
    assert (later.households_updated, later.households_unchanged) == (1, 2)
    household = Household.objects.get(head_id_number=HEADS[0])
    assert household.income_other == Decimal("15000.00")
    update = RegisterEvent.objects.filter(household=household, transition="import_update").get()
    assert "2019年台账.xlsx" in update.reason


def test_it_previews_without_writing(county, county_admin, standard):
    report = run_import(standard_file(), "旧台账.xlsx", union=county, user=county_admin, dry_run=True)
    assert report.households_created == 3 and not report.written
    assert not Household.objects.exists()


def test_it_refuses_everything_when_one_row_is_bad_in_all_or_nothing_mode(county, county_admin, standard):
    data = workbook([[1, "张建国", HEADS[0], "建设路 1 号", 2, "12000", "低保户", "3", "在档", ""],
                     [2, "王大力", 4.10102198503071e17, "建设路 2 号", 2, "12000", "低保户", "3", "在档", ""]], [])
    report = run_import(data, "旧台账.xlsx", union=county, user=county_admin)
    assert report.refused and not report.written and not Household.objects.exists()
    assert report.households_created == 1  # what the file would create once the bad row is fixed
    [problem] = report.rejected
    assert (problem.sheet, problem.row, problem.column) == (HOUSEHOLD_SHEET, 4, "身份证号码")
    assert "科学计数" in problem.reason


def test_it_leaves_out_a_household_whole_when_a_member_row_is_bad(county, county_admin, standard):
    data = workbook([[1, "张建国", HEADS[0], "建设路 1 号", 2, "12000", "低保户", "3", "在档", ""],
                     [2, "王大力", HEADS[1], "建设路 2 号", 2, "12000", "低保户", "3", "在档", ""]],
                    [[HEADS[0], "李秀英", SPOUSES[0], "妻", "无业"], [HEADS[1], "刘芳", "123", "配偶", "在岗"],
                     [ids(1, start=900)[0], "无主", SPOUSES[2], "子", ""]])
    report = run_import(data, "旧台账.xlsx", union=county, user=county_admin, mode="skip_invalid")
    assert report.households_created == 1 and report.written
    assert list(Household.objects.values_list("head_id_number", flat=True)) == [HEADS[0]]
    assert [(row["sheet"], row["row"]) for row in report.rejected_rows] == [
        (HOUSEHOLD_SHEET, 4), (MEMBER_SHEET, 3), (MEMBER_SHEET, 4)]
    assert "户主不在本文件中" in report.rejected_rows[2]["reason"]
    assert "整户未导入" in report.rejected_rows[0]["reason"]
    sheet = load_workbook(io.BytesIO(rejected_rows_xlsx(report.rejected_rows)))[MEMBER_SHEET]
    assert [cell.value for cell in sheet[1]][-2:] == ["错误原因", "原行号"]


def test_it_rejects_a_person_already_in_another_open_file(county, county_admin, make_household, caseworker,
                                                          unions):
    from tests.dossiers.conftest import new_member

    make_household(by=caseworker, union=unions["410105-C01"], members=[new_member(id_number=SPOUSES[0])])
    report = run_import(standard_file(), "旧台账.xlsx", union=county, user=county_admin, mode="skip_invalid")
    assert report.households_created == 2
    reasons = [row["reason"] for row in report.rejected_rows]
    assert any("已在其他单位建档，请联系金水区困难职工帮扶中心" in reason for reason in reasons)


def test_it_flags_the_same_household_twice(county, county_admin, standard):
    row = ["张建国", HEADS[0], "建设路 1 号", 2, "12000", "低保户", "3", "在档", ""]
    report = run_import(workbook([[1, *row], [2, *row]], []), "x.xlsx", union=county, user=county_admin,
                        mode="skip_invalid")
    assert report.households_created == 1
    assert "同一户只能出现一次" in report.rejected[0].reason and report.rejected[0].row == 4


def test_it_refuses_a_union_outside_the_admins_subtree(unions, county_admin, standard):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run_import(standard_file(), "x.xlsx", union=unions["410105"], user=county_admin)
