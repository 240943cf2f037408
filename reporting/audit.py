"""The auditor's trail: every change, register step, import and recorded view in the auditor's subtree, newest
first, filtered by who, what and when, a page at a time.

Each kind of record is one source table. A page is one query: the sources' (time, source, id) rows as a
UNION ALL, each part ordered and cut at the page's end, then the whole ordered and cut to the page; the total is
one more, capped, query. Only then are the page's own rows read, one query per source on the page and one per
kind of record they name, never one per row.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.legacy.models import CivilRoster, ImportBatch
from dossiers.models import Household, RegisterEvent
from hardship import punctuation
from hardship.access import scope_path
from hardship.history import FieldChange, HistoryRow, events_of, to_rows
from hardship.models import AccessRecord, Union, User

PAGE_SIZE = 50
COUNT_CAP = 10_000
PGH_USER = "pgh_context__metadata__user"

KINDS = {
    "household": _("档案信息"),
    "member": _("家庭成员"),
    "register": _("档案流转"),
    "import": _("导入与比对"),
    "access": _("查看与导出"),
    "organisation": _("单位与用户"),
    "standard": _("低保标准"),
    "plan": _("帮扶计划与措施"),
    "pairing": _("结对帮扶"),
    "subsidy": _("补助发放"),
}


@dataclass(frozen=True)
class Source:
    key: str
    kind: str
    model: str
    time: str  # when it happened
    actor: str  # the acting user's id
    scope: str  # the union path it belongs to
    obj: str = "pk"  # the record it is about: an event's tracked row, or the row itself
    by_region: bool = False  # scope names a region: in scope when a union of the subtree is in that region

    @property
    def model_class(self):
        return apps.get_model(self.model)

    def in_scope(self, path: str) -> Q | Exists:
        if self.by_region:
            return Exists(Union.objects.filter(region=OuterRef(self.scope), path__startswith=path))
        return Q(**{f"{self.scope}__startswith": path})


SOURCES = [
    Source("household", "household", "dossiers.HouseholdEvent", "pgh_created_at", PGH_USER, "pgh_obj__union__path",
           "pgh_obj_id"),
    Source("visit", "household", "dossiers.VisitEvent", "pgh_created_at", PGH_USER, "household__union__path",
           "pgh_obj_id"),
    Source("objection", "household", "dossiers.ObjectionEvent", "pgh_created_at", PGH_USER,
           "household__union__path", "pgh_obj_id"),
    Source("exit", "household", "dossiers.ExitProposalEvent", "pgh_created_at", PGH_USER, "household__union__path",
           "pgh_obj_id"),
    Source("transfer", "household", "dossiers.TransferEvent", "pgh_created_at", PGH_USER, "household__union__path",
           "pgh_obj_id"),
    Source("member", "member", "dossiers.MemberEvent", "pgh_created_at", PGH_USER, "household__union__path",
           "pgh_obj_id"),
    Source("register", "register", "dossiers.RegisterEvent", "at", "actor_id", "household__union__path"),
    Source("batch", "import", "dossiers.ImportBatch", "created_at", "uploaded_by_id", "union__path"),
    Source("mapping", "import", "dossiers.ImportMappingEvent", "pgh_created_at", PGH_USER, "union__path",
           "pgh_obj_id"),
    Source("roster", "import", "dossiers.CivilRoster", "uploaded_at", "uploaded_by_id", "union__path"),
    Source("access", "access", "hardship.AccessRecord", "at", "user_id", "union__path"),
    Source("union", "organisation", "hardship.UnionEvent", "pgh_created_at", PGH_USER, "path", "pgh_obj_id"),
    Source("user", "organisation", "hardship.UserEvent", "pgh_created_at", PGH_USER, "home_union__path",
           "pgh_obj_id"),
    Source("plan", "plan", "assistance.PlanEvent", "pgh_created_at", PGH_USER, "household__union__path",
           "pgh_obj_id"),
    Source("measure", "plan", "assistance.MeasureEvent", "pgh_created_at", PGH_USER, "household__union__path",
           "pgh_obj_id"),
    Source("pairing", "pairing", "dossiers.PairingEvent", "pgh_created_at", PGH_USER, "household__union__path",
           "pgh_obj_id"),
    Source("helper", "pairing", "dossiers.HelperEvent", "pgh_created_at", PGH_USER, "union__path", "pgh_obj_id"),
    Source("schedule", "subsidy", "assistance.ScheduleEvent", "pgh_created_at", PGH_USER, "household__union__path",
           "pgh_obj_id"),
    Source("payment_batch", "subsidy", "assistance.PaymentBatchEvent", "pgh_created_at", PGH_USER, "union__path",
           "pgh_obj_id"),
    Source("payment", "subsidy", "assistance.PaymentEvent", "pgh_created_at", PGH_USER, "batch__union__path",
           "pgh_obj_id"),
    Source("discrepancy", "subsidy", "assistance.DiscrepancyEvent", "pgh_created_at", PGH_USER,
           "batch__union__path", "pgh_obj_id"),
    Source("budget", "subsidy", "assistance.FundBudgetEvent", "pgh_created_at", PGH_USER, "union__path",
           "pgh_obj_id"),
    Source("campaign", "subsidy", "assistance.CampaignEvent", "pgh_created_at", PGH_USER, "union__path",
           "pgh_obj_id"),
    Source("campaign_visit", "subsidy", "assistance.CampaignVisitEvent", "pgh_created_at", PGH_USER,
           "household__union__path", "pgh_obj_id"),
    Source("standard", "standard", "dossiers.LocalStandardEvent", "pgh_created_at", PGH_USER, "region_id",
           "pgh_obj_id", by_region=True),
]
SOURCES_BY_KEY = {source.key: source for source in SOURCES}
SOURCES_BY_MODEL = {source.model: source for source in SOURCES}


@dataclass
class Filters:
    users: list[int] | None = None  # None: anyone
    kind: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None  # inclusive, a Beijing date
    action: str = ""  # an AccessRecord.Action: access records of that action only


@dataclass
class AuditRow:
    at: datetime.datetime
    actor: User | None
    kind: str
    summary: str  # a sentence without its actor, or the link: "修改了家庭成员：李秀英（配偶）"
    subject: str  # the record it is about
    changes: list[FieldChange] = field(default_factory=list)
    initial: bool = False  # the changes are a new record's values
    note: str = ""  # a reason, or what an import did
    source: str = ""  # the imported file a change came from
    link: str = ""
    link_text: str = ""


@dataclass
class TrailPage:
    rows: list[AuditRow]
    number: int
    total: int
    capped: bool

    @property
    def last(self) -> int | None:
        return None if self.capped else max(1, -(-self.total // PAGE_SIZE))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * PAGE_SIZE < self.total


def trail_page(user, filters: Filters, number: int) -> TrailPage:
    """One page of the user's audit trail: rows of their subtree only, newest first."""
    path = scope_path(user)
    parts = [] if path is None else [_part(source, path, filters) for source in SOURCES if _wanted(source, filters)]
    total = _count(parts)
    capped = total > COUNT_CAP
    last = max(1, -(-min(total, COUNT_CAP) // PAGE_SIZE))
    number = min(max(1, number), last)
    keys = _keys(parts, (number - 1) * PAGE_SIZE) if total else []
    return TrailPage(rows=_rows(keys, path or ""), number=number, total=min(total, COUNT_CAP), capped=capped)


def _wanted(source: Source, filters: Filters) -> bool:
    if filters.action:
        return source.key == "access"
    return not filters.kind or source.kind == filters.kind


def _part(source: Source, path: str, filters: Filters) -> QuerySet:
    queryset = source.model_class.objects.all()
    if filters.action:
        queryset = queryset.filter(action=filters.action)
    if path:
        queryset = queryset.filter(source.in_scope(path))
    if filters.users is not None:
        queryset = queryset.filter(**{f"{source.actor}__in": filters.users})
    start, end = beijing_day_bounds(filters.date_from, filters.date_to)
    if start:
        queryset = queryset.filter(**{f"{source.time}__gte": start})
    if end:
        queryset = queryset.filter(**{f"{source.time}__lt": end})
    return queryset.annotate(t=F(source.time), src=Value(source.key, output_field=CharField()), rid=F("pk"),
                             oid=F(source.obj))


def beijing_day_bounds(date_from, date_to) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """From the start of date_from to the end of date_to, in the project's time zone (Beijing)."""
    def midnight(day):
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min)) if day else None

    return midnight(date_from), midnight(date_to and date_to + datetime.timedelta(days=1))


