"""The administrator adds a colleague; the auditor then sees that change in the history."""

import pytest
from playwright.sync_api import expect

from hardship.models import Role, User
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_lets_the_county_admin_add_a_caseworker_seen_by_the_auditor(new_page, login, county_admin, auditor, unions):
    page = login(new_page(), "countyadmin")
    expect(page.get_by_role("heading", level=1)).to_contain_text("管理首页")
    screenshot(page, "admin-home")
    page.get_by_role("link", name="新建用户").click()
    page.get_by_label("用户名").fill("zhaolei")
    page.get_by_label("姓名").fill("赵磊")
    page.get_by_label("角色").select_option(Role.CASEWORKER)
    page.get_by_label("所属单位").select_option(label="林山寨街道帮扶站")
    page.get_by_label("密码", exact=True).fill("Bangfu-2026-strong")
    page.get_by_label("密码确认").fill("Bangfu-2026-strong")
    screenshot(page, "admin-add-user")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("成功添加了")).to_be_visible()
    assert User.objects.get(username="zhaolei").home_union.code == "410102-S01"

    auditor_page = login(new_page(), "auditor")
    expect(auditor_page.get_by_role("heading", level=1)).to_contain_text("审计首页")
    expect(auditor_page.get_by_role("table").first).to_contain_text("赵磊")
    screenshot(auditor_page, "auditor-home")
