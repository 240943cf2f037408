"""Matching a civil-affairs (民政) 低保 roster against the household files (数据比对).

read_roster turns an upload into rows and rejected rows; create_roster stores them and matches them, by
normalised ID number, against the open households' members in the uploader's subtree (one UPDATE for the
whole roster). Nothing in a file changes until a caseworker accepts a match (accept_match), which records
a "civil_match" event on the file.

A roster belongs to the union it was uploaded for. Besides those whose scope holds that union, the caseworkers
below it see it (visible_rosters): they are the ones who accept its differences, each for the files of their
own subtree (work_path); a county administrator's upload is worked by the county's help centres.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers import register
from dossiers.choices import CLOSED_STATUSES
from dossiers.legacy import headers, values
from dossiers.legacy.models import CivilRoster, CivilRosterEntry
from dossiers.legacy.reading import Sheet, read_workbook
from dossiers.models import Household, Member, RegisterEvent
from hardship import punctuation
from hardship.access import scope_path
from hardship.models import PATH_SEPARATOR, Role, User

MAX_ROSTER_ROWS = 100_000
MAX_AMOUNT = Decimal("99999999.99")  # CivilRosterEntry.amount: 10 digits, 2 places
HEADER_SCAN = 10


def _unique(*names: str) -> list[str]:
    return list(dict.fromkeys(names))


# Roster-only header synonyms, best first: when two columns could be the name (户主姓名 and 成员姓名 on a
# per-person roster), the person's own column wins.
ROSTER_SYNONYMS: dict[str, list[str]] = {
    "id_number": _unique("身份证号码", "身份证号", "公民身份号码", "证件号码", "身份证件号码", "身份证",
                         "保障对象身份证号码", "保障对象身份证号", "成员身份证号码", "成员身份证号",
                         *headers.FIELD_SYNONYMS["id_number"]),
    "name": _unique("姓名", "成员姓名", "家庭成员姓名", "保障对象姓名", "救助对象姓名", "保障对象",
                    *headers.FIELD_SYNONYMS["name"]),
    "on_dibao": ["低保状态", "是否享受低保", "享受低保", "救助状态", "保障状态", "在保状态", "是否在保",
                 "低保户", "状态"],
    "amount": ["低保金额", "低保金", "月低保金", "月低保金额", "保障金额", "月保障金额", "保障金", "月保障金",
               "救助金额", "月救助金额", "低保金发放金额", "发放金额"],
}
_RANK = {key: {headers.normalize_header(name): rank for rank, name in enumerate(names)}
         for key, names in ROSTER_SYNONYMS.items()}
COLUMN_LABELS = {"id_number": "身份证号码", "name": "姓名", "on_dibao": "低保状态", "amount": "低保金额"}

_ON = {"在保", "享受", "享受低保", "是", "正常", "正常享受", "保障中", "在册", "有效"}
_OFF = {"停保", "退保", "否", "已停保", "已退保", "暂停", "停发", "取消", "注销", "不享受", "终止", "退出"}


class RosterError(Exception):
    """A roster that cannot be used as a whole; .message is shown on the upload form."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CivilMatchError(Exception):
    """A match that cannot be accepted; str(error) says why."""


@dataclass
class RosterRow:
    row: int
    id_number: str
    name: str
    on_dibao: bool
    amount: Decimal


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    total_rows: int = 0


# --- reading ---------------------------------------------------------------------------------------------------

def map_roster_headers(row: list) -> dict[str, int]:
    """Field → column index for one row: for each field, the column whose header ranks best."""
    best: dict[str, tuple[int, int]] = {}
    for index, cell in enumerate(row or []):
        normal = headers.normalize_header(cell)
        for key, ranks in _RANK.items():
            rank = ranks.get(normal)
            if rank is not None and (key not in best or rank < best[key][0]):
                best[key] = (rank, index)
    return {key: index for key, (_rank, index) in best.items()}


def _header(rows: list[list]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:HEADER_SCAN]):
        columns = map_roster_headers(row)
        if "id_number" in columns and "name" in columns:
            return index, columns
    return None


