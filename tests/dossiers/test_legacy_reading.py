"""Safe reading of legacy registers (dossiers.legacy.reading). No database; files are generated here.

Real .xls reading is covered by python-calamine's own test suite (no .xls writer is installed here); we check that an
OLE2 header followed by garbage is refused as "corrupt" without crashing.
"""

import io
import os
import subprocess
import sys
import zipfile

import openpyxl
import pytest

from dossiers.legacy.headers import find_header_row, is_total_row, map_headers
from dossiers.legacy.reading import MAX_BYTES, Sheet, UnreadableFile, detect_format, read_workbook
from dossiers.legacy.values import CellError, parse_id_number

ID = "11010519491231002X"
HEADERS = ["序号", "姓名", "身份证号码", "工作单位"]


def _code(data: bytes, filename: str) -> str:
    with pytest.raises(UnreadableFile) as info:
        read_workbook(data, filename)
    assert info.value.message
    return info.value.code


def _xlsx(id_cell=ID) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "困难职工"
    sheet.append(["2024年困难职工登记表"])
    sheet.append(HEADERS)
    sheet.append([1, "张三", id_cell, "第一机械厂"])
    sheet.append(["合计", None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_it_reads_a_real_xlsx_with_title_header_data_and_total_rows():
    [sheet] = read_workbook(_xlsx(), "登记表.xlsx")
    assert sheet.name == "困难职工"
    assert sheet.rows[0] == ["2024年困难职工登记表", None, None, None]
    assert find_header_row(sheet.rows) == 1
    assert map_headers(sheet.rows[1]).columns == {"serial": 0, "name": 1, "id_number": 2, "employer": 3}
    assert sheet.rows[2] == [1.0, "张三", ID, "第一机械厂"]
    assert parse_id_number(sheet.rows[2][2]) == ID
    assert is_total_row(sheet.rows[3])


def test_it_returns_a_numeric_id_cell_as_a_float_which_parse_id_number_refuses():
    [sheet] = read_workbook(_xlsx(id_cell=110105194912310021), "登记表.xlsx")
    cell = sheet.rows[2][2]
    assert isinstance(cell, float)
    with pytest.raises(CellError):
        parse_id_number(cell)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_it_reads_csv_in_utf8_utf8_bom_and_gb18030(encoding):
    text = "姓名,身份证号码,工作单位\r\n张三,11010519491231002X,第一机械厂\r\n李四,,\r\n"
    [sheet] = read_workbook(text.encode(encoding), "2024年 登记表.csv")
    assert sheet == Sheet(name="2024年 登记表", rows=[
        ["姓名", "身份证号码", "工作单位"], ["张三", ID, "第一机械厂"], ["李四", None, None]])


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_it_sniffs_the_csv_delimiter(delimiter):
    text = delimiter.join(["姓名", "身份证号码", "工作单位"]) + "\n" + delimiter.join(["张三", ID, "厂"]) + "\n"
    [sheet] = read_workbook(text.encode(), "a.csv")
    assert sheet.rows[1] == ["张三", ID, "厂"]


def test_it_refuses_an_empty_file():
    with pytest.raises(UnreadableFile) as info:
        read_workbook(b"", "登记表.xlsx")
    assert (info.value.code, info.value.message) == ("empty", "文件是空的")


def test_it_refuses_more_than_max_bytes_of_garbage():
    assert _code(os.urandom(MAX_BYTES + 1024 * 1024), "登记表.xlsx") == "too_large"
    assert MAX_BYTES == 64 * 1024 * 1024


def test_it_refuses_random_garbage_named_csv_without_crashing():
    assert _code(os.urandom(5 * 1024 * 1024), "登记表.csv") in ("encoding", "wrong_type")


def test_it_refuses_undecodable_text_named_csv_as_an_encoding_problem():
    assert _code(b"\xff\xfe\x80abc,def\n" * 10, "登记表.csv") in ("encoding", "wrong_type")
    assert _code(b"name,x\n" + b"\x80\xff" * 5000, "登记表.csv") == "encoding"


@pytest.mark.parametrize("data, filename", [
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "登记表.xlsx"),
    ("姓名,身份证号码\n张三,1\n".encode(), "登记表.xlsx"),
    (b"PK\x03\x04" + bytes(100), "登记表.csv"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "登记表.xlsx"),
    (b"<html><table></table></html>", "登记表.xls"),
    (b"anything", "登记表.pdf"),
])
def test_it_refuses_content_that_disagrees_with_the_extension(data, filename):
    with pytest.raises(UnreadableFile) as info:
        read_workbook(data, filename)
    assert info.value.code == "wrong_type"
    assert "扩展名" in info.value.message or "不支持" in info.value.message


def test_it_detects_the_format_by_magic_bytes():
    assert detect_format(b"PK\x03\x04rest", "a.xlsx") == "xlsx"
    assert detect_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "a.XLS") == "xls"
    assert detect_format("姓名,身份证".encode("gb18030"), "a.csv") == "csv"
    assert detect_format("姓名,身份证".encode()[:-1], "a.csv") == "csv"  # head cut mid-character


