"""Messy legacy registers, generated as bytes: what union offices actually kept in Excel before the system.

    families = [family("张建国"), family("王秀兰", sex="女", children=1)]
    tables = two_sheet_tables(families)              # 家庭档案 + 家庭成员, each with title rows and a 合计 row
    data = to_xlsx(tables)                           # or to_xls(tables), to_csv(combined_table(families), "gb18030")
    tables[0].row_for(families[0].head.id_number)    # the row number Excel shows for that household

A Table is a sheet: a merged title row and a 填报单位 row above the header, blank rows between records, a closing 合计
row. Records are dicts of import field → raw cell (str, int, float, date, datetime, None); `headers` says which
header text each field gets (synonyms, units, full-width brackets), in column order. Keys starting with "_" are
bookkeeping, never written.

Hostile files (zip bombs, billion laughs, wrong magic bytes, garbage) are at the end; they are built in streams so
that a test run keeps its memory.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
import struct
import zipfile
from dataclasses import dataclass, field

import openpyxl
import xlwt

from hardship import idnumbers
from tests.dossiers.conftest import new_id_number

TITLE = "XX区总工会困难职工家庭档案汇总表"
FILLED_BY = "填报单位：XX区总工会（盖章）        填报日期：2023年12月20日"

# The headers most legacy registers used (not the system's own export layout): synonyms and units.
HOUSEHOLD_HEADERS: dict[str, str] = {
    "serial": "序号",
    "name": "职工姓名",
    "id_number": "身份证号码",
    "sex": "性别",
    "birth_date": "出生年月",
    "employer": "工作单位",
    "phone": "联系电话",
    "address": "家庭住址",
    "household_size": "家庭人口",
    "annual_income": "家庭年总收入（元）",
    "legacy_category": "困难类别",
    "causes": "主要致困原因",
    "single_parent": "单亲家庭",
    "status": "档案状态",
    "notes": "备注",
    "wechat": "微信号",  # no such field: reported in unknown_columns
}
MEMBER_HEADERS: dict[str, str] = {
    "serial": "序号",
    "head_id_number": "户主身份证号",
    "name": "姓名",
    "id_number": "身份证号码",
    "relationship": "与户主关系",
    "sex": "性别",
    "birth_date": "出生日期",
    "employer": "工作单位或学校",
    "monthly_income": "月收入（元）",
}
# One sheet (CSV): the household columns plus the member keys.
COMBINED_HEADERS: dict[str, str] = {
    "serial": "序号",
    "name": "姓名",
    "id_number": "身份证号码",
    "relationship": "与户主关系",
    "head_id_number": "户主身份证号",
    **{key: text for key, text in HOUSEHOLD_HEADERS.items() if key not in ("serial", "name", "id_number")},
    "monthly_income": "月收入（元）",
}
UNKNOWN_HEADER = HOUSEHOLD_HEADERS["wechat"]


# --- people and families -----------------------------------------------------------------------------------------

@dataclass
class Person:
    name: str
    id_number: str
    sex: str  # "男" | "女"
    birth: datetime.date
    relationship: str = "本人"


def person(name: str, *, sex: str = "男", relationship: str = "本人", birth: datetime.date | None = None,
           region: str = "410102") -> Person:
    """A person with a fresh valid ID number matching sex and birth date."""
    number, born = new_id_number(sex="M" if sex == "男" else "F", region=region, birth=birth)
    return Person(name, number, sex, born, relationship)


def person_with_x(name: str = "赵小兰") -> Person:
    """A person whose ID number ends in X (about one in eleven do)."""
    while True:
        someone = person(name, sex="女")
        if someone.id_number.endswith("X"):
            return someone


@dataclass
class Family:
    head: Person
    members: list[Person] = field(default_factory=list)
    cells: dict = field(default_factory=dict)  # household-row cells replacing the defaults

    @property
    def people(self) -> list[Person]:
        return [self.head, *self.members]


def family(name: str = "张建国", *, sex: str = "男", spouse: bool = True, children: int = 0,
           birth: datetime.date | None = None, region: str = "410102", **cells) -> Family:
    """A primary worker, a spouse and children, each with a fresh ID number."""
    head = person(name, sex=sex, birth=birth, region=region)
    members = []
    if spouse:
        members.append(person("李秀英" if sex == "男" else "刘志强", sex="女" if sex == "男" else "男",
                              relationship="配偶"))
    for n in range(children):
        members.append(person(f"张{'晓明晓红晓军晓丽'[n % 4]}", sex="男" if n % 2 == 0 else "女",
                              relationship="子女", birth=datetime.date(2008 + n, 5, 1)))
    return Family(head, members, dict(cells))


def household_record(fam: Family, serial: int = 1) -> dict:
    """The household row of a family: the primary worker's own details and the household's."""
    head = fam.head
    record = {
        "_key": head.id_number,
        "serial": serial,
        "name": head.name,
        "id_number": head.id_number,
        "sex": head.sex,
        "birth_date": f"{head.birth:%Y.%m}",
        "employer": "郑州第一纺织厂",
        "phone": "13800001111",
        "address": "郑州市中原区建设路12号院3号楼2单元501",
        "household_size": len(fam.people),
        "annual_income": 24000,
        "legacy_category": "低保边缘户",
        "causes": "3-下岗失业",
        "single_parent": "否",
        "status": "在档",
        "notes": "2019年建档",
        "wechat": "wx_" + head.id_number[-4:],
    }
    record.update(fam.cells)
    return record


def member_record(member: Person, head: Person, serial: int = 1, **cells) -> dict:
    record = {
        "_key": member.id_number,
        "serial": serial,
        "head_id_number": head.id_number,
        "name": member.name,
        "id_number": member.id_number,
        "relationship": member.relationship,
        "sex": member.sex,
        "birth_date": f"{member.birth:%Y-%m-%d}",
        "employer": "郑州市第五十中学" if member.relationship == "子女" else "无",
        "monthly_income": 0 if member.relationship == "子女" else 800,
    }
    record.update(cells)
    return record


# --- sheets ------------------------------------------------------------------------------------------------------

@dataclass
class Table:
    """One sheet of a legacy register."""

    name: str
    headers: dict[str, str]  # field → header text, in column order
    records: list[dict]
    title: bool = True  # the merged title row and the 填报单位 row above the header
    blank_every: int = 2  # a blank row after every n records (0: none)
    total: bool = True  # a closing 合计 row

    def rows(self) -> list[list]:
        width = len(self.headers)
        rows: list[list] = []
        if self.title:
            rows.append([TITLE] + [None] * (width - 1))
            rows.append([FILLED_BY] + [None] * (width - 1))
        rows.append(list(self.headers.values()))
        for index, record in enumerate(self.records):
            rows.append([record.get(key) for key in self.headers])
            if self.blank_every and (index + 1) % self.blank_every == 0:
                rows.append([None] * width)
        if self.total:
            rows.append(["合计", f"{len(self.records)}户"] + [None] * (width - 2))
        return rows

    @property
    def header_row(self) -> int:
        """The header's row number as Excel shows it (1-based)."""
        return 3 if self.title else 1

    def row_of(self, index: int) -> int:
        """The row number Excel shows for the index-th record."""
        blanks = index // self.blank_every if self.blank_every else 0
        return self.header_row + 1 + index + blanks

    def row_for(self, key: str, nth: int = 0) -> int:
        """The row number of the (nth) record written for this ID number."""
        found = [i for i, record in enumerate(self.records) if record.get("_key") == key]
        return self.row_of(found[nth])

    def record_for(self, key: str) -> dict:
        return next(record for record in self.records if record.get("_key") == key)

    @property
    def total_row(self) -> int:
        return len(self.rows())


