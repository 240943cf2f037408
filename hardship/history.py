"""The audit history, read back readably: who, when, what changed from what to what.

Changes are captured by django-pghistory's database triggers (so bulk and set-based writes are
seen too); the request's user and URL come from its middleware context. Views and exports that
change nothing are recorded in AccessRecord.

A row is one record changed by one request (one pghistory context): a request that writes a row
twice reads as one change, and a write that changes nothing a reader would see is left out. Values
read as the pages show them: field and choice labels, related records by name, money in yuan with
two decimals, dates as YYYY-MM-DD, ID and bank-card numbers masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pghistory.models
from django.apps import apps
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from hardship import punctuation

ACTION_LABELS = {"insert": _("新建"), "update": _("修改"), "delete": _("删除")}
SUMMARIES = {"insert": _("新建了%(subject)s"), "update": _("修改了%(subject)s"), "delete": _("删除了%(subject)s")}
# Internal or derived columns that say nothing to a reader of the history.
HIDDEN_COLUMNS = {"id", "path", "depth", "first_name", "last_name", "is_staff", "updated_at", "is_open",
                  "register_version", "task_id", "id_number_digest", "head_id_number_digest", "plan_id", "version",
                  "successor_id", "makers"}
# The record a child row belongs to (a member's household): the row's subject and link name it already.
PARENT_COLUMNS = ("household_id", "roster_id")
# Columns holding ID numbers: the history shows them masked, like every list.
ID_NUMBER_COLUMNS = {"id_number", "head_id_number"}
# Encrypted columns shown masked to their last four digits, as on the file page; other secrets are not shown.
CARD_COLUMNS = {"bank_card"}
EMPTY = "—"
EMPTY_VALUES = (None, "", False, 0, [], {}, "0.0", "0.00")
# A file's history is read whole (its rows are counted); no file comes near this many changes.
FILE_HISTORY_LIMIT = 1000


@dataclass
class FieldChange:
    field: str
    old: str
    new: str

    @property
    def kind(self) -> str:
        """"set" (a first value), "clear" (a value removed) or "change"."""
        if self.old == EMPTY:
            return "set"
        return "clear" if self.new == EMPTY else "change"


@dataclass
class HistoryRow:
    at: datetime
    actor: object | None
    action: str
    subject: str
    url: str  # the page the change was made from
    changes: list[FieldChange] = field(default_factory=list)
    source: str = ""  # the imported file a change came from, if any
    label: str = ""  # insert, update or delete
    model: type | None = None
    data: dict = field(default_factory=dict)  # the record's values after the change, by column
    keys: list[str] = field(default_factory=list)  # the events (pgh_slug) the row reads
    parent: models.Model | None = None  # the record it belongs to: a member's or a visit's household

    @property
    def summary(self) -> str:
        """The change as a sentence without its actor: "修改了家庭成员：李秀英（配偶）"."""
        template = SUMMARIES.get(self.label)
        return str(template) % {"subject": self.subject} if template else self.subject

    @property
    def initial(self) -> bool:
        """A new record: its changes are the values it was created with."""
        return self.label == "insert"


def object_history(obj: models.Model) -> list[HistoryRow]:
    events = pghistory.models.MiddlewareEvents.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")
    return to_rows(list(events))


def file_history(obj: models.Model, limit: int = FILE_HISTORY_LIMIT) -> list[HistoryRow]:
    """Changes to an object and to every tracked row that points to it (a household's members,
    visits, objections, exit proposals, transfers), newest first."""
    events = pghistory.models.MiddlewareEvents.objects.references(obj).order_by("-pgh_created_at", "-pgh_id")
    return to_rows(list(events[:limit]))


def events_of(event_model, events: dict[int, object]) -> list:
    """Some events of one event table, given as {pgh_id: the tracked object's pk}, with their diffs, for to_rows:
    one query, which reads the diffs for just those objects."""
    tracked = event_model.pgh_tracked_model
    slugs = {f"{event_model._meta.label}:{pgh_id}" for pgh_id in events}
    objects = [tracked(pk=pk) for pk in set(events.values())]  # by key only: a deleted row has history too
    found = pghistory.models.MiddlewareEvents.objects.tracks(objects).filter(pgh_slug__in=slugs)
    return list(found.order_by("-pgh_created_at", "-pgh_id"))


# The tracked models the audit page reads, each with the path from its event row to a union path.
SCOPED_EVENT_SOURCES = [
    ("hardship.Union", "path"),
    ("hardship.User", "home_union__path"),
    ("dossiers.Household", "union__path"),
    ("dossiers.Member", "household__union__path"),
]


def recent_events_visible_to(user, limit: int = 50) -> list[HistoryRow]:
    """The latest changes in the user's scope, newest first: one indexed query per event table,
    then the readable diffs for just those events."""
    from hardship.access import scope_path

    path = scope_path(user)
    if path is None:
        return []
    latest = []
    for label, lookup in SCOPED_EVENT_SOURCES:
        event_model = apps.get_model(label).pgh_event_model
        latest += event_model.objects.filter(**{f"{lookup}__startswith": path}).order_by("-pgh_id")[:limit]
    latest = sorted(latest, key=lambda event: event.pgh_created_at, reverse=True)[:limit]
    events = []
    for label, _lookup in SCOPED_EVENT_SOURCES:
        event_model = apps.get_model(label).pgh_event_model
        mine = [event for event in latest if isinstance(event, event_model)]
        if mine:
            objects = apps.get_model(label).objects.filter(pk__in={event.pgh_obj_id for event in mine})
            slugs = {f"{event_model._meta.label}:{event.pgh_id}" for event in mine}
            events += pghistory.models.MiddlewareEvents.objects.tracks(objects).filter(pgh_slug__in=slugs)
    events.sort(key=lambda event: (event.pgh_created_at, event.pgh_id), reverse=True)
    return to_rows(events)


def to_rows(events: list) -> list[HistoryRow]:
    """Readable rows for events of any tables (pghistory's aggregate events): one query per kind of related record
    they name, whatever their number."""
    events = _merged(events)
    objects = _related_objects(events)
    rows = [_row(event, objects) for event in events]
    return [row for row in rows if row.changes or row.label != "update"]


def _row(event, objects: dict) -> HistoryRow:
    from hardship.models import User

    model = apps.get_model(event.pgh_obj_model)
    context = event.pgh_context or {}
    return HistoryRow(
        at=event.pgh_created_at,
        actor=objects.get((User, str(context.get("user")))),
        action=str(ACTION_LABELS.get(event.pgh_label, event.pgh_label)),
        subject=subject(model, event.pgh_data or {}, objects),
        url=context.get("url", ""),
        changes=_changes(model, event, objects),
        source=context.get("import_file") or "",
        label=event.pgh_label,
        model=model,
        data=event.pgh_data or {},
        keys=getattr(event, "merged_keys", [event.pgh_slug]),
        parent=_parent(model, event.pgh_data or {}, objects),
    )


def _parent(model, data: dict, objects: dict) -> models.Model | None:
    column = next((column for column in PARENT_COLUMNS if data.get(column) is not None), None)
    return objects.get((_field_for_column(model, column).related_model, str(data[column]))) if column else None


def _merged(events: list) -> list:
    """One event per record and request (pghistory context), newest first: a transition that saves a file twice,
    or a save that creates a row and fills it in, reads as one change."""
    groups: dict[tuple, list] = {}
    for event in events:
        key = (event.pgh_context_id, event.pgh_obj_model, event.pgh_obj_id) if event.pgh_context_id else event.pgh_slug
        groups.setdefault(key, []).append(event)
    return [_merge(group) if len(group) > 1 else group[0] for group in groups.values()]


def _merge(group: list):
    """The newest event of a group (newest first), standing for all of it: the first old value, the last new one."""
    newest, oldest = group[0], group[-1]
    newest.merged_keys = [event.pgh_slug for event in group]
    if newest.pgh_label == "delete":
        return newest
    if oldest.pgh_label == "insert":
        newest.pgh_label, newest.pgh_diff = "insert", None
        return newest
    diff: dict[str, list] = {}
    for event in reversed(group):
        for column, (old, new) in (event.pgh_diff or {}).items():
            diff[column] = [diff[column][0] if column in diff else old, new]
    newest.pgh_diff = {column: pair for column, pair in diff.items() if pair[0] != pair[1]}
    return newest


def subject(model, data: dict, objects: dict) -> str:
    """What a row is about, by what it is: "走访记录：2026-11-20 入户调查，王芳"."""
    describe = DESCRIPTIONS.get(model._meta.label)
    name = describe(_Values(model, data, objects)) if describe else _display_name(data)
    return str(_("%(noun)s：%(name)s")) % {"noun": model._meta.verbose_name, "name": name}


class _Values:
    """A record's values by field name, as the history shows them."""

    def __init__(self, model, data: dict, objects: dict):
        self.model, self.data, self.objects = model, data, objects

    def raw(self, name: str):
        return self.data.get(self.model._meta.get_field(name).column)

    def __call__(self, name: str) -> str:
        return _display_value(self.model._meta.get_field(name), self.raw(name), self.objects)


def _member(v: _Values) -> str:
    return str(_("%(name)s（%(relationship)s）")) % {"name": v("name"), "relationship": v("relationship")}


def _visit(v: _Values) -> str:
    kind = _("入户调查") if v.raw("is_initial") else _("回访")
    return str(_("%(date)s %(kind)s，%(visitor)s")) % {"date": v("visited_on"), "kind": kind, "visitor": v("visitor")}


def _objection(v: _Values) -> str:
    return str(_("%(date)s 收到，%(who)s 登记")) % {"date": v("received_on"), "who": v("recorded_by")}


def _exit_proposal(v: _Values) -> str:
    return str(_("%(kind)s，%(who)s 提出")) % {"kind": v("kind"), "who": v("proposed_by")}


def _transfer(v: _Values) -> str:
    return str(_("%(source)s 转至 %(target)s")) % {"source": v("from_union"), "target": v("to_union")}


def _roster_entry(v: _Values) -> str:
    return str(_("%(name)s，%(roster)s 第 %(row)s 行")) % {"name": v("name"), "roster": v("roster"), "row": v("row")}


def _standard(v: _Values) -> str:
    return str(_("%(region)s，%(date)s 起")) % {"region": v("region"), "date": v("effective_from")}


def _user(v: _Values) -> str:
    name = v.raw("full_name") or v.raw("username")
    return f"{name}（{v.raw('username')}）" if name != v.raw("username") else name


def _plan(v: _Values) -> str:
    return str(_("计划 %(year)s 年脱困")) % {"year": v.raw("target_year")}


def _measure(v: _Values) -> str:
    return str(_("%(type)s，%(date)s 前")) % {"type": v("measure_type"), "date": v("due_on")}


def _pairing(v: _Values) -> str:
    return str(_("%(helper)s，%(date)s 起结对")) % {"helper": v("helper"), "date": v("started_on")}


def _helper(v: _Values) -> str:
    return str(_("%(name)s（%(unit)s）")) % {"name": v.raw("name"), "unit": v.raw("helping_unit")}


def _schedule(v: _Values) -> str:
    return str(_("%(kind)s %(amount)s 元/%(frequency)s，%(start)s 起")) % {
        "kind": v("kind"), "amount": v.raw("amount"), "frequency": v("frequency"), "start": v("first_period")}


def _payment(v: _Values) -> str:
    return str(_("%(period)s %(kind)s %(amount)s 元")) % {"period": v("period"), "kind": v("kind"),
                                                         "amount": v.raw("amount")}


DESCRIPTIONS = {
    "assistance.Schedule": _schedule,
    "assistance.Payment": _payment,
    "assistance.PaymentBatch": lambda v: f"{v('union')} {str(v('period'))[:7]}",
    "assistance.FundBudget": lambda v: f"{v('union')} {v.raw('year')} {v('fund_source')}",
    "assistance.Campaign": lambda v: v.raw("name"),
    "assistance.CampaignVisit": lambda v: f"{v('campaign')} {v('visited_on')}",
    "assistance.Discrepancy": lambda v: f"{v('kind')} {v.raw('account_masked')}",
    "assistance.Plan": _plan,
    "assistance.Measure": _measure,
    "dossiers.Member": _member,
    "dossiers.Visit": _visit,
    "dossiers.Pairing": _pairing,
    "dossiers.Helper": _helper,
    "dossiers.Objection": _objection,
    "dossiers.ExitProposal": _exit_proposal,
    "dossiers.Transfer": _transfer,
    "dossiers.CivilRosterEntry": _roster_entry,
    "dossiers.ImportMapping": lambda v: v("union"),
    "dossiers.LocalStandard": _standard,
    "hardship.User": _user,
    "hardship.CalendarDay": lambda v: f"{v('day')} {v('name')}",
}


def _display_name(data: dict) -> str:
    for key in ("file_number", "name", "full_name", "username"):
        if data.get(key):
            return str(data[key])
    return EMPTY


def _changes(model, event, objects) -> list[FieldChange]:
    if event.pgh_label == "insert":
        pairs = {key: [None, value] for key, value in (event.pgh_data or {}).items()
                 if value not in EMPTY_VALUES and key not in PARENT_COLUMNS}
    else:
        pairs = event.pgh_diff or {}
    changes = []
    for column, (old, new) in sorted(pairs.items(), key=lambda pair: _column_order(model, pair[0])):
        model_field = _field_for_column(model, column)
        if model_field is None or column in HIDDEN_COLUMNS or _same_secret(model_field, old, new):
            continue
        changes.append(FieldChange(
            field=str(model_field.verbose_name),
            old=_display_value(model_field, old, objects),
            new=_display_value(model_field, new, objects),
        ))
    return changes


def _column_order(model, column: str) -> int:
    """Changes are listed in the order of the model's fields, as the forms show them."""
    columns = [model_field.column for model_field in model._meta.concrete_fields]
    return columns.index(column) if column in columns else len(columns)


def _same_secret(model_field, old, new) -> bool:
    """Encrypted values differ on every save (random salt): compare what they hide."""
    from hardship.fields import EncryptedTextField

    if not isinstance(model_field, EncryptedTextField) or old is None or new is None:
        return False
    return _decrypted(model_field, old) == _decrypted(model_field, new)


def _decrypted(model_field, value) -> str:
    return model_field.from_db_value(value, None, None) or ""


def _field_for_column(model, column: str):
    for model_field in model._meta.concrete_fields:
        if model_field.column == column:
            return model_field
    return None


def _related_objects(events) -> dict[tuple, models.Model]:
    """The records the events name (foreign keys, and the users who acted), one query per related model."""
    objects = {}
    for related_model, pks in _related_keys(events).items():
        if pks:
            objects.update({(related_model, str(pk)): obj for pk, obj in related_model.objects.in_bulk(pks).items()})
    return objects


def _related_keys(events) -> dict[type, set]:
    from hardship.models import User

    wanted: dict[type, set] = {User: set()}
    for event in events:
        if event.pgh_context and event.pgh_context.get("user"):
            wanted[User].add(event.pgh_context["user"])
        model = apps.get_model(event.pgh_obj_model)
        olds = [(column, pair[0]) for column, pair in (event.pgh_diff or {}).items()]
        for column, value in [*(event.pgh_data or {}).items(), *olds]:
            model_field = _field_for_column(model, column)
            if model_field is not None and model_field.is_relation and value is not None:
                wanted.setdefault(model_field.related_model, set()).add(value)
    return wanted


def _display_value(model_field, value, objects) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(model_field, models.JSONField):
        return str(_("（已更新）"))
    if model_field.column in ID_NUMBER_COLUMNS or model_field.column in CARD_COLUMNS:
        return _masked(model_field, value)
    if model_field.is_relation:
        related = objects.get((model_field.related_model, str(value)))
        return str(related) if related is not None else str(_("（已删除的记录）"))
    if isinstance(value, list):
        shown = (_display_value(model_field.base_field, item, objects) for item in value)
        return punctuation.enumeration_comma().join(shown)
    return _display_scalar(model_field, value)


def _display_scalar(model_field, value) -> str:
    from hardship.fields import EncryptedTextField

    if isinstance(model_field, EncryptedTextField):
        return str(_("（加密保存，不显示）"))
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(model_field, models.DecimalField) and model_field.decimal_places == 2:
        return str(_("%(amount)s 元")) % {"amount": f"{Decimal(str(value)):.2f}"}
    if isinstance(model_field, models.DateTimeField):
        return date_format(localtime(parse_datetime(value)), "Y-m-d H:i")
    if isinstance(model_field, models.DateField):
        return parse_date(value).isoformat()
    return str(value)


def _masked(model_field, value) -> str:
    from hardship.idnumbers import mask

    number = _decrypted(model_field, value)
    if model_field.column in CARD_COLUMNS:
        return f"**** {number[-4:]}" if number else EMPTY
    return mask(number)
