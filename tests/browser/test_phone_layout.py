"""The application on a caseworker's phone (390 px wide) and on a laptop (1280 px): nothing wider than the screen,
each navigation label on one line, the user's name and role in the header, the rest of the account one tap away."""

import pytest
from playwright.sync_api import expect

from dossiers.filing import save_household
from dossiers.models import Household
from tests.browser.conftest import screenshot
from tests.dossiers.conftest import default_members, household_fields
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 860}

# The text lines a link's label takes (one rectangle per line box of its text).
LINES = """el => { const range = document.createRange(); range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size; }"""


def pages_of(household) -> dict[str, list[tuple[str, str]]]:
    """The main pages of each role: (screenshot name, path)."""
    file_page = f"/households/{household.file_number}/"
    return {
        "caseworker": [
            ("home", "/"), ("list", "/households/"), ("filtered", "/households/?status=draft"), ("file", file_page),
            ("new-file", "/households/new/"),
            ("edit-file", f"{file_page}edit/"), ("lookup", "/households/lookup/"), ("civil", "/households/civil/"),
            ("transfers", "/households/transfers/"), ("union", "/unions/410102-C01/"),
        ],
        "supervisor": [("home", "/"), ("union", "/unions/410100/"), ("file", file_page)],
        "countyadmin": [("home", "/"), ("union", "/unions/410102/")],
        "auditor": [("home", "/"), ("file", file_page)],
    }


def test_it_fits_every_main_page_of_every_role_on_a_phone(new_page, login, live_server, caseworker, supervisor,
                                                           county_admin, auditor, standard, unions):
    household = save_household(Household(**household_fields(unions["410102-C01"])), default_members(), by=caseworker)
    for username, pages in pages_of(household).items():
        page = login(new_page(), username)
        for name, path in pages:
            for label, viewport in (("phone", PHONE), ("laptop", LAPTOP)):
                page.set_viewport_size(viewport)
                page.goto(live_server.url + path)
                expect(page.get_by_role("heading", level=1).first).to_be_visible()
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], f"{username} {path} is {width} px wide at {viewport['width']} px"
                screenshot(page, f"{label}-{username}-{name}")


def test_it_fits_the_sign_in_page_on_a_phone(new_page, live_server):
    page = new_page()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-login")


def test_it_shows_the_name_and_role_on_a_phone_and_the_account_one_tap_away(new_page, login, caseworker):
    page = new_page()
    page.set_viewport_size(PHONE)
    login(page, "caseworker")
    account = page.get_by_role("button", name="王芳 帮扶工作人员")
    expect(account).to_be_visible()
    expect(page.get_by_role("button", name="退出")).to_be_hidden()
    account.click()
    panel = page.locator("#account-menu")
    expect(panel).to_contain_text("中原区困难职工帮扶中心")
    expect(panel.get_by_label("界面语言")).to_be_visible()
    screenshot(page, "phone-account-menu")
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")


def test_it_opens_the_navigation_from_the_menu_with_each_label_on_one_line(new_page, login, caseworker, county_admin):
    for username, labels in (("caseworker", ["我的工作", "家庭档案", "待接收的档案", "组织机构"]),
                             ("countyadmin", ["管理首页", "组织机构", "管理后台"])):
        page = new_page()
        page.set_viewport_size(PHONE)
        login(page, username)
        navigation = page.get_by_role("navigation", name="主导航")
        expect(navigation).to_be_hidden()
        page.get_by_role("button", name="菜单").click()
        for label in labels:
            link = navigation.get_by_role("link", name=label, exact=True)
            expect(link).to_be_visible()
            assert link.evaluate(LINES) == 1, f"{label} wraps"
        screenshot(page, f"phone-menu-{username}")
        navigation.get_by_role("link", name="组织机构").click()
        heading = "中原区总工会" if username == "countyadmin" else "中原区困难职工帮扶中心"
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(navigation).to_be_hidden()


def test_it_switches_to_english_from_the_account_panel_and_keeps_the_labels_whole(new_page, login, caseworker):
    page = new_page()
    page.set_viewport_size(PHONE)
    login(page, "caseworker")
    page.get_by_role("button", name="王芳 帮扶工作人员").click()
    with page.expect_navigation():
        page.locator("#account-menu").get_by_label("界面语言").select_option("en")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator(".menu-button").click()
    links = page.locator("#main-nav a")
    for index in range(links.count()):
        assert links.nth(index).evaluate(LINES) == 1, f"{links.nth(index).inner_text()} wraps"
    screenshot(page, "phone-menu-english")


def test_it_opens_the_menu_without_javascript(browser, live_server, caseworker):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("用户名").fill("caseworker")
        page.get_by_label("密码").fill(TEST_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("button", name="菜单").click()
        expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="家庭档案")).to_be_visible()
    finally:
        context.close()


def test_it_keeps_the_sidebar_and_the_account_in_view_on_a_laptop(page, login, caseworker):
    login(page, "caseworker")
    expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    navigation = page.get_by_role("navigation", name="主导航")
    for label in ("我的工作", "家庭档案", "待接收的档案", "组织机构"):
        link = navigation.get_by_role("link", name=label, exact=True)
        expect(link).to_be_visible()
        assert link.evaluate(LINES) == 1, f"{label} wraps"
    expect(page.locator(".topbar-user")).to_contain_text("王芳")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    screenshot(page, "laptop-caseworker-shell")
