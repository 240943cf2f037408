"""Header rows of legacy registers: which column holds which import field.

County unions name their columns however they like, so a header is read in three steps:
1. the admin's own mapping for this wording (saved per union from the preview), if any;
2. a known wording (FIELD_SYNONYMS, compared after normalising width, spaces, units and brackets);
3. its words (MEANINGS): anything about 身份证/证件号码 is an ID number, 是否X / X（是/否） asks the flag X, …
Then the sheet as a whole decides whose ID number and name a column holds (户主/职工/建档 → the head's,
成员/家属 or on a member sheet → the person's own). A header that could be two things is reported as ambiguous,
never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import ngettext

FIELD_SYNONYMS: dict[str, list[str]] = {
    "serial": ["序号", "编号", "顺序号"],
    "household_key": ["户编号", "户号", "家庭编号", "家庭户号", "户代码"],
    "name": ["职工姓名", "姓名", "户主姓名", "建档职工姓名", "成员姓名", "家庭成员姓名"],
    "sex": ["性别"],
    "ethnicity": ["民族"],
    "birth_date": ["出生日期", "出生年月", "出生年月日", "生日"],
    "id_number": ["身份证号码", "身份证号", "公民身份号码", "身份证", "身份证件号码", "证件号码"],
    "head_id_number": ["户主身份证号", "户主身份证号码", "建档职工身份证号", "建档职工身份证号码", "职工身份证号"],
    "relationship": ["与户主关系", "关系", "与建档职工关系", "与职工关系", "家庭关系"],
    "phone": ["联系电话", "电话", "手机", "手机号码", "联系方式", "电话号码"],
    "employer": ["工作单位", "工作单位名称", "单位", "单位名称", "所在单位", "工作单位或学校"],
    "address": ["家庭住址", "住址", "家庭地址", "现住址", "居住地址"],
    "household_size": ["家庭人口", "家庭人数", "家庭人口数", "家庭成员人数", "人口数"],
    "annual_income": ["家庭年总收入", "家庭年收入", "年收入", "家庭全年收入"],
    "monthly_income": ["月收入", "个人月收入", "月均收入"],
    "household_monthly_income": ["家庭月收入", "家庭月总收入", "家庭月均收入"],
    "per_capita_income": ["家庭人均月收入", "人均月收入", "月人均收入"],
    "legacy_category": ["困难类别", "困难类型", "困难户类别", "困难程度"],
    "causes": ["主要致困原因", "致困原因", "困难原因", "致困原因代码"],
    "health": ["健康状况", "身体状况"],
    "disability": ["残疾类别", "残疾类型", "残疾情况"],
    "work_status": ["就业状况", "就业情况", "工作状况", "职工状态", "从业状况"],
    "medical_insurance": ["医疗保险", "医保类型", "参保情况"],
    "housing_type": ["住房类型", "住房情况", "住房性质"],
    "housing_area": ["住房面积", "人均住房面积"],
    "model_worker": ["劳模", "是否劳模", "劳模级别"],
    "migrant_worker": ["农民工", "是否农民工"],
    "single_parent": ["单亲家庭", "是否单亲家庭", "是否单亲"],
    "zero_employment": ["零就业家庭", "是否零就业家庭"],
    "bank_name": ["开户银行", "开户行"],
    "bank_card": ["银行卡号", "银行账号", "帐号", "账号"],
    "filed_on": ["建档日期", "建档时间", "入档日期"],
    "closed_on": ["退出日期", "退出时间", "脱困日期", "脱困时间", "解困日期", "解困时间", "注销日期", "注销时间"],
    "notes": ["备注", "说明", "其他情况"],
    # Columns of this system's own export (the same layout reads back in), also seen in newer registers.
    "status": ["档案状态", "状态", "在档状态", "帮扶状态"],
    "original_category": ["原困难类型", "原困难类别"],
    "secondary_causes": ["其他致困原因", "次要致困原因"],
    "legacy_tier": ["档案级别", "原档案级别"],
    "key_group": ["重点群体"],
    "area_band": ["住房面积档次"],
    "self_reliant": ["有自救能力", "是否有自救能力"],
    "receives_dibao": ["享受低保", "是否享受低保", "低保户"],
    "dibao_amount": ["低保金", "低保金额", "月低保金"],
    "bank_branch": ["开户网点", "开户支行"],
    "able_to_work": ["有劳动能力", "劳动能力", "是否有劳动能力"],
    "income_wages": ["工资性收入"],
    "income_business": ["经营净收入", "经营性收入"],
    "income_property": ["财产净收入", "财产性收入"],
    "income_transfers": ["转移性收入", "转移净收入"],
    "income_other": ["其他收入"],
    "cost_illness": ["医疗刚性支出", "医疗支出"],
    "cost_disability": ["残疾刚性支出", "残疾支出"],
    "cost_schooling": ["教育刚性支出", "教育支出"],
    "cost_housing": ["住房刚性支出", "住房支出"],
    "cost_other": ["其他刚性支出"],
    # The two columns our rejected-rows download adds: read past quietly when the fixed file comes back.
    "rejection_reason": ["错误原因"],
    "original_row": ["原行号"],
}

# A header's words, most specific first: the first pattern that matches names the field. Patterns see the header
# normalised, without brackets, 的/之 and a leading 是否/有无.
MEANINGS: list[tuple[str, str]] = [
    ("rejection_reason", r"错误原因"),
    ("original_row", r"原行号"),
    ("serial", r"^(序号?|编号|顺序号|no\.?|排序)$"),
    ("household_key", r"户编号|户号$|家庭编号|户代码|家庭代码"),
    ("bank_card", r"卡号|账号|帐号|存折"),
    ("bank_branch", r"网点|支行|分理处|营业所"),
    ("bank_name", r"开户|银行"),
    ("id_number", r"身份证|证件号|身份号|公民号码|^id(no|number)?$"),
    ("phone", r"电话|手机|联系方式|联系号码"),
    ("relationship", r"关系|称谓|称呼"),
    ("per_capita_income", r"人均.*收入|收入.*人均"),
    ("income_wages", r"工资"),
    ("income_business", r"经营"),
    ("income_property", r"财产"),
    ("income_transfers", r"转移|养老金|赡养费"),
    ("income_other", r"(其他|其它).*收入"),
    ("cost_illness", r"(医疗|看病|医药).*支出"),
    ("cost_disability", r"残疾.*支出"),
    ("cost_schooling", r"(教育|上学|就学|学费).*支出"),
    ("cost_housing", r"(住房|房租|租房).*支出"),
    ("cost_other", r"(其他|其它).*支出"),
    ("annual_income", r"(年|全年).*收入|收入.*年"),
    ("household_monthly_income", r"(家庭|全家|合计).*月.*收入"),
    ("monthly_income", r"月.*收入|收入.*月"),
    ("dibao_amount", r"低保金|保障金"),
    ("receives_dibao", r"低保"),
    ("household_size", r"人口|人数|口数"),
    ("birth_date", r"出生|生日"),
    ("sex", r"性别"),
    ("ethnicity", r"民族"),
    ("name", r"姓名|名字"),
    ("original_category", r"原.*(类别|类型)"),
    ("secondary_causes", r"(次要|其他|其它|辅助|次).*原因"),
    ("causes", r"致困|致贫|原因"),
    ("legacy_category", r"困难.*(类别|类型|程度|等级|性质)|^(类别|类型|户别|户类型)$"),
    ("model_worker", r"劳模|劳动模范"),
    ("migrant_worker", r"农民工"),
    ("single_parent", r"单亲"),
    ("zero_employment", r"零就业"),
    ("self_reliant", r"自救"),
    ("able_to_work", r"劳动能力"),
    ("disability", r"残疾"),
    ("health", r"健康|身体|病情|患病|疾病"),
    ("work_status", r"就业|在岗|职业状况|从业|工作(状况|情况|状态)|职工状态"),
    ("medical_insurance", r"医保|医疗保险|参保"),
    ("area_band", r"面积.*档"),
    ("housing_area", r"面积"),
    ("housing_type", r"住房|房屋|居住(情况|状况)|房产"),
    ("key_group", r"重点(群体|人群)|人群类别"),
    ("filed_on", r"(建档|入档|立档)(日期|时间|年月)"),
    ("closed_on", r"(退出|脱困|解困|注销)(日期|时间|年月)"),
    ("legacy_tier", r"级别"),
    ("status", r"状态"),
    ("employer", r"单位|学校|就读|工作地点"),
    ("address", r"住址|地址|居住地|现居|家庭住所"),
    ("notes", r"备注|说明|情况"),
]
_MEANING_PATTERNS = [(key, re.compile(pattern)) for key, pattern in MEANINGS]

# Words that are never a household's own field, whatever else the header says (帮扶单位 is not the employer).
_NOT_OURS = re.compile(r"帮扶(单位|责任人|人|干部|联系人)|结对|责任人|联系人|填报|制表|审核|经办|建档单位|所属工会")
# Whose ID number or name a column holds.
_HEAD_WORDS = re.compile(r"户主|职工|建档|申请人|所属|对应|本户|持卡人")
_MEMBER_WORDS = re.compile(r"成员|家属|亲属|家人|配偶|子女|本人")
_MEMBER_SHEET = re.compile(r"成员|家属|亲属|人员|家人")
# A header that joins two things (“工作单位及电话”): when each part names a different field, it is ambiguous.
_JOINS = re.compile(r"[及和与、/或&+]|以及")
_YES_NO_QUESTION = re.compile(r"^(是否|有无|有没有)")

# Fields only a household row has (a sheet with any of them is not a member sheet).
HOUSEHOLD_ONLY = frozenset({
    "address", "household_size", "annual_income", "household_monthly_income", "legacy_category", "original_category",
    "causes", "secondary_causes", "housing_type", "housing_area", "area_band", "model_worker", "migrant_worker",
    "single_parent", "zero_employment", "self_reliant", "key_group", "legacy_tier", "status", "filed_on",
    "closed_on", "receives_dibao", "dibao_amount", "bank_name", "bank_branch", "bank_card", "per_capita_income",
    "income_wages", "income_business", "income_property", "income_transfers", "income_other", "cost_illness",
    "cost_disability", "cost_schooling", "cost_housing", "cost_other",
})
# Read for information only, never stored: 户主姓名 on a member sheet beside the member's own name.
INFORMATION_ONLY = frozenset({"head_name"})

# Bracketed text removed from headers when it is a unit: （元）, (元/月), （人）, （万元）, (18位).
_UNIT = re.compile(r"\((?:万?元(?:/(?:人·?)?[月年])?|人|口|户|岁|个|次|年|月|m2|平方米|㎡|%|\d+位)\)")
_BRACKETS = re.compile(r"[(\[【〔][^)\]】〕]*[)\]】〕]")


class HeaderNotFound(ValueError):
    """No header row in the first rows of a sheet."""


@dataclass
class Column:
    """One header cell and what it was taken to be."""

    index: int
    header: str  # as written (stripped)
    field: str = ""  # the import field, "" when not read
    how: str = "unknown"  # mapped | ignored | named | meaning | ambiguous | unknown | duplicate
    candidates: tuple[str, ...] = ()  # the fields an ambiguous header could be
    whose: str = ""  # for ID numbers and names: "head" | "member" | ""

    @property
    def key(self) -> str:
        return normalize_header(self.header)


@dataclass
class HeaderMap:
    columns: dict[str, int] = field(default_factory=dict)  # field → column index (first occurrence)
    unknown: list[str] = field(default_factory=list)  # original header texts not recognised
    duplicates: list[str] = field(default_factory=list)  # fields whose header appears more than once
    ambiguous: list[str] = field(default_factory=list)  # header texts that could be more than one field
    described: list[Column] = field(default_factory=list, compare=False)  # every non-blank header, in order


def normalize_header(text: object) -> str:
    """Case- and space-insensitive form: full-width → half-width, '*' markers and unit brackets removed."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = re.sub(r"[\s\u200b\ufeff*※△▲]", "", text).replace("【", "[").replace("】", "]")
    return _UNIT.sub("", text).strip(":")