def parse_status(raw: object) -> bool:
    """在保/享受/是 → True, 停保/退保/否 → False; anything parse_bool knows (√/×, 1/0) too. Blank is an error."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise values.CellError(_("低保状态为空，请填写“在保”或“停保”"))
    if isinstance(raw, str):
        text = re.sub(r"\s", "", unicodedata.normalize("NFKC", raw))
        if text in _ON:
            return True
        if text in _OFF:
            return False
    try:
        return values.parse_bool(raw)
    except values.CellError:
        message = _("低保状态“%(value)s”无法识别，请填写“在保”或“停保”") % {"value": str(raw).strip()}
        raise values.CellError(message) from None


def _parse_amount(raw: object) -> Decimal:
    amount = values.parse_money(raw)
    if amount > MAX_AMOUNT:
        raise values.CellError(_("金额“%(value)s”过大") % {"value": str(raw).strip()})
    return amount


def _parse_name(raw: object) -> str:
    name = values.parse_text(raw, max_length=64)
    if not name:
        raise values.CellError(_("姓名不能为空"))
    return name


def _parse_row(row: list, number: int, columns: dict[str, int], header: list) -> RosterRow | dict:
    """A RosterRow, or the first problem as {"column", "reason"}."""
    parsers = {"id_number": values.parse_id_number, "name": _parse_name, "on_dibao": parse_status,
               "amount": _parse_amount}
    parsed = {"on_dibao": True}  # without a status column, everyone on the roster is on 低保
    for key, index in columns.items():
        raw = row[index] if index < len(row) else None
        try:
            parsed[key] = parsers[key](raw)
        except values.CellError as error:
            column = str(header[index]).strip() if header[index] is not None else COLUMN_LABELS[key]
            return {"column": column, "reason": error.message}
    if not parsed["on_dibao"]:
        parsed["amount"] = Decimal("0.00")
    return RosterRow(row=number, **parsed)


def read_roster(data: bytes, filename: str) -> ParsedRoster:
    """The roster's people and its rejected rows; RosterError (or UnreadableFile) when it cannot be used."""
    sheets = [(sheet, found) for sheet in read_workbook(data, filename) if (found := _header(sheet.rows))]
    if not sheets:
        raise RosterError(_("没有找到表头：名册的前 %(n)d 行中须有“身份证号码”和“姓名”两列。") % {"n": HEADER_SCAN})
    with_data = [sheet.name for sheet, (index, _c) in sheets if _data_rows(sheet, index)]
    if len(with_data) > 1:
        raise RosterError(_("名册有多个工作表（%(names)s）都有数据，请合并到一个工作表后再上传。") % {
            "names": punctuation.enumeration_comma().join(with_data)})
    sheet, (header_index, columns) = next(
        ((s, found) for s, found in sheets if s.name in with_data), sheets[0])
    if "amount" not in columns:
        raise RosterError(_("名册中没有低保金额列（如“低保金额”“月保障金额”）。"))
    return _read_rows(sheet, header_index, columns)


def _data_rows(sheet: Sheet, header_index: int) -> list[tuple[int, list]]:
    return [(number, row) for number, row in enumerate(sheet.rows[header_index + 1:], start=header_index + 2)
            if not headers.is_blank_row(row) and not headers.is_total_row(row)]


def _read_rows(sheet: Sheet, header_index: int, columns: dict[str, int]) -> ParsedRoster:
    header = sheet.rows[header_index]
    rows = _data_rows(sheet, header_index)
    if not rows:
        raise RosterError(_("名册中没有数据行。"))
    if len(rows) > MAX_ROSTER_ROWS:
        raise RosterError(_("名册行数太多：最多 %(n)s 行，请拆分后分批上传。") % {"n": f"{MAX_ROSTER_ROWS:,}"})
    result, seen = ParsedRoster(total_rows=len(rows)), {}
    for number, row in rows:
        outcome = _parse_row(row, number, columns, header)
        if isinstance(outcome, dict):
            result.rejected.append({"row": number, **outcome})
        elif outcome.id_number in seen:
            result.rejected.append({"row": number, "column": str(header[columns["id_number"]]).strip(),
                                    "reason": _("身份证号码与第 %(row)d 行重复") % {"row": seen[outcome.id_number]}})
        else:
            seen[outcome.id_number] = number
            result.rows.append(outcome)
    return result


# --- storing and matching --------------------------------------------------------------------------------------

@transaction.atomic
def create_roster(parsed: ParsedRoster, *, file_name: str, by) -> CivilRoster:
    """Store the roster for the uploader's home union and match it; no household file changes."""
    roster = CivilRoster.objects.create(union=by.home_union, uploaded_by=by, file_name=file_name[:255],
                                        total_rows=parsed.total_rows, rejected=parsed.rejected)
    CivilRosterEntry.objects.bulk_create(
        [CivilRosterEntry(roster=roster, row=r.row, id_number=r.id_number, name=r.name, on_dibao=r.on_dibao,
                          amount=r.amount) for r in parsed.rows],
        batch_size=2000,
    )
    match_entries(roster, by)
    return roster


