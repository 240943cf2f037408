"""The county administrator imports the district's old Excel register: sees the preview (new households and the
rejected row with its reason), imports the valid households while a real Celery worker reports progress, downloads
the rejected rows, fixes the cell and imports them too."""

import io

import openpyxl
import pytest
from django.db import transaction
from playwright.sync_api import expect

from dossiers.legacy import importer
from dossiers.legacy.models import ImportBatch
from dossiers.models import Household
from tests.browser.conftest import screenshot
from tests.dossiers import legacy_files as lf

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

BAD_DATE = "2010年13月"


def messy_register(families: list[lf.Family], bad_member: lf.Person) -> bytes:
    """Title rows, blank rows, a 合计 row, a 微信号 column and a 填表说明 sheet; one member's birth date is wrong."""
    tables = lf.two_sheet_tables(families)
    tables[1].record_for(bad_member.id_number)["birth_date"] = BAD_DATE
    return lf.to_xlsx(tables)


def upload(page, path, mode_label: str) -> None:
    page.locator("input[type=file]").set_input_files(path)
    page.get_by_label(mode_label).check()
    page.get_by_role("button", name="上传并预览").click()
    expect(page.get_by_role("button", name="确认导入")).to_be_visible()


def fix_the_birth_date(download: bytes, person: lf.Person) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(download))
    sheet = workbook["家庭成员"]
    header = [cell.value for cell in sheet[1]]
    row = next(row for row in sheet.iter_rows(min_row=2) if row[header.index("身份证号码")].value == person.id_number)
    assert row[header.index("出生日期")].value == BAD_DATE and BAD_DATE in row[header.index("错误原因")].value
    row[header.index("出生日期")].value = person.birth.isoformat()
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_it_imports_the_old_register_and_then_the_fixed_rejected_rows(
        new_page, login, live_server, county_admin, unions, standard, celery_worker, tmp_path):
    families = [lf.family("张建国", children=1), lf.family("王秀兰", sex="女", children=1), lf.family("赵德明")]
    bad_member = families[1].members[1]
    register = tmp_path / "中原区困难职工档案（2023年）.xlsx"
    register.write_bytes(messy_register(families, bad_member))

    page = login(new_page(), "countyadmin")
    page.get_by_role("link", name="导入历史档案").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("导入历史档案")
    screenshot(page, "import-upload")
    renamed_csv = tmp_path / "台账.xlsx"
    renamed_csv.write_bytes(lf.csv_text_named_xlsx())
    page.locator("input[type=file]").set_input_files(renamed_csv)
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator(".errors")).to_contain_text("不是Excel（.xlsx）文件，而是CSV 文本文件")
    screenshot(page, "import-unreadable")
    upload(page, register, "导入无误的户，跳过有误的行")

    expect(page.get_by_text("以下是预览")).to_be_visible()
    rejected = page.locator("table").filter(has_text=BAD_DATE)
    expect(rejected).to_contain_text("家庭成员")
    expect(rejected).to_contain_text("出生日期")
    expect(page.get_by_text("微信号")).to_be_visible()  # reported, not imported
    screenshot(page, "import-preview")
    assert not Household.objects.exists()

    # Another import into the same union holds the lock: the worker waits, and the page shows it working.
    with transaction.atomic():
        importer._lock(county_admin.home_union)
        page.get_by_role("button", name="确认导入").click()
        expect(page.get_by_text("正在导入")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("progressbar")).to_be_visible()  # the rows read before the lock
        expect(page.get_by_text("已处理")).to_contain_text(" / ")
        screenshot(page, "import-progress")
    expect(page.get_by_text("导入完成")).to_be_visible(timeout=30_000)
    screenshot(page, "import-done")
    imported = {families[0].head.id_number, families[2].head.id_number}
    assert set(Household.objects.values_list("head_id_number", flat=True)) == imported

    with page.expect_download() as download:
        page.get_by_role("link", name="下载有误的行 (xlsx)").click()
    fixed = tmp_path / "有误的行（已改）.xlsx"
    fixed.write_bytes(fix_the_birth_date(download.value.path().read_bytes(), bad_member))

    page.get_by_role("link", name="导入下一份文件").click()
    upload(page, fixed, "全部无误才导入")
    expect(page.get_by_text("以下是预览")).to_be_visible()
    assert ImportBatch.objects.latest("pk").preview["households_created"] == 1
    screenshot(page, "import-preview-fixed")
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_text("导入完成")).to_be_visible(timeout=30_000)
    household = Household.objects.get(head_id_number=families[1].head.id_number)
    assert household.members.count() == 3 and household.import_batch.file_name == fixed.name

    page.get_by_role("link", name="导入记录").click()
    expect(page.locator("#result_list")).to_contain_text(fixed.name)
    screenshot(page, "import-list")
