"""The household form, the file page, its forms and its A4 print in a real browser: the form asks for the assessment
only when something changes, the file page offers only what can succeed, errors are listed at the top and lead to
their field, the member table stays on the A4 sheet. Each page is looked at 1280 px and 390 px wide."""

import pytest
from playwright.sync_api import expect

from dossiers import register
from dossiers.choices import Relationship, Status
from tests.browser.conftest import screenshot
from tests.browser.test_filing_journey import FAMILY, fill_member
from tests.dossiers import conftest as dossier_fixtures
from tests.dossiers.conftest import default_members, new_member

# The household fixtures, made visible to pytest in this module (the test functions take them by name).
build_household, make_household, household, second_reviewer, walk = (
    dossier_fixtures.build_household, dossier_fixtures.make_household, dossier_fixtures.household,
    dossier_fixtures.second_reviewer, dossier_fixtures.walk)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 860}
IDLE_MS = 3000  # long enough for several rounds of the old self-triggering preview (7 a second)


def preview_requests(page) -> list:
    """Every request the page makes for the assessment preview, as it happens."""
    seen = []
    page.on("request", lambda request: seen.append(request.url) if "/assessment-preview/" in request.url else None)
    return seen


def both_widths(page, name: str) -> None:
    """Screenshot the page on a laptop and on a phone; nothing may be wider than the phone's screen."""
    for label, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        screenshot(page, f"household-pages-{name}-{label}")
    page.set_viewport_size(LAPTOP)


def test_the_new_file_form_asks_for_the_assessment_only_on_a_change(new_page, login, live_server, caseworker,
                                                                    unions, standard):
    page = login(new_page(), "caseworker")
    seen = preview_requests(page)
    page.goto(f"{live_server.url}/households/new/")
    page.wait_for_timeout(IDLE_MS)
    assert len(seen) <= 1, f"{len(seen)} preview requests while the new form sat idle"

    page.get_by_label("建档单位").select_option(label="中原区困难职工帮扶中心")
    page.get_by_label("家庭住址").fill("郑州市中原区建设路 8 号院 2 号楼")
    page.get_by_label("住房类型").select_option(label="租赁私房")
    page.get_by_label("住房面积").select_option(label="人均 15㎡ 以下")
    page.get_by_label("授权与依据").fill("本人签字的申请书和家庭经济状况核对授权书")
    fill_member(page.locator(".member-row").first, 0, *FAMILY[0])
    page.get_by_label("主要致困原因").select_option(label="下岗失业")
    page.get_by_label("工资性收入").fill("6000")
    expect(page.locator("#assessment")).to_contain_text("500.00")  # 6 000 a year for one person
    expect(page.locator("#assessment")).to_contain_text("深度困难")
    after_typing = len(seen)
    page.wait_for_timeout(IDLE_MS)
    assert len(seen) == after_typing, "the preview asked again with nothing changed"
    both_widths(page, "new-form")


def test_the_edit_form_asks_once_then_on_each_change(new_page, login, live_server, caseworker, household):
    page = login(new_page(), "caseworker")
    seen = preview_requests(page)
    page.goto(f"{live_server.url}/households/{household.file_number}/edit/")
    expect(page.locator("#assessment")).to_contain_text("1000.00")  # 24 000 a year for two, asked for on opening
    page.wait_for_timeout(IDLE_MS)
    assert len(seen) == 1, f"{len(seen)} preview requests while the edit form sat idle"

    page.get_by_label("工资性收入").fill("6000")
    expect(page.locator("#assessment")).to_contain_text("250.00")
    expect(page.locator("#assessment")).to_contain_text("深度困难")
    after_typing = len(seen)
    page.wait_for_timeout(IDLE_MS)
    assert len(seen) == after_typing
    both_widths(page, "edit-form")


