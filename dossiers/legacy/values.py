"""Cell parsers for legacy (pre-system) hardship registers kept in Excel/CSV.

Each parser takes a raw cell — str, int, float, date/datetime or None — and returns a typed value or
raises CellError with a precise message (gettext: Chinese by default, English in an English interface). Pure
Python: no database, no models.
"""

import calendar
import contextlib
import datetime
import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from dossiers.choices import Cause
from hardship import idnumbers

EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial 1 = 1900-01-01 once the fake 1900-02-29 (serial 60) is skipped
MAX_EXCEL_SERIAL = 2958465  # 9999-12-31
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_WHITESPACE_RUN = re.compile(r"\s+")
_MONEY = re.compile(r"([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(万)?元?")
_MONEY_LIMIT = Decimal(10) ** 15
_NO_AMOUNT = {"无", "没有", "-", "—", "/", "／", "零"}  # what registers write for no income at all


class CellError(ValueError):
    """A cell that cannot be read; str(error) is the message, in the language active when it was raised."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.value: str | None = None  # the part of the cell that could not be read, when not the whole cell
        super().__init__(message)


def _text(raw: object) -> str:
    """The cell as text: NFKC (full-width → half-width, 　 → space), zero-width characters removed, stripped."""
    return _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", str(raw))).strip()


def _shown(raw: object) -> str:
    return str(raw).strip()


def _is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not _text(raw))


def _number(raw: object) -> int | float | None:
    """A numeric (non-bool) cell, or None for anything else."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw
    return None


def parse_money(raw: object) -> Decimal:
    """金额 → Decimal with 2 places (ROUND_HALF_UP); blank → 0.00. Accepts 12,000 / 1.2万元 / ¥3,600.00."""
    if _is_blank(raw) or (isinstance(raw, str) and _text(raw) in _NO_AMOUNT):
        return Decimal("0.00")
    unrecognised = CellError(_("金额“%(value)s”无法识别") % {"value": _shown(raw)})
    number = _number(raw)
    if number is not None:
        if isinstance(number, float) and not math.isfinite(number):
            raise unrecognised
        value = Decimal(str(number))
    elif isinstance(raw, str):
        text = re.sub(r"[\s,]", "", _text(raw)).removeprefix("¥").removeprefix("RMB")
        match = _MONEY.fullmatch(text)
        if not match:
            raise unrecognised
        value = Decimal(match[2]) * (10000 if match[3] else 1)
        if match[1] == "-":
            value = -value
    else:
        raise unrecognised
    if value < 0:
        raise CellError(_("金额不能为负数"))
    if value >= _MONEY_LIMIT:
        raise unrecognised
    if value == 0:
        return Decimal("0.00")  # not -0.00
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_date(raw: object, *, day_default: int = 1) -> datetime.date:
    """日期: 1985.03 / 1985年3月7日 / 1985-03-07 / 19850307 / date objects / Excel serial numbers.

    A missing day becomes day_default (clamped to the month's last day). Blank → CellError.
    """
    if _is_blank(raw):
        raise CellError(_("日期不能为空"))
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    unrecognised = CellError(_("日期“%(value)s”无法识别") % {"value": _shown(raw)})
    number = _number(raw)
    if number is not None:
        return _date_from_number(number, raw, day_default)
    if not isinstance(raw, str):
        raise unrecognised
    text = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", _text(raw))  # "1985-03-07 00:00:00"
    text = re.sub(r"\s", "", text)
    match = (re.fullmatch(r"(\d{4})(\d{2})(\d{2})?", text)
             or re.fullmatch(r"(\d{4})[年./-](\d{1,2})(?:月|[月./-](\d{1,2})[日号]?)?", text))
    if not match:
        raise unrecognised
    year, month = int(match[1]), int(match[2])
    return _make_date(year, month, int(match[3]) if match[3] else None, raw, day_default)


