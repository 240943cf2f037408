"""Cell parsers for legacy Excel/CSV registers (dossiers.legacy.values). No database."""

import datetime
import random
from decimal import Decimal

import pytest

from dossiers.legacy.values import (
    CellError,
    parse_bool,
    parse_causes,
    parse_date,
    parse_id_number,
    parse_legacy_category,
    parse_money,
    parse_sex,
    parse_text,
)
from hardship.idnumbers import check_character

D = datetime.date


def _error(parser, raw, **kwargs) -> str:
    with pytest.raises(CellError) as info:
        parser(raw, **kwargs)
    return str(info.value)


# --- money ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (12000, "12000.00"),
    (12000.5, "12000.50"),
    (0, "0.00"),
    ("12000", "12000.00"),
    ("12,000", "12000.00"),
    ("12，000", "12000.00"),
    ("12000元", "12000.00"),
    ("1.2万", "12000.00"),
    ("1.2万元", "12000.00"),
    ("0.35万", "3500.00"),
    (" ¥3,600.00 ", "3600.00"),
    ("￥3600", "3600.00"),
    ("１２０００", "12000.00"),
    ("１．５万元", "15000.00"),
    ("\u30003600\u3000", "3600.00"),
    ("3 600", "3600.00"),
    ("100.005", "100.01"),  # ROUND_HALF_UP
    ("100.004", "100.00"),
    (0.125, "0.13"),
    ("+50", "50.00"),
    (".5", "0.50"),
    ("12000.", "12000.00"),
    (None, "0.00"),
    ("", "0.00"),
    ("  ", "0.00"),
    ("\u3000", "0.00"),
])
def test_it_parses_money(raw, expected):
    value = parse_money(raw)
    assert value == Decimal(expected) and str(value) == expected


@pytest.mark.parametrize("raw", ["-100", "-1.2万", -5, -0.01, "－３００"])
def test_it_rejects_negative_money(raw):
    assert _error(parse_money, raw) == "金额不能为负数"


@pytest.mark.parametrize("raw, shown", [
    ("一万二", "一万二"),
    ("约3000", "约3000"),
    ("3000美元", "3000美元"),
    ("1.2.3", "1.2.3"),
    ("万元", "万元"),
    ("见附件", "见附件"),
    (" abc ", "abc"),
    (float("nan"), "nan"),
    (float("inf"), "inf"),
    (1e300, "1e+300"),
    ("1e5", "1e5"),
    (True, "True"),
    (D(2020, 1, 1), "2020-01-01"),
])
def test_it_rejects_unreadable_money(raw, shown):
    assert _error(parse_money, raw) == f"金额“{shown}”无法识别"


# --- dates ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("1985.03", D(1985, 3, 1)),
    ("1985.3", D(1985, 3, 1)),
    ("1985.12", D(1985, 12, 1)),
    ("1985年3月", D(1985, 3, 1)),
    ("1985年03月", D(1985, 3, 1)),
    ("1985年3月7日", D(1985, 3, 7)),
    ("1985 年 3 月 7 日", D(1985, 3, 7)),
    ("1985年3月7号", D(1985, 3, 7)),
    ("1985-03-07", D(1985, 3, 7)),
    ("1985-3-7", D(1985, 3, 7)),
    ("1985/3/7", D(1985, 3, 7)),
    ("1985.3.7", D(1985, 3, 7)),
    ("1985-03", D(1985, 3, 1)),
    ("1985/03", D(1985, 3, 1)),
    ("19850307", D(1985, 3, 7)),
    ("198503", D(1985, 3, 1)),
    ("1985-03-07 00:00:00", D(1985, 3, 7)),
    ("１９８５年３月７日", D(1985, 3, 7)),
    ("１９８５．０３", D(1985, 3, 1)),
    (" 1985.03 ", D(1985, 3, 1)),
    ("2000-02-29", D(2000, 2, 29)),
    (datetime.datetime(1985, 3, 7, 14, 30), D(1985, 3, 7)),
    (D(1985, 3, 7), D(1985, 3, 7)),
    # Excel serial numbers (epoch 1899-12-30 for serials after the fake 1900-02-29)
    (31113, D(1985, 3, 7)),
    (31113.0, D(1985, 3, 7)),
    (31113.75, D(1985, 3, 7)),
    (61, D(1900, 3, 1)),
    (59, D(1900, 2, 28)),
    (1, D(1900, 1, 1)),
    (36586, D(2000, 3, 1)),
    (45292, D(2024, 1, 1)),
    # numbers Excel made out of typed text
    (1985.03, D(1985, 3, 1)),
    (1985.3, D(1985, 3, 1)),
    (1985.12, D(1985, 12, 1)),
    (19850307, D(1985, 3, 7)),
])
def test_it_parses_dates(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw, day_default, expected", [
    ("1985.03", 15, D(1985, 3, 15)),
    ("1985年2月", 31, D(1985, 2, 28)),
    ("1984年2月", 31, D(1984, 2, 29)),
    ("1985年4月", 31, D(1985, 4, 30)),
    ("1985年3月7日", 15, D(1985, 3, 7)),
])
def test_it_fills_a_missing_day_with_day_default(raw, day_default, expected):
    assert parse_date(raw, day_default=day_default) == expected