def _count(parts: list[QuerySet]) -> int:
    capped = [part.order_by().values_list("rid")[:COUNT_CAP + 1] for part in parts]
    if len(capped) < 2:
        return capped[0].count() if capped else 0
    return capped[0].union(*capped[1:], all=True).count()


def _keys(parts: list[QuerySet], offset: int) -> list[tuple]:
    """(time, source, id, object id) of the page's rows; each part is cut at the page's end before the union."""
    end = offset + PAGE_SIZE
    ordered = [part.order_by("-t", "-rid").values_list("t", "src", "rid", "oid") for part in parts]
    if len(ordered) == 1:
        return list(ordered[0][offset:end])
    ordered = [part[:end] for part in ordered]
    return list(ordered[0].union(*ordered[1:], all=True).order_by("-t", "src", "-rid")[offset:end])


def _rows(keys: list[tuple], path: str) -> list[AuditRow]:
    """The page's rows in the page's order. A change that shows nothing a reader would see is left out; events of
    one record and request make one row, at the newest one's place."""
    wanted: dict[str, dict] = {}
    for _at, src, rid, oid in keys:
        wanted.setdefault(src, {})[rid] = oid
    found: dict[tuple, AuditRow] = {}
    events = []
    for src, ids in wanted.items():
        if src in READERS:
            found.update(READERS[src](SOURCES_BY_KEY[src], ids, path))
        else:
            events += events_of(SOURCES_BY_KEY[src].model_class, ids)
    found.update(_history_rows(events))
    rows, shown = [], set()
    for _at, src, rid, _oid in keys:
        row = found.get((src, rid))
        if row is not None and id(row) not in shown:
            rows.append(row)
            shown.add(id(row))
    return rows


