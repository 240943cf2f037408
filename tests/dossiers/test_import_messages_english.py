"""The import engine's messages in the interface's language: each one goes through gettext when it is made (so an
import run in English reports in English once the catalogue has the translations), the Chinese stays word for word,
and no memoised parser hands a message made in one language to a run in another.

The English catalogue is compiled by hand later, so the English side is checked with gettext patched to mark what
it translates while English is active ("[en]…"): a message that does not go through gettext, or that comes out of
a cache filled in Chinese, has no mark.
"""

from __future__ import annotations

import ast
import datetime
import functools
import re
from pathlib import Path

import pytest
from django.utils import translation

from dossiers.choices import Relationship, Status
from dossiers.legacy import assessments, fields, headers, merge, reading, rows, values
from dossiers.legacy.reading import Sheet, UnreadableFile
from dossiers.legacy.values import CellError
from hardship import idnumbers, punctuation
from hardship.models import Region
from tests.dossiers.conftest import new_id_number

LEGACY = Path(fields.__file__).resolve().parent
MODULES = ["values", "fields", "rows", "reading", "merge", "headers", "assessments"]
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
GETTEXT = {"_", "gettext", "gettext_noop", "ngettext"}
# Where a call's message is: positional index, and the keywords it may come as.
MESSAGE_ARGUMENTS = {"CellError": 0, "UnreadableFile": 1, "HeaderNotFound": 0, "reject": 1, "SkippedRow": 2,
                     "Refused": 1}
# Chinese that is data, not a message: returned or formatted on purpose, whatever the interface's language.
NOT_MESSAGES = {
    ("fields", "vocabulary"): "the Chinese values a cell may be mapped to",
    ("fields", "ethnicity"): "汉族, the value a blank cell stands for",
    ("fields", "money_in_wan"): "a plain number given the unit 万 before it is parsed",
    ("merge", "new_household_row"): "the consent basis, a field of the file written once",
    ("assessments", "override_reason"): "kept with the assessment in Chinese, like the assessment's own reasons",
}


# --- every message goes through gettext (read from the source) -----------------------------------------------

def _is_gettext(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT


def _untranslated(node: ast.AST) -> list[ast.Constant]:
    """The Chinese string literals in node that are not the text of a gettext call. The values given to a
    translated sentence's placeholders (a header's name, a cell's text) are not messages of their own."""
    if _is_gettext(node):
        return []
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_gettext(node.left):
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value):
        return [node]
    return [found for child in ast.iter_child_nodes(node) for found in _untranslated(child)]


def _made_text(node: ast.AST) -> list[ast.AST]:
    """The parts of a returned value that are text made there: literals, f-strings, text glued or %-formatted, in
    either branch of a conditional or any item of a tuple (not a call's arguments, nor a comparison's words)."""
    if isinstance(node, (ast.Constant, ast.JoinedStr)):
        return [node]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return [node]
    if isinstance(node, ast.IfExp):
        return [*_made_text(node.body), *_made_text(node.orelse)]
    if isinstance(node, ast.Tuple):
        return [part for element in node.elts for part in _made_text(element)]
    return []


def _message_arguments(call: ast.Call) -> list[ast.AST]:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name not in MESSAGE_ARGUMENTS:
        return []
    index = MESSAGE_ARGUMENTS[name]
    given = call.args[index:index + 1]
    return given + [keyword.value for keyword in call.keywords if keyword.arg in ("message", "reason")]


class _Messages(ast.NodeVisitor):
    """Message arguments, returned values and formatted Chinese text, each with the function it is in."""

    def __init__(self, module: str) -> None:
        self.module, self.functions, self.problems, self.seen = module, [], [], set()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    def _exempt(self) -> bool:
        return any((self.module, name) in NOT_MESSAGES for name in self.functions)

    def _check(self, node: ast.AST, what: str) -> None:
        if self._exempt():
            return
        for found in _untranslated(node):
            if id(found) not in self.seen:
                self.seen.add(id(found))
                self.problems.append(f"{self.module}.py:{found.lineno} {what}: {found.value!r}")

    def visit_Call(self, node: ast.Call) -> None:
        for argument in _message_arguments(node):
            self._check(argument, "message")
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        for part in _made_text(node.value) if node.value is not None else []:
            self._check(part, "returned")
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:  # an f-string with Chinese in it is a message made up
        self._check(node, "f-string")

    def visit_BinOp(self, node: ast.BinOp) -> None:  # so is Chinese glued or %-formatted outside gettext
        if isinstance(node.op, (ast.Add, ast.Mod)) and not _is_gettext(node.left):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant):
                    self._check(side, "concatenated")
        self.generic_visit(node)