def test_the_form_lists_its_errors_at_the_top_and_each_leads_to_its_field(new_page, login, live_server, caseworker,
                                                                          unions, standard):
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/new/")
    page.get_by_role("button", name="保存草稿").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert summary.bounding_box()["y"] < page.get_by_label("建档单位").bounding_box()["y"]
    summary.get_by_role("link", name="家庭住址").click()
    expect(page.get_by_label("家庭住址")).to_be_focused()
    summary.get_by_role("link", name="第 1 名成员").first.click()
    assert page.evaluate("document.activeElement.id").startswith("id_members-0-")
    page.evaluate("window.scrollTo(0, 0)")
    both_widths(page, "form-errors")


def test_the_file_page_shows_the_end_of_the_notice_disabled_until_its_date(new_page, login, live_server, caseworker,
                                                                           household, walk):
    walk(household, Status.IN_NOTICE)
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/{household.file_number}/")
    workflow = page.locator(".workflow")
    expect(workflow.get_by_role("button", name="公示期满，入档")).to_be_disabled()
    expect(workflow.get_by_role("link", name="公示期满，入档")).to_have_count(0)
    expect(workflow).to_contain_text(f"公示至 {household.notice_ends_on:%Y-%m-%d}（含）止，期满后方可入档。")
    both_widths(page, "file-in-notice")


def test_the_file_page_tells_the_filer_that_another_person_reviews(new_page, login, live_server, caseworker,
                                                                   household, walk):
    walk(household, Status.SUBMITTED)
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/{household.file_number}/")
    workflow = page.locator(".workflow")
    expect(workflow.get_by_role("button", name="初审通过")).to_be_disabled()
    expect(workflow).to_contain_text("建档人不能审核自己建立的档案。")
    both_widths(page, "file-submitted-filer")


def test_the_file_page_shows_why_it_was_returned_at_the_top(new_page, login, live_server, caseworker, reviewer,
                                                            household, walk):
    walk(household, Status.SUBMITTED)
    register.return_for_correction(household, by=reviewer, reason="缺少近 12 个月工资流水，请补充后再提交")
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/{household.file_number}/")
    note = page.locator(".status-note")
    expect(note).to_contain_text("缺少近 12 个月工资流水")
    expect(note).to_contain_text("赵敏")
    assert note.bounding_box()["y"] < page.get_by_role("heading", name="家庭情况").bounding_box()["y"]
    both_widths(page, "file-returned")


def test_the_transition_page_confirms_in_one_sentence(new_page, login, live_server, caseworker, household, walk):
    walk(household, Status.REGISTERED)
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/{household.file_number}/propose_exit/")
    page.get_by_role("button", name="确认申请退出").click()
    expect(page.locator(".error-summary")).to_be_visible()
    both_widths(page, "transition-errors")


def test_the_print_keeps_the_member_table_on_the_a4_sheet(new_page, login, live_server, caseworker, make_household,
                                                          unions, walk):
    members = [*default_members(), *(new_member(relationship=Relationship.CHILD, name=f"陈思{n}",
                                                employer="郑州市中原区建设路第一小学附属初级中学")
                                     for n in range(3))]
    household = walk(make_household(by=caseworker, union=unions["410102-C01"], members=members), Status.IN_NOTICE)
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/{household.file_number}/print/")
    expect(page.locator(".meta")).to_contain_text("困难类别：深度困难（评估结果，尚未入档）")
    # On screen the sheet is drawn at A4 width; printed, the page is A4 less its margins (186 mm, 703 px).
    for media, width in (("screen", LAPTOP["width"]), ("print", 703)):
        page.emulate_media(media=media)
        page.set_viewport_size({"width": width, "height": 1000})
        overflow = page.evaluate("""() => {
            const sheet = document.querySelector('.sheet'), style = getComputedStyle(sheet);
            const right = sheet.getBoundingClientRect().right - parseFloat(style.paddingRight);
            return [...sheet.querySelectorAll('table')].map(t => t.getBoundingClientRect().right - right)
                .filter(px => px > 0.5); }""")
        assert overflow == [], f"a table runs {overflow} px past the sheet ({media})"
    screenshot(page, "household-pages-print-paper")  # as printed: print styles, the width of A4 within its margins
    page.emulate_media(media="screen")
    page.set_viewport_size(LAPTOP)
    screenshot(page, "household-pages-print-laptop")
    page.set_viewport_size(PHONE)
    screenshot(page, "household-pages-print-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
