"""The import and the register: an import brings files onto the system but never moves an existing one through the
register (no exit, no reopening, no re-grade), and the files it creates carry what the register would have given
them: the exit dates that 返困 needs, an income assessment, the yearly re-verification date, a place in a queue.

The county administrator of 中原区 imports into the 中原区 help centre; files already in the system are filed by
`caseworker` and walked through the register with the real transitions (`walk`).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from dossiers import assessment, register
from dossiers.choices import Category, Status
from dossiers.legacy.importer import ImportReport, run_import
from dossiers.models import Assessment, Household, Member, RegisterEvent
from dossiers.queues import work_queues
from dossiers.search import households_for
from tests.dossiers import legacy_files as lf

pytestmark = pytest.mark.django_db

IMPORTED_RULES = f"import-{assessment.RULE_VERSION}"


@pytest.fixture
def target(unions):
    return unions["410102-C01"]


@pytest.fixture
def run_without_standard(county_admin, target):
    def go(data: bytes, file_name: str = "汇总.xlsx", **options) -> ImportReport:
        options.setdefault("union", target)
        options.setdefault("user", county_admin)
        options.setdefault("mode", "skip_invalid")
        return run_import(data, file_name, **options)

    return go


@pytest.fixture
def run(run_without_standard, standard):
    """run(data, file_name, **options): run_import as the county administrator, skipping invalid households."""
    return run_without_standard


@pytest.fixture
def registered(make_household, caseworker, target, walk):
    """A file filed in the system and walked onto the register (相对困难: 24 000 a year for two at an 800 line)."""
    return walk(make_household(by=caseworker, union=target), Status.REGISTERED)


def family_of(household: Household, **cells) -> lf.Family:
    """The same family as a legacy register lists it: the primary worker's ID number keys it to the file."""
    people = [lf.Person(m.name, m.id_number, "男" if m.sex == "M" else "女", m.birth_date,
                        "本人" if m.is_primary else "配偶") for m in household.members.all()]
    head = next(person for person in people if person.relationship == "本人")
    return lf.Family(head, [person for person in people if person is not head], dict(cells))


def workbook(families: list[lf.Family], **extra_headers) -> tuple[bytes, list[lf.Table]]:
    """The usual two-sheet register; extra_headers adds columns (field → header text) to the household sheet."""
    tables = lf.two_sheet_tables(families, household_headers={**lf.HOUSEHOLD_HEADERS, **extra_headers})
    return lf.to_xlsx(tables), tables


def snapshot(household: Household) -> tuple:
    household.refresh_from_db()
    return (household.status, household.category, household.closed_on, household.follow_up_until,
            household.reverify_due, household.register_events.count(),
            sorted(household.members.values_list("id_number", "is_open")))


def problem_for(report: ImportReport, tables: list[lf.Table], fam: lf.Family):
    row = tables[0].row_for(fam.head.id_number)
    found = [p for p in report.rejected if p.sheet == tables[0].name and p.row == row]
    assert found, f"no problem on row {row}: {report.rejected}"
    return found[0]


def household_of(fam: lf.Family) -> Household:
    return Household.objects.filter(head_id_number=fam.head.id_number).latest("created_at")


# --- an import never closes, reopens or re-grades an existing file ----------------------------------------------

@pytest.mark.parametrize(("cell", "word"), [("已脱困", "脱困"), ("已解困", "解困"), ("已注销", "注销")])
def test_it_refuses_to_close_a_file_on_the_register_and_says_to_propose_the_exit(run, registered, cell, word):
    fam = family_of(registered, status=cell, legacy_category="低保边缘户")
    before = snapshot(registered)
    data, tables = workbook([fam])

    report = run(data)

    problem = problem_for(report, tables, fam)
    assert problem.column == "档案状态"
    assert registered.file_number in problem.reason and f"提出{word}申请" in problem.reason
    assert "上级审批" in problem.reason
    assert (report.households_updated, report.households_created) == (0, 0) and not report.written
    assert snapshot(registered) == before  # still 在档, no closed_on, no event, members still open
    assert registered.status == Status.REGISTERED and registered.closed_on is None


