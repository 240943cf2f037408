"""Safe reading of legacy hardship registers: .xlsx, Excel 97 .xls and .csv (UTF-8, UTF-8 BOM, GBK/GB18030).

read_workbook(data, filename) → list[Sheet], each sheet a list of rows of raw cell values as python-calamine returns
them (str, float, int, bool, date/datetime/time/timedelta; an empty cell is None), ready for dossiers.legacy.headers
and dossiers.legacy.values. Anything that cannot be read safely raises UnreadableFile with a message (gettext:
Chinese by default).

Defences, all before the Rust parser sees an .xlsx:
- size cap on the upload (MAX_BYTES);
- the zip's central directory: entry count, total declared uncompressed size, per-entry compression ratio;
- the sheet extent: calamine allocates a dense grid from the first to the last used cell, so a 5 KB file with cells
  at A1 and XFD1048576 would ask for ~500 GB and abort the whole process (a Rust OOM is not a Python exception).
  The worksheet XML is therefore scanned (streamed, within the already-capped size) for its largest cell reference.
- the workbook's extent: every sheet's rectangle is held at once, so many sheets each under the sheet bound are
  bounded together (MAX_WORKBOOK_CELLS).
And before it sees an .xls (an OLE2 compound file holding a BIFF record stream):
- the Workbook stream's declared size: calamine follows the sector chain until it has that many bytes, so a 13 KB
  file whose chain loops and that declares 4 GB makes it read 4 GB;
- the same extents as for .xlsx, from the BIFF records: every cell record of every sheet calamine reads (one per
  BOUNDSHEET record, from its offset to its EOF) and the DIMENSIONS record, for which calamine reserves
  rows × columns cells up front (one record claiming 4 billion rows aborts the process at once).
Calamine's XML reader does not expand DTD entities, so "billion laughs" XML is harmless.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import PureWindowsPath

import olefile
import python_calamine
from django.apps import apps
from django.utils.translation import gettext, gettext_noop

# A county's 100,000 households with their members come to about 40 MB of xlsx (344 MB of XML when the
# writer uses inline strings rather than Excel's shared strings); bombs are caught by the ratio and extent checks.
MAX_BYTES = 64 * 1024 * 1024
MAX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_ZIP_ENTRIES = 1000
MAX_ROWS = 1_000_000
MAX_CELLS = 20_000_000  # rows × columns of a sheet's used range (calamine allocates the full rectangle)
MAX_WORKBOOK_CELLS = 40_000_000  # the sum of the sheets' rectangles (all are in memory at once)
MAX_SHEETS = MAX_ZIP_ENTRIES  # an .xlsx cannot have more; an .xls lists its sheets in BOUNDSHEET records
MAX_RATIO = 100
_RATIO_MIN_SIZE = 1024 * 1024  # ratios of entries smaller than this are harmless (and noisy for tiny XML parts)
_HEAD = 8192

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXTENSIONS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".csv": "csv", ".txt": "csv"}
_FORMAT_NAMES = {"xlsx": gettext_noop("Excel（.xlsx）"), "xls": gettext_noop("Excel 97（.xls）"),
                 "csv": gettext_noop("CSV 文本")}


def _(message: str) -> str:
    """gettext; the message as written where Django's apps are not loaded: the reader also runs on its own, in a
    child process under a memory limit (tests/dossiers/test_legacy_reading.py), where gettext cannot start."""
    return gettext(message) if apps.ready else message


class UnreadableFile(Exception):
    """A file that cannot be read; .message is in the language active when it was raised, .code one of
    "empty" | "too_large" | "wrong_type" | "zip_bomb" | "corrupt" | "encoding"."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass
class Sheet:
    name: str
    rows: list[list] = field(default_factory=list)


def _extension(filename: str) -> str:
    return PureWindowsPath(filename or "").suffix.lower()  # handles both / and \ in browser-sent names


def _looks_like_text(head: bytes) -> bool:
    """Whether head (possibly cut mid-character) decodes as UTF-8 or GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return True
        except UnicodeDecodeError:
            continue
    return False


def detect_format(head: bytes, filename: str) -> str:
    """"xlsx" | "xls" | "csv" from the magic bytes of head, checked against the filename's extension."""
    extension = _extension(filename)
    expected = _EXTENSIONS.get(extension)
    if extension and expected is None:
        raise UnreadableFile("wrong_type", _("不支持 %(extension)s 文件，请上传 .xlsx、.xls 或 .csv 文件")
                             % {"extension": extension})
    if head.startswith(_XLSX_MAGIC):
        actual = "xlsx"
    elif head.startswith(_XLS_MAGIC):
        actual = "xls"
    elif b"\x00" in head:
        actual = None
    elif _looks_like_text(head):
        actual = "csv"
    elif expected == "csv":
        raise UnreadableFile("encoding", _("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV"))
    else:
        actual = None
    if actual is None:
        raise _not_a_register(extension, expected)
    if expected is not None and expected != actual:
        raise _wrong_format(extension, expected, actual)
    return actual


