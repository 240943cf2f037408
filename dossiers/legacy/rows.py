"""From sheets of raw cells to household records: find each sheet's header and layout, parse every cell, tie
members to their household, and flag rows that cannot be imported. Pure Python: no database.

Layouts: a household sheet (one row per household, the primary worker's details on it); a member sheet (rows
keyed by 户主身份证号); or one combined sheet where a row with 与户主关系 = 本人 (or an empty 户主身份证号) starts a
household and other rows belong to the household named in 户主身份证号, else to the household above them.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from dossiers.legacy import fields, headers
from dossiers.legacy.mapping import Mapping
from dossiers.legacy.reading import Sheet
from dossiers.legacy.values import CellError

HOUSEHOLD_KEYS = frozenset(fields.HOUSEHOLD_PARSERS) - {"phone"}
PERSON_KEYS = frozenset(fields.PERSON_PARSERS)
_FOOTNOTE = re.compile(r"^(注|说明|备注|填表|制表|审核|负责人|单位负责人|联系人|经办人|填报)")
_TYPED_AS_TEXT = ("'", "‘", "’", "`")  # an apostrophe typed before a number to keep it text
UNREADABLE_GROUPS = 200  # distinct unreadable values listed for the mapping step
GROUP_ROWS = 10  # rows listed for each
SAMPLES = 3


@dataclass
class RowProblem:
    sheet: str
    row: int
    column: str
    reason: str


@dataclass
class SkippedRow:
    sheet: str
    row: int
    reason: str


@dataclass
class SourceRow:
    sheet: str
    row: int  # 1-based, as Excel shows it
    cells: list
    problems: list[RowProblem] = field(default_factory=list)

    def reject(self, column: str, reason: str) -> None:
        self.problems.append(RowProblem(self.sheet, self.row, column, reason))


@dataclass
class PersonRecord:
    source: SourceRow
    values: dict
    head_id: str | None = None
    id_number: str | None = None


@dataclass
class HouseholdRecord:
    source: SourceRow
    values: dict
    head: PersonRecord
    members: list[PersonRecord] = field(default_factory=list)

    @property
    def head_id(self) -> str | None:
        return self.head.id_number

    def sources(self) -> list[SourceRow]:
        return [self.source] + [member.source for member in self.members]

    @property
    def has_problems(self) -> bool:
        return any(source.problems for source in self.sources())


@dataclass
class SheetLayout:
    name: str
    header_index: int
    headers: list[str]
    columns: dict[str, int]
    kind: str  # "household" | "member" | "combined"
    parsers: list[tuple[str, int, object]] = field(default_factory=list)  # (key, column, parser)
    described: list[headers.Column] = field(default_factory=list)

    def header_of(self, key: str) -> str:
        index = self.columns.get(key)
        return self.headers[index] if index is not None and index < len(self.headers) else ""


@dataclass
class ParsedFile:
    households: list[HouseholdRecord] = field(default_factory=list)
    loose_rows: list[SourceRow] = field(default_factory=list)  # rejected rows that belong to no household
    skipped: list[SkippedRow] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    headers: dict[str, list[str]] = field(default_factory=dict)  # sheet → header texts, for the rejected download
    columns: list[dict] = field(default_factory=list)  # every column of every sheet and what it was taken to be
    unreadable: dict[tuple, dict] = field(default_factory=dict)  # (sheet, column, value) → the rows with it
    bad_heads: dict[str, SourceRow] = field(default_factory=dict)  # ID text of a household row that is rejected
    groups: dict[tuple, HouseholdRecord] = field(default_factory=dict)  # (sheet, 户编号) → its household
    grouped: list[tuple] = field(default_factory=list)  # (member, 户编号) waiting for the household's row
    total_rows: int = 0


def parse_sheets(sheets: list[Sheet], progress=None, mapping: Mapping | None = None) -> ParsedFile:
    """progress(rows_seen), if given, is called every few thousand rows; mapping is the admin's (see mapping.py)."""
    parsed = ParsedFile()
    mapping = mapping or Mapping()
    layouts = [layout for sheet in sheets if (layout := _layout(sheet, parsed, mapping))]
    by_head: dict[str, HouseholdRecord] = {}
    pending_members: list[PersonRecord] = []
    for layout, sheet in ((layout, _sheet_named(sheets, layout.name)) for layout in layouts):
        for source, values in _parsed_rows(sheet, layout, parsed):
            parsed.total_rows += 1
            _take_row(source, values, layout, parsed, by_head, pending_members)
            if progress and parsed.total_rows % 2000 == 0:
                progress(parsed.total_rows)
    for member in pending_members:
        _attach(member, by_head, parsed)
    _attach_grouped(parsed, by_head)
    check_members_across_households(parsed)
    return parsed


