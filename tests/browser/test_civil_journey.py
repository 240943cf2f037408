"""What a caseworker sees (issue 10): the county admin's 民政 roster, which she accepts and the admin is told who may;
the ID look-up naming the other unit's contact; the import's preview and report listing the households."""

import pytest
from playwright.sync_api import expect

from dossiers.legacy.importer import run_import
from dossiers.models import Household, RegisterEvent
from hardship.celery import app as celery_app
from hardship.models import Union
from tests.browser.conftest import screenshot
from tests.dossiers import legacy_files as lf
from tests.dossiers.conftest import build_household, make_household  # noqa: F401  (fixtures)
from tests.dossiers.test_civil_matching import HEADER, xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 860}


def both_widths(page, name: str) -> None:
    """A screenshot at a laptop's and a phone's width; nothing may be wider than the phone's screen."""
    for label, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], (name, label)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(LAPTOP)


def test_the_county_roster_is_accepted_by_the_caseworker_and_the_admin_is_told_who_may(
        new_page, login, live_server, county_admin, caseworker, make_household, unions, tmp_path):  # noqa: F811
    files = [make_household(by=caseworker, union=unions["410102-C01"]),
             make_household(by=caseworker, union=unions["410102-S01"], receives_dibao=True, dibao_amount="600.00")]
    heads = [household.members.get(is_primary=True) for household in files]
    roster = tmp_path / "中原区城市低保名册（2026年11月）.xlsx"
    roster.write_bytes(xlsx([HEADER, [1, heads[0].name, heads[0].id_number, "在保", 520],
                             [2, heads[1].name, heads[1].id_number, "停保", None]]))

    page = login(new_page(), "countyadmin")
    page.goto(f"{live_server.url}/households/civil/upload/")
    both_widths(page, "civil-upload-admin")
    page.get_by_label("民政低保名册").set_input_files(roster)
    page.get_by_role("button", name="上传并比对").click()
    expect(page.locator("#who-accepts")).to_contain_text("不能采纳")
    expect(page.locator("#who-accepts")).to_contain_text("王芳")
    expect(page.get_by_role("button", name="采纳", exact=True)).to_have_count(0)
    both_widths(page, "civil-detail-admin")

    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/civil/")
    expect(page.locator("table")).to_contain_text(roster.name)
    both_widths(page, "civil-list-caseworker")
    page.get_by_role("link", name=roster.name).click()
    expect(page.get_by_role("button", name="采纳", exact=True)).to_have_count(2)
    both_widths(page, "civil-detail-caseworker")
    page.get_by_role("button", name="采纳", exact=True).first.click()
    expect(page.get_by_text("该条已移到“已采纳”")).to_be_visible()
    page.get_by_role("link", name="已采纳（1）").click()
    expect(page.locator("#results")).to_contain_text("王芳 于")
    both_widths(page, "civil-accepted-caseworker")
    assert RegisterEvent.objects.filter(transition="civil_match", actor=caseworker).count() == 1
    assert Household.objects.get(pk=files[0].pk).receives_dibao


def test_the_id_look_up_names_the_other_units_contact(new_page, login, live_server, caseworker, outsider,
                                                      make_household, unions):  # noqa: F811
    Union.objects.filter(code="410105-C01").update(contact_person="李强", contact_phone="0371-65951234",
                                                   address="郑州市金水区文化路 85 号")
    theirs = make_household(by=outsider, union=unions["410105-C01"])
    page = login(new_page(), "caseworker")
    page.goto(f"{live_server.url}/households/lookup/")
    page.get_by_label("身份证号").fill(theirs.head_id_number)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("status")).to_contain_text("0371-65951234")
    expect(page.get_by_role("status")).not_to_contain_text(theirs.file_number)
    both_widths(page, "lookup-other-unit")


def test_the_import_lists_the_households_it_creates_and_updates(new_page, login, live_server, county_admin, unions,
                                                                standard, monkeypatch, tmp_path):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    kept = [lf.family("张建国", children=1), lf.family("李红梅", sex="女")]
    run_import(lf.to_xlsx(lf.two_sheet_tables(kept)), "2019年台账.xlsx", union=unions["410102-C01"],
               user=county_admin)
    kept[0].cells["address"] = "郑州市中原区桐柏路 8 号院"
    register = tmp_path / "中原区困难职工档案（2023年）.xlsx"
    register.write_bytes(lf.to_xlsx(lf.two_sheet_tables([*kept, lf.family("王秀兰", sex="女"), lf.family("赵德明")])))

    page = login(new_page(), "countyadmin")
    page.get_by_role("link", name="导入历史档案").click()
    page.locator("input[type=file]").set_input_files(register)
    page.get_by_label("导入无误的户，跳过有误的行").check()
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator("#created-households")).to_contain_text("王秀兰")
    expect(page.locator("#updated-households")).to_contain_text("家庭住址")
    both_widths(page, "import-preview-households")
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_text("导入完成")).to_be_visible(timeout=30_000)
    created = page.locator("#created-households")
    expect(created).to_contain_text("王秀兰")
    expect(created.get_by_role("link")).to_have_count(0)  # 三员分立: the administrator opens no file
    both_widths(page, "import-done-households")