def _core(normal: str) -> str:
    """The header's words: no brackets, no 的/之, no 是否/有无 question."""
    core = _BRACKETS.sub("", normal).replace("的", "").replace("之", "")
    return _YES_NO_QUESTION.sub("", core) or core


_LOOKUP = {normalize_header(name): key for key, names in FIELD_SYNONYMS.items() for name in names}


def meaning(normal: str) -> str:
    """The field a (normalised) header's words name, or "" when none does."""
    core = _core(normal)
    if not core or _NOT_OURS.search(core):
        return ""
    for key, pattern in _MEANING_PATTERNS:
        if pattern.search(core):
            return key
    return ""


def _candidates(normal: str) -> tuple[str, ...]:
    """The different fields the parts of a joined header name (“工作单位及电话” → employer, phone)."""
    core = _core(normal)
    parts = [part for part in _JOINS.split(core) if part]
    if len(parts) < 2:
        return ()
    found = tuple(dict.fromkeys(key for part in parts if (key := meaning(part))))
    return found if len(found) > 1 else ()


def _whose(normal: str, context: str) -> str:
    core = _core(normal)
    if _MEMBER_WORDS.search(core):
        return "member"
    if _HEAD_WORDS.search(core):
        return "head"
    if _MEMBER_WORDS.search(context):
        return "member"
    if _HEAD_WORDS.search(context):
        return "head"
    return ""


