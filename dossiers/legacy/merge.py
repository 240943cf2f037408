"""The database side of an import: find the files the records match, refuse what would break the register,
decide what is new, changed or unchanged, and write it set-based (COPY into the tables, UPDATE from a staging
table) inside the caller's transaction. Triggers (django-pghistory) record every row written.

An import brings files onto the system; it never moves an existing one through the register. A row that would
close, reopen or re-grade an existing file is refused, saying what to do in the system instead: an exit goes
through an exit proposal and its approval, a relapse through 返困重新建档, a re-grade through 年度复核.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from types import SimpleNamespace

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dossiers import register
from dossiers.choices import ENDED_APPLICATION_STATUSES, EXIT_STATUSES, Category, Status
from dossiers.filing import union_contact
from dossiers.legacy import fields
from dossiers.legacy.rows import HouseholdRecord, PersonRecord
from dossiers.models import FileNumberSequence, Household, Member
from hardship import idnumbers
from hardship.bulk import copy_rows as _copy
from hardship.fields import EncryptedTextField, IdNumberField, id_digest

# Household columns an import sets (and so may change on a later import), besides the primary worker's.
HOUSEHOLD_DATA = [
    "address", "phone", "housing_type", "area_band", "single_parent", "zero_employment", "self_reliant",
    "model_worker", "migrant_worker", "key_group", "legacy_tier", "legacy_category", "category",
    "receives_dibao", "dibao_amount", "bank_name", "bank_branch", "bank_card", "main_cause", "secondary_causes",
    "accident", "income_wages", "income_business", "income_property", "income_transfers", "income_other",
    "cost_illness", "cost_disability", "cost_schooling", "cost_housing", "cost_other",
]
HOUSEHOLD_STATE = ["status", "head_name", "registered_on", "reverify_due", "closed_on"]
MEMBER_DATA = [
    "name", "sex", "ethnicity", "relationship", "birth_date", "health", "disability", "medical_insurance",
    "work_status", "able_to_work", "employer", "monthly_income",
]
# Files still being decided on: a row for one waits until it is done. Withdrawn and declined applications never
# reached the register and are no match at all (existing_households leaves them out: the row files anew).
PIPELINE_STATUSES = {status for status in Status.values
                     if status not in (*fields.IMPORTABLE_STATUSES, Status.EXIT_PROPOSED, *ENDED_APPLICATION_STATUSES)}
# The columns a refusal names (the file's own header may be a synonym of these).
STATUS_COLUMN, CATEGORY_COLUMN, EXIT_DATE_COLUMN = "档案状态", "困难类别", "退出日期"
# Why a row cannot close a file on the register, one whole sentence for each way out (translated when refused).
_NO_EXIT = {
    Status.EXITED: gettext_noop("该户档案 %(number)s 在档，导入不能办理脱困退出：请在系统中提出脱困申请，由上级审批"),
    Status.RELIEVED: gettext_noop("该户档案 %(number)s 在档，导入不能办理解困退出：请在系统中提出解困申请，由上级审批"),
    Status.REMOVED: gettext_noop("该户档案 %(number)s 在档，导入不能办理注销退出：请在系统中提出注销申请，由上级审批"),
}


@dataclass
class Existing:
    id: int
    file_number: str
    status: str
    values: dict
    members: dict[bytes, dict] = field(default_factory=dict)  # ID number's digest → member values (with "id")


@dataclass(frozen=True)
class Refused:
    """A row the import will not write: the column at fault and why, with what to do instead (in the language
    active when it was refused)."""

    column: str
    reason: str


@dataclass
class Plan:
    creates: list[tuple[HouseholdRecord, dict, list[dict]]] = field(default_factory=list)
    updates: list[tuple[HouseholdRecord, Existing, dict, list[dict], list[dict]]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def members_created(self) -> int:
        return sum(len(members) for _r, _h, members in self.creates) + sum(len(new) for *_x, new, _c in self.updates)

    @property
    def members_updated(self) -> int:
        return sum(len(changed) for *_x, changed in self.updates)


# --- reading what is there -----------------------------------------------------------------------------------

def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def existing_households(head_ids: list[str], scope_path: str) -> dict[str, Existing]:
    """The latest file in scope for each primary worker's ID number, with its members (raw rows: the ORM's
    per-value converters cost more than the query on a county's 100,000 files), found by the numbers' digests.
    A latest file that is a withdrawn or declined application is no match: it never reached the register."""
    by_digest = {id_digest(number): number for number in head_ids}
    columns = ["id", "file_number", "status", "head_id_number_digest", *HOUSEHOLD_DATA, *HOUSEHOLD_STATE]
    bank_card = Household._meta.get_field("bank_card")
    rows = _fetch(
        f"SELECT DISTINCT ON (h.head_id_number_digest) {', '.join(f'h.{_column(Household, c)}' for c in columns)} "
        "FROM dossiers_household h JOIN hardship_union u ON u.id = h.union_id "
        "WHERE h.head_id_number_digest = ANY(%s) AND u.path LIKE %s "
        "ORDER BY h.head_id_number_digest, h.created_at DESC, h.id DESC", [list(by_digest), _like_prefix(scope_path)],
    )
    found = {}
    for row in rows:
        values = dict(zip(columns, row))
        if values["status"] in ENDED_APPLICATION_STATUSES:
            continue
        values["bank_card"] = bank_card.from_db_value(values["bank_card"], None, connection)
        head_id = by_digest[bytes(values.pop("head_id_number_digest"))]
        found[head_id] = Existing(values["id"], values["file_number"], values["status"], values)
    by_id = {existing.id: existing for existing in found.values()}
    member_columns = ["id", "household_id", "id_number_digest", "is_primary", *MEMBER_DATA]
    for row in _fetch(f"SELECT {', '.join(_column(Member, c) for c in member_columns)} FROM dossiers_member "
                      "WHERE household_id = ANY(%s)", [list(by_id)]):
        member = dict(zip(member_columns, row))
        by_id[member["household_id"]].members[bytes(member.pop("id_number_digest"))] = member
    return found


def _column(model, name: str) -> str:
    return model._meta.get_field(name.removesuffix("_id") if name.endswith("_id") and name != "id" else name).column


def _like_prefix(path: str) -> str:
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def open_memberships(id_numbers: list[str]) -> dict[str, tuple]:
    """id_number → (household id, file number, union path, union name, phone, contact person) of their open file."""
    by_digest = {id_digest(number): number for number in id_numbers}
    rows = _fetch(
        "SELECT m.id_number_digest, h.id, h.file_number, u.path, u.name, u.contact_phone, u.contact_person "
        "FROM dossiers_member m "
        "JOIN dossiers_household h ON h.id = m.household_id JOIN hardship_union u ON u.id = h.union_id "
        "WHERE m.is_open AND m.id_number_digest = ANY(%s)", [list(by_digest)],
    )
    return {by_digest[bytes(row[0])]: row[1:] for row in rows}


def conflict_message(number: str, membership: tuple, scope_path: str) -> str:
    _household_id, file_number, path, union_name, phone, person = membership
    masked = idnumbers.mask(number)
    if path.startswith(scope_path):
        return _("身份证号 %(number)s 已是档案 %(file_number)s 的家庭成员，不能同时属于另一户") % {
            "number": masked, "file_number": file_number}
    contact = union_contact(SimpleNamespace(name=union_name, contact_person=person, contact_phone=phone))
    return _("身份证号 %(number)s 已在其他单位建档，请联系%(union)s") % {"number": masked, "union": contact}


# --- deciding --------------------------------------------------------------------------------------------------

def household_values(record: HouseholdRecord, *, file_name: str, today: datetime.date) -> dict:
    """The household columns this record sets: only what its sheet had, plus what follows from it."""
    given = record.values
    values = {key: given[key] for key in HOUSEHOLD_DATA if key in given}
    if "phone" not in values and record.head.values.get("phone"):
        values["phone"] = record.head.values["phone"]
    if "annual_income" in given and not any(key in given for key in Household.INCOME_FIELDS):
        values["income_other"] = given["annual_income"]  # a legacy total, not broken down
    category, legacy = given.get("legacy_category", ("", ""))
    legacy = given.get("original_category") or legacy
    if "legacy_category" in given or "original_category" in given:
        values["legacy_category"] = legacy
        values["category"] = category or str(fields.LEGACY_TO_CATEGORY.get(legacy, ""))
        values["accident"] = values["category"] == Category.ACCIDENT
    if given.get("housing_area") is not None and "area_band" not in values:
        area = given["housing_area"]
        size = given.get("household_size") or 1 + len(record.members)
        values["area_band"] = area if isinstance(area, str) else fields.band_for(area, size)
    if "main_cause" in given:
        values["main_cause"], values["secondary_causes"] = given["main_cause"], list(given["secondary_causes"])
    if values.get("bank_card") is None:
        values.pop("bank_card", None)  # masked in the file: keep the card on record
    values["head_name"] = record.head.values["name"]
    if given.get("status"):
        values["status"] = given["status"]
    if given.get("filed_on"):
        values["registered_on"] = given["filed_on"]
    if given.get("closed_on"):
        values["closed_on"] = given["closed_on"]
    return values


def person_values(person: PersonRecord) -> dict:
    return {key: person.values[key] for key in MEMBER_DATA if key in person.values}


def new_household_row(values: dict, *, status: str, today: datetime.date, file_name: str) -> dict:
    """A file the import creates: on the register with its yearly re-verification due, or closed as the register
    kept it, with the dates an approved exit would have given it (see register.approve_exit)."""
    registered_on = values.get("registered_on") or today
    row = {**values, "status": status, "registered_on": registered_on,
           "consent_basis": f"历史档案导入（{file_name}）"[:200]}
    row["reverify_due"] = registered_on + relativedelta(years=1) if status == Status.REGISTERED else None
    if status in EXIT_STATUSES:
        row.update(register.closing_dates(status, values.get("closed_on") or today))
    else:
        row.pop("closed_on", None)  # an exit date on a file still on the register means nothing
    return row


def changes(old: dict, new: dict) -> dict:
    return {key: value for key, value in new.items() if key in old and old[key] != _comparable(key, value)} | {
        key: value for key, value in new.items() if key not in old}


def _comparable(key: str, value):
    return list(value) if isinstance(value, tuple) else value


def plan_record(record: HouseholdRecord, existing: Existing | None, *, file_name: str, today) -> tuple | str | Refused:
    """("create", household, members) / ("update", …) / "unchanged", or Refused with the reason."""
    values = household_values(record, file_name=file_name, today=today)
    status = values.pop("status", None)
    people = [(record.head, {**person_values(record.head), "relationship": "self"})] + \
             [(member, person_values(member)) for member in record.members]
    if existing is None:
        status = status or Status.REGISTERED
        if refused := _refuse_new(status, values, today):
            return refused
        return "create", new_household_row(values, status=status, today=today, file_name=file_name), \
            [dict(data, id_number=person.id_number) for person, data in people]
    if refused := _refuse_register_change(existing, status, values):
        return refused
    changed = changes(existing.values, _existing_file_values(existing, values))
    if existing.status == Status.REGISTERED and not existing.values.get("reverify_due"):
        registered_on = values.get("registered_on") or existing.values.get("registered_on") or today
        changed["reverify_due"] = registered_on + relativedelta(years=1)
    new_members, changed_members = [], []
    for person, data in people:
        old = existing.members.get(id_digest(person.id_number))
        if old is None:
            new_members.append(dict(data, id_number=person.id_number))
        elif diff := changes(old, data):
            changed_members.append({"id": old["id"], **diff})
    if not changed and not new_members and not changed_members:
        return "unchanged"
    return "update", changed, new_members, changed_members


def _refuse_new(status: str, values: dict, today: datetime.date) -> Refused | None:
    if status not in fields.IMPORTABLE_STATUSES:
        return Refused(STATUS_COLUMN, _("档案状态“%(status)s”不能通过导入建立，只能是在档、已脱困、已解困或已注销")
                       % {"status": Status(status).label})
    closed_on = values.get("closed_on")
    if status in EXIT_STATUSES and closed_on:
        if closed_on > today:
            return Refused(EXIT_DATE_COLUMN, _("退出日期 %(date)s 晚于今天") % {"date": f"{closed_on:%Y-%m-%d}"})
        if values.get("registered_on") and closed_on < values["registered_on"]:
            return Refused(EXIT_DATE_COLUMN, _("退出日期 %(date)s 早于建档日期 %(filed)s") % {
                "date": f"{closed_on:%Y-%m-%d}", "filed": f"{values['registered_on']:%Y-%m-%d}"})
    return None


def _refuse_register_change(existing: Existing, status: str | None, values: dict) -> Refused | None:
    """An import never moves an existing file through the register: no exit, no reopening, no re-grade."""
    number, current = existing.file_number, existing.status
    label = Status(current).label
    if current in PIPELINE_STATUSES:
        return Refused(STATUS_COLUMN, _("该户档案 %(number)s 正在办理中（%(status)s），请在系统中办结后再导入")
                       % {"number": number, "status": label})
    if status and status != current:
        if status not in fields.IMPORTABLE_STATUSES:
            return Refused(STATUS_COLUMN, _("档案状态“%(status)s”不能通过导入设置，只能是在档、已脱困、已解困或已注销")
                           % {"status": Status(status).label})
        if current == Status.EXIT_PROPOSED:
            return Refused(STATUS_COLUMN, _("该户档案 %(number)s 有待审批的退出申请，请在系统中审批后再导入")
                           % {"number": number})
        if current == Status.REGISTERED:
            return Refused(STATUS_COLUMN, _(_NO_EXIT[status]) % {"number": number})
        if status == Status.REGISTERED:
            return Refused(STATUS_COLUMN, _("该户档案 %(number)s %(status)s，导入不能恢复在档：如该户返困，"
                                            "请在系统中对原档案办理“返困重新建档”")
                           % {"number": number, "status": label})
        return Refused(STATUS_COLUMN, _("该户档案 %(number)s %(status)s，导入不能改为“%(new)s”："
                                        "退出方式以系统中审批的为准")
                       % {"number": number, "status": label, "new": Status(status).label})
    old, new = existing.values.get("category") or "", values.get("category") or ""
    if register.member_is_open(current) and old and new and new != old:
        return Refused(CATEGORY_COLUMN, _("该户档案 %(number)s 在档，困难类别为“%(old)s”，导入不能改为“%(new)s”："
                                          "调整类别请在系统中通过年度复核重新评估")
                       % {"number": number, "old": Category(old).label, "new": Category(new).label})
    return None


def _existing_file_values(existing: Existing, values: dict) -> dict:
    """What a row may change on a file already in the system: its data, never its status or grade; a closed
    file's exit date only where the file has none (one imported as closed before the import recorded it)."""
    values = dict(values)
    if not values.get("category"):  # a blank 困难类别 says nothing: the file keeps its category
        values.pop("category", None)
        values.pop("accident", None)
    closed_on = values.pop("closed_on", None)
    if existing.status in EXIT_STATUSES and closed_on and not existing.values.get("closed_on"):
        values.update(register.closing_dates(existing.status, closed_on))
    return values