def _not_a_register(extension: str, expected: str | None) -> UnreadableFile:
    """Content that is neither Excel nor text."""
    if expected == "csv":
        return UnreadableFile("wrong_type", _("文件扩展名为 .csv，但内容不是文本文件；"
                                              "如是 Unicode（UTF-16）文本，请另存为 UTF-8 编码的 CSV"))
    if not extension:
        return UnreadableFile("wrong_type", _("文件扩展名为 （无），但内容不是 Excel 或 CSV 文件"))
    return UnreadableFile("wrong_type", _("文件扩展名为 %(extension)s，但内容不是 Excel 或 CSV 文件")
                          % {"extension": extension})


def _wrong_format(extension: str, expected: str, actual: str) -> UnreadableFile:
    """Content in another of the formats than the extension says."""
    if expected == "xlsx" and actual == "xls":
        return UnreadableFile("wrong_type", _("文件扩展名为 %(extension)s，但内容不是Excel（.xlsx）文件，"
                                              "而是Excel 97（.xls）文件（加了打开密码的 .xlsx 也是这种格式，"
                                              "请去掉密码后另存）；请改正扩展名或重新另存") % {"extension": extension})
    return UnreadableFile("wrong_type", _("文件扩展名为 %(extension)s，但内容不是%(expected)s文件，"
                                          "而是%(actual)s文件；请改正扩展名或重新另存") % {
        "extension": extension, "expected": _(_FORMAT_NAMES[expected]), "actual": _(_FORMAT_NAMES[actual])})