def describe(index: int, header: object, overrides: dict[str, str] | None = None, context: str = "") -> Column:
    """What one header cell is taken to be, before the sheet as a whole is considered."""
    column = Column(index, str(header).strip())
    normal = normalize_header(header)
    if overrides and normal in overrides:
        column.field = overrides[normal]
        column.how = "mapped" if column.field else "ignored"
        return column
    if normal in _LOOKUP:
        column.field, column.how = _LOOKUP[normal], "named"
    elif candidates := _candidates(normal):
        column.how, column.candidates = "ambiguous", candidates
        return column
    elif key := meaning(normal):
        column.field, column.how = key, "meaning"
    if column.field in ("id_number", "head_id_number", "name"):
        column.whose = _whose(normal, context)
        if column.field == "head_id_number" and not column.whose:
            column.whose = "head"
    return column


def map_headers(headers: list, *, sheet_name: str = "", overrides: dict[str, str] | None = None,
                context: list | None = None) -> HeaderMap:
    """Map one header row to field → column index; blank cells are skipped. `context` is the row above a
    two-row header (its group titles, such as 家庭成员情况, tell whose columns lie under them)."""
    groups = _groups(context or [], len(headers))
    described = [describe(index, header, overrides, groups[index])
                 for index, header in enumerate(headers) if normalize_header(header)]
    _decide_people(described, sheet_name)
    result = HeaderMap(described=described)
    for column in described:
        if column.how == "ambiguous":
            result.ambiguous.append(column.header)
        elif not column.field:
            if column.how != "ignored":
                result.unknown.append(column.header)
        elif column.field in result.columns:
            column.how = "duplicate"
            if column.field not in result.duplicates:
                result.duplicates.append(column.field)
        else:
            result.columns[column.field] = column.index
    return result


