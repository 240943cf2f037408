"""Header rows of legacy registers (dossiers.legacy.headers). No database."""

import random

import pytest

from dossiers.legacy.headers import (
    FIELD_SYNONYMS,
    HeaderMap,
    HeaderNotFound,
    find_header_row,
    is_blank_row,
    is_total_row,
    map_headers,
    normalize_header,
)

HOUSEHOLD_HEADERS = ["序号", "职工姓名", "性别", "身份证号码", "工作单位", "家庭人口（人）", "家庭年总收入（元）",
                     "困难类别", "主要致困原因", "家庭住址", "联系电话", "备注"]


@pytest.mark.parametrize("raw, expected", [
    ("姓名", "姓名"),
    (" 姓 名 ", "姓名"),
    ("姓\u3000名", "姓名"),
    ("家庭年\n总收入", "家庭年总收入"),
    ("*姓名", "姓名"),
    ("姓名*", "姓名"),
    ("＊姓名", "姓名"),
    ("家庭年总收入（元）", "家庭年总收入"),
    ("家庭年总收入(元)", "家庭年总收入"),
    ("家庭年总收入（ 元 ）", "家庭年总收入"),
    ("月收入（元/月）", "月收入"),
    ("家庭年收入（万元）", "家庭年收入"),
    ("家庭人口（人）", "家庭人口"),
    ("身份证号码（18位）", "身份证号码"),
    ("住房面积（平方米）", "住房面积"),
    ("备注（说明原因）", "备注(说明原因)"),
    ("ＩＤ　Ｎｏ．", "idno."),
    ("Name", "name"),
    ("身份证号：", "身份证号"),
    (None, ""),
    ("", ""),
    (123, "123"),
])
def test_it_normalizes_headers(raw, expected):
    assert normalize_header(raw) == expected


@pytest.mark.parametrize("header, field", [
    (name, field) for field, names in FIELD_SYNONYMS.items() for name in names
])
def test_it_recognises_every_synonym(header, field):
    assert map_headers([header]).columns == {field: 0}


@pytest.mark.parametrize("header, field", [
    ("职工 姓名", "name"),
    ("*户主姓名", "name"),
    ("身份证号码（18位）", "id_number"),
    ("公民身份号码", "id_number"),
    ("户主身份证号码", "head_id_number"),
    ("家庭年总收入(元)", "annual_income"),
    ("家庭年收入（元）", "annual_income"),
    ("家庭人数（人）", "household_size"),
    ("出生年月", "birth_date"),
    ("与户主\n关系", "relationship"),
    ("致困原因", "causes"),
    ("困难类型", "legacy_category"),
    ("工作单位名称", "employer"),
    ("住址", "address"),
    ("电话", "phone"),
    ("备 注", "notes"),
])
def test_it_maps_real_world_header_variants(header, field):
    assert map_headers(["无关列", header]).columns == {field: 1}


def test_it_maps_a_household_sheet():
    result = map_headers(HOUSEHOLD_HEADERS)
    assert result == HeaderMap(
        columns={"serial": 0, "name": 1, "sex": 2, "id_number": 3, "employer": 4, "household_size": 5,
                 "annual_income": 6, "legacy_category": 7, "causes": 8, "address": 9, "phone": 10, "notes": 11},
        unknown=[], duplicates=[],
    )


def test_it_maps_a_member_sheet():
    result = map_headers(["户主身份证号", "姓名", "与户主关系", "性别", "出生年月", "身份证号", "健康状况",
                          "就业状况", "工作单位或学校", "月收入（元）"])
    assert result.columns == {"head_id_number": 0, "name": 1, "relationship": 2, "sex": 3, "birth_date": 4,
                              "id_number": 5, "health": 6, "work_status": 7, "employer": 8, "monthly_income": 9}


def test_it_reports_unknown_headers_as_written_and_skips_blank_ones():
    result = map_headers(["姓名", None, "  ", "爱好", " 政治面貌 ", "身份证号", 2023])
    assert result.columns == {"name": 0, "id_number": 5}
    assert result.unknown == ["爱好", "政治面貌", "2023"]
    assert result.duplicates == []


