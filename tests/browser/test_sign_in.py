"""A person signs in and finds their way: the first journeys of every role."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_takes_the_caseworker_to_my_work(page, login, caseworker):
    login(page, "caseworker")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的工作")
    expect(page.get_by_text("中原区困难职工帮扶中心").first).to_be_visible()
    expect(page.get_by_role("link", name="林山寨街道帮扶站")).to_be_visible()
    screenshot(page, "caseworker-home")


def test_it_says_in_chinese_when_the_password_is_wrong(page, login, caseworker):
    login(page, "caseworker", "wrong-password")
    expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    screenshot(page, "login-error")


def test_it_lets_the_supervisor_drill_down_to_a_help_station(page, login, supervisor, outsider):
    login(page, "supervisor")
    expect(page.get_by_role("heading", level=1)).to_contain_text("工作台")
    page.get_by_role("link", name="郑州市总工会").click()
    page.get_by_role("link", name="中原区总工会").click()
    page.get_by_role("link", name="中原区困难职工帮扶中心").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("中原区困难职工帮扶中心")
    breadcrumbs = page.get_by_role("navigation", name="当前位置")
    expect(breadcrumbs).to_contain_text("郑州市总工会")
    screenshot(page, "supervisor-drilldown")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")


def test_it_switches_the_interface_to_english(page, login, caseworker):
    login(page, "caseworker")
    page.get_by_label("界面语言").select_option("en")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    screenshot(page, "caseworker-home-en")


def test_it_signs_out(page, login, caseworker, live_server):
    login(page, "caseworker")
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
