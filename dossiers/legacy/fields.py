"""What each import field's cell means: one parser per field, for the household row and the person rows.

A parser takes the raw cell and returns the typed value or raises CellError (Chinese message). Most columns
repeat a few values (性别, 与户主关系, 困难类别…), so the parsers of such columns are memoised per distinct raw cell.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from decimal import Decimal

from django.utils import translation

from dossiers.choices import (
    ETHNIC_GROUPS,
    AreaBand,
    Category,
    Disability,
    Health,
    HousingType,
    KeyGroup,
    LegacyCategory,
    LegacyTier,
    MedicalInsurance,
    ModelWorker,
    Relationship,
    Status,
    WorkStatus,
)
from dossiers.legacy import values
from dossiers.legacy.values import CellError
from dossiers.models import Household

_SPACES = re.compile(r"\s+")
_FORMULA_ESCAPE = re.compile(r"^'(?=[=+\-@\t\r])")  # the apostrophe our export puts before = + - @


def _key(raw: object) -> str | None:
    """The cell as compact text, or None when it is blank."""
    if raw is None:
        return None
    if isinstance(raw, float) and math.isfinite(raw) and raw == int(raw):
        raw = int(raw)
    text = _SPACES.sub("", values._text(raw)) if not isinstance(raw, bool) else str(raw)
    return text or None


def _labels(choices) -> dict[str, str]:
    with translation.override("zh-hans"):
        return {_key(str(label)): value for value, label in choices.choices if value != "" or label}


def _hashable(parse):
    """lru_cache needs hashable cells; everything calamine returns is, but be safe with odd objects."""

    @functools.wraps(parse)
    def wrapper(raw: object):
        try:
            return parse(raw)
        except TypeError:
            raise CellError(f"“{values._shown(raw)}”无法识别") from None

    return wrapper


def choice(choices, title: str, aliases: dict[str, str] | None = None, blank: str = "") -> Callable[[object], str]:
    """A parser of a choice column by its Chinese labels (and common aliases); blank → `blank`."""
    lookup: dict[str, str] | None = None

    @functools.lru_cache(maxsize=4096, typed=True)
    def parse(raw: object) -> str:
        nonlocal lookup
        if lookup is None:
            lookup = {**_labels(choices), **{_key(alias): value for alias, value in (aliases or {}).items()}}
        key = _key(raw)
        if key is None:
            return blank
        if key not in lookup:
            known = "、".join(label for label in lookup if label)[:120]
            raise CellError(f"{title}“{values._shown(raw)}”无法识别，应为：{known}")
        return lookup[key]

    return _hashable(parse)


def text(max_length: int) -> Callable[[object], str]:
    def parse(raw: object) -> str:
        value = values.parse_text(raw, max_length=max_length)
        return _FORMULA_ESCAPE.sub("", value)

    return parse


def required_text(title: str, max_length: int) -> Callable[[object], str]:
    parse_plain = text(max_length)

    def parse(raw: object) -> str:
        value = parse_plain(raw)
        if not value:
            raise CellError(f"{title}不能为空")
        return value

    return parse


def optional_bool(default: bool) -> Callable[[object], bool]:
    def parse(raw: object) -> bool:
        return default if _key(raw) is None else values.parse_bool(raw)

    return parse


@functools.lru_cache(maxsize=65536, typed=True)
def _optional_date(raw: object):
    return None if _key(raw) is None else values.parse_date(raw)


optional_date = _hashable(_optional_date)


@functools.lru_cache(maxsize=65536, typed=True)
def _money(raw: object) -> Decimal:
    return values.parse_money(raw)


money = _hashable(_money)


def money_in_wan(raw: object) -> Decimal:
    """A money column headed （万元）: plain numbers are in units of 10,000 yuan."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) or (isinstance(raw, str) and re.fullmatch(
            r"[0-9.,\s]+", values._text(raw) or "x")):
        return values.parse_money(f"{values._text(raw)}万" if isinstance(raw, str) else f"{raw}万")
    return money(raw)


def count(raw: object) -> int | None:
    """家庭人口: "3", 3, "3人", "3 口"."""
    key = _key(raw)
    if key is None:
        return None
    match = re.fullmatch(r"(\d{1,2})[人口]?", key)
    if not match or not 1 <= int(match[1]) <= 30:
        raise CellError(f"家庭人口“{values._shown(raw)}”无法识别，应为 1–30 的整数")
    return int(match[1])


@functools.lru_cache(maxsize=65536, typed=True)
def _id_number(raw: object) -> str:
    if isinstance(raw, str) and "*" in raw:
        raise CellError("身份证号码已打码（含 *），无法导入；请用有权查看完整号码的账号导出，或填写完整号码")
    return values.parse_id_number(raw)


id_number = _hashable(_id_number)


def optional_id_number(raw: object) -> str | None:
    return None if _key(raw) is None else id_number(raw)


