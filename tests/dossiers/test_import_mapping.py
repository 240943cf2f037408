"""Registers worded as nobody here wrote them: columns by meaning, cell vocabularies, the reasons of rejected rows,
and the mapping step (engine, command line and the admin's preview page)."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from dossiers.legacy import rows
from dossiers.legacy.headers import find_header, map_headers
from dossiers.legacy.importer import run_import
from dossiers.legacy.mapping import FIELD_LABELS, Mapping, MappingError
from dossiers.legacy.models import ImportBatch, ImportMapping
from dossiers.legacy.reading import Sheet
from dossiers.models import Household, Member
from hardship.celery import app as celery_app
from hardship.models import Role
from tests.dossiers.conftest import new_id_number
from tests.factories import UserFactory

SKIP = ImportBatch.Mode.SKIP_INVALID


# --- columns by meaning --------------------------------------------------------------------------------------

@pytest.mark.parametrize("header, field", [
    ("成员身份证号", "id_number"), ("家属公民身份号码", "id_number"), ("证件号码（身份证）", "id_number"),
    ("是否劳模", "model_worker"), ("劳模（是/否）", "model_worker"), ("是否单亲", "single_parent"),
    ("零就业家庭(是/否)", "zero_employment"), ("有无劳动能力", "able_to_work"), ("是否享受低保", "receives_dibao"),
    ("职工之配偶姓名", "name"), ("家庭的住址", "address"), ("联 系 电 话", "phone"), ("手机号", "phone"),
    ("家庭年收入（万元）", "annual_income"), ("人均月收入（元/月）", "per_capita_income"),
    ("致贫原因", "causes"), ("次要致困原因", "secondary_causes"), ("称谓", "relationship"),
    ("开户行名称", "bank_name"), ("社保卡号", "bank_card"), ("身体健康状况", "health"),
    ("就读学校或工作单位", "employer"), ("入档时间", "filed_on"), ("住房性质", "housing_type"),
])
def test_a_column_is_recognised_from_its_words(header, field):
    assert map_headers(["姓名", header]).columns.get(field) == 1


@pytest.mark.parametrize("header", ["帮扶责任人", "帮扶单位", "结对帮扶干部电话", "填报单位", "微信号", "政治面貌"])
def test_columns_about_the_union_or_nothing_of_ours_stay_unknown(header):
    result = map_headers(["姓名", "身份证号", header])
    assert result.unknown == [header]


def test_a_header_naming_two_things_is_ambiguous_not_guessed():
    result = map_headers(["姓名", "身份证号", "工作单位及联系电话", "收入"])
    assert "employer" not in result.columns and "phone" not in result.columns
    assert result.ambiguous == ["工作单位及联系电话"]
    column = result.described[2]
    assert column.how == "ambiguous" and column.candidates == ("employer", "phone")


def test_on_a_member_sheet_the_id_columns_are_told_apart_by_whose_they_are():
    result = map_headers(["序号", "户主姓名", "户主身份证号码", "成员姓名", "成员身份证号", "与户主关系"],
                         sheet_name="家庭成员")
    assert result.columns == {"serial": 0, "head_name": 1, "head_id_number": 2, "name": 3, "id_number": 4,
                              "relationship": 5}


def test_on_a_household_sheet_the_workers_own_id_column_is_the_rows_own():
    result = map_headers(["职工姓名", "职工身份证号", "家庭住址", "家庭人口"], sheet_name="花名册")
    assert result.columns["id_number"] == 1 and "head_id_number" not in result.columns


def test_group_titles_above_a_two_row_header_tell_whose_columns_are_below():
    rows_ = [["困难职工花名册"],
             ["序号", "户主情况", None, "家庭成员情况", None, "关系"],
             [None, "姓名", "身份证号", "姓名", "身份证号", None],
             [1, "张三", "x", "李四", "y", "配偶"]]
    index, header, above = find_header(rows_)
    assert index == 2 and header[0] == "序号" and header[5] == "关系"
    result = map_headers(header, context=above)
    assert result.columns == {"serial": 0, "head_name": 1, "head_id_number": 2, "name": 3, "id_number": 4,
                              "relationship": 5}


def test_the_admins_mapping_comes_before_any_recognition():
    result = map_headers(["姓名", "身份证号", "通讯处", "备注"], overrides={"通讯处": "address", "备注": ""})
    assert result.columns == {"name": 0, "id_number": 1, "address": 2}
    assert [c.how for c in result.described] == ["named", "named", "mapped", "ignored"]
    assert result.unknown == []


def test_every_field_a_column_can_be_has_a_label():
    recognisable = {key for key in map_headers([]).columns} | set(rows.fields.HOUSEHOLD_PARSERS) \
        | set(rows.fields.PERSON_PARSERS) | rows.fields.IGNORED_FIELDS
    assert recognisable <= set(FIELD_LABELS)


# --- the engine on a worded-differently register -------------------------------------------------------------

def person(sex="M"):
    number, _birth = new_id_number(sex=sex)
    return number


def workbook(*sheets: tuple[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, table in sheets:
        sheet = book.create_sheet(title)
        for row in table:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HOUSEHOLD_HEADER = ["序号", "职工姓名", "职工身份证号", "性别", "工作单位", "家庭人口", "致困原因", "是否劳模",
                    "通讯处"]
MEMBER_HEADER = ["户主身份证号码", "成员姓名", "成员身份证号", "称谓", "性别"]


@pytest.fixture
def county_register():
    heads = [person(), person("F"), person(), person()]
    members = [person("F"), person(), person("F")]
    households = [
        ["XX县总工会困难职工花名册"], ["填报单位：XX县总工会"], HOUSEHOLD_HEADER,
        [1, "张建国", f"'{heads[0]}", "男性", "县纺织厂", 3, "因病致困、因学", "√", "城关镇东街1号"],
        [2, "王秀兰", heads[1], "女性", "县环卫所", 2, "下岗失业", "×", "城关镇西街2号"],
        [3, "李大山", heads[2], "男", "县机械厂", 1, "因灾", "先进", "城关镇南街3号"],
        [4, "赵德明", heads[3], "男", "县机械厂", 1, "因灾", "先进", "城关镇北街4号"],
        ["合计", None, None, None, None, 7],
    ]
    member_rows = [MEMBER_HEADER, [heads[0], "李秀英", members[0], "妻子", "女"],
                   [heads[0], "张晓明", members[1], "儿子", "男"], [heads[1], "刘小红", members[2], "外孙女", "女"]]
    return {"data": workbook(("困难职工花名册", households), ("家庭成员", member_rows)), "heads": heads,
            "members": members}


@pytest.mark.django_db
def test_a_register_in_unfamiliar_words_is_read_and_its_unreadable_values_grouped(county_register, unions,
                                                                                  county_admin, standard):
    report = run_import(county_register["data"], "县台账.xlsx", union=unions["410102"], user=county_admin,
                        mode=SKIP, dry_run=True)
    assert report.households_created == 2  # 先进 is no model-worker level: the two households with it wait
    assert report.members_created == 5
    assert report.unreadable == [{
        "sheet": "困难职工花名册", "header": "是否劳模", "field": "model_worker", "value": "先进", "count": 2,
        "rows": [6, 7], "reason": report.unreadable[0]["reason"]}]
    by_header = {column["header"]: column for column in report.columns}
    assert by_header["职工身份证号"]["field"] == "id_number"
    assert by_header["成员身份证号"]["field"] == "id_number"
    assert by_header["户主身份证号码"]["field"] == "head_id_number"
    assert by_header["通讯处"]["how"] == "unknown" and by_header["通讯处"]["samples"] == ["城关镇东街1号",
                                                                                       "城关镇西街2号", "城关镇南街3号"]


@pytest.mark.django_db
def test_one_value_mapping_fixes_every_row_and_a_column_mapping_reads_an_unknown_column(
        county_register, unions, county_admin, standard):
    mapping = Mapping.from_json({"columns": {"通讯处": "address"}, "values": {"model_worker": {"先进": "地市级劳模"}}})
    report = run_import(county_register["data"], "县台账.xlsx", union=unions["410102"], user=county_admin,
                        mode=SKIP, mapping=mapping)
    assert report.households_created == 4 and report.rejected == [] and report.unreadable == []
    head = Household.objects.get(head_id_number=county_register["heads"][2])
    assert head.model_worker == "city" and head.address == "城关镇南街3号"
    first = Household.objects.get(head_id_number=county_register["heads"][0])
    assert first.model_worker == "unspecified" and first.main_cause == 6 and first.secondary_causes == [9]
    assert sorted(first.members.values_list("relationship", flat=True)) == ["child", "self", "spouse"]
    assert Member.objects.get(id_number=county_register["members"][2]).relationship == "grandchild"


def test_a_member_of_a_rejected_household_names_the_heads_row():
    head, member = person(), person("F")  # the head's number stored as a number on the household sheet: digits lost
    sheets = [Sheet("花名册", [HOUSEHOLD_HEADER[:7], [1, "张建国", float(head[:17] + "0"), "男", "厂", 2, "6"]]),
              Sheet("家庭成员", [MEMBER_HEADER, [head, "李秀英", member, "妻子", "女"]])]
    parsed = rows.parse_sheets(sheets)
    reason = parsed.loose_rows[0].problems[0].reason
    assert reason.startswith("户主的“花名册”第 2 行有误（职工身份证号：") and reason.endswith("本户未导入")


@pytest.mark.django_db
def test_a_household_skipped_for_one_member_names_that_members_row_and_column(unions, county_admin, standard):
    head, member = person(), person("F")
    data = workbook(("花名册", [HOUSEHOLD_HEADER[:7], [1, "张建国", head, "男", "厂", 2, "6"]]),
                    ("家庭成员", [MEMBER_HEADER, [head, "李秀英", member, "妻子", "男"]]))
    report = run_import(data, "x.xlsx", union=unions["410102"], user=county_admin, mode=SKIP, dry_run=True)
    head_row = next(row for row in report.rejected_rows if row["sheet"] == "花名册")
    assert head_row["reason"] == ("同户的“家庭成员”第 2 行有误（性别：性别与身份证号码不一致"
                                  "（身份证号第 17 位单数为男、双数为女）），整户未导入")


# --- the mapping's own checks --------------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    ([], "映射应为一个含 columns 和 values 的 JSON 对象"),
    ({"columns": {}, "extra": 1}, "映射应为一个含 columns 和 values 的 JSON 对象"),
    ({"columns": {"通讯处": "password"}}, "列“通讯处”映射到的字段“password”不存在"),
    ({"columns": {"通讯处": 3}}, "字段应为不超过 100 个字的文字"),
    ({"columns": {"": "address"}}, "列名不能为空"),
    ({"columns": {f"列{n}": "" for n in range(301)}}, "columns 应为“列名: 字段”的对象，最多 300 列"),
    ({"values": {"name": {"a": "b"}}}, "字段“name”不是可映射取值的字段"),
    ({"values": {"model_worker": {"先进": "国家级"}}}, "“先进”映射到的“国家级”不是“劳模”的取值"),
    ({"values": {"model_worker": ["先进"]}}, "字段“model_worker”的取值映射应为对象，最多 500 项"),
    ({"values": {"sex": {"x" * 101: "男"}}}, "原值应为不超过 100 个字的文字"),
])
def test_a_wrong_mapping_says_what_is_wrong(data, message):
    with pytest.raises(MappingError) as raised:
        Mapping.from_json(data)
    assert raised.value.message.startswith(message)


def test_mappings_merge_with_the_newer_on_top():
    old = Mapping.from_json({"columns": {"a": "address"}, "values": {"sex": {"M": "男", "F": "女"}}})
    new = Mapping.from_json({"columns": {"a": ""}, "values": {"sex": {"F": "男"}}})
    assert old.merged(new).as_json() == {"columns": {"a": ""}, "values": {"sex": {"M": "男", "F": "男"}}}


# --- the command line ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_command_takes_the_mapping_as_a_file_and_prints_the_columns_as_read(
        county_register, unions, standard, tmp_path, capsys):
    register = tmp_path / "县台账.xlsx"
    register.write_bytes(county_register["data"])
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"values": {"model_worker": {"先进": "地市级劳模"}}}, ensure_ascii=False))
    call_command("import_households", str(register), "--union", "410102", "--dry-run", "--json",
                 "--mapping", str(mapping))
    report = json.loads(capsys.readouterr().out)
    assert report["households_created"] == 4 and report["unreadable"] == []
    assert {"header": "是否劳模", "field": "model_worker", "how": "named"}.items() <= next(
        column for column in report["columns"] if column["header"] == "是否劳模").items()


@pytest.mark.django_db
def test_the_command_refuses_a_broken_mapping_file(county_register, unions, tmp_path):
    register = tmp_path / "县台账.xlsx"
    register.write_bytes(county_register["data"])
    mapping = tmp_path / "mapping.json"
    mapping.write_text("{not json")
    with pytest.raises(CommandError) as raised:
        call_command("import_households", str(register), "--union", "410102", "--mapping", str(mapping))
    assert raised.value.returncode == 2 and str(raised.value).startswith("映射文件有误")
    assert not Household.objects.exists()


# --- the preview page ----------------------------------------------------------------------------------------

def url(name: str, *args) -> str:
    return reverse(f"admin:dossiers_importbatch_{name}", args=args)


@pytest.fixture
def inline_tasks(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def uploaded(client, data: bytes, union) -> ImportBatch:
    response = client.post(url("upload"), {"file": SimpleUploadedFile("县台账.xlsx", data), "union": union.pk,
                                           "mode": SKIP})
    assert response.status_code == 302
    return ImportBatch.objects.latest("pk")


def mapping_form(batch: ImportBatch, **changes) -> dict:
    """The mapping form as the page posts it: every column's current field and no value mapped, then changes."""
    form = {f"column-{n}": column["field"] for n, column in enumerate(batch.preview["columns"])}
    form.update({f"value-{n}": "__keep" for n, _group in enumerate(batch.preview["unreadable"])})
    for header, field in changes.pop("columns", {}).items():
        form[f"column-{[c['header'] for c in batch.preview['columns']].index(header)}"] = field
    for value, meaning in changes.pop("values", {}).items():
        form[f"value-{[g['value'] for g in batch.preview['unreadable']].index(value)}"] = meaning
    return {**form, **changes}


