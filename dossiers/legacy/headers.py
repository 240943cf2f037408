"""Header rows of legacy registers: which column holds which import field."""

import re
import unicodedata
from dataclasses import dataclass, field

FIELD_SYNONYMS: dict[str, list[str]] = {
    "serial": ["序号", "编号", "顺序号"],
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
    "monthly_income": ["月收入", "个人月收入", "家庭月收入", "月均收入"],
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

# Bracketed text removed from headers when it is a unit: （元）, (元/月), （人）, （万元）, (18位).
_UNIT = re.compile(r"\((?:万?元(?:/(?:人·?)?[月年])?|人|口|户|岁|个|次|年|月|m2|平方米|%|\d+位)\)")


class HeaderNotFound(ValueError):
    """No header row in the first rows of a sheet."""


@dataclass
class HeaderMap:
    columns: dict[str, int] = field(default_factory=dict)  # field → column index (first occurrence)
    unknown: list[str] = field(default_factory=list)  # original header texts not recognised
    duplicates: list[str] = field(default_factory=list)  # fields whose header appears more than once


def normalize_header(text: object) -> str:
    """Case- and space-insensitive form: full-width → half-width, '*' markers and unit brackets removed."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = re.sub(r"[\s\u200b\ufeff*]", "", text)
    return _UNIT.sub("", text).strip(":")


_LOOKUP = {normalize_header(name): key for key, names in FIELD_SYNONYMS.items() for name in names}


def map_headers(headers: list) -> HeaderMap:
    """Map one header row to field → column index; blank cells are skipped."""
    result = HeaderMap()
    for index, header in enumerate(headers):
        normal = normalize_header(header)
        if not normal:
            continue
        key = _LOOKUP.get(normal)
        if key is None:
            result.unknown.append(str(header).strip())
        elif key in result.columns:
            if key not in result.duplicates:
                result.duplicates.append(key)
        else:
            result.columns[key] = index
    return result


def find_header_row(rows: list[list], *, max_scan: int = 10) -> int:
    """Index of the first row (of the first max_scan) that maps at least 3 known fields."""
    for index, row in enumerate(rows[:max_scan]):
        if len(map_headers(list(row or [])).columns) >= 3:
            return index
    raise HeaderNotFound(f"前 {max_scan} 行中没有找到表头："
                         "表头行至少要有 3 个可识别的列，如“姓名”“身份证号码”“工作单位”")


_INVISIBLE = re.compile(r"[\s\u200b\ufeff]")


def _cell_text(cell: object) -> str:
    return "" if cell is None else _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(cell)))


def is_blank_row(row: list) -> bool:
    for cell in row or ():
        if cell is not None and cell != "" and (cell.__class__ is not str or _cell_text(cell)):
            return False
    return True


def is_total_row(row: list) -> bool:
    """A 合计/总计/小计 row (first non-blank cell, spaces and a trailing colon ignored)."""
    first = next((text for text in map(_cell_text, row or []) if text), "")
    return first.rstrip(":") in ("合计", "总计", "小计")
