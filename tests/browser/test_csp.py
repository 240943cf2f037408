"""The Content-Security-Policy in a real browser: the file page (its history loaded by htmx), the household list's
search (htmx), the print page's button and the language menu all work, and the browser reports no violation."""

import pytest
from playwright.sync_api import expect

from tests.dossiers import conftest as dossier_fixtures
from tests.factories import UserFactory

build_household, make_household, household = (
    dossier_fixtures.build_household, dossier_fixtures.make_household, dossier_fixtures.household)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page sees, and window.print() kept from opening a dialog: the print button calls it.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
window.__printed = 0;
window.print = () => { window.__printed += 1; };
"""


@pytest.fixture
def watched(new_page):
    page = new_page()
    page.add_init_script(WATCH)
    console = []
    page.on("console", lambda message: console.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    page.console_violations = console
    return page


def violations(page) -> list[str]:
    return page.console_violations + page.evaluate("window.__violations")


def test_the_pages_work_under_the_policy_with_no_violation(watched, login, live_server, caseworker, household):
    page = login(watched, "caseworker")
    expect(page).to_have_url(f"{live_server.url}/")

    # The file page: its history arrives by htmx after the page.
    page.goto(f"{live_server.url}/households/{household.file_number}/")
    expect(page.locator("#history")).to_be_visible()
    assert violations(page) == []

    # The household list: a search reloads the results alone (htmx).
    page.goto(f"{live_server.url}/households/")
    with page.expect_response(lambda response: response.url.startswith(f"{live_server.url}/households/")
                              and response.request.headers.get("hx-request") == "true"):
        page.evaluate("window.__same_page = true")  # gone if the browser loaded a new page instead of swapping
        page.get_by_label("姓名、身份证号或档案编号").fill("查无此人")
        page.get_by_role("button", name="查询").click()
    expect(page.locator("#results")).to_contain_text("共 0 户")
    assert page.evaluate("window.__same_page") is True
    expect(page.locator("#results")).to_have_count(1)  # the results replaced, not nested
    assert "s=" in page.url and "%E6%9F%A5" not in page.url and "查无此人" not in page.url  # a token, not the text
    assert violations(page) == []

    # The print page's button prints (an event listener in place of onclick).
    page.goto(f"{live_server.url}/households/{household.file_number}/print/")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") == 1
    assert violations(page) == []

    # The language menu sends its form when changed (in place of onchange).
    page.goto(f"{live_server.url}/households/")
    page.locator("#language-select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert violations(page) == []

    # And the watch sees a violation when there is one: an inline style is refused.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    expect(page.locator("p[style]")).to_have_count(1)
    page.wait_for_function("window.__violations.length > 0")
    assert "style-src" in violations(page)[-1]


ADMIN_PAGES = ["/admin/", "/admin/hardship/accessrecord/", "/admin/hardship/user/", "/admin/hardship/union/",
               "/admin/hardship/user/add/", "/admin/dossiers/importbatch/"]


def test_the_admin_works_under_its_own_policy(watched, login, live_server, unions):
    UserFactory(username="root", role="", home_union=None, is_staff=True, is_superuser=True)
    page = watched
    page.goto(f"{live_server.url}/admin/login/")
    expect(page.locator("form")).to_be_visible()
    login(page, "root")
    for path in ADMIN_PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "'unsafe-eval'" in response.headers["content-security-policy"], path
        expect(page.locator("#content-start, main, #content").first).to_be_visible()
        assert violations(page) == [], path