def test_it_reports_duplicated_fields_once_and_keeps_the_first_column():
    result = map_headers(["姓名", "身份证号码", "电话", "身份证号", "联系电话", "手机"])
    assert result.columns == {"name": 0, "id_number": 1, "phone": 2}
    assert result.duplicates == ["id_number", "phone"]
    assert result.unknown == []
    assert [column.how for column in result.described] == ["named", "named", "named", "duplicate", "duplicate",
                                                           "duplicate"]


def test_three_name_columns_of_which_two_are_the_heads_are_ambiguous_not_guessed():
    result = map_headers(["姓名", "身份证号码", "职工姓名", "户主姓名", "电话"])
    assert result.columns == {"id_number": 1, "phone": 4}
    assert result.ambiguous == ["姓名", "职工姓名", "户主姓名"]


def test_it_maps_an_empty_row():
    assert map_headers([]) == HeaderMap()


def test_no_synonym_belongs_to_two_fields():
    seen: dict[str, str] = {}
    for field, names in FIELD_SYNONYMS.items():
        for name in names:
            assert seen.setdefault(normalize_header(name), field) == field, name


# --- header row ----------------------------------------------------------------------------------------------

def test_it_finds_the_header_row_below_title_rows():
    rows = [
        ["XX区总工会困难职工家庭档案汇总表", None, None, None],
        ["填报单位：林山寨街道帮扶站", None, "填报日期：2023年5月", None],
        [None, None, None, None],
        HOUSEHOLD_HEADERS,
        [1, "张三", "男", "410102198503071232"],
    ]
    assert find_header_row(rows) == 3


@pytest.mark.parametrize("rows, expected", [
    ([["姓名", "身份证号", "工作单位"]], 0),
    ([["姓名", "身份证号"], ["序号", "姓名", "身份证号"]], 1),  # two fields are not enough
    ([[], None, ["*姓名", "性别", "身份证号码（18位）"]], 2),
    ([["（单位：元）"], ["姓 名", "性 别", "出生年月"]], 1),
])
def test_it_needs_three_known_fields(rows, expected):
    assert find_header_row(rows) == expected


def test_it_gives_up_after_max_scan_rows():
    rows = [["标题"]] * 10 + [HOUSEHOLD_HEADERS]
    with pytest.raises(HeaderNotFound) as info:
        find_header_row(rows)
    assert str(info.value) == "前 10 行中没有找到表头：表头行至少要有 3 个可识别的列，如“姓名”“身份证号码”“工作单位”"
    assert find_header_row(rows, max_scan=11) == 10
    with pytest.raises(HeaderNotFound, match="前 3 行中没有找到表头"):
        find_header_row([HOUSEHOLD_HEADERS[:2]] * 5, max_scan=3)
    with pytest.raises(HeaderNotFound):
        find_header_row([])


# --- total and blank rows ------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", [
    ["合计", None, 12000],
    ["总计", 35],
    ["小计"],
    [None, "", "合 计", 100],
    ["  合　计  ", 1],
    ["合计：", 3],
    ["总 计:"],
])
def test_it_spots_total_rows(row):
    assert is_total_row(row)


@pytest.mark.parametrize("row", [
    [1, "合计", 3],
    ["张三", "合计"],
    ["合计金额"],
    [],
    [None, ""],
    ["1", "张合计"],
])
def test_it_leaves_other_rows_alone(row):
    assert not is_total_row(row)


@pytest.mark.parametrize("row, blank", [
    ([], True),
    ([None, None], True),
    (["", "  ", "\u3000", "\n"], True),
    ([None, 0], False),
    (["", "张三"], False),
    ([None, "-"], False),
])
def test_it_spots_blank_rows(row, blank):
    assert is_blank_row(row) is blank


def test_it_survives_random_rows():
    rng = random.Random(7)
    pool = [None, "", " ", "合计", "姓名", "身份证号", "（元）", "*", 0, 1.5, "\u3000", "性 别", "ｘ"]
    for _ in range(2000):
        row = [rng.choice(pool) if rng.random() < 0.7 else chr(rng.randrange(0x20, 0x3000)) * rng.randrange(3)
               for _ in range(rng.randrange(8))]
        result = map_headers(row)
        assert set(result.columns) <= set(FIELD_SYNONYMS)
        assert all(0 <= index < len(row) for index in result.columns.values())
        assert isinstance(is_total_row(row), bool) and isinstance(is_blank_row(row), bool)
        assert isinstance(normalize_header(rng.choice(row) if row else None), str)
