"""The caseworker's journey "write the plan and pair a helper" in a real browser: from the file on the register to
its plan with a first measure, a second measure added in place (htmx), a helper paired from the suggestions, a
follow-up visit recorded, and the subtree's pairing proposal. Each page is looked at 1280 px and 390 px wide."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assistance.models import Measure, Plan
from dossiers.choices import Cause, Status
from dossiers.models import Helper
from tests.browser.test_household_pages import both_widths
from tests.dossiers import conftest as dossier_fixtures

build_household, make_household, second_reviewer, walk = (
    dossier_fixtures.build_household, dossier_fixtures.make_household, dossier_fixtures.second_reviewer,
    dossier_fixtures.walk)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registered(make_household, caseworker, unions, walk):
    return walk(make_household(by=caseworker, union=unions["410102-C01"], main_cause=Cause.LAID_OFF),
                Status.REGISTERED)


def test_a_caseworker_writes_the_plan_and_pairs_a_helper(new_page, login, live_server, caseworker, unions,
                                                         registered):
    Helper.objects.create(name="周卫国", helping_unit="中原区总工会", union=unions["410102"], capacity=2,
                          kinds=["employment", "social_insurance"])
    Helper.objects.create(name="郑海涛", helping_unit="中原区人民医院", union=unions["410102-C01"],
                          kinds=["medical"])
    year = timezone.localdate().year + 1
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/{registered.file_number}/")
    expect(page.locator(".plan-summary")).to_contain_text("尚未制定帮扶计划")
    page.get_by_role("link", name="制定帮扶计划").click()

    page.get_by_label("帮扶目标").fill("户主一年内再就业，家庭人均收入超过当地低保标准")
    page.get_by_label("计划脱困年度").fill(str(year))
    page.get_by_label("计划脱困日期").fill(f"{year}-12-31")
    page.get_by_label("责任单位及责任人").fill("中原区困难职工帮扶中心 王芳")
    page.get_by_label("措施类型").select_option(label="职业介绍")
    page.get_by_label("具体内容").fill("推荐到郑州第一棉纺厂做挡车工")
    page.locator("#id_m-responsible").fill("王芳")
    page.get_by_label("完成期限").fill(f"{year}-03-31")
    page.get_by_label("带来的月收入（元）").fill("2800")
    page.get_by_role("button", name="保存帮扶计划").click()
    expect(page.locator(".measures")).to_contain_text("推荐到郑州第一棉纺厂做挡车工")
    expect(page.locator(".income-path")).to_contain_text("各项措施带来月收入 2800.00 元")
    both_widths(page, "plan")

    page.get_by_role("link", name="修改", exact=True).click()  # htmx: the measure's form, with its stored date
    expect(page.locator(".measure-form").get_by_label("完成期限")).to_have_value(f"{year}-03-31")
    page.locator(".measure-form").get_by_role("link", name="取消").click()
    expect(page.locator(".measure-form")).to_have_count(0)
    page.get_by_role("link", name="新增措施").click()  # htmx: the form opens inside the plan
    form = page.locator(".measure-form")
    form.get_by_label("措施类型").select_option(label="职工医疗互助")
    form.get_by_label("具体内容").fill("申请职工医疗互助金")
    form.locator("#id_m-responsible").fill("李明")
    form.get_by_label("完成期限").fill((timezone.localdate() + datetime.timedelta(days=30)).isoformat())
    form.get_by_role("button", name="保存措施").click()
    expect(page.locator(".measure-form")).to_contain_text("请填写金额")  # money measures need their amount
    page.locator(".measure-form").get_by_label("金额（元）").fill("3000")
    page.locator(".measure-form").get_by_role("button", name="保存措施").click()
    expect(page.locator(".message-success")).to_contain_text("已保存")
    expect(page.locator(".measure-form")).to_have_count(0)
    expect(page.locator(".measures tbody")).to_contain_text("申请职工医疗互助金")
    assert Measure.objects.filter(plan=Plan.objects.get(household=registered)).count() == 2

    page.goto(f"{live_server.url}/households/{registered.file_number}/pairing/")
    suggestions = page.locator("table").first
    expect(suggestions).to_contain_text("周卫国")
    expect(suggestions).to_contain_text("专长对应：就业创业")
    both_widths(page, "pairing")
    suggestions.locator("tr", has_text="周卫国").get_by_role("button", name="与其结对").click()
    expect(page.locator("#current-heading + dl")).to_contain_text("周卫国")

    page.goto(f"{live_server.url}/households/{registered.file_number}/")
    expect(page.locator(".pairing-summary")).to_contain_text("周卫国")
    page.get_by_role("link", name="登记走访").click()
    page.get_by_label("走访方式").select_option(label="电话")
    page.get_by_label("帮扶责任人").select_option(label="周卫国（中原区总工会）")
    page.get_by_label("走访情况").fill("电话回访：户主已去面试")
    page.get_by_label("商定事项").fill("下周一上岗")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已登记走访记录")).to_be_visible()  # back on the file, the visit among its visits
    expect(page.locator("section", has=page.get_by_role("heading", name="走访记录"))).to_contain_text("下周一上岗")
    assert registered.visits.get(is_initial=False).visited_on == timezone.localdate()
    both_widths(page, "file-with-plan")

    page.goto(f"{live_server.url}/helpers/")
    page.get_by_role("link", name="周卫国").click()
    expect(page.locator("table")).to_contain_text(registered.file_number)
    both_widths(page, "helper")


def test_the_pairing_proposal_is_reviewed_and_confirmed(new_page, login, live_server, caseworker, unions,
                                                         make_household, walk):
    households = [walk(make_household(by=caseworker, union=unions["410102-C01"], main_cause=cause),
                       Status.REGISTERED) for cause in (Cause.LAID_OFF, Cause.SERIOUS_ILLNESS)]
    worker = Helper.objects.create(name="就业帮扶人", helping_unit="棉纺厂工会", union=unions["410102-C01"],
                                   kinds=["employment"])
    Helper.objects.create(name="医疗帮扶人", helping_unit="区医院", union=unions["410102-C01"], kinds=["medical"])
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/helpers/proposal/")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=households[0].file_number).locator("select")).to_have_value(str(worker.pk))
    both_widths(page, "proposal")
    page.get_by_role("button", name="确认结对").click()
    expect(page.get_by_text("已结对 2 户")).to_be_visible()
    assert {h.pairings.get().helper.name for h in households} == {"就业帮扶人", "医疗帮扶人"}
