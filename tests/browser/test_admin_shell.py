"""The administrator goes from the application to the admin and back, on a laptop and on a phone; no page of either
asks for a file that is not there (the favicon included)."""

import pytest
from playwright.sync_api import expect

from hardship.models import Heartbeat
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def missing_files(page) -> list[str]:
    """Collects every response of 400 or more the page gets from now on."""
    failed: list[str] = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    return failed


@pytest.mark.parametrize(("label", "viewport"), [("laptop", {"width": 1280, "height": 860}),
                                                 ("phone", {"width": 390, "height": 844})])
def test_it_takes_the_admin_to_the_admin_site_and_back_to_the_workbench(new_page, login, county_admin, label, viewport):
    Heartbeat.objects.create(name="beat", worker="worker-1@host")
    page = new_page()
    page.set_viewport_size(viewport)
    failed = missing_files(page)
    login(page, "countyadmin")
    if label == "phone":
        page.get_by_role("button", name="菜单").click()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="管理后台").click()
    back = page.locator("#header-inner").get_by_role("link", name="返回工作台")  # the sidebar starts closed
    expect(back).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"{label}-admin-index")
    page.goto(page.url + "hardship/heartbeat/")
    expect(page.get_by_role("columnheader", name="最近运行")).to_be_visible()
    screenshot(page, f"{label}-admin-heartbeat")
    back.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("管理首页")
    assert failed == []
