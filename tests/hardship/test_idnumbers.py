"""公民身份号码: normalization, validation, 15 → 18 conversion, masking, cross-checks. No database."""

import datetime
import random

import pytest
from django.utils import translation

from hardship.idnumbers import (
    IdNumber,
    IdNumberError,
    check_against,
    check_character,
    generate,
    is_valid_18,
    mask,
    normalize,
    parse,
)

CANONICAL = "11010519491231002X"  # the example published with GB 11643-1999
# Computed by hand from the weights, independent of generate():
KNOWN_VALID = [
    (CANONICAL, datetime.date(1949, 12, 31), "F"),
    ("410102198503071232", datetime.date(1985, 3, 7), "M"),
    ("420102197211300168", datetime.date(1972, 11, 30), "F"),
    ("440305200002299998", datetime.date(2000, 2, 29), "M"),
    ("650102195806010008", datetime.date(1958, 6, 1), "F"),
    ("810000199001150353", datetime.date(1990, 1, 15), "M"),
]
REGIONS = [
    "110105", "120101", "130102", "140105", "150102", "210102", "220102", "230102", "310101", "320102",
    "330102", "340102", "350102", "360102", "370102", "410102", "410105", "420102", "430102", "440305",
    "450102", "460105", "500101", "510104", "520102", "530102", "540102", "610102", "620102", "630102",
    "640104", "650102", "710000", "810000", "820000", "830000",
]


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def rejected(raw: str, **kwargs) -> IdNumberError:
    with pytest.raises(IdNumberError) as caught:
        parse(raw, **kwargs)
    return caught.value


def test_it_computes_the_check_character_of_the_published_example():
    assert check_character(CANONICAL[:17]) == "X"
    for number, _birth, _sex in KNOWN_VALID:
        assert check_character(number[:17]) == number[17]
    with pytest.raises(ValueError):
        check_character("1101051949123100")


@pytest.mark.parametrize("number, birth, sex", KNOWN_VALID)
def test_it_parses_known_valid_numbers(number, birth, sex):
    parsed = parse(number)
    assert parsed == IdNumber(number, birth, sex, was_legacy=False)
    assert parsed.region_code == number[:6]


def test_it_round_trips_a_few_hundred_generated_numbers():
    rng = random.Random(11643)
    first, last = datetime.date(1930, 1, 1).toordinal(), datetime.date(2010, 12, 31).toordinal()
    for _ in range(400):
        region, sex, seq = rng.choice(REGIONS), rng.choice("MF"), rng.randrange(500)
        birth = datetime.date.fromordinal(rng.randint(first, last))
        number = generate(region, birth, seq, sex)
        parsed = parse(number)
        assert (parsed.number, parsed.birth_date, parsed.sex, parsed.region_code, parsed.was_legacy) == (
            number, birth, sex, region, False)
        assert parse(number.lower()).number == number
        if birth.year < 2000:  # the same person's legacy 15-digit number converts back to this one
            legacy = number[:6] + number[8:17]
            assert parse(legacy) == IdNumber(number, birth, sex, was_legacy=True)


def test_it_rejects_every_single_character_corruption():
    rng = random.Random(2260)
    numbers = [number for number, _birth, _sex in KNOWN_VALID] + [
        generate(rng.choice(REGIONS), datetime.date(rng.randint(1930, 2010), rng.randint(1, 12), rng.randint(1, 28)),
                 rng.randrange(500), rng.choice("MF"))
        for _ in range(20)
    ]
    tried = 0
    for number in numbers:
        for position, original in enumerate(number):
            replacements = "0123456789X" if position == 17 else "0123456789"
            for replacement in replacements.replace(original, ""):
                corrupted = number[:position] + replacement + number[position + 1:]
                assert rejected(corrupted).code in {"check", "birth_date", "region"}, corrupted
                tried += 1
    assert tried == len(numbers) * (17 * 9 + 10)