# --- writing ---------------------------------------------------------------------------------------------------

def _next_ids(table: str, count: int) -> list[int]:
    if not count:
        return []
    rows = _fetch(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [count])
    return [row[0] for row in rows]


def reserve_file_numbers(region_code: str, year: int, count: int) -> list[str]:
    prefix = f"{region_code}-{year}"
    FileNumberSequence.objects.get_or_create(prefix=prefix)
    last = _fetch("UPDATE dossiers_filenumbersequence SET last = last + %s WHERE prefix = %s RETURNING last",
                  [count, prefix])[0][0]
    return [f"{prefix}-{number:06d}" for number in range(last - count + 1, last + 1)]


def _db_value(field_obj, value):
    if isinstance(field_obj, EncryptedTextField):
        return field_obj.get_prep_value(value)  # encrypts
    return value


class RowBuilder:
    """Full table rows from partial values: each column's default worked out once, not once per row."""

    def __init__(self, model_fields) -> None:
        self.fields = model_fields
        self.attnames = [f.attname for f in model_fields]
        self.columns = [f.column for f in model_fields]
        self.defaults = [None if callable(f.default) else f.get_default() for f in model_fields]
        self.callables = {index: f.get_default for index, f in enumerate(model_fields) if callable(f.default)}
        self.encrypted = {index for index, f in enumerate(model_fields) if isinstance(f, EncryptedTextField)}
        self.digests = [(index, self.attnames.index(f.digest_attname))
                        for index, f in enumerate(model_fields) if isinstance(f, IdNumberField)]

    def row(self, values: dict) -> list:
        get = values.get
        row = [get(name, default) for name, default in zip(self.attnames, self.defaults)]
        for index, make_default in self.callables.items():
            if self.attnames[index] not in values:
                row[index] = make_default()
        for index, digest_index in self.digests:
            row[digest_index] = id_digest(row[index]) if row[index] else None
        for index in self.encrypted:
            row[index] = _db_value(self.fields[index], row[index])
        return row