def _date_from_number(number: int | float, raw: object, day_default: int) -> datetime.date:
    if isinstance(number, float) and not math.isfinite(number):
        raise CellError(_("日期“%(value)s”无法识别") % {"value": _shown(raw)})
    whole = int(number)
    if 1900 <= whole <= 2099 and whole != number:  # Excel turned "1985.03" into the number 1985.03
        year, fraction = repr(float(number)).split(".")
        if fraction == "1":
            raise CellError(_("日期“%(value)s”有歧义：Excel 把“%(year)s.10”和“%(year)s.1”都存成了数字 %(year)s.1，"
                              "请把该列设为文本格式后重新填写") % {"value": _shown(raw), "year": year})
        return _make_date(int(year), int(fraction) if len(fraction) <= 2 else 0, None, raw, day_default)
    if 1900 <= whole <= 2099:
        raise CellError(_("日期“%(value)s”缺少月份") % {"value": _shown(raw)})
    if 19000101 <= whole <= 20991231 and whole == number:  # 19850307 typed as a number
        return _make_date(whole // 10000, whole // 100 % 100, whole % 100, raw, day_default)
    if not 1 <= whole <= MAX_EXCEL_SERIAL or whole == 60:  # 60 is Excel's non-existent 1900-02-29
        raise CellError(_("日期“%(value)s”无效") % {"value": _shown(raw)})
    return EXCEL_EPOCH + datetime.timedelta(days=whole if whole > 59 else whole + 1)


def _make_date(year: int, month: int, day: int | None, raw: object, day_default: int) -> datetime.date:
    if not 1900 <= year <= 2100 or not 1 <= month <= 12:
        raise CellError(_("日期“%(value)s”无效") % {"value": _shown(raw)})
    if day is None:
        day = max(1, min(day_default, calendar.monthrange(year, month)[1]))
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise CellError(_("日期“%(value)s”无效：%(year)s年%(month)s月没有%(day)s日")
                        % {"value": _shown(raw), "year": year, "month": month, "day": day}) from None


YES_WORDS = frozenset({"是", "√", "✓", "✔", "☑", "y", "yes", "1", "有", "true", "是的", "对"})
NO_WORDS = frozenset({"否", "×", "✗", "✘", "☒", "x", "n", "no", "0", "无", "false", "", "不是", "没有", "非", "—", "-",
                      "/"})
_TRUE, _FALSE = YES_WORDS, NO_WORDS


def parse_bool(raw: object) -> bool:
    """是/否, √/×, Y/N, 1/0, 有/无; blank → False."""
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    number = _number(raw)
    if number is not None:
        text = {0: "0", 1: "1"}.get(number, "?")  # 1.0 counts as 1
    else:
        text = _text(raw).lower() if isinstance(raw, str) else "?"
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(_("“%(value)s”无法识别为是或否，请填写“是”或“否”") % {"value": _shown(raw)})


def parse_sex(raw: object) -> str:
    """男/男性 → "M", 女/女性 → "F"."""
    if _is_blank(raw):
        raise CellError(_("性别不能为空"))
    text = re.sub(r"\s", "", _text(raw)).lower() if isinstance(raw, str) else ""
    if text in ("男", "男性", "男士", "m"):
        return "M"
    if text in ("女", "女性", "女士", "f"):
        return "F"
    raise CellError(_("性别“%(value)s”无法识别，应为“男”或“女”") % {"value": _shown(raw)})


# How registers phrase the causes; "因病致困", "因学致贫" are read as 病, 学 once the 因…致困 frame is taken off.
_CAUSE_ALIASES = {
    "重大疾病": 6, "大病": 6, "病": 6, "疾病": 6, "患病": 6, "重病": 6, "生病": 6, "大病重病": 6, "病残": 6,
    "残": 1, "残疾": 1, "丧失劳动能力": 1, "无劳力": 1, "缺劳力": 1, "缺乏劳动力": 1,
    "下岗": 3, "失业": 3, "失业下岗": 3, "企业破产": 3, "改制": 3, "企业改制": 3,
    "无业": 2, "未就业": 2, "待业": 2, "就业难": 2,
    "学": 9, "子女就学": 9, "上学": 9, "就学": 9, "教育": 9, "子女教育": 9, "学费": 9,
    "灾": 7, "受灾": 7, "灾害": 7, "自然灾": 7,
    "意外": 8, "事故": 8, "意外伤害": 8, "车祸": 8, "突发事件": 8,
    "未参加社保": 4, "没有参保": 4, "无社保": 4, "社保待遇": 5, "其它": 10,
}
_CAUSE_FRAME = re.compile(r"^因|(致困|致贫|导致困难|造成困难|困难)$")
_CAUSE_SEPARATORS = re.compile(r"[、,;/\s+]+|和|及")


# A cause phrased freely (社保未落实, 就业困难, 丈夫车祸去世): its kind from the words, most specific first.
_CAUSE_WORDS = [(re.compile(pattern), code) for pattern, code in (
    (r"未参保|没有参保|没参保|未参加|没有参加|没参加|无保险|无社保|未缴|断缴", 4),
    (r"社保|保险待遇|待遇未落实|待遇", 5),
    (r"下岗|失业|破产|改制|买断|裁员|停产", 3), (r"残|丧失劳动|无劳动能力|无劳力|缺劳力", 1),
    (r"就业|无业|待业|无工作|找不到工作", 2), (r"灾|火灾|洪|地震|冰雹", 7),
    (r"意外|事故|车祸|工伤|伤亡|去世|身故", 8), (r"病|癌|医疗|住院|手术|治疗", 6),
    (r"学|教育|学费|读书|上大学", 9))]


def _cause_from_words(name: str) -> int | None:
    return next((code for pattern, code in _CAUSE_WORDS if pattern.search(name)), None)


def cause_codes() -> dict[str, int]:
    """Each cause's Chinese label → its code."""
    with translation.override("zh-hans"):
        return {str(label): int(value) for value, label in Cause.choices}


def _cause_names() -> dict[str, int]:
    with translation.override("zh-hans"):
        names = {str(label): int(value) for value, label in Cause.choices}
    return {**_CAUSE_ALIASES, **names}


def parse_causes(raw: object, aliases: dict[str, int] | None = None) -> list[int]:
    """致困原因: "6", "6-重特大疾病", "重特大疾病", "3、6、9", "下岗失业，子女上学", "因病致困" → codes in order,
    deduplicated; `aliases` adds an admin's own wordings (from the import's mapping). Blank → [].
    """
    if _is_blank(raw) or (isinstance(raw, str) and _text(raw) in _NO_AMOUNT | {"无", "暂无"}):
        return []  # 无: no (secondary) cause
    number = _number(raw)
    if number is not None:
        if not (math.isfinite(number) and number == int(number)):
            raise CellError(_("致困原因“%(value)s”无法识别") % {"value": _shown(raw)})
        text = str(int(number))
    elif isinstance(raw, str):
        text = _text(raw)
    else:
        raise CellError(_("致困原因“%(value)s”无法识别") % {"value": _shown(raw)})
    names = {**_cause_names(), **(aliases or {})}
    codes: list[int] = []
    for part in _CAUSE_SEPARATORS.split(text):
        if part:
            code = _cause_code(part, names)
            if code not in codes:
                codes.append(code)
    return codes


def _cause_code(part: str, names: dict[str, int]) -> int:
    # "6", "6-重特大疾病", "6.重特大疾病", "6(重特大疾病)"
    match = re.fullmatch(r"([0-9]{1,3})(?![0-9])\W*(.*?)\)?", part)
    code, name = (int(match[1]), match[2]) if match else (None, part)
    if code is not None and code not in Cause.values:
        raise CellError(_("致困原因编号“%(code)s”无效，应为 1–10") % {"code": match[1]})
    if name and name not in names:
        name = _CAUSE_FRAME.sub("", name) or name
    if name and name not in names and code is None and (guessed := _cause_from_words(name)):
        return guessed
    if name and name not in names:
        error = CellError(_("致困原因“%(value)s”无法识别") % {"value": part})
        error.value = part  # grouped by this part in the preview, where one mapping fixes every row with it
        raise error
    if code is not None and name and names[name] != code:
        raise CellError(_("致困原因“%(value)s”的编号与名称不一致") % {"value": part})
    return code if code is not None else names[name]


_LEGACY_CATEGORIES = {
    "低保户": "dibao", "低保": "dibao", "低保家庭": "dibao",
    "低保边缘户": "near_dibao", "低保边缘": "near_dibao", "低保边缘家庭": "near_dibao",
    "意外致困户": "accident", "意外致困": "accident", "意外致困家庭": "accident",
    "无": "",
}


def parse_legacy_category(raw: object) -> str:
    """原困难类型: 低保户 → "dibao", 低保边缘户 → "near_dibao", 意外致困户 → "accident"; blank → ""."""
    if _is_blank(raw):
        return ""
    text = re.sub(r"\s", "", _text(raw)) if isinstance(raw, str) else None
    if text not in _LEGACY_CATEGORIES:
        raise CellError(_("困难类别“%(value)s”无法识别，应为“低保户”“低保边缘户”或“意外致困户”")
                        % {"value": _shown(raw)})
    return _LEGACY_CATEGORIES[text]


def parse_id_number(raw: object) -> str:
    """公民身份号码 → the 18-character number (15-digit numbers converted)."""
    if isinstance(raw, float) and raw.is_integer() and 10 ** 14 <= raw < 10 ** 15:
        with contextlib.suppress(idnumbers.IdNumberError):
            return idnumbers.parse(str(int(raw))).number  # an old 15-digit number fits a float exactly
    if isinstance(raw, float):
        raw = "1E+17"  # an 18-digit number does not: Excel mangled it; idnumbers says so
    elif isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    elif raw is not None and not isinstance(raw, str):
        raise CellError(_("身份证号码“%(value)s”无法识别") % {"value": _shown(raw)})
    if raw and len(raw) == 18 and idnumbers.is_valid_18(raw):
        return raw
    try:
        return idnumbers.parse(raw or "").number
    except idnumbers.IdNumberError as error:
        raise CellError(error.message) from None


def parse_text(raw: object, *, max_length: int) -> str:
    """Text: stripped, internal whitespace collapsed to one space; longer than max_length → CellError."""
    if raw is None:
        return ""
    if isinstance(raw, float) and math.isfinite(raw) and raw == int(raw):
        raw = int(raw)  # 13800138000.0 → "13800138000"
    text = _WHITESPACE_RUN.sub(" ", _ZERO_WIDTH.sub("", str(raw))).strip()
    if len(text) > max_length:
        raise CellError(_("内容过长：最多 %(max)s 个字，现在是 %(length)s 个字")
                        % {"max": max_length, "length": len(text)})
    return text
