"""A county register worded as nobody here wrote it: the administrator maps an unknown column and an unreadable
value in the preview, imports, and the union's next file is read with the saved mapping (on a phone too)."""

import pytest
from playwright.sync_api import expect

from dossiers.legacy.models import ImportBatch, ImportMapping
from dossiers.models import Household
from tests.browser.conftest import screenshot
from tests.dossiers.test_import_mapping import HOUSEHOLD_HEADER, MEMBER_HEADER, person, workbook

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def register(heads: list[str], spouse: str) -> bytes:
    households = [["XX县总工会困难职工花名册"], HOUSEHOLD_HEADER] + [
        [n, name, head, "男性", "县机械厂", 1 + (n == 1), "因病致困", flag, f"城关镇{n}号"]
        for n, (name, head, flag) in enumerate(zip(["张建国", "李大山", "赵德明"], heads, ["√", "先进", "×"]), 1)]
    members = [MEMBER_HEADER, [heads[0], "李秀英", spouse, "妻子", "女"]]
    return workbook(("困难职工花名册", households), ("家庭成员", members))


def upload(page, path) -> None:
    page.get_by_role("link", name="导入历史档案").click()
    page.locator("input[type=file]").set_input_files(path)
    page.get_by_label("导入无误的户，跳过有误的行").check()
    page.get_by_role("button", name="上传并预览").click()
    expect(page.get_by_role("button", name="确认导入")).to_be_visible()


def test_the_admin_maps_a_column_and_a_value_and_the_next_file_uses_the_mapping(
        new_page, login, live_server, county_admin, unions, standard, celery_worker, tmp_path):
    first = tmp_path / "城关镇困难职工花名册.xlsx"
    heads = [person(), person(), person()]
    first.write_bytes(register(heads, person("F")))

    page = login(new_page(), "countyadmin")
    page.goto(f"{live_server.url}/admin/dossiers/importbatch/")
    upload(page, first)
    mapping = page.locator("#column-mapping")
    expect(mapping.get_by_role("row").filter(has_text="通讯处")).to_contain_text("未识别，未读取")
    expect(mapping.get_by_role("row").filter(has_text="“先进”")).to_contain_text("1 行")
    screenshot(page, "import-mapping")

    page.get_by_label("通讯处").select_option(label="家庭住址")
    page.get_by_label("“先进”").select_option("地市级劳模")
    page.get_by_role("button", name="按映射重新预览").click()
    expect(page.get_by_text("已按新的映射重新预览")).to_be_visible()
    expect(mapping.get_by_role("row").filter(has_text="通讯处")).to_contain_text("按您的映射")
    expect(page.get_by_text("无法识别的值")).to_have_count(0)
    assert ImportBatch.objects.latest("pk").preview["households_created"] == 3

    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_text("导入完成")).to_be_visible(timeout=30_000)
    assert Household.objects.get(head_id_number=heads[1]).model_worker == "city"
    assert Household.objects.get(head_id_number=heads[2]).address == "城关镇3号"
    assert ImportMapping.objects.get(union=unions["410102"]).updated_by == county_admin

    following = tmp_path / "城关镇困难职工花名册（补充）.xlsx"
    more = [person(), person(), person()]
    following.write_bytes(register(more, person("F")))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/dossiers/importbatch/")
    upload(page, following)
    expect(page.get_by_text("已自动套用")).to_be_visible()
    expect(page.get_by_text("无法识别的值")).to_have_count(0)
    screenshot(page, "import-mapping-saved-390")
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_text("导入完成")).to_be_visible(timeout=30_000)
    assert Household.objects.get(head_id_number=more[1]).model_worker == "city"
    assert Household.objects.get(head_id_number=more[0]).members.count() == 2