HOUSEHOLD_ROWS = RowBuilder(list(Household._meta.concrete_fields))
MEMBER_ROWS = RowBuilder([f for f in Member._meta.concrete_fields if f.attname != "id"])  # the sequence numbers them


def write_creates(creates: list, *, union, region_code: str, user, batch, today, now) -> list[tuple]:
    """COPY the new households and their members; returns (household id, record, values, people) of each."""
    ids = _next_ids(Household._meta.db_table, len(creates))
    numbers = reserve_file_numbers(region_code, today.year, len(creates))
    made = [(household_id, record, values, people) for (record, values, people), household_id in zip(creates, ids)]
    fixed = {"union_id": union.pk, "region_id": region_code, "filed_by_id": user.pk, "entered_by_id": user.pk,
             "import_batch_id": batch.pk if batch else None, "created_at": now, "updated_at": now}
    _copy(Household._meta.db_table, HOUSEHOLD_ROWS.columns, (
        HOUSEHOLD_ROWS.row({**values, **fixed, "id": household_id, "file_number": number,
                            "head_id_number": record.head_id})
        for (record, values, _people), household_id, number in zip(creates, ids, numbers)))
    _copy(Member._meta.db_table, MEMBER_ROWS.columns, (
        MEMBER_ROWS.row({**person, "household_id": household_id, "is_primary": person["id_number"] == record.head_id,
                         "is_open": register.member_is_open(values["status"])})
        for (record, values, people), household_id in zip(creates, ids) for person in people))
    return made


