"""A caseworker files a household of three from nothing to 在档: a second caseworker passes the first review
(初审), a supervisor the review (复核), each in a browser of their own; the clock moves past the notice."""

import datetime
import re

import pytest
import time_machine
from playwright.sync_api import expect

from dossiers.models import Household
from hardship import idnumbers
from tests.browser.conftest import screenshot
from tests.dossiers.conftest import at_beijing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAMILY = [
    # name, relationship, sex, birth, work status
    ("陈建华", "本人", "M", datetime.date(1978, 4, 9), "病休"),
    ("林秀芳", "配偶", "F", datetime.date(1980, 6, 1), "无业"),
    ("陈思雨", "子女", "F", datetime.date(2010, 9, 1), "在校"),
]


def fill_member(row, index: int, name, relationship, sex, birth, work) -> None:
    row.get_by_label("姓名").fill(name)
    row.get_by_label("与建档职工关系").select_option(label=relationship)
    row.get_by_label("身份证号").fill(idnumbers.generate("410102", birth, 30 + index, sex))
    row.get_by_label("性别").select_option(value=sex)
    row.get_by_label("出生日期").fill(birth.isoformat())
    row.get_by_label("医疗保险").select_option(label="城乡居民医保")
    row.get_by_label("就业状况").select_option(label=work)
    if relationship == "本人":
        row.get_by_label("建档职工", exact=True).check()
    if work == "无业":  # the wife cares for her bedridden husband: no work capacity, so no imputed wage
        row.get_by_label("有劳动能力").uncheck()


def act(page, file_url: str, button: str, **fields) -> None:
    """Open the file, open a transition, fill its form and confirm it."""
    page.goto(file_url)
    page.get_by_role("link", name=button, exact=True).click()
    for label, value in fields.items():
        if value is True:
            page.get_by_label(label).check()
        else:
            page.get_by_label(label).fill(value)
    page.get_by_role("button", name=f"确认{button}").click()
    expect(page.locator(".message-success")).to_contain_text(button)


def test_it_takes_a_new_household_from_nothing_to_the_register(new_page, login, live_server, caseworker, reviewer,
                                                               supervisor, unions, standard):
    page = login(new_page(), "caseworker")
    page.get_by_role("link", name="新建档案").first.click()
    page.get_by_label("建档单位").select_option(label="中原区困难职工帮扶中心")
    page.get_by_label("家庭住址").fill("郑州市中原区建设路 8 号院 2 号楼")
    page.get_by_label("住房类型").select_option(label="租赁私房")
    page.get_by_label("住房面积").select_option(label="人均 15㎡ 以下")
    page.get_by_label("授权与依据").fill("本人签字的申请书和家庭经济状况核对授权书")
    for _ in range(2):
        page.get_by_role("button", name="添加成员").click()
    rows = page.locator(".member-row")
    expect(rows).to_have_count(3)
    for index, member in enumerate(FAMILY):
        fill_member(rows.nth(index), index, *member)
    page.get_by_label("工资性收入").fill("12000")
    page.get_by_label("主要致困原因").select_option(label="下岗失业")
    page.get_by_label("子女上学").check()
    expect(page.locator("#assessment")).to_contain_text("深度困难")
    screenshot(page, "household-form")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("陈建华 户")
    file_url = page.url
    act(page, file_url, "提交初审")

    first_reviewer = login(new_page(), "reviewer")
    act(first_reviewer, file_url, "初审通过")

    act(page, file_url, "登记入户调查", 走访情况="家中陈设简陋，夫妻二人均无稳定收入，属实。",
        已收到本人签字的申请书=True, 已收到家庭经济状况核对授权书=True)
    expect(page.get_by_text("待复核").first).to_be_visible()

    second_reviewer = login(new_page(), "supervisor")
    act(second_reviewer, file_url, "复核通过")

    act(page, file_url, "登记民政核对", 意见或理由="民政核对：未享受低保")
    act(page, file_url, "开始公示")  # today, the form's default
    ends_on = Household.objects.get().notice_ends_on
    expect(page.locator(".workflow")).to_contain_text(f"公示至 {ends_on:%Y-%m-%d}（含）止")

    # The morning after the notice ends: yesterday's session has expired, so she signs in again.
    traveller = time_machine.travel(at_beijing(ends_on + datetime.timedelta(days=1), 9), tick=True)
    traveller.start()
    try:
        login(page, "caseworker")
        act(page, file_url, "公示期满，入档")
        expect(page.locator("h1 .badge")).to_have_text("在档")
        screenshot(page, "household-registered")
        check_the_list(page)
    finally:
        traveller.stop()


def check_the_list(page) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="家庭档案").click()
    row = page.get_by_role("row").filter(has_text="陈建华")
    expect(row).to_contain_text("在档")
    expect(row).to_contain_text(re.compile(r"410102\*{8}\d{3}[\dX]"))
    screenshot(page, "household-list")
    household = Household.objects.get()
    assert household.status == "registered" and household.members.count() == 3
    assert household.register_events.count() == 7