@pytest.mark.parametrize("raw, message", [
    ("1985-02-30", "日期“1985-02-30”无效：1985年2月没有30日"),
    ("1985年2月29日", "日期“1985年2月29日”无效：1985年2月没有29日"),
    ("1900-02-29", "日期“1900-02-29”无效：1900年2月没有29日"),
    ("19850231", "日期“19850231”无效：1985年2月没有31日"),
    ("1985.13", "日期“1985.13”无效"),
    ("1985-00-07", "日期“1985-00-07”无效"),
    ("1885-03-07", "日期“1885-03-07”无效"),
    ("3000-01-01", "日期“3000-01-01”无效"),
    (60, "日期“60”无效"),
    (0, "日期“0”无效"),
    (-5, "日期“-5”无效"),
    (3000000, "日期“3000000”无效"),
    (1985, "日期“1985”缺少月份"),
    (1985.1, "日期“1985.1”有歧义：Excel 把“1985.10”和“1985.1”都存成了数字 1985.1，请把该列设为文本格式后重新填写"),
    ("三月七日", "日期“三月七日”无法识别"),
    ("1985", "日期“1985”无法识别"),
    ("85.3", "日期“85.3”无法识别"),
    ("不详", "日期“不详”无法识别"),
    ("1985-03-07T", "日期“1985-03-07T”无法识别"),
    (float("nan"), "日期“nan”无法识别"),
    (True, "日期“True”无法识别"),
    (None, "日期不能为空"),
    ("", "日期不能为空"),
    ("\u3000", "日期不能为空"),
])
def test_it_rejects_impossible_or_unreadable_dates(raw, message):
    assert _error(parse_date, raw) == message


# --- yes/no --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["是", " 是 ", "√", "✓", "✔", "Y", "y", "yes", "YES", "Yes", "1", 1, 1.0, "有", True,
                                 "Ｙ", "１", "是的", "☑"])
def test_it_reads_yes(raw):
    assert parse_bool(raw) is True


@pytest.mark.parametrize("raw", ["否", "×", "✗", "✘", "N", "n", "no", "NO", "0", 0, 0.0, "无", False, None, "", "  ",
                                 "\u3000", "Ｎ", "X", "x", "不是", "没有", "—"])
def test_it_reads_no(raw):
    assert parse_bool(raw) is False


@pytest.mark.parametrize("raw", ["可能", "2", 2, 0.5, "ok", "是否", D(2020, 1, 1), float("nan")])
def test_it_rejects_other_yes_no_values(raw):
    assert _error(parse_bool, raw) == f"“{str(raw).strip()}”无法识别为是或否，请填写“是”或“否”"