def write_updates(updates: list, *, now) -> None:
    household_changes = [(existing.id, changed) for _r, existing, changed, _n, _c in updates if changed]
    _update_from_stage(Household, household_changes, extra={"updated_at": now})
    member_changes = [(member.pop("id"), member) for *_x, changed_members in updates for member in changed_members]
    _update_from_stage(Member, member_changes)
    _copy(Member._meta.db_table, MEMBER_ROWS.columns, (
        MEMBER_ROWS.row({**person, "household_id": existing.id, "is_primary": False,
                         "is_open": register.member_is_open(changed.get("status", existing.status))})
        for _r, existing, changed, new, _c in updates for person in new))
    moved = [existing.id for _r, existing, changed, _n, _c in updates if "status" in changed]
    if moved:  # plan_record refuses every status change today; were one allowed, the members would follow it
        register.sync_open_members(moved)


def _update_from_stage(model, changes: list[tuple[int, dict]], extra: dict | None = None) -> None:
    """One UPDATE … FROM a temporary table per set of changed columns (usually one or two sets)."""
    groups: dict[tuple, list] = {}
    for pk, changed in changes:
        groups.setdefault(tuple(sorted(changed)), []).append((pk, changed))
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    table = model._meta.db_table
    for names, rows in groups.items():
        model_fields = [by_name[name] for name in names]
        stage = f"import_stage_{table}"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
            cursor.execute(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT id, "
                           f"{', '.join(f.column for f in model_fields)} FROM {table} WITH NO DATA")
        _copy(stage, ["id", *(f.column for f in model_fields)],
              ((pk, *(_db_value(f, changed[f.attname]) for f in model_fields)) for pk, changed in rows))
        assignments = [f"{f.column} = s.{f.column}" for f in model_fields]
        params = []
        for name, value in (extra or {}).items():
            assignments.append(f"{by_name[name].column} = %s")
            params.append(value)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} t SET {', '.join(assignments)} FROM {stage} s WHERE t.id = s.id", params)

