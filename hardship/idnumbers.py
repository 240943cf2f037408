"""公民身份号码 (GB 11643-1999): clean up, validate, convert 15 → 18 digits, mask.

Pure Python; the only Django import is gettext_lazy for the messages.
"""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
# First two digits: provinces of GB/T 2260, plus 71 台湾 and 81/82/83 (港澳台居民居住证).
PROVINCE_CODES = frozenset(
    [f"{n}" for n in [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55),
                      *range(61, 66), 71, 81, 82, 83]]
)
EARLIEST_BIRTH = datetime.date(1900, 1, 1)

_FULL_WIDTH = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, "Ｘ": "X", "ｘ": "X", "x": "X"})
_SEPARATORS = re.compile(r"[\s\u200b\ufeff\-\u2010\u2011\u2013\u2014\uff0d]+")
_SCIENTIFIC = re.compile(r"\d+(\.\d*)?E\+?\d+", re.IGNORECASE)
_DIGITS_17 = re.compile(r"[0-9]{17}")
_ALLOWED = re.compile(r"[0-9X]+")
_SHAPE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9X]")


class IdNumberError(ValueError):
    """A rejected ID number. `template` and `params` fit ValidationError(template, code=code, params=params)."""

    def __init__(self, template: str, code: str, params: dict | None = None) -> None:
        self.template, self.code, self.params = template, code, params or {}
        super().__init__(template)

    @property
    def message(self) -> str:
        return str(self.template) % self.params if self.params else str(self.template)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: datetime.date
    sex: str
    was_legacy: bool

    @property
    def region_code(self) -> str:
        return self.number[:6]

    def masked(self) -> str:
        return mask(self.number)

    def __repr__(self) -> str:  # keep full numbers out of logs and tracebacks
        return f"IdNumber({self.masked()!r}, birth_date={self.birth_date!r}, sex={self.sex!r})"


def normalize(raw: str) -> str:
    return _SEPARATORS.sub("", raw.strip()).translate(_FULL_WIDTH)


def check_character(first17: str) -> str:
    if not _DIGITS_17.fullmatch(first17):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    return CHECK_CHARACTERS[sum(map(int.__mul__, map(int, first17), WEIGHTS)) % 11]


_CLEAN_18 = re.compile(r"[1-8][0-9]{16}[0-9X]")


def is_valid_18(number: str) -> bool:
    """The quick yes for an already clean 18-character number (what most cells hold); anything else → parse()."""
    if not _CLEAN_18.fullmatch(number) or number[:2] not in PROVINCE_CODES:
        return False
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return EARLIEST_BIRTH <= birth <= timezone.localdate() and number[17] == check_character(number[:17])


def parse(raw: str, *, today: datetime.date | None = None) -> IdNumber:
    number = normalize(raw or "")
    if not number:
        raise IdNumberError(_("身份证号码不能为空"), "empty")
    if _SCIENTIFIC.fullmatch(number):
        raise IdNumberError(
            _("身份证号码被 Excel 存成了数字（科学计数法，只保留 15 位有效数字），后几位已经丢失，"
              "请把该列设为文本格式后重新填写"),
            "numeric_cell",
        )
    if not _ALLOWED.fullmatch(number):
        raise _characters()
    if len(number) not in (15, 18):
        raise IdNumberError(_("身份证号码应为 18 位（或旧的 15 位），现在是 %(length)d 位"), "length",
                            {"length": len(number)})
    if not _SHAPE.fullmatch(number):
        raise _characters()
    legacy = len(number) == 15
    first17 = number[:6] + "19" + number[6:] if legacy else number[:17]

    if first17[:2] not in PROVINCE_CODES:
        raise IdNumberError(_("身份证号码前两位（省份代码 %(province)s）无效"), "region", {"province": first17[:2]})

    birth = _birth_date(first17[6:14], today or timezone.localdate())
    expected = check_character(first17)
    if not legacy and number[17] != expected:
        raise IdNumberError(_("身份证号码校验位错误：最后一位应为 %(expected)s，现在是 %(actual)s"), "check",
                            {"expected": expected, "actual": number[17]})
    return IdNumber(first17 + expected, birth, "M" if int(first17[16]) % 2 else "F", legacy)


def _birth_date(digits: str, today: datetime.date) -> datetime.date:
    """YYYYMMDD of the number: a real date, not before EARLIEST_BIRTH and not after today (Beijing)."""
    shown = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    try:
        birth = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        birth = None
    if birth is None or birth < EARLIEST_BIRTH:
        raise IdNumberError(_("身份证号码中的出生日期 %(date)s 无效"), "birth_date", {"date": shown})
    if birth > today:
        raise IdNumberError(_("身份证号码中的出生日期 %(date)s 晚于今天"), "birth_date", {"date": shown})
    return birth


def _characters() -> IdNumberError:
    return IdNumberError(_("身份证号码只能包含数字，18 位号码最后一位可以是 X"), "characters")


def mask(number: str) -> str:
    if len(number) == 18:
        return number[:6] + "*" * 8 + number[-4:]
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


# 12 or more digits (half- or full-width), each maybe after one separator, then an ID number's final X: ID numbers
# (15 or 18 characters) and bank cards (12–30 digits) as people type them. Phone numbers (11 digits) stay.
# A file number (410102-2026-000001) is not personal data and stays.
_LONG_NUMBER = re.compile(r"(?<![0-9０-９])(?![0-9]{6}-[0-9]{4}-[0-9]{6}(?![0-9]))"
                          r"[0-9０-９](?:[\s\-－]?[0-9０-９]){11,}[XxＸｘ]?(?![0-9０-９])")


def mask_numbers(text: str) -> str:
    """text with every ID or bank-card number in it masked (free text: messages that quote a cell, say)."""
    return _LONG_NUMBER.sub(lambda found: mask(_SEPARATORS.sub("", found[0].translate(_FULL_WIDTH))), text)


def generate(region: str, birth: datetime.date, seq: int, sex: str) -> str:
    """A valid 18-character number; the order code is seq * 2 + (1 for "M", 0 for "F"), so seq runs 0–499."""
    if not re.fullmatch(r"[0-9]{6}", region) or not 0 <= seq <= 499 or sex not in ("M", "F"):
        raise ValueError("region must be 6 digits, seq 0–499, sex 'M' or 'F'")
    first17 = f"{region}{birth:%Y%m%d}{seq * 2 + (sex == 'M'):03d}"
    return first17 + check_character(first17)


def check_against(id_number: IdNumber, *, birth_date: datetime.date | None = None,
                  sex: str | None = None) -> dict[str, str]:
    """Field name → message for each given value that disagrees with the ID number."""
    problems: dict[str, str] = {}
    if birth_date is not None and birth_date != id_number.birth_date:
        problems["birth_date"] = _("出生日期与身份证号码不一致（号码中为 %(date)s）") % {
            "date": id_number.birth_date.isoformat()}
    if sex is not None and sex != id_number.sex:
        problems["sex"] = _("性别与身份证号码不一致（号码中为 %(sex)s）") % {
            "sex": _("男") if id_number.sex == "M" else _("女")}
    return problems
