"""Households and their members as a spreadsheet in the layout the import reads (dossiers.legacy.layout).

xlsx: two sheets, 家庭档案 (one row per household, the primary worker's own details on it) and 家庭成员 (the
other members, keyed by the primary worker's ID number). csv: one combined sheet, each household's row followed
by its members' rows. Values are written as the import parsers read them: Chinese labels, 是/否, dates as
YYYY-MM-DD, money with two decimals; in xlsx dates and money are typed cells shown in those formats, so they sort
and add up in Excel.

The file is built in memory (openpyxl's write-only mode keeps one row at a time, not a grid of cell objects):
an xlsx is a zip that is only complete at the end anyway, a county's file is a few megabytes, and a response
that fails half-way through must not hand out a truncated file that looks complete.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dossiers.choices import Relationship
from dossiers.legacy.layout import (
    COMBINED_COLUMNS,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_SHEET,
    MEMBER_COLUMNS,
    MEMBER_SHEET,
    escape_formula,
)
from dossiers.models import Household, Member
from hardship import idnumbers

CHUNK_SIZE = 1000
# Digit strings that must stay text: Excel turns an 18-digit number into 4.10102E+17 and drops leading zeros.
TEXT_KEYS = frozenset({"id_number", "head_id_number", "phone"})
MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
WIDE_COLUMNS = {"id_number": 21, "head_id_number": 21, "address": 36, "employer": 24, "phone": 14,
                "causes": 16, "secondary_causes": 28, "key_group": 24, "area_band": 16}


@dataclass
class ExportFile:
    content: bytes
    households: int
    people: int  # members, primary workers included


def export_queryset(households: QuerySet[Household]) -> Iterator[Household]:
    """The households with their members: one query for the households (read in chunks through a server-side
    cursor) and one for each chunk's members, none per household.
    Health notes are never read: they are not exported and decrypting them would only cost time."""
    members = Member.objects.defer("health_notes").order_by("-is_primary", "pk")
    return households.prefetch_related(Prefetch("members", queryset=members)).iterator(chunk_size=CHUNK_SIZE)


# --- rows ------------------------------------------------------------------------------------------------------

def _id(number: str, reveal: bool) -> str:
    return number if reveal or not number else idnumbers.mask(number)


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


@functools.cache
def _choice_labels(model: type, field: str, language: str) -> dict:
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}


def _label(obj, field: str) -> str:
    """get_FOO_display() without its cost: it rebuilds and hashes the whole choice list, translating every
    label, on each call (most of a county export's time); the labels are looked up once per language here."""
    value = getattr(obj, field)
    return _choice_labels(type(obj), field, translation.get_language()).get(value, value)


def _cause(code: int) -> str:
    return f"{code}-{_choice_labels(Household, 'main_cause', translation.get_language())[code]}"


def person_values(member: Member, *, reveal: bool) -> dict[str, object]:
    """The fields a household row (for its primary worker) and a member row share."""
    return {
        "name": member.name,
        "id_number": _id(member.id_number, reveal),
        "sex": _label(member, "sex"),
        "ethnicity": member.ethnicity,
        "birth_date": member.birth_date,
        "employer": member.employer,
        "work_status": _label(member, "work_status"),
        "health": _label(member, "health"),
        "disability": _label(member, "disability"),
        "medical_insurance": _label(member, "medical_insurance"),
        "able_to_work": _yes_no(member.able_to_work),
        "monthly_income": member.monthly_income,
    }


def household_values(household: Household, people: list[Member], *, serial: int, reveal: bool) -> dict[str, object]:
    head = _primary(people)
    incomes = {field: getattr(household, field) for field in Household.INCOME_FIELDS}
    return {
        # A file that somehow lacks its primary worker still shows whose file it is; the rest stays blank.
        **(person_values(head, reveal=reveal) if head else
           {"name": household.head_name, "id_number": _id(household.head_id_number, reveal)}),
        "serial": serial,
        "phone": household.phone,
        "address": household.address,
        "household_size": len(people),
        "status": _label(household, "status"),
        "filed_on": household.registered_on or timezone.localdate(household.created_at),
        "legacy_category": (_label(household, "category") if household.category
                            else _legacy_category(household)),
        "original_category": _legacy_category(household),
        "legacy_tier": _label(household, "legacy_tier"),
        "causes": _cause(household.main_cause),
        "secondary_causes": "、".join(_cause(code) for code in household.secondary_causes),
        "key_group": _label(household, "key_group"),
        "housing_type": _label(household, "housing_type"),
        "area_band": _label(household, "area_band"),
        "single_parent": _yes_no(household.single_parent),
        "zero_employment": _yes_no(household.zero_employment),
        "self_reliant": _yes_no(household.self_reliant),
        "model_worker": _label(household, "model_worker"),
        "migrant_worker": _yes_no(household.migrant_worker),
        "receives_dibao": _yes_no(household.receives_dibao),
        "dibao_amount": household.dibao_amount,
        "annual_income": sum(incomes.values(), Decimal("0.00")),
        **incomes,
        **{field: getattr(household, field) for field in Household.COST_FIELDS},
        "bank_name": household.bank_name,
        "bank_branch": household.bank_branch,
        "bank_card": household.masked_bank_card,
        "notes": "",
    }


def _primary(people: list[Member]) -> Member | None:
    return next((member for member in people if member.is_primary), None)


def _legacy_category(household: Household) -> str:
    return _label(household, "legacy_category") if household.legacy_category else ""


def member_values(member: Member, *, head_id_number: str, reveal: bool) -> dict[str, object]:
    return {
        **person_values(member, reveal=reveal),
        "head_id_number": _id(head_id_number, reveal),
        "relationship": _label(member, "relationship"),
    }


@dataclass
class HouseholdRows:
    household: dict[str, object]
    members: list[dict[str, object]]  # the other members, not the primary worker


def household_rows(households: Iterable[Household], *, reveal: bool) -> Iterator[HouseholdRows]:
    """Field → value dicts; call inside translation.override("zh-hans") (the layout is Chinese)."""
    for serial, household in enumerate(households, start=1):
        people = list(household.members.all())
        head = _primary(people)
        head_id_number = head.id_number if head else household.head_id_number
        yield HouseholdRows(
            household=household_values(household, people, serial=serial, reveal=reveal),
            members=[member_values(member, head_id_number=head_id_number, reveal=reveal)
                     for member in people if not member.is_primary],
        )


# --- files -----------------------------------------------------------------------------------------------------

def write_xlsx(households: Iterable[Household], *, reveal: bool) -> ExportFile:
    workbook = Workbook(write_only=True)
    household_sheet = _sheet(workbook, HOUSEHOLD_SHEET, HOUSEHOLD_COLUMNS)
    member_sheet = _sheet(workbook, MEMBER_SHEET, MEMBER_COLUMNS)
    counted = ExportFile(b"", 0, 0)
    with translation.override("zh-hans"):
        for rows in household_rows(households, reveal=reveal):
            household_sheet.append(_xlsx_row(household_sheet, HOUSEHOLD_COLUMNS, rows.household))
            for member in rows.members:
                member_sheet.append(_xlsx_row(member_sheet, MEMBER_COLUMNS, member))
            counted.households += 1
            counted.people += rows.household["household_size"]
    buffer = io.BytesIO()
    workbook.save(buffer)
    counted.content = buffer.getvalue()
    return counted


def _sheet(workbook: Workbook, title: str, columns: list[tuple[str, str]]):
    sheet = workbook.create_sheet(title)
    for index, (key, header) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDE_COLUMNS.get(key, max(8, len(header) * 2 + 2))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_styled(sheet, header, font=bold) for _, header in columns])
    return sheet