def match_entries(roster: CivilRoster, user) -> int:
    """Point each entry at the open member with its ID number in the roster's subtree (the uploader's: an
    administrator, who never reads the files, matches them too): one UPDATE for all."""
    members = Member.objects.filter(household__union__path__startswith=roster.union.path, is_open=True,
                                    id_number_digest=OuterRef("id_number_digest"))
    return roster.entries.update(member=Subquery(members.values("pk")[:1]),
                                 household=Subquery(members.values("household_id")[:1]))


# --- who sees a roster, who accepts it -------------------------------------------------------------------------

def _paths_above(path: str) -> list[str]:
    """The paths of the union at path and of every union above it: "/a/b/" → ["/a/", "/a/b/"]."""
    codes = [code for code in path.split(PATH_SEPARATOR) if code]
    return [PATH_SEPARATOR + PATH_SEPARATOR.join(codes[:n]) + PATH_SEPARATOR for n in range(1, len(codes) + 1)]


def visible_rosters(user) -> QuerySet[CivilRoster]:
    """The rosters of the user's subtree and, for someone who may accept matches, the rosters of the unions
    above their home union (whose subtree holds their files)."""
    rosters = CivilRoster.objects.visible_to(user)
    if user.home_union_id is None or not user.has_perm("dossiers.accept_civil_match"):
        return rosters
    return rosters | CivilRoster.objects.filter(union__path__in=_paths_above(user.home_union.path))


def work_path(roster: CivilRoster, user) -> str:
    """The subtree whose files the user works on in this roster: the roster's, or the user's if it lies below."""
    path = scope_path(user) or ""
    return path if path.startswith(roster.union.path) else roster.union.path


def accepting_caseworkers(roster: CivilRoster) -> QuerySet[User]:
    """The active caseworkers who may accept this roster's differences, each those of the files in their scope."""
    above = _paths_above(roster.union.path)
    return (User.objects.filter(role=Role.CASEWORKER, is_active=True)
            .filter(Q(home_union__path__startswith=roster.union.path) | Q(home_union__path__in=above))
            .select_related("home_union").order_by("home_union__path", "full_name", "username"))


# --- reading the result ----------------------------------------------------------------------------------------

# The roster disagrees with the file: 低保 status, or (for someone on 低保 whose amount the roster gives)
# the monthly amount. A blank amount says nothing about it (per-household rosters give it on one row only).
DIFFERS = ~Q(household__receives_dibao=F("on_dibao")) | (
    Q(on_dibao=True, amount__gt=0) & ~Q(household__dibao_amount=F("amount")))
PENDING = Q(accepted_at__isnull=True)


def _in_subtree(path: str) -> Q:
    """Matched to a file that is still in the subtree at path (files transferred away are not shown)."""
    return Q(household__isnull=False, household__union__path__startswith=path)


def _matched(roster: CivilRoster, user) -> Q:
    return _in_subtree(work_path(roster, user))


def matched_entries(roster: CivilRoster, user) -> QuerySet[CivilRosterEntry]:
    return roster.entries.filter(_matched(roster, user))


def entries_in(roster: CivilRoster, section: str, user) -> QuerySet[CivilRosterEntry]:
    """The entries of one tab of the result page: differences still to accept, those accepted, those that agree
    with the file, and (roster-wide, not only the user's files) people not matched to any file of its subtree."""
    entries = roster.entries.order_by("row", "pk")
    if section == "unmatched":
        return entries.exclude(_in_subtree(roster.union.path))
    matched = entries.filter(_matched(roster, user)).select_related("household__union", "member")
    if section == "differences":
        return matched.filter(PENDING & DIFFERS)
    if section == "accepted":  # differs_now: the file was changed again after the acceptance
        return matched.exclude(PENDING).select_related("accepted_by").annotate(differs_now=DIFFERS)
    return matched.filter(PENDING).exclude(DIFFERS)


def not_on_roster(roster: CivilRoster, user) -> QuerySet[Household]:
    """Open files in the roster's subtree recorded as on 低保 with no member on the roster as on 低保."""
    on_roster = CivilRosterEntry.objects.filter(roster=roster, on_dibao=True,
                                                id_number_digest=OuterRef("id_number_digest"))
    listed = Member.objects.filter(household=OuterRef("pk")).filter(Exists(on_roster))
    return (Household.objects.open()
            .filter(union__path__startswith=work_path(roster, user), receives_dibao=True)
            .exclude(Exists(listed)).select_related("union").order_by("file_number"))