def _sheet_named(sheets: list[Sheet], name: str) -> Sheet:
    return next(sheet for sheet in sheets if sheet.name == name)


# --- layout of a sheet ---------------------------------------------------------------------------------------

def _layout(sheet: Sheet, parsed: ParsedFile, mapping: Mapping) -> SheetLayout | None:
    if all(headers.is_blank_row(row) for row in sheet.rows[:50]):
        return None
    try:
        index, header_row, above = headers.find_header(sheet.rows, overrides=mapping.columns)
    except headers.HeaderNotFound as error:
        parsed.skipped.append(SkippedRow(sheet.name, 1, _("整张表未导入：%(reason)s") % {"reason": error}))
        return None
    header_cells = ["" if cell is None else str(cell).strip() for cell in header_row]
    found = headers.map_headers(header_row, sheet_name=sheet.name, overrides=mapping.columns, context=above)
    if not found.columns.keys() & {"name", "id_number", "head_id_number"} and not _unsure_of_people(found):
        parsed.skipped.append(SkippedRow(sheet.name, index + 1, _("整张表未导入：没有姓名或身份证号码列，"
                                                                  "不是档案名单（如汇总表、统计表）")))
        return None
    parsed.unknown_columns += [_("%(sheet)s：%(header)s") % {"sheet": sheet.name, "header": text}
                               for text in found.unknown]
    parsed.unknown_columns += [_("%(sheet)s：%(header)s（有歧义，未读取）") % {"sheet": sheet.name, "header": text}
                               for text in found.ambiguous]
    parsed.unknown_columns += [_("%(sheet)s：%(header)s（重复的列，只读第一列）")
                               % {"sheet": sheet.name, "header": text} for text in found.duplicates]
    parsed.headers[sheet.name] = header_cells
    columns = found.columns
    layout = SheetLayout(sheet.name, index, header_cells, columns, _kind(columns), described=found.described)
    layout.parsers = [(key, column, fields.with_values(key, _parser(key, header_cells[column]),
                                                       mapping.values.get(key)))
                      for key, column in columns.items() if key not in fields.IGNORED_FIELDS]
    return layout


def _unsure_of_people(found: headers.HeaderMap) -> bool:
    return any({"name", "id_number"} & set(column.candidates) for column in found.described)


def _kind(columns: dict[str, int]) -> str:
    keys = set(columns)
    if "head_id_number" in keys and not keys & HOUSEHOLD_KEYS:
        return "member"
    if "head_id_number" in keys or "relationship" in keys:
        return "combined"
    return "household"


_MONEY_KEYS = {key for key, parser in {**fields.HOUSEHOLD_PARSERS, **fields.PERSON_PARSERS}.items()
               if parser is fields.money}


def _parser(key: str, header_text: str):
    if key in _MONEY_KEYS and "万元" in header_text:
        return fields.money_in_wan
    parse = fields.PERSON_PARSERS.get(key) or fields.HOUSEHOLD_PARSERS[key]
    return fields.yes_no_for(parse, header_text) if key in fields.BOOL_FIELDS else parse