def two_sheet_tables(families: list[Family], *, household_headers: dict | None = None,
                     member_headers: dict | None = None, **table_options) -> list[Table]:
    """家庭档案 (one row per household) and 家庭成员 (the other members, keyed by 户主身份证号)."""
    households = [household_record(fam, serial) for serial, fam in enumerate(families, 1)]
    members = [member_record(member, fam.head)
               for fam in families for member in fam.members]
    for serial, record in enumerate(members, 1):
        record["serial"] = serial
    return [
        Table("家庭档案", household_headers or HOUSEHOLD_HEADERS, households, **table_options),
        Table("家庭成员", member_headers or MEMBER_HEADERS, members, **table_options),
    ]


def combined_records(families: list[Family], *, head_key_on_members: bool = False) -> list[dict]:
    """One row per person: the primary worker (本人) starts the household, the members follow it."""
    records = []
    for serial, fam in enumerate(families, 1):
        head = household_record(fam, serial)
        head["relationship"], head["head_id_number"] = "本人", None
        records.append(head)
        for member in fam.members:
            record = member_record(member, fam.head, serial=None)
            if not head_key_on_members:
                record["head_id_number"] = None
            records.append(record)
    return records


def combined_table(families: list[Family], *, name: str = "困难职工", headers: dict | None = None,
                   head_key_on_members: bool = False, **table_options) -> Table:
    return Table(name, headers or COMBINED_HEADERS,
                 combined_records(families, head_key_on_members=head_key_on_members), **table_options)