def section_counts(roster: CivilRoster, user) -> dict[str, int]:
    """The size of each tab, counted as entries_in selects them, in one query (and one for not_on_roster)."""
    matched = _matched(roster, user)
    counts = roster.entries.aggregate(
        entries=Count("pk"),
        differences=Count("pk", filter=matched & PENDING & DIFFERS),
        accepted=Count("pk", filter=matched & ~PENDING),
        consistent=Count("pk", filter=matched & PENDING & ~DIFFERS),
        unmatched=Count("pk", filter=~_in_subtree(roster.union.path)),
    )
    counts["not_on_roster"] = not_on_roster(roster, user).order_by().count()
    counts["rejected"] = len(roster.rejected)
    return counts


# --- accepting -------------------------------------------------------------------------------------------------

def _new_values(entry: CivilRosterEntry, household: Household) -> dict:
    """The household's 低保 fields as the roster entry says they are."""
    if not entry.on_dibao:
        return {"receives_dibao": False, "dibao_amount": Decimal("0.00")}
    amount = entry.amount if entry.amount > 0 else household.dibao_amount
    return {"receives_dibao": True, "dibao_amount": amount}


@transaction.atomic
def accept_match(entry: CivilRosterEntry, *, by, only_if_different: bool = False) -> RegisterEvent | None:
    """Write the roster's 低保 status and amount into the file and record it; None if already accepted
    (or, with only_if_different, if the file already agrees)."""
    entry = CivilRosterEntry.objects.select_for_update().select_related("roster").get(pk=entry.pk)
    if entry.accepted_at is not None:
        return None
    if entry.household_id is None:
        raise CivilMatchError(_("该记录没有匹配到档案。"))
    household = (Household.objects.select_for_update(of=("self",)).select_related("union")
                 .get(pk=entry.household_id))
    if not by.has_perm("dossiers.accept_civil_match", household):
        raise CivilMatchError(_("您没有权限采纳民政比对结果。"))
    if household.is_closed:
        raise CivilMatchError(_("档案 %(file)s 已退出（%(status)s），不能再修改。") % {
            "file": household.file_number, "status": household.get_status_display()})
    changes = {name: value for name, value in _new_values(entry, household).items()
               if getattr(household, name) != value}
    if only_if_different and not changes:
        return None
    if changes:
        for name, value in changes.items():
            setattr(household, name, value)
        household.save(update_fields=[*changes, "updated_at"])
    entry.accepted_at, entry.accepted_by = timezone.now(), by
    entry.save(update_fields=["accepted_at", "accepted_by"])
    return register.record_civil_match(
        household, by=by,
        reason=_("民政比对：%(file)s 第%(row)d行") % {"file": entry.roster.file_name, "row": entry.row},
        roster=entry.roster_id, row=entry.row, on_dibao=entry.on_dibao, amount=str(entry.amount),
    )


def accept_all_differences(roster: CivilRoster, *, by) -> int:
    """Accept every open difference of the user's files; entries made moot by an earlier one are skipped.

    Each acceptance is its own transaction (accept_match), so none holds the locks of the others: one stopped
    half-way leaves what it accepted recorded, and running it again accepts the rest."""
    entries = entries_in(roster, "differences", by).exclude(household__status__in=CLOSED_STATUSES)
    accepted = 0
    for entry in entries:
        if not by.has_perm("dossiers.accept_civil_match", entry.household):
            continue
        try:
            accepted += accept_match(entry, by=by, only_if_different=True) is not None
        except CivilMatchError:  # closed since the list was read: left for the page to show
            continue
    return accepted


def _count(entries: QuerySet[CivilRosterEntry]) -> Coalesce:
    return Coalesce(Subquery(entries.order_by().values("roster").annotate(n=Count("pk")).values("n"),
                             output_field=IntegerField()), 0)


def with_counts(rosters: QuerySet[CivilRoster], user) -> QuerySet[CivilRoster]:
    """Each roster with its number of people and, of the files the user works on in it, how many matched, how
    many differences wait to be accepted and how many were accepted."""
    entries = CivilRosterEntry.objects.filter(roster=OuterRef("pk"))
    matched = entries.filter(household__union__path__startswith=OuterRef("union__path")).filter(
        household__union__path__startswith=scope_path(user) or "")
    return rosters.annotate(entry_count=_count(entries), matched_count=_count(matched),
                            pending_count=_count(matched.filter(PENDING & DIFFERS)),
                            accepted_count=_count(matched.exclude(PENDING)))