def _data_rows(sheet: Sheet, layout: SheetLayout, parsed: ParsedFile):
    rows = sheet.rows
    for index in range(layout.header_index + 1, len(rows)):
        row = rows[index]
        if headers.is_blank_row(row):
            continue
        if headers.is_subtotal_row(row):  # a street's or unit's subtotal: the next group follows
            parsed.skipped.append(SkippedRow(sheet.name, index + 1, _("小计行")))
            continue
        if headers.is_total_row(row):
            parsed.skipped.append(SkippedRow(sheet.name, index + 1, _("合计行")))
            for after in range(index + 1, len(rows)):
                if not headers.is_blank_row(rows[after]):
                    parsed.skipped.append(SkippedRow(sheet.name, after + 1, _("合计行之后的内容")))
            return
        if _is_column_numbers(row):
            parsed.skipped.append(SkippedRow(sheet.name, index + 1, _("栏目编号行（1、2、3…）")))
            continue
        if _is_footnote(row):
            parsed.skipped.append(SkippedRow(sheet.name, index + 1, _("表尾说明或签字行")))
            continue
        yield SourceRow(sheet.name, index + 1, list(row))


def _is_column_numbers(row: list) -> bool:
    """The row of column numbers (1, 2, 3 …) many forms print under their header."""
    filled = [cell for cell in row if cell is not None and cell != ""]
    if len(filled) < 5:
        return False
    try:
        numbers = [float(cell) for cell in filled]
    except (TypeError, ValueError):
        return False
    return numbers == [float(n) for n in range(1, len(numbers) + 1)]


def _is_footnote(row: list) -> bool:
    filled = [cell for cell in row if cell is not None and cell != ""]
    if len(filled) > 2:
        return False
    texts = [text for text in (str(cell).strip() for cell in filled) if text]
    return bool(texts) and bool(_FOOTNOTE.match(texts[0]))


# --- one row -------------------------------------------------------------------------------------------------

def _take_row(source: SourceRow, values: dict, layout: SheetLayout, parsed: ParsedFile, by_head: dict,
              pending: list) -> None:
    person_values = {key: value for key, value in values.items() if key in PERSON_KEYS}
    head_id = person_values.pop("head_id_number", None)
    group = person_values.pop("household_key", None)
    person = PersonRecord(source, person_values, head_id, person_values.get("id_number"))
    _check_person(person, layout)
    if _starts_household(person, layout):
        household_values = {key: value for key, value in values.items() if key in fields.HOUSEHOLD_PARSERS}
        _check_household(source, household_values, layout)
        person.values["relationship"] = "self"
        person.head_id = None
        _add_household(HouseholdRecord(source, household_values, person), parsed, by_head)
        if group:
            parsed.groups.setdefault((source.sheet, group), parsed.households[-1])
        if not person.id_number and "id_number" in layout.columns:
            _remember_bad_head(source, layout.columns["id_number"], parsed)
    elif group and person.head_id is None and layout.kind == "combined":
        parsed.grouped.append((person, group))  # its household's row may come after it
    elif person.head_id is None and layout.kind == "combined" and parsed.households \
            and parsed.households[-1].source.sheet == source.sheet:
        person.head_id = parsed.households[-1].head_id or ""
        _attach(person, by_head, parsed, after=parsed.households[-1])
    else:
        pending.append(person)