def full_household_record(fam: Family, serial: int = 1) -> dict:
    """Every column of the system's own export layout (dossiers.legacy.layout), filled the way it exports."""
    head = fam.head
    record = {
        "_key": head.id_number, "serial": serial, "name": head.name, "id_number": head.id_number,
        "sex": head.sex, "ethnicity": "汉族", "birth_date": f"{head.birth:%Y-%m-%d}", "phone": "13800001111",
        "employer": "郑州第一纺织厂", "work_status": "下岗", "health": "慢性病", "disability": "无",
        "medical_insurance": "职工医保", "able_to_work": "是", "monthly_income": "1500.00",
        "address": "郑州市中原区建设路12号院3号楼2单元501", "household_size": len(fam.people), "status": "在档",
        "filed_on": "2019-05-01", "legacy_category": "低保边缘户", "original_category": "低保边缘户",
        "legacy_tier": "区县级", "causes": "3-下岗失业", "secondary_causes": "6、9", "key_group": "因病致困家庭",
        "housing_type": "租赁私房", "area_band": "人均 15㎡ 以下", "single_parent": "否", "zero_employment": "否",
        "self_reliant": "是", "model_worker": "否", "migrant_worker": "否", "receives_dibao": "是",
        "dibao_amount": "600.00", "annual_income": "30000.00", "income_wages": "18000.00",
        "income_business": "0.00", "income_property": "0.00", "income_transfers": "7200.00",
        "income_other": "4800.00", "cost_illness": "6000.00", "cost_disability": "0.00",
        "cost_schooling": "3000.00", "cost_housing": "9600.00", "cost_other": "0.00",
        "bank_name": "中国工商银行", "bank_branch": "郑州建设路支行", "bank_card": "6222021702000123456",
        "notes": "2019年建档",
    }
    record.update(fam.cells)
    return record


def full_member_record(member: Person, head: Person) -> dict:
    return {
        "_key": member.id_number, "head_id_number": head.id_number, "name": member.name,
        "id_number": member.id_number, "relationship": member.relationship, "sex": member.sex, "ethnicity": "回族",
        "birth_date": f"{member.birth:%Y-%m-%d}", "health": "健康", "disability": "无",
        "medical_insurance": "城乡居民医保", "work_status": "失业", "able_to_work": "是", "employer": "",
        "monthly_income": "0.00",
    }


def export_layout_tables(families: list[Family]) -> list[Table]:
    """The two sheets exactly as this system exports them: no title, no blanks, no 合计."""
    from dossiers.legacy.layout import HOUSEHOLD_COLUMNS, HOUSEHOLD_SHEET, MEMBER_COLUMNS, MEMBER_SHEET

    plain = dict(title=False, blank_every=0, total=False)
    return [
        Table(HOUSEHOLD_SHEET, dict(HOUSEHOLD_COLUMNS),
              [full_household_record(fam, serial) for serial, fam in enumerate(families, 1)], **plain),
        Table(MEMBER_SHEET, dict(MEMBER_COLUMNS),
              [full_member_record(member, fam.head) for fam in families for member in fam.members], **plain),
    ]