@pytest.mark.parametrize("module", MODULES)
def test_every_message_of_the_engine_goes_through_gettext(module):
    checker = _Messages(module)
    checker.visit(ast.parse((LEGACY / f"{module}.py").read_text(encoding="utf-8")))
    assert checker.problems == []


def test_the_source_check_sees_a_chinese_message_that_skips_gettext():
    source = '''
def parse(raw):
    raise CellError(f"金额“{raw}”无法识别")
def reason(row):
    return "户主不在本文件中"
def skip(sheet, parsed):
    parsed.skipped.append(SkippedRow(sheet, 1, "合计行"))
def fine(source, raw):
    source.reject("身份证号码", _("金额“%(value)s”无法识别") % {"value": raw})
'''
    checker = _Messages("example")
    checker.visit(ast.parse(source))
    assert [problem.split(" ", 1)[1] for problem in checker.problems] == [
        "message: '金额“'", "message: '”无法识别'", "returned: '户主不在本文件中'", "message: '合计行'"]


# --- the Chinese is what it was ----------------------------------------------------------------------------

def _message(call) -> str:
    try:
        call()
    except (CellError, UnreadableFile) as error:
        return error.message
    except headers.HeaderNotFound as error:
        return str(error)
    raise AssertionError("no message")


XLS_HEAD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64
XLSX_HEAD = b"PK\x03\x04" + b"\0" * 64
CHINESE = [
    (lambda: values.parse_money("一千元"), "金额“一千元”无法识别"),
    (lambda: values.parse_date(1985.1), "日期“1985.1”有歧义：Excel 把“1985.10”和“1985.1”都存成了数字 1985.1，"
                                       "请把该列设为文本格式后重新填写"),
    (lambda: values.parse_date("1985-02-30"), "日期“1985-02-30”无效：1985年2月没有30日"),
    (lambda: values.parse_text("很长的名字", max_length=3), "内容过长：最多 3 个字，现在是 5 个字"),
    (lambda: fields.relationship("外星人"), "与户主关系“外星人”无法识别，应为：" + "、".join(
        label for label in fields._labels(Relationship) if label)),
    (lambda: fields.PERSON_PARSERS["name"](" "), "姓名不能为空"),
    (lambda: fields.status("在办"), "档案状态“在办”无法识别，应为“在档”“已脱困”“已解困”或“已注销”"),
    (lambda: reading.detect_format(XLS_HEAD, "台账.xlsx"),
     "文件扩展名为 .xlsx，但内容不是Excel（.xlsx）文件，而是Excel 97（.xls）文件（加了打开密码的 .xlsx 也是这种格式，"
     "请去掉密码后另存）；请改正扩展名或重新另存"),
    (lambda: reading.detect_format(XLSX_HEAD, "台账.xls"),
     "文件扩展名为 .xls，但内容不是Excel 97（.xls）文件，而是Excel（.xlsx）文件；请改正扩展名或重新另存"),
    (lambda: reading.detect_format(XLSX_HEAD, "台账.csv"),
     "文件扩展名为 .csv，但内容不是CSV 文本文件，而是Excel（.xlsx）文件；请改正扩展名或重新另存"),
    (lambda: reading.detect_format(b"\0\1\2", "台账"), "文件扩展名为 （无），但内容不是 Excel 或 CSV 文件"),
    (lambda: reading.detect_format(b"\0\1\2", "台账.xlsx"), "文件扩展名为 .xlsx，但内容不是 Excel 或 CSV 文件"),
    (lambda: reading._check_rectangle("sheet1", reading.MAX_ROWS + 1, 1, part=True),
     "sheet1 的行数太多：最多 1,000,000 行，现在用到了第 1,000,001 行"),
    (lambda: reading._check_rectangle("家庭档案", 10, reading.MAX_CELLS),
     "工作表“家庭档案”的表格范围过大（10 行 × 20,000,000 列）；请删除远处的空白格式或多余内容后重新另存"),
    (lambda: headers.find_header([["甲"]] * 12), "前 10 行中没有找到表头：表头行至少要有 3 个可识别的列，"
                                                "如“姓名”“身份证号码”“工作单位”"),
]


@pytest.mark.parametrize("call, expected", CHINESE)
def test_the_chinese_messages_are_word_for_word_as_before(call, expected):
    with translation.override("zh-hans"):
        assert _message(call) == expected