# --- sex -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("男", "M"), ("女", "F"), (" 男 ", "M"), ("\u3000女\u3000", "F"), ("男性", "M"), ("女性", "F"), ("男 性", "M"),
    ("M", "M"), ("女士", "F"),
    ("女\n", "F"),
])
def test_it_parses_sex(raw, expected):
    assert parse_sex(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("男女", "性别“男女”无法识别，应为“男”或“女”"),
    ("male", "性别“male”无法识别，应为“男”或“女”"),
    ("1", "性别“1”无法识别，应为“男”或“女”"),
    (1, "性别“1”无法识别，应为“男”或“女”"),
    ("未知", "性别“未知”无法识别，应为“男”或“女”"),
    (None, "性别不能为空"),
    ("  ", "性别不能为空"),
])
def test_it_rejects_other_sexes(raw, message):
    assert _error(parse_sex, raw) == message


# --- causes --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("6", [6]),
    (6, [6]),
    (6.0, [6]),
    ("10", [10]),
    ("６", [6]),
    ("6-重特大疾病", [6]),
    ("6－重特大疾病", [6]),
    ("6 重特大疾病", [6]),
    ("6.重特大疾病", [6]),
    ("6（重特大疾病）", [6]),
    ("重特大疾病", [6]),
    ("3、6、9", [3, 6, 9]),
    ("3,6,9", [3, 6, 9]),
    ("3，6，9", [3, 6, 9]),
    ("3;6；9", [3, 6, 9]),
    ("3 6 9", [3, 6, 9]),
    ("9、3", [9, 3]),
    ("3、6、3", [3, 6]),
    ("下岗失业，子女上学", [3, 9]),
    ("下岗失业、重特大疾病、6", [3, 6]),
    ("无劳动能力 有劳动能力未就业", [1, 2]),
    ("社保待遇未落实；未参保", [5, 4]),
    ("自然灾害，意外事故，其他", [7, 8, 10]),
    ("3-下岗失业、9-子女上学", [3, 9]),
    ("3、6、", [3, 6]),
    (None, []),
    ("", []),
    ("  ", []),
])
def test_it_parses_causes(raw, expected):
    assert parse_causes(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("11", "致困原因编号“11”无效，应为 1–10"),
    ("0", "致困原因编号“0”无效，应为 1–10"),
    ("3、12", "致困原因编号“12”无效，应为 1–10"),
    ("下岗失业，家里穷", "致困原因“家里穷”无法识别"),
    ("穷", "致困原因“穷”无法识别"), ("因", "致困原因“因”无法识别"),
    ("6-下岗失业", "致困原因“6-下岗失业”的编号与名称不一致"),
    ("1234", "致困原因“1234”无法识别"),
    (6.5, "致困原因“6.5”无法识别"),
    (D(2020, 1, 1), "致困原因“2020-01-01”无法识别"),
])
def test_it_rejects_unknown_causes(raw, message):
    assert _error(parse_causes, raw) == message


# --- legacy category -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("低保户", "dibao"), (" 低保户 ", "dibao"), ("低 保 户", "dibao"), ("低保", "dibao"),
    ("低保边缘户", "near_dibao"), ("低保 边缘户", "near_dibao"), ("低保边缘家庭", "near_dibao"),
    ("低保\u3000边缘户", "near_dibao"),
    ("意外致困户", "accident"), ("意外致困", "accident"),
    (None, ""), ("", ""), ("   ", ""),
])
def test_it_parses_legacy_categories(raw, expected):
    assert parse_legacy_category(raw) == expected


@pytest.mark.parametrize("raw", ["特困户", "深度困难", "1", 1, "低保边"])
def test_it_rejects_unknown_legacy_categories(raw):
    assert _error(parse_legacy_category, raw) == \
        f"困难类别“{raw}”无法识别，应为“低保户”“低保边缘户”或“意外致困户”"


# --- ID numbers ----------------------------------------------------------------------------------------------

LEGACY_15 = "410102850307123"
CONVERTED = "41010219850307123" + check_character("41010219850307123")
SCIENTIFIC = ("身份证号码被 Excel 存成了数字（科学计数法，只保留 15 位有效数字），后几位已经丢失，"
              "请把该列设为文本格式后重新填写")