def export_layout_csv_table(families: list[Family], name: str = "档案导出") -> Table:
    """The one-sheet CSV layout (COMBINED_COLUMNS): 本人 rows with an empty 户主身份证号, members after them."""
    from dossiers.legacy.layout import COMBINED_COLUMNS

    records = []
    for serial, fam in enumerate(families, 1):
        records.append({**full_household_record(fam, serial), "relationship": "本人", "head_id_number": None})
        records += [full_member_record(member, fam.head) for member in fam.members]
    return Table(name, dict(COMBINED_COLUMNS), records, title=False, blank_every=0, total=False)


# --- writers -----------------------------------------------------------------------------------------------------

def to_xlsx(tables: list[Table], *, notes_sheet: bool = True) -> bytes:
    """An .xlsx: each table a sheet (title merged across the header's width), plus a 填表说明 sheet."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.name)
        for row in table.rows():
            sheet.append(row)
        if table.title:
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(table.headers))
            sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(table.headers))
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, (datetime.date, datetime.datetime)):
                    cell.number_format = "yyyy-mm-dd"
    if notes_sheet:
        instructions = workbook.create_sheet("填表说明")
        instructions.append(["1. 身份证号码列请设为文本格式。"])
        instructions.append(["2. 致困原因填写编号或名称，多个原因用顿号分隔。"])
    return _save(workbook)


def rows_to_xlsx(sheets: dict[str, list[list]]) -> bytes:
    """An .xlsx of plain rows, sheet name → rows."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    return _save(workbook)


def _save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_XLS_DATE = xlwt.easyxf(num_format_str="yyyy-mm-dd")


def to_xls(tables: list[Table]) -> bytes:
    """An Excel 97 .xls (BIFF8, as WPS and old Excel save it), title merged across the header."""
    workbook = xlwt.Workbook(encoding="utf-8")
    for table in tables:
        sheet = workbook.add_sheet(table.name)
        rows = table.rows()
        start = 0
        if table.title:
            for r in (0, 1):
                sheet.write_merge(r, r, 0, len(table.headers) - 1, rows[r][0])
            start = 2
        for r, row in enumerate(rows[start:], start):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, (datetime.date, datetime.datetime)):
                    sheet.write(r, c, value, _XLS_DATE)
                else:
                    sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(table: Table, encoding: str = "utf-8", *, bom: bool = False) -> bytes:
    """A .csv as Excel saves it: CRLF, dates and numbers as text; "utf-8" with or without BOM, "gbk", "gb18030"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in table.rows():
        writer.writerow(["" if value is None else _csv_text(value) for value in row])
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _csv_text(value: object) -> str:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"{value:%Y/%m/%d}"
    return str(value)


def write(tables: list[Table], kind: str, stem: str = "困难职工档案") -> tuple[bytes, str]:
    """(bytes, file name) in one of "xlsx", "xls", "csv-utf8", "csv-bom", "csv-gbk", "csv-gb18030".
    CSV holds one sheet: pass a single combined table."""
    if kind == "xlsx":
        return to_xlsx(tables), f"{stem}.xlsx"
    if kind == "xls":
        return to_xls(tables), f"{stem}.xls"
    [table] = tables
    encoding = {"csv-utf8": "utf-8", "csv-bom": "utf-8", "csv-gbk": "gbk", "csv-gb18030": "gb18030"}[kind]
    return to_csv(table, encoding, bom=kind == "csv-bom"), f"{stem}.csv"


# --- messy cell values -------------------------------------------------------------------------------------------

_FULL_WIDTH_DIGITS = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def spaced_id(number: str) -> str:
    """ "410102 19850307 1234" as typed by hand."""
    return f"{number[:6]} {number[6:14]} {number[14:]}"


def full_width_id(number: str) -> str:
    return number.translate(_FULL_WIDTH_DIGITS)


def padded_id(number: str) -> str:
    return f" \u3000{number}\t "


def legacy_15(number: str) -> str:
    """The old 15-digit form of an 18-digit number of someone born in the 1900s."""
    assert number[6:8] == "19", "15-digit numbers only exist for births in the 1900s"
    return number[:6] + number[8:17]


def excel_float_id(number: str) -> float:
    """What Excel keeps of an ID number typed into a General cell: 15 significant digits."""
    return float(f"{int(number.replace('X', '0')):.14e}")


def excel_serial(day: datetime.date) -> int:
    return (day - datetime.date(1899, 12, 30)).days


def bad_check_digit(number: str) -> str:
    right = idnumbers.check_character(number[:17])
    wrong = next(c for c in "0123456789X" if c != right)
    return number[:17] + wrong


# --- hostile files -----------------------------------------------------------------------------------------------

_CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                  b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')


def zip_bomb(uncompressed_mb: int = 64, name: str = "xl/worksheets/sheet1.xml") -> bytes:
    """An xlsx-shaped zip whose worksheet inflates to uncompressed_mb of zeros (about 1000:1), written as a
    stream so that neither building nor refusing it needs the inflated size in memory."""
    buffer = io.BytesIO()
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        with archive.open(name, "w", force_zip64=True) as entry:
            for _ in range(uncompressed_mb):
                entry.write(chunk)
    return buffer.getvalue()


def many_entries_zip(entries: int = 5000) -> bytes:
    """An xlsx-shaped zip with thousands of tiny parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        for n in range(entries):
            archive.writestr(f"xl/media/p{n}.xml", b"<a/>")
    return buffer.getvalue()


