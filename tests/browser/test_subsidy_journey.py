"""The month's subsidies in a real browser, with a real Celery worker: a supervisor runs the period, a second
supervisor approves it, exports the bank file, marks it sent and imports the bank's return file with one failure,
and the caseworker sees the failure on the household's file. The batch page, its disclosure list and the household's
subsidies page are looked at 1280 px and 390 px wide."""

import io
import time
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from assistance.subsidies import current_period
from assistance.subsidy_models import Payment, PaymentBatch
from dossiers.choices import Relationship, Sex
from tests.assistance import conftest as assistance_fixtures
from tests.browser.test_household_pages import both_widths
from tests.dossiers import conftest as dossier_fixtures

budgets, checker, county_supervisor, registered, schedule_for = (
    assistance_fixtures.budgets, assistance_fixtures.checker, assistance_fixtures.county_supervisor,
    assistance_fixtures.registered, assistance_fixtures.schedule_for)
make_household, build_household, second_reviewer, walk = (
    dossier_fixtures.make_household, dossier_fixtures.build_household, dossier_fixtures.second_reviewer,
    dossier_fixtures.walk)

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

PAID_CARD, FAILED_CARD = "6222021234567890123", "6217001234567890456"
RUN_TIMEOUT = 30  # seconds for the worker's run to show on the batch list


def family(head: str) -> list:
    return [dossier_fixtures.new_member(relationship=Relationship.SELF, sex=Sex.MALE, name=head),
            dossier_fixtures.new_member(relationship=Relationship.SPOUSE, sex=Sex.FEMALE, name="李秀英")]


def wait_for_the_batch(page, url: str) -> None:
    """Reload the batch list until the worker's batch is on it (bounded)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    rows = page.locator("tbody tr")
    while not rows.count():
        assert time.monotonic() < deadline, f"no batch on the list {RUN_TIMEOUT} s after the run was queued"
        page.wait_for_timeout(500)
        page.goto(url)


def payment_rows(page):
    return page.locator("section", has=page.get_by_role("heading", name="发放明细")).locator("tbody tr")


def return_file(path) -> None:
    path.write_text("\n".join([
        "账号,户名,金额,处理结果,失败原因",
        f"{PAID_CARD},张建国,300.00,成功,",
        f"{FAILED_CARD},刘德明,450.00,失败,账户已冻结",
    ]) + "\n", encoding="utf-8")


def test_a_month_is_run_approved_paid_and_its_failure_seen_on_the_file(
        new_page, login, live_server, celery_worker, caseworker, county_supervisor, checker, registered, schedule_for,
        budgets, tmp_path):
    period = current_period()  # the real clock, as the browser and the worker see it
    paid = registered(bank_card=PAID_CARD, members=family("张建国"))
    failed = registered(bank_card=FAILED_CARD, bank_name="中国建设银行", members=family("刘德明"))
    schedule_for(paid, amount=Decimal("300.00"), first_period=period)
    schedule_for(failed, amount=Decimal("450.00"), first_period=period)
    batches_url = f"{live_server.url}/subsidies/"

    # The first supervisor runs the month; the worker generates the batch.
    page = login(new_page(), "county_supervisor")
    page.get_by_role("navigation").get_by_role("link", name="补助发放").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("补助发放批次")
    expect(page.get_by_text("没有发放批次。")).to_be_visible()
    page.get_by_label("发放月份").fill(f"{period:%Y-%m}")
    page.get_by_role("button", name="生成发放批次").click()
    expect(page.locator(".message-success")).to_contain_text(f"已开始生成 {period:%Y-%m} 的发放批次")
    wait_for_the_batch(page, batches_url)
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("中原区困难职工帮扶中心")
    expect(row).to_contain_text("750.00")
    expect(row).to_contain_text("待审批")
    row.get_by_role("link", name=f"{period:%Y-%m}").click()
    batch = PaymentBatch.objects.get()
    assert batch.makers == [county_supervisor.pk]
    expect(page.locator(".page-head")).to_contain_text("共 2 笔，合计 750.00 元")
    expect(page.get_by_role("button", name="审批通过")).to_have_count(0)
    expect(page.get_by_text("您生成或修改过本批次，须由另一位审核人审批。")).to_be_visible()
    payments = payment_rows(page)
    expect(payments).to_have_count(2)
    expect(payments.filter(has_text=paid.file_number)).to_contain_text("****0123")
    expect(payments.filter(has_text=failed.file_number)).to_contain_text("****0456")
    expect(page.locator("body")).not_to_contain_text(FAILED_CARD)  # the full card only in the bank file

    # The second supervisor approves, exports the bank file, sends it and imports the return file.
    page = login(new_page(), "checker")
    page.goto(f"{live_server.url}/subsidies/batches/{batch.pk}/")
    page.get_by_role("button", name="审批通过").click()
    expect(page.locator(".message-success")).to_contain_text("已审批，可导出代发文件。")
    expect(page.locator("h1 .badge")).to_have_text("已审批")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出代发文件（xlsx）").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes())).active
    lines = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert lines[0] == ["账号", "户名", "金额", "摘要"]
    assert sorted((line[0], line[2]) for line in lines[1:]) == sorted(
        [(PAID_CARD, "300.00"), (FAILED_CARD, "450.00")])
    page.get_by_role("button", name="标记为已报送银行").click()
    expect(page.locator(".message-success")).to_contain_text("已标记为报送银行")
    upload = tmp_path / "回盘文件.csv"
    return_file(upload)
    page.get_by_label("导入银行回盘文件").set_input_files(upload)
    page.get_by_role("button", name="导入并对账").click()
    expect(page.locator(".message-success")).to_contain_text("到账 1 笔，失败 1 笔")
    payments = payment_rows(page)
    expect(payments.filter(has_text=failed.file_number)).to_contain_text("发放失败")
    expect(payments.filter(has_text=failed.file_number)).to_contain_text("账户已冻结")
    expect(payments.filter(has_text=paid.file_number)).to_contain_text("已到账")
    assert Payment.objects.get(household=failed).status == Payment.Status.FAILED
    both_widths(page, "subsidy-batch")

    page.get_by_role("link", name="公示名单").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("帮扶资金发放公示名单")
    sheet_rows = page.locator("table.grid tbody tr")
    expect(sheet_rows).to_have_count(1)  # the failed payment is not disclosed
    expect(page.locator("table.grid tfoot")).to_contain_text("300.00")
    both_widths(page, "subsidy-disclosure")

    # The caseworker sees the failure on the household's file and in its payments.
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/{failed.file_number}/")
    expect(page.locator(".message-error")).to_contain_text("有 1 笔补助发放失败，请核对银行卡信息。")
    page.get_by_role("link", name="补助计划与发放记录").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("刘德明 户的补助")
    record = page.locator("section", has=page.get_by_role("heading", name="发放记录")).locator("tbody tr")
    expect(record).to_have_count(1)
    expect(record).to_contain_text(f"{period:%Y-%m}")
    expect(record).to_contain_text("450.00")
    expect(record).to_contain_text("发放失败")
    expect(record).to_contain_text("账户已冻结")
    both_widths(page, "subsidy-household")