@pytest.mark.parametrize("raw, expected", [
    ("11010519491231002X", "11010519491231002X"),
    ("11010519491231002x", "11010519491231002X"),
    (" 410102198503071232 ", "410102198503071232"),
    ("410102 19850307 1232", "410102198503071232"),
    ("４１０１０２１９８５０３０７１２３２", "410102198503071232"),
    ("'410102198503071232".lstrip("'"), "410102198503071232"),
    (LEGACY_15, CONVERTED),
    (int(LEGACY_15), CONVERTED),
])
def test_it_parses_id_numbers(raw, expected):
    assert parse_id_number(raw) == expected


@pytest.mark.parametrize("raw, message", [
    (4.10102198503071e17, SCIENTIFIC),
    (410102198503071.0, SCIENTIFIC),
    ("4.10102E+17", SCIENTIFIC),
    ("4.10102198503071E+17", SCIENTIFIC),
    (None, "身份证号码不能为空"),
    ("", "身份证号码不能为空"),
    ("41010219850307", "身份证号码应为 18 位（或旧的 15 位），现在是 14 位"),
    ("410102198503071233", "身份证号码校验位错误：最后一位应为 2，现在是 3"),
    ("41010219850230123X", "身份证号码中的出生日期 1985-02-30 无效"),
    ("99010219850307123X", "身份证号码前两位（省份代码 99）无效"),
    ("无", "身份证号码只能包含数字，18 位号码最后一位可以是 X"),
    (True, "身份证号码“True”无法识别"),
    (D(1985, 3, 7), "身份证号码“1985-03-07”无法识别"),
])
def test_it_rejects_bad_id_numbers(raw, message):
    assert _error(parse_id_number, raw) == message


# --- text ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("  张三  ", "张三"),
    ("郑州市  中原区\n建设路 1 号", "郑州市 中原区 建设路 1 号"),
    ("\u3000王\u3000五\u3000", "王 五"),
    ("李\u200b四", "李四"),
    (None, ""),
    ("", ""),
    (13800138000, "13800138000"),
    (13800138000.0, "13800138000"),
    (3.5, "3.5"),
])
def test_it_cleans_text(raw, expected):
    assert parse_text(raw, max_length=64) == expected


def test_it_rejects_text_that_is_too_long():
    assert parse_text("字" * 10, max_length=10) == "字" * 10
    assert _error(parse_text, "字" * 11, max_length=10) == "内容过长：最多 10 个字，现在是 11 个字"
    assert _error(parse_text, " a  b  c ", max_length=4) == "内容过长：最多 4 个字，现在是 5 个字"


# --- fuzz ----------------------------------------------------------------------------------------------------

ALPHABET = ("0123456789０１２３４５６７８９.,，、;；:-－/ 　\n\t年月日号万元¥￥+*eE是否男女性√×✓✗YyNn有无"
            "低保边缘户意外致困重特大疾病下岗失业子女上学其他()（）XxX٣\u200b\ufeff")
PARSERS = [
    (parse_money, Decimal),
    (parse_date, datetime.date),
    (parse_bool, bool),
    (parse_sex, str),
    (parse_causes, list),
    (parse_legacy_category, str),
    (parse_id_number, str),
    (lambda raw: parse_text(raw, max_length=20), str),
]


def _random_cell(rng: random.Random):
    kind = rng.randrange(8)
    if kind == 0:
        return None
    if kind == 1:
        return rng.randint(-10**20, 10**20) if rng.random() < 0.3 else rng.randint(-100, 3_000_000)
    if kind == 2:
        return rng.choice([float("nan"), float("inf"), -float("inf"), 1e300, -0.0, rng.uniform(-1e6, 1e20),
                           rng.uniform(1900, 2100), rng.uniform(0, 100_000)])
    if kind == 3:
        return rng.choice([True, False, datetime.date(rng.randint(1, 9999), 1, 1), datetime.datetime(2000, 1, 1)])
    if kind == 4:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(12)))
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(20)))


def test_it_never_raises_anything_but_cell_error():
    rng = random.Random(20240607)
    for _ in range(3000):
        cell = _random_cell(rng)
        for parser, kind in PARSERS:
            try:
                result = parser(cell)
            except CellError as error:
                assert isinstance(error.message, str) and error.message
            else:
                assert isinstance(result, kind), (parser, cell, result)
                if kind is list:
                    assert all(1 <= code <= 10 for code in result)