def test_it_reports_the_expected_check_character():
    error = rejected("110105194912310021")
    assert error.code == "check"
    assert str(error) == "身份证号码校验位错误：最后一位应为 X，现在是 1"


def test_it_converts_legacy_15_digit_numbers():
    parsed = parse("110105491231002")
    assert parsed == IdNumber(CANONICAL, datetime.date(1949, 12, 31), "F", was_legacy=True)
    assert parse(" 410102-850307-123 ").number == "410102198503071232"


@pytest.mark.parametrize("raw", [
    " 11010519491231002x ",
    "11010519491231002ｘ",
    "11010519491231002Ｘ",
    "１１０１０５１９４９１２３１００２Ｘ",
    "110105 19491231 002X",
    "110105\u300019491231\u3000002X",
    "\u3000110105\xa019491231\t002X\n",
    "110105-19491231-002X",
    "1101０5 1949-1231－002x",
])
def test_it_normalizes_full_width_digits_spaces_hyphens_and_lowercase_x(raw):
    assert normalize(raw) == CANONICAL
    assert parse(raw).number == CANONICAL


def test_it_normalizes_without_validating():
    assert normalize("  ab-c x ") == "abcX"
    assert normalize("") == ""


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", " - "])
def test_it_rejects_empty_values(raw):
    error = rejected(raw)
    assert (error.code, str(error)) == ("empty", "身份证号码不能为空")


@pytest.mark.parametrize("raw", [
    "4.10102198503071E+17", "4.1010219850307E17", "4.10102198503071e+17", " 4.10102E+17 ", "1.10105E+17",
])
def test_it_rejects_excel_scientific_notation(raw):
    error = rejected(raw)
    assert error.code == "numeric_cell"
    assert "科学计数法" in str(error) and "文本格式" in str(error)


@pytest.mark.parametrize("raw, length", [
    ("1101051949123100", 16), ("1101051949123100211", 19), ("41010219850307", 14), ("1", 1),
])
def test_it_rejects_wrong_lengths(raw, length):
    error = rejected(raw)
    assert error.code == "length"
    assert str(error) == f"身份证号码应为 18 位（或旧的 15 位），现在是 {length} 位"


@pytest.mark.parametrize("raw", [
    "11010519491231002Y", "1101O519491231002X", "11010519491X31002X", "11010549123100X", "身份证", "110105.491231002",
])
def test_it_rejects_letters_and_other_characters(raw):
    error = rejected(raw)
    assert (error.code, str(error)) == ("characters", "身份证号码只能包含数字，18 位号码最后一位可以是 X")


@pytest.mark.parametrize("region", ["000000", "990101", "100000", "160101", "700000", "840000", "910000"])
def test_it_rejects_unknown_province_codes(region):
    error = rejected(generate(region, datetime.date(1985, 3, 7), 61, "M"))
    assert error.code == "region"
    assert str(error) == f"身份证号码前两位（省份代码 {region[:2]}）无效"
    assert rejected(region + "850307123").code == "region"


@pytest.mark.parametrize("first17, shown", [
    ("41010219850230123", "1985-02-30"),
    ("41010219851307123", "1985-13-07"),
    ("41010219850007123", "1985-00-07"),
    ("41010219850300123", "1985-03-00"),
    ("41010219010229123", "1901-02-29"),
    ("41010218991231123", "1899-12-31"),
])
def test_it_rejects_impossible_birth_dates(first17, shown):
    error = rejected(first17 + check_character(first17))
    assert error.code == "birth_date"
    assert str(error) == f"身份证号码中的出生日期 {shown} 无效"


def test_it_rejects_impossible_birth_dates_in_legacy_numbers():
    error = rejected("410102850230123")
    assert (error.code, str(error)) == ("birth_date", "身份证号码中的出生日期 1985-02-30 无效")