def _styled(sheet, value: object, **style) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _xlsx_row(sheet, columns: list[tuple[str, str]], values: dict[str, object]) -> list:
    return [_xlsx_cell(sheet, key, values.get(key)) for key, _ in columns]


def _xlsx_cell(sheet, key: str, value: object) -> object:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return _styled(sheet, value, number_format=MONEY_FORMAT)
    if isinstance(value, datetime.date):
        return _styled(sheet, value, number_format=DATE_FORMAT)
    if key in TEXT_KEYS:
        return _styled(sheet, escape_formula(value), number_format="@")  # stays text when edited in Excel
    return escape_formula(value) if isinstance(value, str) else value


def write_csv(households: Iterable[Household], *, reveal: bool) -> ExportFile:
    """One combined sheet, UTF-8 with a BOM (Excel in China reads BOM-less UTF-8 as GBK)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header for _, header in COMBINED_COLUMNS)
    counted = ExportFile(b"", 0, 0)
    with translation.override("zh-hans"):
        primary = {"relationship": str(Relationship.SELF.label), "head_id_number": ""}
        for rows in household_rows(households, reveal=reveal):
            writer.writerow(_csv_row({**rows.household, **primary}))
            for member in rows.members:
                writer.writerow(_csv_row(member))
            counted.households += 1
            counted.people += rows.household["household_size"]
    counted.content = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    return counted


def _csv_row(values: dict[str, object]) -> list[str]:
    return [_csv_cell(key, values.get(key)) for key, _ in COMBINED_COLUMNS]


def _csv_cell(key: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if key in TEXT_KEYS and value[:1].isdigit():
        # A CSV has no text cells; a leading tab is how Excel is told "not a number". The importer strips it.
        return "\t" + value
    return escape_formula(value) if isinstance(value, str) else str(value)


WRITERS = {"xlsx": write_xlsx, "csv": write_csv}