# --- each source's rows ----------------------------------------------------------------------------------------

def _history_rows(events: list) -> dict[tuple, AuditRow]:
    """The page's history rows, each under every event it reads (pgh_slug "dossiers.MemberEvent:12")."""
    rows = {}
    for row in to_rows(events):
        model, _pgh_id = row.keys[0].rsplit(":", 1)
        source = SOURCES_BY_MODEL[model]
        audit_row = _from_history(source, row)
        rows.update({(source.key, int(key.rsplit(":", 1)[1])): audit_row for key in row.keys})
    return rows


def _from_history(source: Source, row: HistoryRow) -> AuditRow:
    link, link_text = _history_link(row)
    return AuditRow(at=row.at, actor=row.actor, kind=str(KINDS[source.kind]), summary=row.summary,
                    subject=row.subject, changes=row.changes, initial=row.initial, source=row.source, link=link,
                    link_text=link_text)


def _history_link(row: HistoryRow) -> tuple[str, str]:
    data = row.data
    if row.model is Household:
        return _file_link(data.get("file_number"), data.get("head_name"))
    if isinstance(row.parent, Household):
        return _file_link(row.parent.file_number, row.parent.head_name)
    if row.model is User:
        return reverse("admin:hardship_user_change", args=[data["id"]]), data.get("full_name") or data["username"]
    if data.get("code"):  # a unit of the union tree
        return reverse("union_detail", args=[data["code"]]), data.get("name", "")
    return "", ""


def _file_link(file_number: str | None, name: str | None) -> tuple[str, str]:
    if not file_number:
        return "", ""
    return reverse("dossiers:detail", args=[file_number]), f"{file_number} {name or ''}".strip()


def _read_register_events(source: Source, ids: dict, _path: str) -> dict[tuple, AuditRow]:
    events = RegisterEvent.objects.filter(pk__in=ids).select_related("household", "actor")
    return {(source.key, event.pk): _register_row(event) for event in events}


def _register_row(event: RegisterEvent) -> AuditRow:
    household = event.household
    link, link_text = _file_link(household.file_number, household.head_name)
    changes = []
    if event.from_status != event.to_status:
        changes.append(FieldChange(str(_("状态")), event.get_from_status_display(), event.get_to_status_display()))
    return AuditRow(
        at=event.at, actor=event.actor, kind=str(KINDS["register"]), changes=changes, note=event.reason,
        summary=event.label, subject=f"{Household._meta.verbose_name}：{household.file_number}", link=link,
        link_text=link_text,
    )


def _read_batches(source: Source, ids: dict, _path: str) -> dict[tuple, AuditRow]:
    batches = ImportBatch.objects.filter(pk__in=ids).select_related("uploaded_by", "union").defer("preview", "mapping")
    return {(source.key, batch.pk): _batch_row(batch) for batch in batches}


def _batch_row(batch: ImportBatch) -> AuditRow:
    report = batch.report or {}
    if batch.state == ImportBatch.State.DONE:
        note = str(_("新建 %(created)s 户，更新 %(updated)s 户，有误 %(rejected)s 行")) % {
            "created": report.get("households_created", 0), "updated": report.get("households_updated", 0),
            "rejected": report.get("rejected_rows_total", 0)}
    else:
        note = batch.get_state_display()
    return AuditRow(
        at=batch.created_at, actor=batch.uploaded_by, kind=str(KINDS["import"]), note=note,
        summary=str(_("导入历史档案到 %(union)s")) % {"union": batch.union},
        subject=f"{ImportBatch._meta.verbose_name}：{batch.file_name}",
        link=reverse("admin:dossiers_importbatch_batch", args=[batch.pk]), link_text=batch.file_name,
    )