@pytest.mark.django_db
def test_the_admin_maps_a_column_and_a_value_in_the_preview_and_the_next_file_gets_the_mapping(
        inline_tasks, client_for, county_admin, unions, standard, county_register, django_capture_on_commit_callbacks):
    client = client_for(county_admin)
    batch = uploaded(client, county_register["data"], unions["410102"])
    page = client.get(url("batch", batch.pk)).content.decode()
    assert "列映射" in page and "通讯处" in page and "“先进”" in page and "无法识别的值" in page
    assert batch.preview["households_created"] == 2

    response = client.post(url("mapping", batch.pk), mapping_form(
        batch, columns={"通讯处": "address"}, values={"先进": "地市级劳模"}, save="1"))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.preview["households_created"] == 4 and batch.preview["unreadable"] == []
    assert batch.mapping == {"columns": {"通讯处": "address"}, "values": {"model_worker": {"先进": "地市级劳模"}}}
    saved = ImportMapping.objects.get(union=unions["410102"])
    assert saved.mapping == batch.mapping and saved.updated_by == county_admin

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("confirm", batch.pk))
    assert Household.objects.get(head_id_number=county_register["heads"][3]).address == "城关镇北街4号"

    following = uploaded(client, county_register["data"], unions["410102"])
    assert following.mapping == saved.mapping and following.preview["unreadable"] == []
    assert "已自动套用" in client.get(url("batch", following.pk)).content.decode()