def test_it_refuses_to_put_an_exited_file_back_on_the_register(run, registered, walk):
    walk(registered, Status.EXITED)
    fam = family_of(registered, status="在档", legacy_category="低保边缘户")
    before = snapshot(registered)
    data, tables = workbook([fam])

    report = run(data)

    problem = problem_for(report, tables, fam)
    assert problem.column == "档案状态" and "返困重新建档" in problem.reason
    assert snapshot(registered) == before
    assert registered.status == Status.EXITED
    assert not Member.objects.filter(household=registered, is_open=True).exists()


def test_it_refuses_to_change_how_an_exited_file_left(run, registered, walk):
    walk(registered, Status.EXITED)
    fam = family_of(registered, status="已注销", legacy_category="低保边缘户")
    before = snapshot(registered)
    data, tables = workbook([fam])

    report = run(data)

    assert "已注销" in problem_for(report, tables, fam).reason
    assert snapshot(registered) == before


@pytest.mark.parametrize("cell", ["低保户", "深度困难", "意外致困"])
def test_it_refuses_to_regrade_a_file_on_the_register(run, registered, cell):
    assert registered.category == Category.RELATIVE
    fam = family_of(registered, legacy_category=cell)
    before = snapshot(registered)
    data, tables = workbook([fam])

    report = run(data)

    problem = problem_for(report, tables, fam)
    assert problem.column == "困难类别" and "年度复核" in problem.reason and "相对困难" in problem.reason
    assert snapshot(registered) == before and registered.category == Category.RELATIVE


def test_it_still_takes_other_changes_to_a_file_on_the_register(run, registered):
    fam = family_of(registered, legacy_category="低保边缘户", address="郑州市中原区桐柏路 8 号")
    due = registered.reverify_due
    data, _tables = workbook([fam])

    report = run(data)

    assert report.rejected == [] and report.households_updated == 1
    registered.refresh_from_db()
    assert registered.address == "郑州市中原区桐柏路 8 号"
    assert (registered.status, registered.category, registered.reverify_due) == (Status.REGISTERED,
                                                                                Category.RELATIVE, due)
    event = registered.register_events.get(transition="import_update")
    assert (event.from_status, event.to_status) == (Status.REGISTERED, Status.REGISTERED)


def test_a_blank_status_or_category_leaves_the_file_as_it_is(run, registered, walk):
    walk(registered, Status.EXITED)
    fam = family_of(registered, status=None, legacy_category=None, address="郑州市中原区桐柏路 8 号")
    data, _tables = workbook([fam])

    report = run(data)

    assert report.rejected == [] and report.households_updated == 1
    registered.refresh_from_db()
    assert (registered.status, registered.category) == (Status.EXITED, Category.RELATIVE)
    assert registered.address == "郑州市中原区桐柏路 8 号"


def test_all_or_nothing_writes_nothing_when_a_row_would_close_a_file(run, registered):
    closing = family_of(registered, status="已脱困", legacy_category="低保边缘户")
    new = lf.family("王秀兰", sex="女")
    before = (Household.objects.count(), Member.objects.count(), RegisterEvent.objects.count(),
              Assessment.objects.count(), snapshot(registered))
    data, tables = workbook([new, closing])

    report = run(data, mode="all_or_nothing")

    assert report.refused and not report.written and report.households_created == 1
    assert "提出脱困申请" in problem_for(report, tables, closing).reason
    assert (Household.objects.count(), Member.objects.count(), RegisterEvent.objects.count(),
            Assessment.objects.count(), snapshot(registered)) == before


@pytest.mark.parametrize("ending", ["withdraw", "decline"])
def test_a_withdrawn_or_declined_application_is_no_match_and_the_row_files_anew(
        run, make_household, caseworker, reviewer, target, ending):
    application = make_household(by=caseworker, union=target)
    if ending == "withdraw":
        register.withdraw(application, by=caseworker, reason="本人撤回申请")
    else:
        register.submit(application, by=caseworker)
        register.decline(application, by=reviewer, reason="家庭收入超过标准")
    fam = family_of(application, legacy_category="低保边缘户")
    before = snapshot(application)
    data, _tables = workbook([fam])

    report = run(data)

    assert report.rejected == [] and report.households_created == 1
    new = household_of(fam)
    assert new.pk != application.pk and new.status == Status.REGISTERED
    assert set(new.members.values_list("is_open", flat=True)) == {True}
    assert snapshot(application) == before


