"""Importing a legacy register: read safely → parse and check every row → match against the files in scope →
write new and changed households with their members in one transaction (or, for a preview, write nothing).

    report = run_import(data, "中原区困难职工档案.xlsx", union=union, user=admin, mode="skip_invalid")
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import io
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pghistory
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dossiers import register
from dossiers.legacy import assessments, merge, rows
from dossiers.legacy.layout import escape_formula
from dossiers.legacy.mapping import Mapping
from dossiers.legacy.models import ImportBatch
from dossiers.legacy.reading import read_workbook
from dossiers.legacy.rows import HouseholdRecord, ParsedFile, RowProblem, SkippedRow, SourceRow
from dossiers.models import Household
from hardship import fields, idnumbers
from hardship.access import scope_path
from hardship.models import Union

__all__ = ["ImportReport", "RowProblem", "SkippedRow", "import_running", "rejected_rows_xlsx", "run_import"]

ProgressCallback = Callable[[int, int], None]
LISTED_HOUSEHOLDS = 300  # households the report names, created and updated each; the counts say how many in all


@dataclass
class ImportReport:
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    members_created: int = 0
    members_updated: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    columns: list[dict] = field(default_factory=list)  # every column of every sheet, as read (rows.ParsedFile)
    unreadable: list[dict] = field(default_factory=list)  # unreadable values of vocabulary columns, by value
    warnings: list[str] = field(default_factory=list)  # about the whole import, each said once
    rejected_rows: list[dict] = field(default_factory=list)
    # The first LISTED_HOUSEHOLDS households created and updated (to be, in a preview): see _listed.
    created: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)
    total_rows: int = 0
    written: bool = False
    refused: bool = False
    dry_run: bool = False

    @property
    def rejected_row_count(self) -> int:
        return len(self.rejected_rows)

    def as_json(self) -> dict:
        return {
            "households_created": self.households_created, "households_updated": self.households_updated,
            "households_unchanged": self.households_unchanged, "members_created": self.members_created,
            "members_updated": self.members_updated,
            "rejected": [{"sheet": p.sheet, "row": p.row, "column": p.column, "reason": p.reason}
                         for p in self.rejected],
            "skipped": [{"sheet": s.sheet, "row": s.row, "reason": s.reason} for s in self.skipped],
            "unknown_columns": self.unknown_columns,
            "columns": self.columns,
            "unreadable": self.unreadable,
            "warnings": self.warnings,
        }


def run_import(data: bytes, file_name: str, *, union: Union, user, mode: str = ImportBatch.Mode.ALL_OR_NOTHING,
               dry_run: bool = False, batch: ImportBatch | None = None,
               progress: ProgressCallback | None = None, mapping: Mapping | None = None) -> ImportReport:
    """Raises UnreadableFile for a file that cannot be read, PermissionDenied outside the user's remit.
    mapping: the admin's column and value mapping for this file's wording (dossiers.legacy.mapping)."""
    if not user.has_perm("dossiers.import_household", union):
        raise PermissionDenied(_("无权向该单位导入档案"))
    region_code = _region_code(union)
    with _without_cyclic_gc():
        return _run(data, file_name, union=union, user=user, mode=mode, dry_run=dry_run, batch=batch,
                    progress=progress or (lambda done, total: None), region_code=region_code,
                    mapping=mapping or Mapping())


@contextlib.contextmanager
def _without_cyclic_gc():
    """A big file makes millions of small objects and no cycles; the collector's full passes over them cost
    more than the parsing itself. Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(data: bytes, file_name: str, *, union: Union, user, mode: str, dry_run: bool, batch, progress,
         region_code: str, mapping: Mapping) -> ImportReport:
    sheets = read_workbook(data, file_name)
    total = sum(len(sheet.rows) for sheet in sheets)
    progress(0, total)  # reading and checking the rows is about 70 % of the work, matching and writing the rest
    parsed = rows.parse_sheets(sheets, progress=lambda seen: progress(min(seen, total) * 7 // 10, total),
                               mapping=mapping)
    progress(total * 7 // 10, total)
    report = ImportReport(skipped=parsed.skipped, unknown_columns=parsed.unknown_columns, columns=parsed.columns,
                          unreadable=sorted(parsed.unreadable.values(), key=lambda group: -group["count"]),
                          total_rows=parsed.total_rows, dry_run=dry_run)
    with transaction.atomic():
        if not dry_run:
            _lock(union)
        plan = _plan(parsed, user=user, file_name=file_name)
        progress(total * 8 // 10, total)
        _report_rejections(parsed, report)
        _count(plan, report)
        report.created, report.updated = _listed(plan, union)
        standard = _standard(plan, region_code, report)
        report.refused = bool(report.rejected_rows) and mode == ImportBatch.Mode.ALL_OR_NOTHING
        if not report.refused and not dry_run and (plan.creates or plan.updates):
            made = _write(plan, union=union, region_code=region_code, user=user, batch=batch, file_name=file_name,
                          standard=standard)
            _number_created(report.created, made)
            report.written = True
    progress(total, total)
    return report


def _region_code(union: Union) -> str:
    for unit in [union, *reversed(list(union.ancestors()))]:
        if unit.region_id:
            return unit.region_id
    raise PermissionDenied(_("所选单位没有对应的行政区划，无法建档；请先在单位设置中填写行政区划"))


def _standard(plan: merge.Plan, region_code: str, report: ImportReport):
    """The 低保 standard the new files on the register are assessed against; without one, a warning."""
    if not any(assessments.assessable(record, values["status"]) for record, values, _people in plan.creates):
        return None
    standard, warning = assessments.standard_in_force(region_code, timezone.localdate())
    if warning:
        report.warnings.append(warning)
    return standard


def _lock(union: Union) -> None:
    """One import at a time per union: two runs of the same file must not both create the households."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", _lock_key(union))


def _lock_key(union: Union) -> list[int]:
    return [0x494D, zlib.crc32(union.path.encode()) - 2**31]


def import_running(union: Union) -> bool:
    """Whether an import into the union is in its transaction now (holding _lock), in this process or another."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", _lock_key(union))
        return not cursor.fetchone()[0]


def _plan(parsed: ParsedFile, *, user, file_name: str) -> merge.Plan:
    path = scope_path(user) or ""
    candidates = [record for record in parsed.households if not record.has_problems and record.head_id]
    existing = merge.existing_households([record.head_id for record in candidates], path)
    people = {person.id_number for record in candidates for person in [record.head, *record.members]}
    memberships = merge.open_memberships(sorted(people))
    today = timezone.localdate()
    plan = merge.Plan()
    for record in candidates:
        found = existing.get(record.head_id)
        _check_memberships(record, found, memberships, path)
        if record.has_problems:
            continue
        outcome = merge.plan_record(record, found, file_name=file_name, today=today)
        if isinstance(outcome, merge.Refused):
            record.source.reject(outcome.column, outcome.reason)
        elif outcome == "unchanged":
            plan.unchanged += 1
        elif outcome[0] == "create":
            plan.creates.append((record, *outcome[1:]))
        else:
            plan.updates.append((record, found, *outcome[1:]))
    return plan


def _check_memberships(record: HouseholdRecord, found, memberships: dict, path: str) -> None:
    for person in [record.head, *record.members]:
        membership = memberships.get(person.id_number)
        if membership and (found is None or membership[0] != found.id):
            person.source.reject("身份证号码", merge.conflict_message(person.id_number, membership, path))


def _report_rejections(parsed: ParsedFile, report: ImportReport) -> None:
    """Rows with problems, and the rows of any household that has one: a household goes in whole or not at all."""
    rejected: list[SourceRow] = list(parsed.loose_rows)
    for record in parsed.households:
        if not record.has_problems:
            continue
        sources = record.sources()
        bad = [source for source in sources if source.problems]
        for source in sources:
            if not source.problems:
                first = bad[0]
                source.reject("", _("同户的“%(sheet)s”第 %(row)s 行有误（%(problem)s），整户未导入") % {
                    "sheet": first.sheet, "row": first.row, "problem": rows.first_problem(first)})
        rejected += sources
    order = {name: index for index, name in enumerate(parsed.headers)}
    rejected.sort(key=lambda source: (order.get(source.sheet, 0), source.row))
    for source in rejected:
        report.rejected += source.problems
        report.rejected_rows.append({
            "sheet": source.sheet, "row": source.row, "headers": parsed.headers.get(source.sheet, []),
            "cells": seal_cells([_as_text(cell) for cell in source.cells]),
            "reason": idnumbers.mask_numbers(_("；").join(
                _("%(column)s：%(reason)s") % {"column": p.column, "reason": p.reason} if p.column else p.reason
                for p in source.problems)),
        })


def seal_cells(cells: list[str]) -> str:
    """A rejected row's cells (ID and bank-card numbers among them) as one ciphertext, kept for the download."""
    return fields.encrypt(json.dumps(cells, ensure_ascii=False))


def rejected_cells(row: dict) -> list[str]:
    return json.loads(fields.decrypt(row["cells"]))


def _as_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime.datetime):
        return cell.strftime("%Y-%m-%d %H:%M:%S") if cell.time() != datetime.time() else cell.strftime("%Y-%m-%d")
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15:
        return str(int(cell))
    return str(cell)


def _count(plan: merge.Plan, report: ImportReport) -> None:
    report.households_created = len(plan.creates)
    report.households_updated = len(plan.updates)
    report.households_unchanged = plan.unchanged
    report.members_created = plan.members_created
    report.members_updated = plan.members_updated


def _listed(plan: merge.Plan, union: Union) -> tuple[list[dict], list[dict]]:
    """The first households the plan creates and updates: the row each comes from, its head (ID masked) and unit;
    an updated one with its file and what changes in it. Never all of them: a county's file has 100,000."""
    created = [_household_entry(record, union=union.name) for record, _v, _p in plan.creates[:LISTED_HOUSEHOLDS]]
    updates = plan.updates[:LISTED_HOUSEHOLDS]
    unions = dict(Household.objects.filter(pk__in=[existing.id for _r, existing, *_x in updates])
                  .values_list("pk", "union__name"))
    updated = [_household_entry(record, id=existing.id, file_number=existing.file_number,
                                union=unions.get(existing.id, ""), changes=_changes(changed, new, changed_members))
               for record, existing, changed, new, changed_members in updates]
    return created, updated


def _household_entry(record: HouseholdRecord, **extra) -> dict:
    return {"sheet": record.source.sheet, "row": record.source.row, "head_name": record.head.values.get("name", ""),
            "head_id": idnumbers.mask(record.head_id), **extra}


def _changes(changed: dict, new_members: list, changed_members: list) -> dict:
    """What an update changes, for the page: the household fields by their labels (in the source language, as the
    report is stored) and the members added and changed."""
    with translation.override(settings.LANGUAGE_CODE):
        fields = [str(Household._meta.get_field(name).verbose_name) for name in changed]
    return {"fields": fields, "members_added": len(new_members), "members_changed": len(changed_members)}


def _number_created(created: list[dict], made: list[tuple]) -> None:
    """The listed new households' ids and file numbers, once written (made is in the order of plan.creates)."""
    ids = [household_id for household_id, *_rest in made[:len(created)]]
    numbers = dict(Household.objects.filter(pk__in=ids).values_list("pk", "file_number"))
    for entry, household_id in zip(created, ids):
        entry.update(id=household_id, file_number=numbers.get(household_id, ""))


def _write(plan: merge.Plan, *, union: Union, region_code: str, user, batch, file_name: str, standard) -> list:
    now, today = timezone.now(), timezone.localdate()
    context = {"user": user.pk, "import_file": file_name, "import_batch": batch.pk if batch else None}
    with pghistory.context(**context):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # sets the history context for this transaction before the COPYs
        made = merge.write_creates(plan.creates, union=union, region_code=region_code, user=user, batch=batch,
                                   today=today, now=now)
        merge.write_updates(plan.updates, now=now)
        if standard is not None:
            assessments.write_assessments(made, standard=standard, user=user, now=now, today=today)
        events = [(household_id, "import", "draft", values["status"], _reason(file_name, record),
                   _data(batch, file_name, record)) for household_id, record, values, _people in made]
        events += [(existing.id, "import_update", existing.status, changed.get("status", existing.status),
                    _reason(file_name, record), _data(batch, file_name, record))
                   for record, existing, changed, _new, _changed in plan.updates]
        register.record_events(events, by=user, at=now)
    return made


def _reason(file_name: str, record: HouseholdRecord) -> str:
    return f"导入：{file_name}“{record.source.sheet}”第 {record.source.row} 行"


def _data(batch, file_name: str, record: HouseholdRecord) -> dict:
    return {"batch": batch.pk if batch else None, "file": file_name, "sheet": record.source.sheet,
            "row": record.source.row}


def rejected_rows_xlsx(rejected_rows: list[dict]) -> bytes:
    """The rejected rows, sheet by sheet under their original headers, with a 错误原因 column, to fix and re-import."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheets: dict[str, object] = {}
    for row in rejected_rows:
        sheet = sheets.get(row["sheet"])
        if sheet is None:
            sheet = sheets[row["sheet"]] = workbook.create_sheet(title=_sheet_title(row["sheet"], sheets))
            # Not translated: the import reads these two headings back and leaves their columns out.
            sheet.append([*map(_safe, row["headers"]), "错误原因", "原行号"])
        cells = rejected_cells(row)
        width = max(len(row["headers"]), len(cells))
        cells = (cells + [""] * width)[:width]
        sheet.append([*map(_safe, cells), _safe(row["reason"]), row["row"]])
    if not sheets:
        workbook.create_sheet(title=_("无有误的行"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(name: str, taken: dict) -> str:
    """A legal sheet title (31 characters, no []:*?/\\) not already used in the workbook."""
    title = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or "Sheet"
    used = {sheet.title for sheet in taken.values()}
    while title in used:
        title = f"{title[:28]}_{len(used)}"
    return title


def _safe(text) -> str:
    """Text cells only, and never a formula: the same apostrophe escape the export uses (the import strips it)."""
    text = "" if text is None else str(text)
    text = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 32)  # control characters are illegal in xlsx
    return escape_formula(text)