def _parsed_rows(sheet: Sheet, layout: SheetLayout, parsed: ParsedFile):
    """(source row, its parsed values) for each data row. Parsing goes column by column: each distinct value of a
    column is parsed once, then the rows are put back together; a cell that fails becomes the row's problem."""
    sources = list(_data_rows(sheet, layout, parsed))
    keys, columns, failed = [], [], set()
    for key, column, parse in layout.parsers:
        cells = [source.cells[column] if column < len(source.cells) else None for source in sources]
        results = _parse_column(cells, parse)
        keys.append(key)
        columns.append(results)
        bad = [index for index, result in enumerate(results) if result.__class__ is CellError]
        failed.update(bad)
        if bad and fields.vocabulary(key) is not None:
            _group_unreadable(parsed, layout, key, column, [(sources[i], cells[i], results[i]) for i in bad])
    _describe_columns(parsed, layout, sources)
    rows = zip(*columns) if columns else (() for _source in sources)
    for index, (source, row) in enumerate(zip(sources, rows)):
        if index in failed:
            yield source, _values_reporting_errors(source, layout, row)
        else:
            yield source, dict(zip(keys, row))


def _parse_column(cells: list, parse) -> list:
    """Results (or CellErrors: immutable, so shared) of parse for each cell, each distinct value parsed once."""
    kinds = {cell.__class__ for cell in cells}
    if bool in kinds or (int in kinds and float in kinds):  # True == 1 == 1.0 as dict keys; they parse differently
        return [_parse_or_error(parse, _typed(cell)) for cell in cells]
    results = {cell: _parse_or_error(parse, _typed(cell)) for cell in set(cells)}
    return list(map(results.__getitem__, cells))


def _typed(cell):
    """The cell without the apostrophe typed to force text ('410102…)."""
    if cell.__class__ is str and cell[:1] in _TYPED_AS_TEXT and len(cell) > 1 and cell[1] not in _TYPED_AS_TEXT:
        return cell[1:]
    return cell


def _group_unreadable(parsed: ParsedFile, layout: SheetLayout, key: str, column: int, failures: list) -> None:
    """Unreadable values of a vocabulary column, grouped by value: one mapping in the preview fixes every row."""
    header = layout.headers[column]
    for source, cell, error in failures:
        value = error.value or fields._key(_typed(cell)) or ""
        group = parsed.unreadable.get((layout.name, header, value))
        if group is None:
            if len(parsed.unreadable) >= UNREADABLE_GROUPS:
                continue
            group = parsed.unreadable[(layout.name, header, value)] = {
                "sheet": layout.name, "header": header, "field": key, "value": value, "count": 0, "rows": [],
                "reason": error.message}
        group["count"] += 1
        if len(group["rows"]) < GROUP_ROWS:
            group["rows"].append(source.row)


def _describe_columns(parsed: ParsedFile, layout: SheetLayout, sources: list[SourceRow]) -> None:
    for column in layout.described:
        samples = []
        if not column.field:  # what a column nobody recognised holds helps the admin map it
            for source in sources:
                cell = source.cells[column.index] if column.index < len(source.cells) else None
                text = _sample(cell)
                if text and text not in samples:
                    samples.append(text)
                if len(samples) == SAMPLES:
                    break
        parsed.columns.append({
            "sheet": layout.name, "index": column.index, "letter": _letter(column.index), "header": column.header,
            "key": column.key, "field": column.field, "how": column.how, "candidates": list(column.candidates),
            "samples": samples})


_LONG_NUMBER = re.compile(r"\d{6,}")


def _sample(cell) -> str:
    """A short, masked look at a cell: long numbers (ID, card, phone) keep only their first and last digits."""
    if cell is None:
        return ""
    text = fields._key(cell) or ""
    text = _LONG_NUMBER.sub(lambda match: match[0][:2] + "*" * (len(match[0]) - 4) + match[0][-2:], text)
    return text[:12] + ("…" if len(text) > 12 else "")


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _parse_or_error(parse, cell):
    try:
        return parse(cell)
    except CellError as error:
        # Kept, so drop what it drags along: the traceback's frames hold the whole parsed file in a cycle.
        error.__context__ = error.__cause__ = error.__traceback__ = None
        return error


def _values_reporting_errors(source: SourceRow, layout: SheetLayout, row: tuple) -> dict:
    values = {}
    for (key, column, _parse), result in zip(layout.parsers, row):
        if result.__class__ is CellError:
            source.reject(layout.headers[column], result.message)
        else:
            values[key] = result
    return values