def optional_sex(raw: object) -> str | None:
    return None if _key(raw) is None else values.parse_sex(raw)


def ethnicity(raw: object) -> str:
    key = _key(raw)
    if key is None:
        return "汉族"
    for candidate in (key, f"{key}族"):
        if candidate in ETHNIC_GROUPS:
            return candidate
    raise CellError(f"民族“{values._shown(raw)}”无法识别，应为 56 个民族之一，如“汉族”“回族”")


def bank_card(raw: object) -> str | None:
    """Digits only; a masked number (our own export) → None, which keeps the card on file."""
    key = _key(raw)
    if key is None:
        return ""
    if "*" in key:
        return None
    digits = key.replace("-", "")
    if not re.fullmatch(r"\d{12,30}", digits):
        raise CellError(f"银行卡号“{values._shown(raw)}”应为 12–30 位数字")
    return digits


@functools.lru_cache(maxsize=4096, typed=True)
def _causes(raw: object) -> tuple[int, ...]:
    return tuple(values.parse_causes(raw))


causes = _hashable(_causes)


_NEW_CATEGORIES = {"深度困难": Category.DEEP, "相对困难": Category.RELATIVE, "意外致困": Category.ACCIDENT,
                   "深度困难职工": Category.DEEP, "相对困难职工": Category.RELATIVE, "意外致困职工": Category.ACCIDENT}


@functools.lru_cache(maxsize=1024, typed=True)
def _category(raw: object) -> tuple[str, str]:
    key = _key(raw)
    if key is None:
        return "", ""
    if key in _NEW_CATEGORIES:
        return str(_NEW_CATEGORIES[key]), ""
    try:
        return "", values.parse_legacy_category(raw)
    except CellError:
        raise CellError(f"困难类别“{values._shown(raw)}”无法识别，应为“深度困难”“相对困难”“意外致困”，"
                        f"或原类型“低保户”“低保边缘户”“意外致困户”") from None


category = _hashable(_category)  # 困难类别: (new category, legacy category); one of the two is filled


legacy_category = _hashable(functools.lru_cache(maxsize=256, typed=True)(values.parse_legacy_category))


_STATUS_WORDS = {
    "在档": Status.REGISTERED, "在册": Status.REGISTERED, "正常": Status.REGISTERED, "帮扶中": Status.REGISTERED,
    "已脱困": Status.EXITED, "脱困": Status.EXITED, "已解困": Status.RELIEVED, "解困": Status.RELIEVED,
    "已注销": Status.REMOVED, "注销": Status.REMOVED,
}
IMPORTABLE_STATUSES = (Status.REGISTERED, Status.EXITED, Status.RELIEVED, Status.REMOVED)


@functools.lru_cache(maxsize=256, typed=True)
def _status(raw: object) -> str:
    key = _key(raw)
    if key is None:
        return ""  # says nothing: a new file is 在档, an existing one keeps its status
    if key in _STATUS_WORDS:
        return str(_STATUS_WORDS[key])
    labels = _labels(Status)
    if key in labels:
        return labels[key]  # a status of the review pipeline: only accepted when the file already has it
    raise CellError(f"档案状态“{values._shown(raw)}”无法识别，应为“在档”“已脱困”“已解困”或“已注销”")


status = _hashable(_status)


relationship = choice(Relationship, "与户主关系", {
    "户主": "self", "本人": "self", "职工本人": "self", "妻": "spouse", "夫": "spouse", "妻子": "spouse",
    "丈夫": "spouse", "爱人": "spouse", "子": "child", "女": "child", "儿子": "child", "女儿": "child",
    "长子": "child", "长女": "child", "次子": "child", "次女": "child", "之子": "child", "之女": "child",
    "父亲": "parent", "母亲": "parent", "父": "parent", "母": "parent", "岳父": "parent", "岳母": "parent",
    "公公": "parent", "婆婆": "parent", "兄": "sibling", "弟": "sibling", "姐": "sibling", "妹": "sibling",
    "孙子": "grandchild", "孙女": "grandchild", "外孙": "grandchild", "外孙女": "grandchild",
    "祖父": "grandparent", "祖母": "grandparent", "外祖父": "grandparent", "外祖母": "grandparent",
}, blank=str(Relationship.OTHER))
health = choice(Health, "健康状况", {
    "良好": "healthy", "一般": "healthy", "健康良好": "healthy", "患病": "chronic", "慢性疾病": "chronic",
    "长期慢性病": "chronic", "大病": "serious", "重病": "serious", "重特大疾病": "serious", "残": "disabled",
}, blank=str(Health.HEALTHY))
disability = choice(Disability, "残疾类别", {
    "否": "", "无残疾": "", "视力": "visual", "听力": "hearing", "言语": "speech", "肢体": "physical",
    "智力": "intellectual", "精神": "mental", "多重": "multiple",
})
medical_insurance = choice(MedicalInsurance, "医疗保险", {
    "城镇职工医保": "employee", "职工基本医疗保险": "employee", "城镇职工基本医疗保险": "employee",
    "居民医保": "resident", "城镇居民医保": "resident", "新农合": "resident", "新型农村合作医疗": "resident",
    "城乡居民基本医疗保险": "resident", "无": "none", "否": "none", "没有": "none",
})
work_status = choice(WorkStatus, "就业状况", {
    "在职": "employed", "就业": "employed", "灵活就业": "employed", "下岗失业": "laid_off", "待业": "unemployed",
    "离岗": "laid_off", "离退休": "retired", "病退": "sick_leave", "学生": "student", "上学": "student",
    "在读": "student", "无": "none", "无工作": "none", "家务": "none",
})
housing_type = choice(HousingType, "住房类型", {
    "自有": "own", "自有产权": "own", "自购房": "own", "私房": "own", "公租": "public_rental",
    "廉租": "low_rent", "租房": "private_rental", "租住": "private_rental", "租赁": "private_rental",
    "借住": "borrowed", "寄住": "borrowed", "无房": "other",
})
area_band = choice(AreaBand, "住房面积档次", {"15㎡以下": "under_15", "15-30㎡": "15_30", "30-50㎡": "30_50",
                                           "50㎡以上": "over_50"})