def test_it_refuses_an_ole2_header_followed_by_garbage_as_corrupt():
    assert _code(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4096), "登记表.xls") == "corrupt"


def test_it_refuses_a_broken_zip_as_corrupt():
    assert _code(_xlsx()[:2000], "登记表.xlsx") == "corrupt"


def test_it_refuses_a_zip_bomb_without_decompressing_it():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(300):
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024
    assert _code(data, "登记表.xlsx") == "zip_bomb"


def test_it_refuses_too_many_zip_entries():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(1001):
            archive.writestr(f"x/{number}", b"")
    assert _code(buffer.getvalue(), "登记表.xlsx") == "zip_bomb"


def test_it_refuses_a_sparse_sheet_that_would_make_calamine_allocate_the_whole_grid():
    # Cells at A1 and XFD1048576: ~5 KB on disk, but calamine would allocate ~500 GB and abort the process.
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "姓名"
    workbook.active["XFD1048576"] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert _code(buffer.getvalue(), "登记表.xlsx") == "too_large"


def _with_shared_strings(data: bytes, shared: bytes) -> bytes:
    """openpyxl writes inline strings: add xl/sharedStrings.xml (+ its relationship and content type) and make A1
    refer to shared string 0."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"</Relationships>", b'<Relationship Id="rIdSst" Type="http://schemas.'
                                          b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                                          b'Target="sharedStrings.xml"/></Relationships>')
            elif entry.filename == "[Content_Types].xml":
                content = content.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                          b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings'
                                          b'+xml"/></Types>')
            elif entry.filename == "xl/worksheets/sheet1.xml":
                before = b'<c r="A1" t="inlineStr"><is><t>a</t></is></c>'
                assert before in content
                content = content.replace(before, b'<c r="A1" t="s"><v>0</v></c>')
            archive.writestr(entry.filename, content)
        archive.writestr("xl/sharedStrings.xml", shared)
    return buffer.getvalue()


def test_it_survives_billion_laughs_in_shared_strings(tmp_path):
    laughs = b'<!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
        for level in range(1, 10)) + b"]>"
    shared = (b'<?xml version="1.0" encoding="UTF-8"?>' + laughs
              + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4">'
              + b"<si><t>&lol9;</t></si><si><t>b</t></si><si><t>c</t></si><si><t>d</t></si></sst>")
    workbook = openpyxl.Workbook()
    workbook.active.append(["a", "b", "c", "d"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    plain = shared.replace(laughs, b"").replace(b"&lol9;", b"HELLO")  # control: the injected part is really read
    assert read_workbook(_with_shared_strings(buffer.getvalue(), plain), "a.xlsx")[0].rows[0][0] == "HELLO"
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(_with_shared_strings(buffer.getvalue(), shared))
    script = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from dossiers.legacy.reading import read_workbook, UnreadableFile\n"
        "try:\n"
        f"    sheets = read_workbook(open({str(path)!r}, 'rb').read(), 'laughs.xlsx')\n"
        "    print('ok', max(len(str(cell)) for row in sheets[0].rows for cell in row))\n"
        "except UnreadableFile as error:\n"
        "    print(error.code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = result.stdout.split()
    assert outcome[0] in ("ok", "corrupt")
    if outcome[0] == "ok":
        assert int(outcome[1]) < 1_000_000  # the entities were not expanded