def _starts_household(person: PersonRecord, layout: SheetLayout) -> bool:
    if layout.kind == "household":
        return True
    if layout.kind == "member":
        return False
    if "relationship" in layout.columns:
        return person.values.get("relationship") == "self"
    return person.head_id is None or person.head_id == person.id_number


def _check_person(person: PersonRecord, layout: SheetLayout) -> None:
    source, values = person.source, person.values
    for key, title in (("name", "姓名"), ("id_number", "身份证号码")):
        if key not in layout.columns:
            source.reject(title, _missing_column(layout, key, title))
    number = values.get("id_number")
    if not number:
        return
    born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    sex = "M" if int(number[16]) % 2 else "F"
    given = values.get("birth_date")
    if given and (given.year, given.month) != (born.year, born.month):
        source.reject(layout.header_of("birth_date"), _("出生日期 %(given)s 与身份证号码中的出生日期 %(born)s 不一致")
                      % {"given": f"{given:%Y-%m-%d}", "born": f"{born:%Y-%m-%d}"})
    if values.get("sex") and values["sex"] != sex:
        source.reject(layout.header_of("sex"), _("性别与身份证号码不一致（身份证号第 17 位单数为男、双数为女）"))
    values["birth_date"], values["sex"] = born, sex
    if layout.kind == "member" and "head_id_number" in layout.columns and not person.head_id:
        source.reject(layout.header_of("head_id_number"), _("户主身份证号不能为空"))


def _missing_column(layout: SheetLayout, key: str, title: str) -> str:
    unsure = [column.header for column in layout.described if key in column.candidates]
    if unsure:
        return _("表头中“%(columns)s”列有歧义，无法确定哪一列是“%(field)s”：请在预览的列映射中指定") % {
            "columns": "”“".join(unsure), "field": title}
    return _("表头中没有“%(field)s”列") % {"field": title}


def _check_household(source: SourceRow, values: dict, layout: SheetLayout) -> None:
    monthly = values.pop("household_monthly_income", None)
    if monthly is not None and "annual_income" not in layout.columns:
        values["annual_income"] = monthly * 12
    causes = list(values.pop("causes", ()) or ())
    extra = [code for code in values.pop("secondary_causes", ()) or () if code not in causes]
    if "causes" not in layout.columns:
        source.reject("主要致困原因", _("表头中没有“%(field)s”列") % {"field": "主要致困原因"})
    elif not causes and not any(problem.column == layout.header_of("causes") for problem in source.problems):
        source.reject(layout.header_of("causes"), _("主要致困原因不能为空"))
    if causes:
        secondary = causes[1:] + extra
        if len(secondary) > 3:
            column = layout.header_of("secondary_causes" if extra else "causes")
            source.reject(column, _("其他致困原因最多三项，现在有 %(count)s 项") % {"count": len(secondary)})
        values["main_cause"], values["secondary_causes"] = causes[0], secondary[:3]


def _add_household(record: HouseholdRecord, parsed: ParsedFile, by_head: dict) -> None:
    parsed.households.append(record)
    head_id = record.head_id
    if not head_id:
        return
    first = by_head.get(head_id)
    if first is not None:
        record.source.reject("身份证号码", _("与“%(sheet)s”第 %(row)s 行是同一户（建档职工身份证号相同），"
                                              "同一户只能出现一次") % _place(first.source))
        return
    by_head[head_id] = record


def _attach_grouped(parsed: ParsedFile, by_head: dict) -> None:
    """Rows tied to their household by a household number (户编号), wherever the head's row is in the sheet."""
    for member, group in parsed.grouped:
        household = parsed.groups.get((member.source.sheet, group))
        if household is None:
            member.source.reject("户编号", _("户编号“%(group)s”的户没有与户主关系为“本人”的行") % {"group": group})
            parsed.loose_rows.append(member.source)
            continue
        member.head_id = household.head_id or ""
        _attach(member, by_head, parsed, after=household)