def test_it_rejects_future_birth_dates():
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    error = rejected(generate("410102", tomorrow, 1, "F"))
    assert error.code == "birth_date"
    assert str(error) == f"身份证号码中的出生日期 {tomorrow.isoformat()} 晚于今天"
    assert parse(generate("410102", datetime.date.today(), 1, "F")).birth_date == datetime.date.today()
    number = generate("410102", datetime.date(2020, 5, 1), 1, "F")
    assert rejected(number, today=datetime.date(2020, 4, 30)).code == "birth_date"
    assert parse(number, today=datetime.date(2020, 5, 1)).birth_date == datetime.date(2020, 5, 1)


def test_it_raises_value_errors_with_a_code_and_django_style_params():
    error = rejected("1101051949123100")
    assert isinstance(error, ValueError)
    assert (error.code, error.params) == ("length", {"length": 16})
    assert str(error.template) % error.params == error.message == str(error)


def test_it_masks_numbers():
    assert parse(CANONICAL).masked() == "110105********002X"
    assert mask("410102198503071232") == "410102********1232"
    assert mask("110105491231002") == "***********1002"
    assert mask("1234") == "****"
    assert mask("") == ""
    assert CANONICAL not in repr(parse(CANONICAL))


def test_it_generates_numbers_with_the_sex_in_the_17th_digit():
    birth = datetime.date(1985, 3, 7)
    assert generate("410102", birth, 61, "M") == "410102198503071232"
    numbers = {generate("410102", birth, seq, sex) for seq in range(500) for sex in "MF"}
    assert len(numbers) == 1000
    assert all(parse(n).sex == ("M" if int(n[16]) % 2 else "F") for n in numbers)
    for bad in [("41010", birth, 1, "M"), ("410102", birth, 500, "M"), ("410102", birth, -1, "F"),
                ("410102", birth, 1, "男")]:
        with pytest.raises(ValueError):
            generate(*bad)


def test_it_finds_nothing_to_complain_about_when_the_form_agrees():
    parsed = parse(CANONICAL)
    assert check_against(parsed) == {}
    assert check_against(parsed, birth_date=datetime.date(1949, 12, 31), sex="F") == {}


def test_it_reports_disagreements_with_the_id_number():
    assert check_against(parse("410102198503071232"), birth_date=datetime.date(1985, 7, 3), sex="F") == {
        "birth_date": "出生日期与身份证号码不一致（号码中为 1985-03-07）",
        "sex": "性别与身份证号码不一致（号码中为 男）",
    }
    assert check_against(parse(CANONICAL), sex="M") == {"sex": "性别与身份证号码不一致（号码中为 女）"}


def test_the_quick_check_agrees_with_the_full_parse_on_every_single_character_change():
    """is_valid_18 is a shortcut for clean cells: it may only say yes where parse() says yes."""
    from hardship import idnumbers

    rng = random.Random(11643)
    numbers = [idnumbers.generate(f"{rng.choice(['11', '41', '65'])}0102", datetime.date(1950, 1, 1)
                                  + datetime.timedelta(days=rng.randrange(25000)), rng.randrange(500),
                                  rng.choice("MF")) for _ in range(60)]
    for number in numbers:
        assert idnumbers.is_valid_18(number)
        for position in range(18):
            for replacement in "0123456789X":
                changed = number[:position] + replacement + number[position + 1:]
                try:
                    full = idnumbers.parse(changed).number == changed
                except idnumbers.IdNumberError:
                    full = False
                assert idnumbers.is_valid_18(changed) == full, changed


@pytest.mark.parametrize("hour", [0, 23])
def test_it_takes_today_as_the_beijing_day(hour):
    """At 00:30 Beijing time the UTC date is still yesterday: a baby born today is not "born in the future"."""
    import time_machine

    from tests.dossiers.conftest import at_beijing

    today = datetime.date(2026, 6, 15)
    with time_machine.travel(at_beijing(today, hour, 30), tick=False):
        number = generate("410102", today, 1, "F")
        assert parse(number).birth_date == today
        assert is_valid_18(number)
        assert rejected(generate("410102", today + datetime.timedelta(days=1), 1, "F")).code == "birth_date"