def test_a_file_too_large_says_its_size_in_chinese(monkeypatch):
    monkeypatch.setattr(reading, "MAX_BYTES", 1024 * 1024)
    with translation.override("zh-hans"):
        message = _message(lambda: reading.read_workbook(b"x" * (3 * 1024 * 1024 // 2), "a.csv"))
    assert message == "文件太大：最大 1 MB，现在是 1.5 MB；请拆分后分批导入"


@pytest.mark.parametrize("status, way", [(Status.EXITED, "脱困"), (Status.RELIEVED, "解困"), (Status.REMOVED, "注销")])
def test_each_way_out_has_its_whole_sentence(status, way):
    existing = merge.Existing(1, "410102-2024-000001", Status.REGISTERED, {})
    with translation.override("zh-hans"):
        refused = merge._refuse_register_change(existing, str(status), {})
    assert refused.reason == (f"该户档案 410102-2024-000001 在档，导入不能办理{way}退出：请在系统中提出{way}申请，"
                              "由上级审批")


def test_a_conflict_names_the_other_unit_with_its_phone_when_it_has_one():
    number = new_id_number()[0]
    masked = idnumbers.mask(number)
    elsewhere = (1, "410105-2024-000007", "/100000/410000/410100/410105/", "金水区总工会")
    with translation.override("zh-hans"):
        assert merge.conflict_message(number, (*elsewhere, "0371-1234567", ""), "/100000/410000/410100/410102/") == (
            f"身份证号 {masked} 已在其他单位建档，请联系金水区总工会，电话 0371-1234567")
        assert merge.conflict_message(number, (*elsewhere, "0371-1234567", "赵敏"), "/100000/410000/410100/410102/") \
            == f"身份证号 {masked} 已在其他单位建档，请联系金水区总工会，联系人 赵敏，电话 0371-1234567"
        assert merge.conflict_message(number, (*elsewhere, "", ""), "/100000/410000/410100/410102/") == (
            f"身份证号 {masked} 已在其他单位建档，请联系金水区总工会")
        assert merge.conflict_message(number, (*elsewhere, "", ""), "/100000/") == (
            f"身份证号 {masked} 已是档案 410105-2024-000007 的家庭成员，不能同时属于另一户")


@pytest.mark.django_db
def test_the_warning_without_a_standard_reads_as_before(unions):
    with translation.override("zh-hans"):
        standard, warning = assessments.standard_in_force("410102", datetime.date(2019, 6, 1))
    assert standard is None
    assert warning == (f"{Region.objects.get(code='410102').name}在 2019-06-01 没有有效的低保标准，导入的在档户未做收入"
                       "评估（档案显示“尚未评估”）：请先录入当地低保标准，年度复核时再评估")


# --- an English run reports in English, after a Chinese one in the same process ----------------------------

def _marking(text: str) -> str:
    return f"[en]{text}" if translation.get_language() == "en" else text


@pytest.fixture
def marked(monkeypatch):
    """gettext that marks what it would translate while English is active (and translates nothing)."""
    for module in (values, fields, rows, reading, merge, assessments, idnumbers):
        monkeypatch.setattr(module, "_", _marking)
    monkeypatch.setattr(headers, "ngettext", lambda singular, plural, n: _marking(singular if n == 1 else plural))
    # The punctuation joining a message's items stays as written, so that each English message is its Chinese one
    # with the mark in front.
    monkeypatch.setattr(punctuation, "pgettext", lambda context, text: text)


def _register() -> list[Sheet]:
    head, twin, other = new_id_number()[0], new_id_number()[0], new_id_number(sex="F")[0]
    header = ["序号", "职工姓名", "身份证号码", "性别", "出生年月", "家庭人口", "家庭年总收入（元）", "困难类别",
              "主要致困原因", "档案状态", "微信号"]
    households = Sheet("家庭档案", [header,
                                [1, "张建国", head, "男", head[6:10] + "." + head[10:12], "三口", "一千元", "特困户",
                                 "外星入侵", "在办", "zjg"],
                                [2, "王秀兰", other, "男", "1960.01", 2, 1000, "低保户", "", "在档", ""],
                                [3, "", "410102198", "男", None, 2, 1000, "低保户", "6", "在档", ""],
                                [4, "赵敏", twin, "男", None, 2, 1000, "低保户", "6", "在档", ""],
                                [5, "赵敏", twin, "男", None, 2, 1000, "低保户", "6", "在档", ""],
                                ["合计", None, None, None, None, None, 4000],
                                ["制表人：刘洋"]])
    members = Sheet("家庭成员", [["户主身份证号", "姓名", "身份证号码", "与户主关系"],
                             [new_id_number()[0], "李秀英", new_id_number(sex="F")[0], "妻子"],
                             [twin, "赵小明", new_id_number()[0], "外星人"]])
    notes = Sheet("填表说明", [["一、本表由各基层工会填写"], ["二、金额单位为元"]])
    return [households, members, notes]


def _reasons(parsed: rows.ParsedFile) -> list[str]:
    problems = [problem.reason for source in [*parsed.loose_rows, *(s for h in parsed.households for s in h.sources())]
                for problem in source.problems]
    return [*problems, *(skip.reason for skip in parsed.skipped), *parsed.unknown_columns,
            *(group["reason"] for group in parsed.unreadable.values())]


def test_an_english_run_after_a_chinese_one_reports_every_reason_in_english(marked):
    sheets = _register()
    with translation.override("zh-hans"):
        chinese = _reasons(rows.parse_sheets(sheets))
    with translation.override("en"):
        english = _reasons(rows.parse_sheets(sheets))
    assert len(chinese) >= 20 and not [reason for reason in chinese if "[en]" in reason]
    assert [reason for reason in english if not reason.startswith("[en]")] == []
    assert [reason.replace("[en]", "") for reason in english] == chinese
    assert "与“家庭档案”第 5 行是同一户（建档职工身份证号相同），同一户只能出现一次" in chinese
    assert "合计行" in chinese and "合计行之后的内容" in chinese and "家庭档案：微信号" in chinese
    assert "姓名不能为空" in chinese and "主要致困原因不能为空" in chinese


def test_and_a_chinese_run_after_an_english_one_in_chinese(marked):
    sheets = _register()
    with translation.override("en"):
        rows.parse_sheets(sheets)
    with translation.override("zh-hans"):
        assert not [reason for reason in _reasons(rows.parse_sheets(sheets)) if "[en]" in reason]


# Each memoised parser (functools.lru_cache per raw cell), with a cell it refuses.
MEMOISED = [
    (fields.money, "一千元"), (fields.optional_date, "1985.13"), (fields.id_number, "410102********1234"),
    (fields.causes, "外星入侵"), (fields.category, "特困户"), (fields.legacy_category, "特困户"),
    (fields.status, "在办"), (fields.relationship, "外星人"), (fields.disability, "很重"),
    (fields.PERSON_PARSERS["sex"], "不详"), (fields.PERSON_PARSERS["ethnicity"], "火星族"),
]


def _english_after_chinese(parse, cell) -> tuple[str, str]:
    with translation.override("zh-hans"):
        chinese = _message(lambda: parse(cell))
    with translation.override("en"):
        english = _message(lambda: parse(cell))
    return chinese, english


@pytest.mark.parametrize("parse, cell", MEMOISED)
def test_a_memoised_parser_does_not_hand_a_chinese_message_to_an_english_run(marked, parse, cell):
    chinese, english = _english_after_chinese(parse, cell)
    assert "[en]" not in chinese and english == f"[en]{chinese}"


def test_the_memo_check_catches_a_parser_that_keeps_its_errors(marked):
    """What the check above guards against: a memo that kept the error (message and all) would answer the
    English run with the Chinese message. lru_cache does not keep what a call raises, so the parsers' do not."""

    @functools.lru_cache
    def remembered(raw):
        try:
            return values.parse_money(raw), None
        except CellError as error:
            return None, error

    def parse(raw):
        value, error = remembered(raw)
        if error is not None:
            raise error
        return value

    chinese, english = _english_after_chinese(parse, "一千元")
    assert english == chinese == "金额“一千元”无法识别"


def test_a_file_refused_in_english_says_so_in_english(marked):
    with translation.override("en"):
        assert _message(lambda: reading.read_workbook(b"", "a.xlsx")) == "[en]文件是空的"
        assert _message(lambda: reading.detect_format(XLSX_HEAD, "台账.csv")) == (
            "[en]文件扩展名为 .csv，但内容不是[en]CSV 文本文件，而是[en]Excel（.xlsx）文件；请改正扩展名或重新另存")
        assert _message(lambda: headers.find_header([["甲"]])).startswith("[en]前 10 行中没有找到表头")


def test_a_refusal_of_the_register_is_in_english_in_an_english_run(marked):
    existing = merge.Existing(1, "410102-2024-000001", Status.REGISTERED, {"category": "deep"})
    with translation.override("en"):
        exit_refused = merge._refuse_register_change(existing, "exited", {})
        regrade_refused = merge._refuse_register_change(existing, None, {"category": "relative"})
    assert exit_refused.reason.startswith("[en]该户档案 410102-2024-000001 在档，导入不能办理脱困退出")
    assert regrade_refused.reason.startswith("[en]该户档案 410102-2024-000001 在档，困难类别为")