def _remember_bad_head(source: SourceRow, column: int, parsed: ParsedFile) -> None:
    """A household row whose ID number could not be read: its members must say so, not "户主不在本文件中"."""
    raw = source.cells[column] if column < len(source.cells) else None
    if isinstance(raw, float) and raw == raw and abs(raw) < 1e19:  # Excel kept 15 significant digits
        parsed.bad_heads.setdefault("~" + f"{raw:.0f}"[:15], source)
    elif raw is not None:
        parsed.bad_heads.setdefault(re.sub(r"[^0-9X]", "", str(raw).upper()), source)


def _bad_head(head_id: str, parsed: ParsedFile) -> SourceRow | None:
    return parsed.bad_heads.get(head_id) or parsed.bad_heads.get("~" + head_id[:15])


def first_problem(source: SourceRow) -> str:
    problem = source.problems[0]
    if not problem.column:
        return problem.reason
    return _("%(column)s：%(reason)s") % {"column": problem.column, "reason": problem.reason}


def _attach(member: PersonRecord, by_head: dict, parsed: ParsedFile, after: HouseholdRecord | None = None) -> None:
    household = after if after is not None else by_head.get(member.head_id or "")
    if household is None:
        if member.head_id and (bad := _bad_head(member.head_id, parsed)):
            member.source.reject("户主身份证号", _("户主的“%(sheet)s”第 %(row)s 行有误（%(problem)s），本户未导入")
                                 % {**_place(bad), "problem": first_problem(bad)})
        elif member.head_id:
            member.source.reject("户主身份证号", _("户主不在本文件中：找不到该户主身份证号对应的家庭"))
        elif not member.source.problems:
            member.source.reject("户主身份证号",
                                 _("找不到所属家庭：户主身份证号为空，上方也没有与户主关系为“本人”的行"))
        parsed.loose_rows.append(member.source)
        return
    number = member.id_number
    if number and number == household.head_id:
        _merge_into_head(member, household)
        return
    if number and any(other.id_number == number for other in household.members):
        twin = next(other for other in household.members if other.id_number == number)
        member.source.reject("身份证号码", _("与“%(sheet)s”第 %(row)s 行重复：同一户中同一人只能填写一次")
                             % _place(twin.source))
    household.members.append(member)


def _merge_into_head(member: PersonRecord, household: HouseholdRecord) -> None:
    """A member row for the primary worker themself (与户主关系 本人) adds detail to the household's head."""
    if member.source.problems:
        household.members.append(member)  # its problems must reject the household
        return
    for key, value in member.values.items():
        if key != "relationship":
            household.head.values[key] = value


def _place(source: SourceRow) -> dict:
    """The sheet and row of source, for a message's “%(sheet)s”第 %(row)s 行."""
    return {"sheet": source.sheet, "row": source.row}


def check_members_across_households(parsed: ParsedFile) -> None:
    """A person may be in one household of the file only: the head of one cannot be a member of another, and
    a member's later appearances in other households are rejected."""
    heads = {household.head_id: household for household in parsed.households if household.head_id}
    seen: dict[str, HouseholdRecord] = {}
    for household in parsed.households:
        for member in household.members:
            number = member.id_number
            if not number or number == household.head_id:
                continue
            if number in heads and heads[number] is not household:
                member.source.reject("身份证号码", _("此人是“%(sheet)s”第 %(row)s 行的建档职工，不能同时是另一户的成员")
                                     % _place(heads[number].source))
                continue
            other = seen.setdefault(number, household)
            if other is not household:
                member.source.reject("身份证号码", _("此人已在“%(sheet)s”第 %(row)s 行的家庭中，不能同时属于两户")
                                     % _place(other.source))
