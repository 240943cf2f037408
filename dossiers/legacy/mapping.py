"""An admin's mapping for a register's wording: which field a column is (or that it is ignored), and what an
unreadable cell value means. Made in the import preview, saved per union for its next file, and given to the
command line as a JSON file of the same shape:

    {"columns": {"成员证件号": "id_number", "微信号": ""},          # header → field, "" = ignore the column
     "values": {"model_worker": {"×": "否", "√": "劳模（级别未注明）"}, "causes": {"因穷": "其他"}}}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dossiers.legacy import fields, headers
from hardship import punctuation

MAX_COLUMNS = 300
MAX_VALUES = 500
MAX_TEXT = 100

# Every field a column can be mapped to, as the preview's drop-down names it.
FIELD_LABELS = {
    "name": _("姓名"), "id_number": _("身份证号码（本人）"), "head_id_number": _("户主身份证号（成员所属的户）"),
    "head_name": _("户主姓名（仅核对，不导入）"),
    "household_key": _("户编号（同户的行编号相同）"), "relationship": _("与户主关系"), "sex": _("性别"),
    "ethnicity": _("民族"), "birth_date": _("出生日期"), "phone": _("联系电话"), "employer": _("工作单位或学校"),
    "work_status": _("就业状况"), "health": _("健康状况"), "disability": _("残疾类别"),
    "medical_insurance": _("医疗保险"), "able_to_work": _("有劳动能力（是/否）"), "monthly_income": _("月收入（元）"),
    "address": _("家庭住址"), "household_size": _("家庭人口"), "status": _("档案状态"), "filed_on": _("建档日期"),
    "closed_on": _("退出日期"), "legacy_category": _("困难类别"), "original_category": _("原困难类型"),
    "legacy_tier": _("档案级别"), "causes": _("主要致困原因"), "secondary_causes": _("其他致困原因"),
    "key_group": _("重点群体"), "housing_type": _("住房类型"), "housing_area": _("住房面积"),
    "area_band": _("住房面积档次"), "single_parent": _("单亲家庭（是/否）"),
    "zero_employment": _("零就业家庭（是/否）"),
    "self_reliant": _("有自救能力（是/否）"), "model_worker": _("劳模"), "migrant_worker": _("农民工（是/否）"),
    "receives_dibao": _("享受低保（是/否）"), "dibao_amount": _("低保金（元/月）"),
    "annual_income": _("家庭年总收入（元）"),
    "household_monthly_income": _("家庭月收入（元，×12 作年收入）"),
    "per_capita_income": _("家庭人均月收入（仅核对，不导入）"),
    "income_wages": _("工资性收入（元）"), "income_business": _("经营净收入（元）"),
    "income_property": _("财产净收入（元）"), "income_transfers": _("转移性收入（元）"),
    "income_other": _("其他收入（元）"), "cost_illness": _("医疗刚性支出（元）"),
    "cost_disability": _("残疾刚性支出（元）"), "cost_schooling": _("教育刚性支出（元）"),
    "cost_housing": _("住房刚性支出（元）"), "cost_other": _("其他刚性支出（元）"), "bank_name": _("开户银行"),
    "bank_branch": _("开户网点"), "bank_card": _("银行卡号"), "serial": _("序号（不导入）"),
    "notes": _("备注（不导入）"), "rejection_reason": _("错误原因（本系统下载的，不导入）"),
    "original_row": _("原行号（本系统下载的，不导入）"),
}
HOW_LABELS = {
    "mapped": _("按您的映射"), "ignored": _("按您的映射忽略"), "named": _("常见列名"), "meaning": _("按列名含义"),
    "ambiguous": _("有歧义，未读取"), "unknown": _("未识别，未读取"), "duplicate": _("重复的列，未读取"),
}


class MappingError(ValueError):
    """A mapping file or form that cannot be used; .message is Chinese."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)  # normalised header → field, "" to ignore it
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field → {cell text → vocabulary value}

    def __bool__(self) -> bool:
        return bool(self.columns or self.values)

    def as_json(self) -> dict:
        return {"columns": dict(self.columns), "values": {key: dict(table) for key, table in self.values.items()}}

    def merged(self, other: Mapping) -> Mapping:
        """This mapping with other's entries on top."""
        tables = {key: dict(table) for key, table in self.values.items()}
        for key, table in other.values.items():
            tables.setdefault(key, {}).update(table)
        return Mapping({**self.columns, **other.columns}, {key: table for key, table in tables.items() if table})

    @classmethod
    def from_json(cls, data: object) -> Mapping:
        """A checked mapping from its JSON form (a file, a saved mapping or the preview's form)."""
        if data in (None, ""):
            return cls()
        if not isinstance(data, dict) or set(data) - {"columns", "values"}:
            raise MappingError(gettext("映射应为一个含 columns 和 values 的 JSON 对象"))
        return cls(_columns(data.get("columns") or {}), _values(data.get("values") or {}))


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise MappingError(gettext("%(what)s应为不超过 %(n)d 个字的文字") % {"what": what, "n": MAX_TEXT})
    return value


def _columns(data: object) -> dict[str, str]:
    if not isinstance(data, dict) or len(data) > MAX_COLUMNS:
        raise MappingError(gettext("columns 应为“列名: 字段”的对象，最多 %(n)d 列") % {"n": MAX_COLUMNS})
    columns = {}
    for header, key in data.items():
        normal = headers.normalize_header(_text(header, gettext("列名")))
        if not normal:
            raise MappingError(gettext("列名不能为空"))
        if _text(key, gettext("字段")) and key not in FIELD_LABELS:
            raise MappingError(gettext("列“%(header)s”映射到的字段“%(key)s”不存在") % {"header": header, "key": key})
        columns[normal] = key
    return columns


def _values(data: object) -> dict[str, dict[str, str]]:
    if not isinstance(data, dict):
        raise MappingError(gettext("values 应为“字段: {原值: 映射值}”的对象"))
    tables = {}
    for key, table in data.items():
        vocabulary = fields.vocabulary(key) if isinstance(key, str) else None
        if vocabulary is None:
            raise MappingError(gettext("字段“%(key)s”不是可映射取值的字段") % {"key": key})
        if not isinstance(table, dict) or len(table) > MAX_VALUES:
            raise MappingError(
                gettext("字段“%(key)s”的取值映射应为对象，最多 %(n)d 项") % {"key": key, "n": MAX_VALUES})
        checked = {}
        for raw, value in table.items():
            text = fields._key(_text(raw, gettext("原值")))
            if _text(value, gettext("映射值")) and value not in vocabulary:
                choices = punctuation.enumeration_comma().join(vocabulary)
                message = gettext("“%(raw)s”映射到的“%(value)s”不是“%(field)s”的取值：应为 %(choices)s 之一")
                raise MappingError(message % {"raw": raw, "value": value, "field": FIELD_LABELS[key],
                                              "choices": choices})
            if text:
                checked[text] = value
        if checked:
            tables[key] = checked
    return tables