# --- files the import creates closed ----------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["退出日期", "脱困日期", "解困日期", "注销日期"])
def test_a_file_created_closed_takes_its_exit_date_from_the_file_and_can_relapse_the_next_day(
        run, caseworker, header):
    exited_on = timezone.localdate() - datetime.timedelta(days=40)
    fam = lf.family("张建国", status="已脱困", closed_on=exited_on)
    data, _tables = workbook([fam], closed_on=header)

    report = run(data)

    assert report.rejected == [] and report.unknown_columns == [f"家庭档案：{lf.UNKNOWN_HEADER}"]
    household = household_of(fam)
    assert household.status == Status.EXITED
    assert household.closed_on == exited_on
    assert household.follow_up_until == exited_on + relativedelta(months=settings.RELAPSE_FOLLOW_UP_MONTHS)
    assert not household.members.filter(is_open=True).exists()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1)):
        episode = register.open_relapse(household, by=caseworker, reason="配偶失业，家庭再次陷入困难")
    assert episode.previous_episode == household and episode.status == Status.DRAFT


@pytest.mark.parametrize(("cell", "status"), [("已脱困", Status.EXITED), ("已解困", Status.RELIEVED)])
def test_a_file_created_closed_without_an_exit_date_closes_on_the_import_date(run, caseworker, cell, status):
    fam = lf.family("张建国", status=cell)
    data, _tables = workbook([fam])

    run(data)

    household = household_of(fam)
    today = timezone.localdate()
    assert (household.status, household.closed_on) == (status, today)
    assert household.follow_up_until == today + relativedelta(months=settings.RELAPSE_FOLLOW_UP_MONTHS)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1)):
        episode = register.open_relapse(household, by=caseworker, reason="再次陷入困难")
    assert episode.previous_episode == household


def test_a_removed_file_has_an_exit_date_and_no_follow_up(run):
    fam = lf.family("张建国", status="已注销", closed_on="2021年3月")
    data, _tables = workbook([fam], closed_on="注销日期")

    run(data)

    household = household_of(fam)
    assert (household.status, household.closed_on, household.follow_up_until) == (
        Status.REMOVED, datetime.date(2021, 3, 1), None)


def test_an_exit_date_in_the_future_is_refused(run):
    fam = lf.family("张建国", status="已脱困", closed_on=timezone.localdate() + datetime.timedelta(days=3))
    data, tables = workbook([fam], closed_on="退出日期")

    report = run(data)

    assert problem_for(report, tables, fam).column == "退出日期"
    assert not Household.objects.filter(head_id_number=fam.head.id_number).exists()


# --- the assessment -----------------------------------------------------------------------------------------------

def test_it_records_an_assessment_with_the_imported_rule_version(run, county_admin, standard):
    # 24 000 a year for three (家庭人口 3): 666.67 a month each, under the 800 line: 深度困难; the register said
    # 低保边缘户, so the file is 相对困难 and the assessment says why the two differ.
    fam = lf.family("张建国", children=1, annual_income=24000, legacy_category="低保边缘户")
    data, _tables = workbook([fam])

    report = run(data)

    assert report.warnings == []
    household = household_of(fam)
    assert household.category == Category.RELATIVE
    made = Assessment.objects.get(household=household)
    assert made.rule_version == IMPORTED_RULES
    assert made.per_capita_monthly == Decimal("666.67")
    assert (made.proposed_category, made.final_category) == ("deep", Category.RELATIVE)
    assert "相对困难" in made.override_reason and "深度困难" in made.override_reason
    assert (made.made_by, made.standard) == (county_admin, standard)
    assert made.inputs["other_income"] == "24000.00" and len(made.inputs["members"]) == 3
    assert made.inputs["poverty_line"] == str(standard.poverty_line)
    assert made.result["household_size"] == 3 and made.result["per_capita_monthly"] == "666.67"