model_worker = choice(ModelWorker, "劳模", {
    "否": "", "无": "", "不是": "", "全国": "national", "全国级": "national", "省级": "provincial",
    "省部级": "provincial", "省级劳模": "provincial", "市级": "city", "地市级": "city", "市级劳模": "city",
})
key_group = choice(KeyGroup, "重点群体")
legacy_tier = choice(LegacyTier, "档案级别", {"国家级": "national", "市级": "city", "县级": "county", "区级": "county"})


def housing_area(raw: object) -> float | str | None:
    """住房面积: a number of ㎡ (the band follows from household size) or a band's label."""
    key = _key(raw)
    if key is None:
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(?:㎡|m2|平方米|平米|平方)?", key.lower())
    if match:
        return float(match[1])
    return area_band(raw)


def band_for(area: float, size: int) -> str:
    per_person = area / max(size, 1)
    if per_person < 15:
        return str(AreaBand.UNDER_15)
    if per_person < 30:
        return str(AreaBand.FROM_15_TO_30)
    if per_person < 50:
        return str(AreaBand.FROM_30_TO_50)
    return str(AreaBand.OVER_50)


LEGACY_TO_CATEGORY = {LegacyCategory.DIBAO: Category.DEEP, LegacyCategory.NEAR_DIBAO: Category.RELATIVE,
                      LegacyCategory.ACCIDENT: Category.ACCIDENT}

# Person columns: on a member row, and on the household row for the primary worker.
PERSON_PARSERS: dict[str, Callable[[object], object]] = {
    "name": required_text("姓名", 64),
    "id_number": id_number,
    "sex": _hashable(functools.lru_cache(maxsize=64, typed=True)(optional_sex)),
    "ethnicity": _hashable(functools.lru_cache(maxsize=256, typed=True)(ethnicity)),
    "birth_date": optional_date,
    "relationship": relationship,
    "health": health,
    "disability": disability,
    "medical_insurance": medical_insurance,
    "work_status": work_status,
    "able_to_work": optional_bool(True),
    "employer": text(128),
    "monthly_income": money,
    "head_id_number": optional_id_number,
}

HOUSEHOLD_PARSERS: dict[str, Callable[[object], object]] = {
    "phone": text(32),
    "address": text(200),
    "household_size": count,
    "annual_income": money,
    "legacy_category": category,
    "original_category": legacy_category,
    "causes": causes,
    "secondary_causes": causes,
    "housing_type": housing_type,
    "housing_area": housing_area,
    "area_band": area_band,
    "model_worker": model_worker,
    "migrant_worker": optional_bool(False),
    "single_parent": optional_bool(False),
    "zero_employment": optional_bool(False),
    "self_reliant": optional_bool(False),
    "key_group": key_group,
    "legacy_tier": legacy_tier,
    "status": status,
    "filed_on": optional_date,
    "closed_on": optional_date,  # 退出日期 of a file kept as 已脱困 / 已解困 / 已注销
    "receives_dibao": optional_bool(False),
    "dibao_amount": money,
    "bank_name": text(64),
    "bank_branch": text(100),
    "bank_card": bank_card,
    **{name: money for name in (*Household.INCOME_FIELDS, *Household.COST_FIELDS)},
}

# Columns read for information only: the serial number, notes, the per-capita figure (recomputed here).
IGNORED_FIELDS = {"serial", "notes", "per_capita_income", "rejection_reason", "original_row"}