def _groups(context: list, width: int) -> list[str]:
    """Each column's group title from the row above, carried right across its merged (blank) cells."""
    groups, current = [], ""
    filled = sum(1 for cell in context if normalize_header(cell))
    for index in range(width):
        cell = normalize_header(context[index]) if index < len(context) else ""
        current = cell or current
        groups.append(current if filled >= 2 else "")
    return groups


def _decide_people(described: list[Column], sheet_name: str) -> None:
    """Whose ID number and name each column is, from the whole header row and the sheet's name."""
    fields = {column.field for column in described}
    member_sheet = bool(_MEMBER_SHEET.search(sheet_name or "")) and not fields & HOUSEHOLD_ONLY
    household_sheet = bool(fields & HOUSEHOLD_ONLY)
    ids = [c for c in described if c.field in ("id_number", "head_id_number") and c.how not in ("mapped",)]
    names = [c for c in described if c.field == "name" and c.how not in ("mapped",)]
    _split(ids, "id_number", "head_id_number", member_sheet, household_sheet)
    _split(names, "name", "head_name", member_sheet, household_sheet)


def _split(columns: list[Column], own: str, heads: str, member_sheet: bool, household_sheet: bool) -> None:
    """One column: the row's own (unless it is plainly the head's ID number, off a household sheet). Two or more:
    the head's and the person's own, when the words tell which is which; otherwise ambiguous."""
    if len(columns) == 1:
        only = columns[0]  # a lone 户主身份证号 links member rows, unless the sheet is one of households
        only.field = heads if own == "id_number" and only.whose == "head" and not household_sheet else own
    elif columns:
        decided = _pair(columns, member_sheet or not household_sheet)
        for column in columns:
            if column.index in decided:
                column.field = own if decided[column.index] == "own" else heads
            else:
                column.how, column.candidates, column.field = "ambiguous", (own, heads), ""


