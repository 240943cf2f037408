"""The .xls pre-flight (dossiers.legacy.reading._check_xls) and the whole-workbook bound, for .xls and .xlsx alike.

python-calamine parses every sheet of an .xls when it opens it and the reader then builds each sheet's rectangle
from A1, so a few KB of BIFF records can ask for gigabytes, and a Rust allocation failure aborts the process rather
than raising. The hostile files come from tests/dossiers/legacy_files.py; their way through run_import and the
command is in test_legacy_import_hostile.py, through the upload pages in test_import_admin.py and
test_civil_matching.py.
"""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys
import time

import openpyxl
import pytest
import xlwt

from dossiers.legacy import reading
from dossiers.legacy.reading import UnreadableFile, read_workbook
from tests.dossiers import legacy_files as lf

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def refusal(data: bytes, name: str = "汇总.xls") -> UnreadableFile:
    with pytest.raises(UnreadableFile) as refused:
        read_workbook(data, name)
    return refused.value


def test_it_refuses_eight_sheets_each_reaching_iv65536_at_once():
    data = lf.far_cells_xls()
    assert len(data) == 5632
    started = time.perf_counter()
    error = refusal(data)
    assert time.perf_counter() - started < 1  # unguarded: ~20 s and 1.8 GB, 54 s and an abort through run_import
    assert error.code == "too_large"
    assert "表格范围过大" in error.message and "134,217,728" in error.message


def test_it_takes_one_such_sheet_as_an_ordinary_one():
    """Each sheet alone is under the sheet bound: what is refused is their sum."""
    [sheet] = read_workbook(lf.far_cells_xls(sheets=1, row=999, column=9), "汇总.xls")
    assert len(sheet.rows) == 1000 and sheet.rows[999][9] == "x" and sheet.rows[0] == [None] * 10


@pytest.mark.parametrize(("build", "code", "words"), [
    (lf.xls_dimensions_claiming, "too_large", "行数太多"),
    (lambda: lf.xls_dimensions_claiming(rows=65_536, columns=65_535), "too_large", "表格范围过大"),
    (lf.xls_cell_at_column, "too_large", "表格范围过大"),
    (lf.xls_sheet_listed_again, "too_large", "表格范围过大"),
    (lf.xls_looping_chain, "corrupt", "损坏"),
], ids=["dimensions-4-billion-rows", "dimensions-65536-columns", "cell-in-column-65536", "sheet-listed-3-times",
        "looping-sector-chain"])
def test_it_refuses_other_hostile_xls_before_calamine_sees_them(build, code, words, monkeypatch):
    def calamine(data):
        raise AssertionError("calamine was given the file")

    monkeypatch.setattr(reading, "_read_excel", calamine)
    error = refusal(build())
    assert (error.code, words in error.message) == (code, True), error.message


def test_a_regression_shows_as_a_crash_of_a_child_under_a_memory_limit(tmp_path):
    """read_workbook on the eight-sheet file in a child process limited to 1 GiB of address space: it must come
    back with the refusal. Without the pre-flight the child fails to allocate (calamine's Rust allocation fails
    and the process aborts or hangs), which fails this test without taking pytest down."""
    path = tmp_path / "汇总.xls"
    path.write_bytes(lf.far_cells_xls())
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from dossiers.legacy.reading import UnreadableFile, read_workbook\n"
        "try:\n"
        f"    read_workbook(open({str(path)!r}, 'rb').read(), '汇总.xls')\n"
        "    print('read')\n"
        "except UnreadableFile as error:\n"
        "    print(error.code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            cwd=REPOSITORY)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["too_large"]


def _ordinary_xls() -> bytes:
    """Two sheets as registers come: a merged title, text, numbers, an 18-digit ID as text, dates, blank cells
    with a format (BLANK/MULBLANK records), and a sheet of notes."""
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("家庭档案")
    sheet.write_merge(0, 0, 0, 4, "中原区困难职工档案")
    for column, header in enumerate(["序号", "姓名", "身份证号码", "月收入", "建档日期"]):
        sheet.write(1, column, header)
    boxed = xlwt.easyxf("borders: left thin, right thin")
    dated = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for number in range(1, 41):
        row = number + 1
        sheet.write(row, 0, number)
        sheet.write(row, 1, f"职工{number}")
        sheet.write(row, 2, f"41010219750307{number:03d}1")
        sheet.write(row, 3, 1200.5 + number)
        sheet.write(row, 4, datetime.date(2024, 1, 1) + datetime.timedelta(days=number), dated)
        for column in range(5, 9):
            sheet.write(row, column, None, boxed)
    workbook.add_sheet("填表说明").write(0, 0, "身份证号码列请设为文本格式")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_ordinary_xls_reads_exactly_as_calamine_reads_it():
    data = _ordinary_xls()
    sheets = read_workbook(data, "中原区.xls")
    assert [(s.name, s.rows) for s in sheets] == [(s.name, s.rows) for s in reading._read_excel(data)]
    register = sheets[0]
    assert register.rows[0][0] == "中原区困难职工档案" and register.rows[1][2] == "身份证号码"
    assert register.rows[2][:4] == [1.0, "职工1", "410102197503070011", 1201.5]
    assert len(register.rows) == 42


def test_the_workbook_bound_adds_up_the_sheets_of_an_xls(monkeypatch):
    data = lf.far_cells_xls(sheets=3, row=99, column=9)  # three rectangles of 100 × 10
    monkeypatch.setattr(reading, "MAX_WORKBOOK_CELLS", 3000)
    assert len(read_workbook(data, "汇总.xls")) == 3
    monkeypatch.setattr(reading, "MAX_WORKBOOK_CELLS", 2999)
    error = refusal(data)
    assert error.code == "too_large" and "3,000 个单元格" in error.message


def test_it_refuses_an_xls_listing_more_sheets_than_an_xlsx_may_have(monkeypatch):
    data = lf.far_cells_xls(sheets=4, row=0, column=0)
    monkeypatch.setattr(reading, "MAX_SHEETS", 4)
    assert len(read_workbook(data, "汇总.xls")) == 4
    monkeypatch.setattr(reading, "MAX_SHEETS", 3)
    error = refusal(data)
    assert error.code == "too_large" and "工作表太多" in error.message


def _far_xlsx(sheets: int, cell: str) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active[cell] = "x"
    for number in range(2, sheets + 1):
        workbook.create_sheet(f"Sheet{number}")[cell] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_workbook_bound_adds_up_the_sheets_of_an_xlsx(monkeypatch):
    # Three sheets reaching T1000000: 20 million cells each (the sheet bound), 60 million together.
    error = refusal(_far_xlsx(3, "T1000000"), "汇总.xlsx")
    assert error.code == "too_large" and "表格范围过大" in error.message and "60,000,000" in error.message
    data = _far_xlsx(2, "J100")
    monkeypatch.setattr(reading, "MAX_WORKBOOK_CELLS", 2000)
    assert len(read_workbook(data, "汇总.xlsx")) == 2
    monkeypatch.setattr(reading, "MAX_WORKBOOK_CELLS", 1999)
    assert refusal(data, "汇总.xlsx").code == "too_large"