def test_the_household_size_comes_from_家庭人口_else_from_the_people_listed(run):
    counted = lf.family("张建国", spouse=False, household_size=4, annual_income=24000, legacy_category="低保户")
    listed = lf.family("王秀兰", sex="女", annual_income=24000, legacy_category="低保边缘户")
    without_size = {key: text for key, text in lf.HOUSEHOLD_HEADERS.items() if key != "household_size"}

    run(lf.to_xlsx(lf.two_sheet_tables([counted])))
    run(lf.to_xlsx(lf.two_sheet_tables([listed], household_headers=without_size)))

    four = Assessment.objects.get(household=household_of(counted))  # the worker alone is listed, of four
    assert four.per_capita_monthly == Decimal("500.00") and four.result["household_size"] == 4
    assert four.proposed_category == four.final_category == Category.DEEP and four.override_reason == ""
    two = Assessment.objects.get(household=household_of(listed))
    assert two.per_capita_monthly == Decimal("1000.00") and two.result["household_size"] == 2
    assert two.proposed_category == two.final_category == Category.RELATIVE and two.override_reason == ""


def test_only_files_put_on_the_register_with_an_income_are_assessed(run):
    closed = lf.family("张建国", status="已脱困")
    no_income = lf.family("王秀兰", sex="女", annual_income=None)
    headers = {key: text for key, text in lf.HOUSEHOLD_HEADERS.items() if key != "annual_income"}
    run(lf.to_xlsx(lf.two_sheet_tables([closed])))
    run(lf.to_xlsx(lf.two_sheet_tables([no_income], household_headers=headers)))

    assert household_of(closed).status == Status.EXITED and household_of(no_income).status == Status.REGISTERED
    assert not Assessment.objects.exists()


def test_without_a_standard_it_writes_no_assessment_and_says_so_once(run_without_standard):
    families = [lf.family("张建国"), lf.family("王秀兰", sex="女"), lf.family("刘德华", spouse=False)]

    report = run_without_standard(lf.to_xlsx(lf.two_sheet_tables(families)))

    assert report.households_created == 3 and report.written
    assert len(report.warnings) == 1 and "低保标准" in report.warnings[0] and "中原区" in report.warnings[0]
    assert report.as_json()["warnings"] == report.warnings
    assert not Assessment.objects.exists()


# --- re-verification: the due date and the 导入待核实 queue -------------------------------------------------------

def test_an_imported_file_is_due_for_reverification_and_waits_in_the_import_queue(run, client_for, caseworker,
                                                                                   registered):
    fam = lf.family("张建国", filed_on=datetime.date(2019, 5, 1))
    data, _tables = workbook([fam], filed_on="建档日期")

    run(data)

    household = household_of(fam)
    assert household.reverify_due == datetime.date(2020, 5, 1)
    assert household in households_for(caseworker, {}, "reverify_due")  # 本月到期复核 (overdue)
    queue = next(q for q in work_queues(caseworker) if q.label == "导入待核实")
    assert queue.count == 1 and [row.pk for row in queue.rows] == [household.pk]  # not the system's own file
    assert "view=imported_unverified" in queue.url
    page = client_for(caseworker).get(queue.url)
    assert [row.pk for row in page.context["page"].rows] == [household.pk]

    register.reverify(household, by=caseworker, reason="入户核实，家庭情况与台账一致")

    assert not households_for(caseworker, {}, "imported_unverified").exists()


def test_a_file_on_the_register_without_a_due_date_gets_one_from_the_import(run, registered):
    Household.objects.filter(pk=registered.pk).update(reverify_due=None)
    fam = family_of(registered, legacy_category="低保边缘户")
    data, _tables = workbook([fam])

    report = run(data)

    assert report.rejected == [] and report.households_updated == 1
    registered.refresh_from_db()
    assert registered.reverify_due == registered.registered_on + relativedelta(years=1)