def _pair(columns: list[Column], off_household_sheet: bool) -> dict[int, str]:
    """Column index → "own" | "head" for several ID-number (or name) columns, or {} when the words do not tell."""
    whose = [column.whose for column in columns]
    if whose.count("head") == 1:
        return {c.index: "head" if c.whose == "head" else "own" for c in columns}  # a second own: a duplicate
    if "head" in whose and set(whose) == {"head"}:
        return {c.index: "own" for c in columns}  # 户主姓名 and 职工姓名 on a household sheet: the row's own
    if sorted(whose) == ["", "member"] and off_household_sheet:
        return {c.index: "own" if c.whose == "member" else "head" for c in columns}  # 身份证号 beside 成员身份证号
    if set(whose) == {""}:
        return {c.index: "own" for c in columns}  # the same header twice: a duplicate, reported as such
    return {}


def find_header(rows: list[list], *, max_scan: int = 10, overrides: dict[str, str] | None = None
                ) -> tuple[int, list, list]:
    """(index of the header row, its texts, the row above as group context) for the first of the first max_scan
    rows that maps at least 3 fields. A two-row header (group titles above, details below, with cells merged
    down from the upper row) is read as one: the lower row, its blank cells filled from the row above."""
    for index, row in enumerate(rows[:max_scan]):
        row = list(row or [])
        count = _count(row, overrides)
        if count < 3:
            continue
        below = list(rows[index + 1] or []) if index + 1 < len(rows) else []
        merged_below = _fill(below, row)
        if len([c for c in below if normalize_header(c)]) >= 2 and _count(merged_below, overrides) > count:
            return index + 1, merged_below, row
        above = list(rows[index - 1] or []) if index else []
        merged = _fill(row, above)
        if len([c for c in above if normalize_header(c)]) >= 2 and _count(merged, overrides) > count:
            return index, merged, above
        return index, row, above
    raise HeaderNotFound(ngettext("前 %(rows)s 行中没有找到表头："
                                  "表头行至少要有 3 个可识别的列，如“姓名”“身份证号码”“工作单位”",
                                  "前 %(rows)s 行中没有找到表头："
                                  "表头行至少要有 3 个可识别的列，如“姓名”“身份证号码”“工作单位”",
                                  max_scan) % {"rows": max_scan})


def find_header_row(rows: list[list], *, max_scan: int = 10) -> int:
    """Index of the header row (see find_header)."""
    return find_header(rows, max_scan=max_scan)[0]


def _count(row: list, overrides: dict[str, str] | None) -> int:
    return len(map_headers(row, overrides=overrides).columns)


def _fill(row: list, upper: list) -> list:
    """row with its blank cells taken from upper (cells merged down across two header rows)."""
    width = max(len(row), len(upper))
    row = row + [None] * (width - len(row))
    return [cell if normalize_header(cell) or index >= len(upper) else upper[index] for index, cell in enumerate(row)]


_INVISIBLE = re.compile(r"[\s\u200b\ufeff]")


def _cell_text(cell: object) -> str:
    return "" if cell is None else _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(cell)))


def is_blank_row(row: list) -> bool:
    for cell in row or ():
        if cell is not None and cell != "" and (cell.__class__ is not str or _cell_text(cell)):
            return False
    return True


def _first_text(row: list) -> str:
    return next((text for text in map(_cell_text, row or []) if text), "").rstrip(":")


def is_total_row(row: list) -> bool:
    """A 合计/总计/小计 row (first non-blank cell, spaces and a trailing colon ignored)."""
    return _first_text(row) in ("合计", "总计", "小计")


def is_subtotal_row(row: list) -> bool:
    """A 小计 row: one group's subtotal, with more groups below it."""
    return _first_text(row) in ("小计", "分计")
