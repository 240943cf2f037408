"""The 变更历史 of a file and the auditor's trail in the browser, at 1280 px and on a phone (390 px): the file page
shows the latest changes and loads the rest in place; the auditor filters the trail and opens a row's file."""

import pghistory
import pytest
from playwright.sync_api import expect

from dossiers.choices import Status
from dossiers.filing import save_household
from dossiers.models import Household
from hardship.models import AccessRecord
from tests.browser.conftest import screenshot
from tests.dossiers.conftest import default_members, household_fields, walk_to
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def registered(standard, caseworker, reviewer, supervisor, unions):
    """A 中原区 file on the register, each step made as its person's request would (pghistory context)."""
    second_reviewer = UserFactory(username="reviewer2", role="caseworker", home_union=unions["410102"],
                                  full_name="孙丽")
    with pghistory.context(user=caseworker.pk, url="/households/new/"):
        household = save_household(Household(**household_fields(unions["410102-C01"])), default_members(),
                                   by=caseworker)
    for status in (Status.SUBMITTED, Status.FIRST_REVIEWED, Status.VISITED, Status.REVIEWED, Status.CIVIL_CHECKED,
                   Status.IN_NOTICE, Status.REGISTERED):
        actor = {Status.FIRST_REVIEWED: reviewer, Status.REVIEWED: second_reviewer}.get(status, caseworker)
        with pghistory.context(user=actor.pk, url=f"/households/{household.file_number}/"):
            walk_to(household, status, filer=caseworker, reviewer=reviewer, second_reviewer=second_reviewer,
                    supervisor=supervisor)
    return household


def test_it_shows_the_latest_changes_of_a_file_and_loads_the_rest_in_place(new_page, login, live_server,
                                                                            registered, caseworker):
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/{registered.file_number}/")
    history = page.locator("#history")
    expect(history.locator(".history-entry")).to_have_count(6)
    expect(history).to_contain_text("王芳 修改了困难职工家庭档案")
    more = history.get_by_role("link", name="显示全部")
    expect(more).to_contain_text("共")
    screenshot(page, "history-file-latest")
    total = int(more.inner_text().split("共 ")[1].split(" 条")[0])
    more.click()
    expect(page.locator("#history .history-entry")).to_have_count(total)
    expect(page.locator("#history")).to_contain_text("新建了家庭成员：李秀英（配偶）")
    expect(page.locator("#history")).to_contain_text("赵敏 修改了困难职工家庭档案")  # the reviewer's 初审, by name
    page.locator("#history summary").first.click()
    screenshot(page, "history-file-all")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/households/{registered.file_number}/history/")  # the plain link: a page of its own
    expect(page.get_by_role("heading", level=1)).to_have_text("张建国 户的变更历史")
    expect(page.locator(".history-entry")).to_have_count(total)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-history-file")


def test_it_lets_the_auditor_filter_the_trail_and_open_a_file(new_page, login, live_server, registered, auditor,
                                                             caseworker, unions):
    AccessRecord.objects.create(user=caseworker, action=AccessRecord.Action.REVEAL, union=registered.union,
                                subject=f"{registered.file_number} 张建国 410102********0000")
    page = login(new_page(), "auditor")
    expect(page.get_by_role("heading", level=1)).to_contain_text("审计首页")
    trail = page.locator("#trail table")
    expect(trail).to_contain_text("初审通过")
    screenshot(page, "auditor-trail")

    page.get_by_label("类别").select_option("register")  # reloads the trail alone
    expect(page).to_have_url(f"{live_server.url}/?who=&kind=register&action=&date_from=&date_to=")
    expect(page.locator("#trail tbody tr")).to_have_count(7)  # 提交初审 … 公示期满，入档
    page.locator("#trail tbody").get_by_role("link", name="赵敏").first.click()  # only her records
    expect(page.locator("#trail tbody tr")).to_have_count(1)
    expect(page.get_by_label("操作人")).to_have_value("reviewer")
    screenshot(page, "auditor-trail-filtered")
    page.locator("#trail tbody").get_by_role("link", name=registered.file_number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("张建国 户")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/?kind=access")
    expect(page.locator("#trail")).to_contain_text("查看完整身份证号")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-auditor-trail")
