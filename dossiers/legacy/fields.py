"""What each import field's cell means: one parser per field, for the household row and the person rows.

A parser takes the raw cell and returns the typed value or raises CellError (its message through gettext). Most
columns repeat a few values (性别, 与户主关系, 困难类别…), so the parsers of such columns are memoised per distinct raw
cell. Only values are memoised: lru_cache never stores a raised CellError, so a message is always made afresh, in the
language active at the time (see tests/dossiers/test_import_messages_english.py).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dossiers.choices import (
    ETHNIC_GROUPS,
    AreaBand,
    Category,
    Cause,
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
from hardship import punctuation

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
            raise CellError(_("“%(value)s”无法识别") % {"value": values._shown(raw)}) from None

    return wrapper


def choice(choices, unrecognised: str, aliases: dict[str, str] | None = None, blank: str = ""
           ) -> Callable[[object], str]:
    """A parser of a choice column by its Chinese labels (and common aliases); blank → `blank`. unrecognised: the
    message (marked with gettext_noop, translated when raised) for a cell that is none of them, with %(value)s and
    %(known)s (the Chinese labels the cell may hold)."""
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
            known = punctuation.enumeration_comma().join(label for label in _labels(choices) if label)
            raise CellError(_(unrecognised) % {"value": values._shown(raw), "known": known})
        return lookup[key]

    return _hashable(parse)


def text(max_length: int) -> Callable[[object], str]:
    def parse(raw: object) -> str:
        value = values.parse_text(raw, max_length=max_length)
        return _FORMULA_ESCAPE.sub("", value)

    return parse


def required_text(empty: str, max_length: int) -> Callable[[object], str]:
    """empty: the message (marked with gettext_noop) for a blank cell."""
    parse_plain = text(max_length)

    def parse(raw: object) -> str:
        value = parse_plain(raw)
        if not value:
            raise CellError(_(empty))
        return value

    return parse


def optional_bool(default: bool) -> Callable[[object], bool]:
    def parse(raw: object) -> bool:
        return default if _key(raw) is None else values.parse_bool(raw)

    return parse


_AFFIRMED = re.compile(r"^(已|有|是)")
_DENIED = re.compile(r"^(未|不|没有|没|无|非)")


def yes_no_for(parse: Callable[[object], bool], header: str) -> Callable[[object], bool]:
    """A yes/no column whose cells answer in the question's own words: 是否享受低保 → 享受 / 已享受 is yes,
    未享受 / 不享受 is no."""
    question = re.sub(r"^(是否|有无|有没有)|[(（].*", "", _key(header) or "")

    def answer(raw: object) -> bool:
        text = _key(raw) or ""
        for pattern, meaning in ((_DENIED, False), (_AFFIRMED, True), (None, True)):
            word = pattern.sub("", text) if pattern else text
            if (pattern is None or word != text) and len(word) >= 2 and word in question:
                return meaning
        return parse(raw)

    return answer


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
        raise CellError(_("家庭人口“%(value)s”无法识别，应为 1–30 的整数") % {"value": values._shown(raw)})
    return int(match[1])


@functools.lru_cache(maxsize=65536, typed=True)
def _id_number(raw: object) -> str:
    if isinstance(raw, str) and "*" in raw:
        raise CellError(_("身份证号码已打码（含 *），无法导入；请用有权查看完整号码的账号导出，或填写完整号码"))
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
    raise CellError(_("民族“%(value)s”无法识别，应为 56 个民族之一，如“汉族”“回族”") % {"value": values._shown(raw)})


def bank_card(raw: object) -> str | None:
    """Digits only; a masked number (our own export) → None, which keeps the card on file."""
    key = _key(raw)
    if key is None:
        return ""
    if "*" in key:
        return None
    digits = key.replace("-", "")
    if not re.fullmatch(r"\d{12,30}", digits):
        raise CellError(_("银行卡号“%(value)s”应为 12–30 位数字") % {"value": values._shown(raw)})
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
        raise CellError(_("困难类别“%(value)s”无法识别，应为“深度困难”“相对困难”“意外致困”，"
                          "或原类型“低保户”“低保边缘户”“意外致困户”") % {"value": values._shown(raw)}) from None


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
    raise CellError(_("档案状态“%(value)s”无法识别，应为“在档”“已脱困”“已解困”或“已注销”")
                    % {"value": values._shown(raw)})


status = _hashable(_status)


# Relationships as registers write them. As in GB/T 4761 (家庭关系代码), a son- or daughter-in-law counts with the
# children and a grandchild's spouse with the grandchildren.
_RELATIONSHIP_WORDS = {
    "self": "户主 本人 职工本人 职工 申请人 建档职工 户主本人",
    "spouse": "妻 夫 妻子 丈夫 爱人 老伴 夫妻 配偶 老婆 老公 前妻 前夫",
    "child": "子 女 儿子 女儿 长子 长女 次子 次女 三子 三女 四子 四女 小儿子 小女儿 大儿子 大女儿 二儿子 二女儿 之子 "
             "之女 独子 独女 独生子 独生女 养子 养女 继子 继女 儿媳 儿媳妇 媳妇 女婿 儿 子女",
    "parent": "父亲 母亲 父 母 岳父 岳母 公公 婆婆 爸爸 妈妈 继父 继母 养父 养母 父母",
    "sibling": "兄 弟 姐 妹 哥哥 弟弟 姐姐 妹妹 兄弟 姐妹 兄妹 姐弟",
    "grandchild": "孙子 孙女 外孙 外孙女 孙媳 孙媳妇 孙女婿 外孙子 重孙 曾孙",
    "grandparent": "祖父 祖母 外祖父 外祖母 爷爷 奶奶 姥姥 姥爷 外公 外婆",
    "other": "侄子 侄女 外甥 外甥女 叔叔 伯父 姑姑 舅舅 姨 其他亲属 亲属 其它",
}
relationship = choice(Relationship, gettext_noop("与户主关系“%(value)s”无法识别，应为：%(known)s"), {
    word: value for value, words in _RELATIONSHIP_WORDS.items() for word in words.split()
}, blank=str(Relationship.OTHER))
_health_words = choice(Health, gettext_noop("健康状况“%(value)s”无法识别，应为：%(known)s"), {
    "良好": "healthy", "一般": "healthy", "健康良好": "healthy", "好": "healthy", "正常": "healthy", "较好": "healthy",
    "患病": "chronic", "慢性疾病": "chronic", "长期慢性病": "chronic", "体弱": "chronic", "体弱多病": "chronic",
    "大病": "serious", "重病": "serious", "重特大疾病": "serious", "残": "disabled",
}, blank=str(Health.HEALTHY))
# Registers name the illness itself (患白血病, 慢阻肺, 智力残疾四级): read its kind from the words.
_HEALTH_WORDS = [
    (r"残", "disabled"),
    (r"癌|瘤|白血病|尿毒症|肾衰|透析|瘫|脑梗|脑出血|脑溢血|器官移植|心衰|肝硬化|重症|渐冻|血友病|再生障碍|红斑狼疮|"
     r"植物人|大病|重病|重大疾病", "serious"),
    (r"^患|坏死|病|症|炎|慢|高血压|糖尿|哮喘|风湿|心梗|中风|肺气肿|结核|痛风|骨质|椎|体弱|术后|"
     r"精神分裂|抑郁", "chronic"),
]


def by_words(parse: Callable[[object], str], words: list[tuple[str, str]]) -> Callable[[object], str]:
    """parse, and for a cell it cannot read, the value of the first pattern (most specific first) found in it."""
    patterns = [(re.compile(pattern), value) for pattern, value in words]

    def read(raw: object) -> str:
        try:
            return parse(raw)
        except CellError:
            text = _key(raw) or ""
            found = next((value for pattern, value in patterns if pattern.search(text)), None)
            if found is None:
                raise
            return found

    return read


health = by_words(_health_words, _HEALTH_WORDS)
disability = choice(Disability, gettext_noop("残疾类别“%(value)s”无法识别，应为：%(known)s"), {
    "否": "", "无残疾": "", "视力": "visual", "听力": "hearing", "言语": "speech", "肢体": "physical",
    "智力": "intellectual", "精神": "mental", "多重": "multiple",
})
medical_insurance = choice(MedicalInsurance, gettext_noop("医疗保险“%(value)s”无法识别，应为：%(known)s"), {
    **{word: "none" for word in values.NO_WORDS if word}, **{word: "insured" for word in values.YES_WORDS},
    "城镇职工医保": "employee", "职工基本医疗保险": "employee", "城镇职工基本医疗保险": "employee",
    "职工医疗保险": "employee",
    "居民医保": "resident", "城镇居民医保": "resident", "新农合": "resident", "新型农村合作医疗": "resident",
    "城乡居民基本医疗保险": "resident", "城乡居民医疗保险": "resident", "农合": "resident", "没有": "none",
    "未参加": "none", "无医保": "none", "已参保": "insured", "参保": "insured", "已参加": "insured",
    "有医保": "insured",
})
_work_words = choice(WorkStatus, gettext_noop("就业状况“%(value)s”无法识别，应为：%(known)s"), {
    "在职": "employed", "就业": "employed", "灵活就业": "employed", "下岗失业": "laid_off", "待业": "unemployed",
    "离岗": "laid_off", "离退休": "retired", "病退": "sick_leave", "学生": "student", "上学": "student",
    "在读": "student", "无": "none", "无工作": "none", "家务": "none",
})
_housing_words = choice(HousingType, gettext_noop("住房类型“%(value)s”无法识别，应为：%(known)s"), {
    "自有": "own", "自有产权": "own", "自购房": "own", "私房": "own", "公租": "public_rental",
    "廉租": "low_rent", "租房": "private_rental", "租住": "private_rental", "租赁": "private_rental",
    "借住": "borrowed", "寄住": "borrowed", "无房": "other",
})
# Free wording (借住亲友房, 单位公租房, 租住私房): the kind from its words, most specific first.
housing_type = by_words(_housing_words, [
    (r"借|寄住|亲友", "borrowed"), (r"廉租", "low_rent"), (r"公租|公房|单位宿舍|周转房", "public_rental"),
    (r"租", "private_rental"), (r"无房|无住房", "other"),
    (r"自有|自购|自建|私房|产权|房改|商品房|经济适用|安置房|祖宅|老宅", "own")])
# Free wording (长期病休, 灵活就业打零工, 在外务工): the status from its words, most specific first.
work_status = by_words(_work_words, [
    (r"病休|病退|病假", "sick_leave"), (r"内退|离岗", "early_retired"), (r"退休|离休", "retired"),
    (r"下岗", "laid_off"), (r"失业|待业", "unemployed"), (r"农民工", "migrant"),
    (r"学龄前|幼儿|婴儿|托儿", "preschool"), (r"在读|在校|上学|学生|读书|就读", "student"),
    (r"无业|无工作|家务|无固定", "none"), (r"在职|在岗|上班|务工|打工|灵活就业|个体|就业|工作", "employed")])


area_band = choice(AreaBand, gettext_noop("住房面积档次“%(value)s”无法识别，应为：%(known)s"), {
    "15㎡以下": "under_15", "15-30㎡": "15_30", "30-50㎡": "30_50", "50㎡以上": "over_50"})
# A level, or the yes/no of a 是否劳模 column (level not given).
model_worker = choice(ModelWorker, gettext_noop("劳模“%(value)s”无法识别，应为：%(known)s"), {
    **{word: "" for word in values.NO_WORDS if word}, **{word: "unspecified" for word in values.YES_WORDS},
    "全国": "national", "全国级": "national", "全国劳动模范": "national", "省级": "provincial",
    "省部级": "provincial", "省级劳模": "provincial", "省劳模": "provincial", "市级": "city", "地市级": "city",
    "市级劳模": "city", "市劳模": "city", "劳模": "unspecified",
})
key_group = choice(KeyGroup, gettext_noop("重点群体“%(value)s”无法识别，应为：%(known)s"))
legacy_tier = choice(LegacyTier, gettext_noop("档案级别“%(value)s”无法识别，应为：%(known)s"), {
    "国家级": "national", "市级": "city", "县级": "county", "区级": "county"})


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
    "name": required_text(gettext_noop("姓名不能为空"), 64),
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
    "household_key": text(64),  # 户编号: ties a member's row to its household's (rows.py), never stored
}

HOUSEHOLD_PARSERS: dict[str, Callable[[object], object]] = {
    "phone": text(32),
    "address": text(200),
    "household_size": count,
    "annual_income": money,
    "household_monthly_income": money,  # 家庭月收入: × 12 becomes the annual income when that is not given
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

# Columns read for information only: the serial number, notes, the per-capita figure (recomputed here), the head's
# name beside a member's.
IGNORED_FIELDS = {"serial", "notes", "per_capita_income", "rejection_reason", "original_row", "head_name"}


# --- what an admin can map an unreadable cell to (the preview's value mapping) ---------------------------------

_CHOICE_FIELDS = {"relationship": Relationship, "health": Health, "disability": Disability,
                  "medical_insurance": MedicalInsurance, "work_status": WorkStatus, "housing_type": HousingType,
                  "area_band": AreaBand, "model_worker": ModelWorker, "key_group": KeyGroup, "legacy_tier": LegacyTier,
                  "original_category": LegacyCategory}
BOOL_FIELDS = _BOOL_FIELDS = {"able_to_work", "migrant_worker", "single_parent", "zero_employment", "self_reliant",
                "receives_dibao"}
_CAUSE_FIELDS = {"causes", "secondary_causes"}


def vocabulary(key: str) -> list[str] | None:
    """The Chinese values a cell of this field can be mapped to, or None when the field is not a vocabulary."""
    with translation.override("zh-hans"):
        if key in _CHOICE_FIELDS:
            return [str(label) for _value, label in _CHOICE_FIELDS[key].choices]
        if key in _BOOL_FIELDS:
            return ["是", "否"]
        if key in _CAUSE_FIELDS:
            return [str(label) for _value, label in Cause.choices]
        if key == "sex":
            return ["男", "女"]
        if key == "legacy_category":
            return ["深度困难", "相对困难", "意外致困", "低保户", "低保边缘户", "意外致困户"]
        if key == "status":
            return ["在档", "已脱困", "已解困", "已注销"]
    return None


def with_values(key: str, parse: Callable[[object], object], table: dict[str, str] | None):
    """parse, reading the admin's mapped cells (cell text → one of vocabulary(key), "" for blank) first."""
    if not table:
        return parse
    if key in _CAUSE_FIELDS:
        codes = values.cause_codes()
        aliases = {text: codes[label] for text, label in table.items() if label in codes}
        return _hashable(lambda raw: tuple(values.parse_causes(raw, aliases)))

    def mapped(raw: object):
        text = _key(raw)
        return parse(table[text] or None) if text in table else parse(raw)

    return mapped