def read_workbook(data: bytes, filename: str) -> list[Sheet]:
    if not data:
        raise UnreadableFile("empty", _("文件是空的"))
    if len(data) > MAX_BYTES:
        raise UnreadableFile("too_large", _("文件太大：最大 %(max)s MB，现在是 %(size).1f MB；请拆分后分批导入")
                             % {"max": MAX_BYTES // (1024 * 1024), "size": len(data) / (1024 * 1024)})
    kind = detect_format(data[:_HEAD], filename)
    if kind == "csv":
        return [_read_csv(data, filename)]
    if kind == "xlsx":
        _check_xlsx(data)
    else:
        _check_xls(data)
    return _read_excel(data)


# --- xlsx pre-flight ------------------------------------------------------------------------------------------

_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(c|row)[\s/>][^<>]*")
_CELL_REF = re.compile(rb"""\sr\s*=\s*["']\s*([A-Za-z]+)(\d+)\s*["']""")
_ROW_REF = re.compile(rb"""\sr\s*=\s*["']\s*(\d+)\s*["']""")


def _bomb() -> UnreadableFile:
    return UnreadableFile("zip_bomb", _("文件解压后异常巨大（疑似“压缩炸弹”），已拒绝读取；请用 Excel 打开后重新另存"))


def _check_xlsx(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise _bomb()
            if sum(entry.file_size for entry in entries) > MAX_UNCOMPRESSED:
                raise _bomb()
            for entry in entries:
                if entry.file_size > _RATIO_MIN_SIZE and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
                    raise _bomb()
            names = {entry.filename for entry in entries}
            if "xl/workbook.xml" not in names:
                raise UnreadableFile("wrong_type", _("文件扩展名为 .xlsx，但内容不是 Excel 工作簿（可能是其他压缩包、"
                                                     "WPS/OpenOffice 或 .xlsb 格式）；请用 Excel 另存为 .xlsx"))
            _check_workbook(sum(_check_extent(archive, entry) for entry in entries
                                if re.fullmatch(r"xl/worksheets/[^/]+\.xml", entry.filename)))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as error:
        if isinstance(error, UnreadableFile):
            raise
        raise UnreadableFile("corrupt", _("文件已损坏，无法作为 Excel 文件打开；请用 Excel 打开后重新另存")) from None


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - ord("A") + 1
    return number


_CELL_LETTERS = re.compile(rb'<c r="([A-Z]{1,3})')
_CELL_ROWS = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,9})"')
_ROW_NUMBERS = re.compile(rb'<row r="([0-9]{1,9})"')


def _scan_tags(chunk: bytes) -> tuple[int, int, int, int]:
    """(max row, max column, rows without r=, cells without r=) of the <row>/<c> tags in chunk.

    What Excel and most writers produce (r= first, no namespace prefix) is read with a few C-speed counts and
    findall calls; anything else in the chunk falls back to looking at each tag."""
    cells, rows = chunk.count(b'<c r="'), chunk.count(b'<row r="')
    # Every tag starting "<c" is a cell with r= first (so no <c>, <c/>, <cols>…), every "<row" has r= first,
    # and no namespace prefix (":c", ":row") appears anywhere.
    plain = cells == chunk.count(b"<c") and rows == chunk.count(b"<row")
    if plain and b":c" not in chunk and b":row" not in chunk:
        cell_rows = _CELL_ROWS.findall(chunk)
        row_numbers = _ROW_NUMBERS.findall(chunk)
        if len(cell_rows) == cells and len(row_numbers) == rows:
            letters = set(_CELL_LETTERS.findall(chunk))
            max_row = max(map(int, set(cell_rows).union(row_numbers)), default=0)
            return max_row, max((_column_number(x) for x in letters), default=0), 0, 0
    max_row = max_column = implicit_rows = implicit_cells = 0
    for tag in _TAG.finditer(chunk):
        if tag[1] == b"c":
            ref = _CELL_REF.search(tag[0])
            if ref:
                max_column = max(max_column, _column_number(ref[1]))
                max_row = max(max_row, int(ref[2]))
            else:
                implicit_cells += 1
        else:
            ref = _ROW_REF.search(tag[0])
            if ref:
                max_row = max(max_row, int(ref[1]))
            else:
                implicit_rows += 1
    return max_row, max_column, implicit_rows, implicit_cells


def _check_extent(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> int:
    """Largest row and column a worksheet uses, streamed; refuse before calamine allocates the rectangle.
    Returns the rectangle's cell count."""
    max_row = max_column = 0
    implicit_rows = implicit_cells = 0  # <row>/<c> without r=: calamine places them after the previous one
    carry = b""
    with archive.open(entry) as stream:  # zipfile stops at the declared (already capped) size and checks the CRC
        while True:
            chunk = stream.read(1024 * 1024)
            buffer = carry + chunk
            cut = buffer.rfind(b"<") if chunk else len(buffer)
            if cut <= 0 and chunk:
                carry = buffer
                continue
            rows, columns, more_rows, more_cells = _scan_tags(buffer[:cut])
            max_row, max_column = max(max_row, rows), max(max_column, columns)
            implicit_rows, implicit_cells = implicit_rows + more_rows, implicit_cells + more_cells
            carry = buffer[cut:]
            if not chunk:
                break
    rows, columns = max_row + implicit_rows, max_column + implicit_cells
    sheet = _("工作表") if not entry.filename else entry.filename.rsplit("/", 1)[-1].removesuffix(".xml")
    return _check_rectangle(sheet, rows, columns, part=True)


def _check_rectangle(sheet: str, rows: int, columns: int, *, part: bool = False) -> int:
    """A sheet's used rectangle within the bounds; returns its cell count. sheet: the sheet's name, or with part
    its worksheet part's (an .xlsx's sheet1), which the messages name unquoted."""
    numbers = {"sheet": sheet, "max": f"{MAX_ROWS:,}", "rows": f"{rows:,}", "columns": f"{columns:,}"}
    if rows > MAX_ROWS:
        message = (_("%(sheet)s 的行数太多：最多 %(max)s 行，现在用到了第 %(rows)s 行") if part else
                   _("工作表“%(sheet)s”的行数太多：最多 %(max)s 行，现在用到了第 %(rows)s 行"))
        raise UnreadableFile("too_large", message % numbers)
    if rows * columns > MAX_CELLS:
        message = (_("%(sheet)s 的表格范围过大（%(rows)s 行 × %(columns)s 列）；"
                     "请删除远处的空白格式或多余内容后重新另存") if part else
                   _("工作表“%(sheet)s”的表格范围过大（%(rows)s 行 × %(columns)s 列）；"
                     "请删除远处的空白格式或多余内容后重新另存"))
        raise UnreadableFile("too_large", message % numbers)
    return rows * columns


def _check_workbook(cells: int) -> None:
    if cells > MAX_WORKBOOK_CELLS:
        raise UnreadableFile("too_large", _("工作簿中各工作表的表格范围过大：合计 %(cells)s 个单元格，"
                                            "最多 %(max)s 个；请删除多余的工作表、远处的空白格式"
                                            "或多余内容后重新另存，或拆分后分批导入")
                             % {"cells": f"{cells:,}", "max": f"{MAX_WORKBOOK_CELLS:,}"})


# --- xls pre-flight -------------------------------------------------------------------------------------------

_RECORD = struct.Struct("<HH")  # a BIFF record's type and body length
_CELL_HEAD = struct.Struct("<HHHH")  # …followed, in a cell record, by its row and column
_BOF, _EOF, _FILEPASS, _BOUNDSHEET, _DIMENSIONS = 0x0809, 0x000A, 0x002F, 0x0085, 0x0200
# Cell records, each starting with its row and (first) column: NUMBER, RK, MULRK, MULBLANK, LABELSST, LABEL,
# BLANK, BOOLERR, FORMULA, RSTRING. MULRK and MULBLANK end with their last column.
_CELLS = frozenset({0x0203, 0x027E, 0x00BD, 0x00BE, 0x00FD, 0x0204, 0x0201, 0x0205, 0x0006, 0x00D6})
_MULTIPLE = frozenset({0x00BD, 0x00BE})
_WORKBOOK_STREAMS = {"workbook", "book"}  # calamine reads Workbook, else Book (either case)


def _check_xls(data: bytes) -> None:
    try:
        streams = _workbook_streams(data)
        _check_workbook(max((_check_biff(stream) for stream in streams), default=0))
    except UnreadableFile:
        raise
    except Exception:  # olefile's own errors on a broken container, struct.error on a cut record, and the like
        raise _corrupt() from None


def _workbook_streams(data: bytes) -> list[bytes]:
    """The BIFF streams calamine may read, each refused if it claims more bytes than the file has (a looping sector
    chain would make calamine read the declared size)."""
    with olefile.OleFileIO(io.BytesIO(data)) as container:
        entries = [entry for entry in container.direntries
                   if entry is not None and entry.entry_type == olefile.STGTY_STREAM
                   and entry.name.lower() in _WORKBOOK_STREAMS]
        streams = []
        for entry in entries:
            if entry.size < container.minisectorcutoff and container.root.size > len(data):
                raise _corrupt()  # the mini stream it is in
            if entry.size > len(data):
                raise _corrupt()
            with container._open(entry.isectStart, entry.size) as stream:  # openstream by entry, not by name
                streams.append(stream.read())
    return streams


def _check_biff(stream: bytes) -> int:
    """The sheets' rectangles within the bounds; their total cell count."""
    sheets, encrypted = _boundsheets(stream)
    if encrypted:
        return 0  # calamine stops at FILEPASS, before any sheet, with its password error
    if len(sheets) > MAX_SHEETS:
        raise UnreadableFile("too_large", _("工作表太多：最多 %(max)s 个，现在有 %(count)s 个；"
                                            "请删除多余的工作表后重新另存")
                             % {"max": f"{MAX_SHEETS:,}", "count": f"{len(sheets):,}"})
    walked, seen, total = 0, {}, 0
    for offset, name in sheets:
        if offset not in seen:
            seen[offset] = _sheet_extent(stream, offset)
            walked += seen[offset][2]
            if walked > len(stream):  # sheets overlap: each read again from another offset
                raise _corrupt()
        rows, columns, _walked = seen[offset]
        total += _check_rectangle(name, rows, columns)  # calamine reads every one, even duplicates
    return total


def _boundsheets(stream: bytes) -> tuple[list[tuple[int, str]], bool]:
    """(offset, name) of each sheet the workbook globals list, and whether the file is encrypted."""
    sheets, biff8, position = [], True, 0
    while position + 4 <= len(stream):
        kind, length = _RECORD.unpack_from(stream, position)
        body = stream[position + 4:position + 4 + length]
        position += 4 + length
        if kind == _EOF:
            break
        if kind == _BOF and len(body) >= 2:
            biff8 = _RECORD.unpack_from(body + b"\0\0")[0] == 0x0600
        elif kind == _FILEPASS and body[:2] != b"\0\0":
            return sheets, True
        elif kind == _BOUNDSHEET and len(body) >= 8:
            sheets.append((struct.unpack_from("<I", body)[0], _sheet_name(body[6:], biff8)))
    return sheets, False


def _sheet_name(short_string: bytes, biff8: bool) -> str:
    length = short_string[0]
    if not biff8:
        return short_string[1:1 + length].decode("gbk", "replace")
    if short_string[1] & 1:
        return short_string[2:2 + 2 * length].decode("utf-16-le", "replace")
    return short_string[2:2 + length].decode("latin-1")


def _sheet_extent(stream: bytes, start: int) -> tuple[int, int, int]:
    """(rows, columns, bytes walked) of the sheet whose BOF is at start: the largest row and column of its cell
    records and of its DIMENSIONS (calamine reserves that rectangle), up to its EOF. Records of the substreams
    nested in it (charts) count too, whichever way a calamine version treats them."""
    rows = columns = depth = 0
    position, end = start, len(stream)
    unpack = _CELL_HEAD.unpack_from  # one call per record: the pre-flight's cost is this loop (~0.2 µs a record)
    # The last 8 bytes hold no cell with its row and column (only an EOF or a cut record calamine refuses).
    while position <= end - 8:
        kind, length, row, column = unpack(stream, position)
        position += 4 + length
        if kind in _CELLS:  # a cut cell record's row and column may come from the next header: a wider bound
            if kind in _MULTIPLE:
                column = max(column, _RECORD.unpack_from(stream, position - 4)[1])
            if row >= rows:
                rows = row + 1
            if column >= columns:
                columns = column + 1
        elif kind in (_DIMENSIONS, _BOF, _EOF):
            depth = _nesting(kind, depth, position - length - 4 == start)
            if depth < 0:
                break
            if kind == _DIMENSIONS:
                last_row, last_column = _dimensions(stream[position - length:position])
                rows, columns = max(rows, last_row), max(columns, last_column)
    return rows, columns, min(position, end) - start


def _nesting(kind: int, depth: int, own_bof: bool) -> int:
    """The depth of nested substreams after a BOF or EOF record; -1 at the sheet's own EOF."""
    if kind == _BOF and not own_bof:
        return depth + 1
    if kind == _EOF:
        return depth - 1
    return depth


def _dimensions(body: bytes) -> tuple[int, int]:
    """DIMENSIONS' rows and columns past the last used (BIFF8 rows are 32-bit, BIFF5 16-bit)."""
    if len(body) == 14:
        return struct.unpack_from("<I", body, 4)[0], struct.unpack_from("<H", body, 10)[0]
    if len(body) == 10:
        return struct.unpack_from("<H", body, 2)[0], struct.unpack_from("<H", body, 6)[0]
    return 0, 0


# --- Excel via calamine ---------------------------------------------------------------------------------------

def _corrupt() -> UnreadableFile:
    return UnreadableFile("corrupt", _("文件已损坏或格式无法识别，无法读取；请用 Excel 打开后重新另存为 .xlsx"))


def _read_excel(data: bytes) -> list[Sheet]:
    sheets = []
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            for name in workbook.sheet_names:
                sheet = workbook.get_sheet_by_name(name)
                end = sheet.end
                if end is not None and end[0] + 1 > MAX_ROWS:
                    raise _too_many_rows(name)
                rows = sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS + 1)
                if len(rows) > MAX_ROWS:
                    raise _too_many_rows(name)
                sheets.append(Sheet(name=name, rows=[[None if cell == "" else cell for cell in row] for row in rows]))
        finally:
            workbook.close()
    except UnreadableFile:
        raise
    except python_calamine.PasswordError:
        raise UnreadableFile("corrupt", _("文件设置了密码，无法读取；请去掉密码后重新另存")) from None
    except Exception:  # CalamineError and its kin, plus anything the binding raises on a malformed file
        raise _corrupt() from None
    except BaseException as error:  # pyo3 turns a Rust panic into PanicException, a BaseException
        if type(error).__name__ == "PanicException":
            raise _corrupt() from None
        raise
    return sheets


def _too_many_rows(name: str) -> UnreadableFile:
    return UnreadableFile("too_large", _("工作表“%(sheet)s”的行数太多：最多 %(max)s 行")
                          % {"sheet": name, "max": f"{MAX_ROWS:,}"})


# --- CSV ------------------------------------------------------------------------------------------------------

def _read_csv(data: bytes, filename: str) -> Sheet:
    if b"\x00" in data:
        raise UnreadableFile("wrong_type", _("文件扩展名为 .csv，但内容不是文本文件；"
                                             "如是 Unicode（UTF-16）文本，请另存为 UTF-8 编码的 CSV"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile("encoding", _("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV"))
    try:
        delimiter = csv.Sniffer().sniff(text[:64 * 1024], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    rows = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if len(rows) >= MAX_ROWS:
                raise UnreadableFile("too_large", _("行数太多：最多 %(max)s 行；请拆分后分批导入")
                                     % {"max": f"{MAX_ROWS:,}"})
            rows.append([None if cell == "" else cell for cell in row])
    except csv.Error:
        raise UnreadableFile("corrupt", _("CSV 文件格式有误（例如引号不配对或单元格过长），无法读取")) from None
    return Sheet(name=PureWindowsPath(filename or "").stem or "Sheet1", rows=rows)