def _read_rosters(source: Source, ids: dict, _path: str) -> dict[tuple, AuditRow]:
    rosters = CivilRoster.objects.filter(pk__in=ids).select_related("uploaded_by", "union")
    return {(source.key, roster.pk): _roster_row(roster) for roster in rosters}


def _roster_row(roster: CivilRoster) -> AuditRow:
    """No link: the roster pages are the caseworkers' and administrators' (dossiers.match_civil_roster)."""
    return AuditRow(
        at=roster.uploaded_at, actor=roster.uploaded_by, kind=str(KINDS["import"]),
        summary=str(_("上传民政低保名册，与 %(union)s 的档案比对：%(file)s")) % {"union": roster.union,
                                                                             "file": roster.file_name},
        note=str(_("名册 %(rows)s 行")) % {"rows": roster.total_rows},
        subject=f"{CivilRoster._meta.verbose_name}：{roster.file_name}",
    )


def _read_access(source: Source, ids: dict, path: str) -> dict[tuple, AuditRow]:
    records = list(AccessRecord.objects.filter(pk__in=ids).select_related("user"))
    files = _files_named(records, path)
    return {(source.key, record.pk): _access_row(record, files) for record in records}


def _files_named(records: list[AccessRecord], path: str) -> dict[str, Household]:
    """The files in the subtree whose numbers open the records' subjects (a revealed ID number, a printed file)."""
    numbers = {record.subject.split(" ", 1)[0] for record in records}
    households = Household.objects.filter(file_number__in=numbers, union__path__startswith=path)
    return {household.file_number: household for household in households.only("file_number", "head_name")}


def _access_row(record: AccessRecord, files: dict) -> AuditRow:
    household = files.get(record.subject.split(" ", 1)[0])
    link, link_text = _file_link(household.file_number, household.head_name) if household else ("", "")
    return AuditRow(
        at=record.at, actor=record.user, kind=str(KINDS["access"]),
        summary=f"{record.get_action_display()}：{record.subject}", subject=record.subject, link=link,
        link_text=link_text, note=access_note(record),
    )


def access_note(record: AccessRecord) -> str:
    """Where from and how it ended: "来源地址：10.0.0.7；失败"; the name typed at a failed sign-in too."""
    parts = [f"{_('来源地址')}{punctuation.colon()}{record.address or '—'}",
             str(_("成功") if record.succeeded else _("失败"))]
    if record.username and record.user_id is None:
        parts.insert(0, f"{_('登录名')}{punctuation.colon()}{record.username}")
    return punctuation.semicolon().join(parts)


READERS = {"register": _read_register_events, "batch": _read_batches, "roster": _read_rosters,
           "access": _read_access}


def users_named(text: str) -> list[int]:
    """The accounts a "who" filter means: a user name, or a person's full name (several people may share one)."""
    text = text.strip()
    return list(User.objects.filter(Q(username__iexact=text) | Q(full_name=text)).values_list("pk", flat=True)[:50])


# --- the export of a period's access records -------------------------------------------------------------------

EXPORT_FIELDS = ("at", "user", "username", "address", "action", "subject", "succeeded", "union")


def access_records(user, filters: Filters) -> QuerySet:
    """The access records of the user's subtree that the filters select (who, action, Beijing dates), oldest first."""
    path = scope_path(user)
    if path is None:
        return AccessRecord.objects.none()
    queryset = _part(SOURCES_BY_KEY["access"], path, filters).select_related("user", "union")
    return queryset.order_by("at", "pk")


def export_headers() -> list[str]:
    return [str(AccessRecord._meta.get_field(name).verbose_name) for name in EXPORT_FIELDS]


def export_row(record: AccessRecord) -> list[str]:
    """One record as the export writes it, every cell text (escaped by the writer)."""
    return [
        timezone.localtime(record.at).strftime("%Y-%m-%d %H:%M:%S"),
        str(record.user) if record.user else "",
        record.username or (record.user.get_username() if record.user else ""),
        record.address or "",
        str(record.get_action_display()),
        record.subject,
        str(_("成功") if record.succeeded else _("失败")),
        f"{record.union.code} {record.union.name}" if record.union else "",
    ]