_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n' for n in range(1, 10))
    + "]>\n"
)


def billion_laughs_xlsx() -> bytes:
    """A real register whose workbook and worksheet XML declare the "billion laughs" entities and use them in cells
    (a naive XML parser expands &lol9; to 10⁹ "lol"s, about 3 GB)."""
    original = to_xlsx(two_sheet_tables([family()]), notes_sheet=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in ("xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"):
                text = re.sub(r"^<\?xml[^>]*\?>\s*", "", data.decode("utf-8"))
                text = text.replace("<t>", "<t>&lol9;", 5)
                data = (_LAUGHS + text).encode("utf-8")
            out.writestr(info, data)
    return buffer.getvalue()


def csv_text_named_xlsx() -> bytes:
    """CSV content (what some offices rename to .xlsx)."""
    return "姓名,身份证号码,工作单位\r\n张三,11010519491231002X,第一机械厂\r\n".encode("gbk")


def xlsx_named_csv() -> bytes:
    """A real xlsx (PK zip) uploaded with a .csv name."""
    return to_xlsx(two_sheet_tables([family()]))


def garbage(size: int) -> bytes:
    return os.urandom(size)


def truncated_xlsx() -> bytes:
    data = to_xlsx(two_sheet_tables([family(), family("王秀兰", sex="女")]))
    return data[: len(data) // 2]


def huge_extent_xlsx() -> bytes:
    """A few KB whose used range spans A1:XFD1048576 (a dense reader would allocate ~17 billion cells)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["序号", "姓名", "身份证号码", "工作单位"])
    sheet["XFD1048576"] = "x"
    return _save(workbook)


def ole_garbage() -> bytes:
    """An Excel 97 signature followed by noise."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4096)


def far_cells_xls(sheets: int = 8, row: int = 65_535, column: int = 255) -> bytes:
    """5,632 bytes of Excel 97 whose every sheet holds one cell, at IV65536: each sheet's rectangle from A1 is
    65,536 × 256 cells (under the per-sheet bound), eight of them 134 million. Unguarded, read_workbook took ~20 s
    and 1.8 GB on it, and run_import 54 s, 6.2 GB and then a Rust abort of the whole process."""
    workbook = xlwt.Workbook()
    for number in range(sheets):
        workbook.add_sheet(f"Sheet{number + 1}").write(row, column, "x")
    return _save(workbook)


def _xls_records(data: bytes):
    """(file offset, type, body) of each BIFF record of an xlwt file (whose Workbook stream starts at 512 and is
    stored in order)."""
    position = 512
    while position + 4 <= len(data):
        kind, length = struct.unpack_from("<HH", data, position)
        if kind == 0 and length == 0:
            return
        yield position, kind, data[position + 4:position + 4 + length]
        position += 4 + length


def xls_dimensions_claiming(rows: int = 0xFFFFFFFF, columns: int = 0xFFFF) -> bytes:
    """A one-cell .xls whose DIMENSIONS record claims rows × columns: calamine reserves that many cells before it
    reads any (4 billion rows × 65,535 columns aborts the process at once: "memory allocation … failed")."""
    workbook = xlwt.Workbook()
    workbook.add_sheet("名单").write(0, 0, "姓名")
    data = bytearray(_save(workbook))
    [at] = [at for at, kind, _body in _xls_records(bytes(data)) if kind == 0x0200]
    data[at + 4:at + 18] = struct.pack("<IIHHH", 0, rows, 0, columns, 0)
    return bytes(data)


def xls_cell_at_column(column: int = 0xFFFF) -> bytes:
    """A one-cell .xls whose cell record says column 65,536 (BIFF8 allows 256; calamine takes all 16 bits): a
    65,536 × 65,536 rectangle from A1."""
    workbook = xlwt.Workbook()
    workbook.add_sheet("名单").write(65_535, 0, "x")
    data = bytearray(_save(workbook))
    [at] = [at for at, kind, _body in _xls_records(bytes(data)) if kind == 0x00FD]  # LABELSST
    data[at + 6:at + 8] = struct.pack("<H", column)
    return bytes(data)


def xls_sheet_listed_again(times: int = 3) -> bytes:
    """An .xls whose BOUNDSHEET records all point at one sheet of 65,536 × 256 cells: calamine (and the reader)
    build that sheet once per record, so a walk of the stream from BOF to EOF would count it only once."""
    workbook = xlwt.Workbook()
    workbook.add_sheet("Sheet1").write(65_535, 255, "x")
    for number in range(2, times + 1):
        workbook.add_sheet(f"Sheet{number}")
    data = bytearray(_save(workbook))
    listed = [(at, body) for at, kind, body in _xls_records(bytes(data)) if kind == 0x0085]
    for at, _body in listed[1:]:
        data[at + 4:at + 8] = listed[0][1][:4]
    return bytes(data)


def xls_looping_chain(declared: int = 0xF000_0000) -> bytes:
    """A 13 KB .xls whose Workbook stream claims 3.75 GB and whose sector chain loops back to its start:
    calamine reads the chain round and round until it has the declared size (13 s and 3.9 GB here)."""
    import olefile

    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("名单")
    for row in range(300):  # a stream over 4 KB, so in the main FAT rather than the mini stream
        sheet.write(row, 0, row)
    data = bytearray(_save(workbook))
    container = olefile.OleFileIO(bytes(data))
    entry = container.direntries[container._find("Workbook")]
    chain = [entry.isectStart]
    while container.fat[chain[-1]] < olefile.MAXREGSECT:
        chain.append(container.fat[chain[-1]])
    size_at = 512 + container.first_dir_sector * 512 + entry.sid * 128 + 120
    data[size_at:size_at + 4] = struct.pack("<I", declared)
    fat_sector = struct.unpack_from("<I", data, 0x4C)[0]
    link_at = 512 + fat_sector * 512 + chain[-1] * 4
    data[link_at:link_at + 4] = struct.pack("<I", chain[0])
    return bytes(data)


# --- the management command --------------------------------------------------------------------------------------

@dataclass
class CommandResult:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        import json

        return json.loads(self.out)


def call_import_command(path, *args: str) -> CommandResult:
    """`manage.py import_households PATH ARGS…` in this process: the exit code (SystemExit, or 0 when the command
    returns normally) and what it wrote, whether through self.stdout or print()."""
    import contextlib

    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            call_command("import_households", str(path), *args, stdout=out, stderr=err)
        except SystemExit as exit_:
            if exit_.code is None or isinstance(exit_.code, int):
                code = exit_.code or 0
            else:  # sys.exit("message"): Python prints the message and exits with 1
                code = 1
                err.write(str(exit_.code))
    return CommandResult(code, out.getvalue(), err.getvalue())