@pytest.mark.django_db
def test_clearing_the_mapping_reads_by_the_headers_again_and_forgets_the_saved_one(
        inline_tasks, client_for, county_admin, unions, standard, county_register):
    client = client_for(county_admin)
    batch = uploaded(client, county_register["data"], unions["410102"])
    client.post(url("mapping", batch.pk), mapping_form(batch, values={"先进": "地市级劳模"}, save="1"))
    client.post(url("mapping", batch.pk), {"action": "clear", "save": "1"})
    batch.refresh_from_db()
    assert batch.mapping == {} and batch.preview["households_created"] == 2
    assert not ImportMapping.objects.exists()


@pytest.mark.django_db
def test_a_mapping_form_with_a_forged_field_changes_nothing(inline_tasks, client_for, county_admin, unions,
                                                            standard, county_register):
    client = client_for(county_admin)
    batch = uploaded(client, county_register["data"], unions["410102"])
    before = batch.preview
    response = client.post(url("mapping", batch.pk), mapping_form(batch, columns={"通讯处": "is_superuser"}),
                           follow=True)
    assert "映射到的字段“is_superuser”不存在" in response.content.decode()
    batch.refresh_from_db()
    assert batch.preview == before and batch.mapping == {}


@pytest.mark.django_db
def test_the_mapping_of_a_confirmed_batch_cannot_change(inline_tasks, client_for, county_admin, unions, standard,
                                                        county_register, django_capture_on_commit_callbacks):
    client = client_for(county_admin)
    batch = uploaded(client, county_register["data"], unions["410102"])
    form = mapping_form(batch, values={"先进": "地市级劳模"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("confirm", batch.pk))
    response = client.post(url("mapping", batch.pk), form, follow=True)
    assert "不能再修改列映射" in response.content.decode()
    assert Household.objects.count() == 2


@pytest.mark.django_db
def test_the_mapping_step_from_the_wrong_role_and_the_wrong_subtree(inline_tasks, client_for, county_admin,
                                                                   caseworker, unions, standard, county_register):
    batch = uploaded(client_for(county_admin), county_register["data"], unions["410102"])
    form = mapping_form(batch, values={"先进": "地市级劳模"}, save="1")
    assert client_for(caseworker).post(url("mapping", batch.pk), form).status_code == 403
    sibling = UserFactory(username="jinshuiadmin", role=Role.ADMIN, home_union=unions["410105"])
    assert client_for(sibling).post(url("mapping", batch.pk), form).status_code == 404
    batch.refresh_from_db()
    assert batch.mapping == {} and not ImportMapping.objects.exists()


def test_rows_of_a_sheet_whose_id_column_is_ambiguous_say_so_and_point_at_the_mapping():
    sheets = [Sheet("花名册", [["姓名", "户主身份证号", "职工身份证号", "身份证号", "家庭住址", "致困原因"],
                               ["张建国", person(), person(), person(), "城关镇1号", "6"]])]
    parsed = rows.parse_sheets(sheets)
    problem = parsed.households[0].source.problems[0]
    assert problem.reason == ("表头中“户主身份证号”“职工身份证号”“身份证号”列有歧义，无法确定哪一列是“身份证号码”："
                              "请在预览的列映射中指定")


@pytest.mark.parametrize("header, cell, meaning", [
    ("是否享受低保", "享受", True), ("是否享受低保", "已享受", True), ("是否享受低保", "未享受", False),
    ("是否享受低保", "不享受", False), ("有无劳动能力", "有劳动能力", True), ("有无劳动能力", "无劳动能力", False),
    ("是否单亲", "√", True), ("是否单亲", "×", False), ("是否单亲", None, False),
])
def test_a_yes_no_column_answered_in_the_questions_own_words(header, cell, meaning):
    parse = rows._parser(map_headers(["姓名", header]).described[1].field, header)
    assert parse(cell) is meaning


def test_a_yes_no_column_still_refuses_what_is_no_answer():
    parse = rows._parser("receives_dibao", "是否享受低保")
    with pytest.raises(rows.CellError):
        parse("不知道")


# --- what registers put around and in their rows -------------------------------------------------------------

def test_the_row_of_column_numbers_under_a_header_and_subtotals_between_groups_are_skipped():
    head, other = person(), person()
    sheets = [Sheet("台账", [["序号", "姓名", "身份证号码", "家庭住址", "致困原因"], [1, 2, 3, 4, 5],
                             [1, "张建国", head, "一街", "6"], ["小计", None, None, None, None],
                             [2, "李大山", other, "二街", "6"], ["合计"]])]
    parsed = rows.parse_sheets(sheets)
    assert [record.head_id for record in parsed.households] == [head, other]
    assert [(skip.row, skip.reason) for skip in parsed.skipped] == [(2, "栏目编号行（1、2、3…）"), (4, "小计行"),
                                                                     (6, "合计行")]


def test_a_statistics_sheet_without_names_or_id_numbers_is_skipped_whole():
    sheets = [Sheet("汇总", [["社区", "户数", "家庭人口", "家庭年收入", "低保金"], ["一社区", 13, 32, 300000, 5000]])]
    parsed = rows.parse_sheets(sheets)
    assert parsed.households == [] and parsed.loose_rows == []
    assert parsed.skipped[0].reason.startswith("整张表未导入：没有姓名或身份证号码列")


def test_a_households_monthly_income_becomes_its_annual_income_when_that_is_not_given():
    sheets = [Sheet("台账", [["姓名", "身份证号码", "个人月收入", "家庭月收入（元）", "致困原因"],
                             ["张建国", person(), 1200, 2500, "6"]])]
    record = rows.parse_sheets(sheets).households[0]
    assert str(record.values["annual_income"]) == "30000.00"
    assert str(record.head.values["monthly_income"]) == "1200.00"


@pytest.mark.parametrize("cell, status", [("长期病休", "sick_leave"), ("灵活就业打零工", "employed"),
                                          ("在外务工", "employed"), ("大学在读", "student"), ("内退", "early_retired")])
def test_work_status_as_registers_word_it(cell, status):
    assert rows.fields.work_status(cell) == status


@pytest.mark.parametrize("cell, codes", [("无", ()), ("未参加社会保险", (4,)), ("遭遇意外事故", (8,)),
                                         ("有劳动能力但未就业", (2,)), ("因病致困、因学", (6, 9))])
def test_causes_as_registers_word_them(cell, codes):
    assert rows.fields.causes(cell) == codes


def test_an_old_15_digit_id_number_stored_as_a_number_is_read():
    number = "410103690907493"
    assert rows.fields.id_number(float(number)) == rows.fields.id_number(number)


@pytest.mark.django_db
def test_a_batch_is_previewed_and_imported_in_its_uploaders_language(inline_tasks, client_for, county_admin,
                                                                       unions, standard, county_register):
    from django.utils import translation

    from dossiers.tasks import preview_batch

    batch = uploaded(client_for(county_admin), county_register["data"], unions["410102"])
    assert batch.language == "zh-hans"
    seen = []
    real = rows.parse_sheets
    with translation.override("en"):  # a worker's own language must not decide
        ImportBatch.objects.filter(pk=batch.pk).update(language="zh-hans")
        batch.refresh_from_db()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(rows, "parse_sheets",
                          lambda *a, **k: seen.append(translation.get_language()) or real(*a, **k))
            preview_batch(batch)
    assert seen == ["zh-hans"]
