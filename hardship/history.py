"""The audit history, read back readably: who, when, which field, from what to what.

Changes are captured by django-pghistory's database triggers (so bulk and set-based writes are
seen too); the request's user and URL come from its middleware context. Views and exports that
change nothing are recorded in AccessRecord.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pghistory.models
from django.apps import apps
from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {"insert": _("新建"), "update": _("修改"), "delete": _("删除")}
# Internal or derived columns that say nothing to a reader of the history.
HIDDEN_COLUMNS = {"id", "path", "depth", "first_name", "last_name", "is_staff", "updated_at", "is_open"}
# Columns holding ID numbers: the history shows them masked, like every list.
ID_NUMBER_COLUMNS = {"id_number", "head_id_number"}
EMPTY_VALUES = (None, "", False, 0, [], "0.0", "0.00")


@dataclass
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class HistoryRow:
    at: datetime
    actor: object | None
    action: str
    subject: str
    url: str
    changes: list[FieldChange] = field(default_factory=list)
    source: str = ""  # the imported file a change came from, if any


def object_history(obj: models.Model) -> list[HistoryRow]:
    events = pghistory.models.MiddlewareEvents.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")
    return to_rows(list(events))


def file_history(obj: models.Model, limit: int = 200) -> list[HistoryRow]:
    """Changes to an object and to every tracked row that points to it (a household's members,
    visits, objections, exit proposals, transfers), newest first."""
    events = pghistory.models.MiddlewareEvents.objects.references(obj).order_by("-pgh_created_at", "-pgh_id")
    return to_rows(list(events[:limit]))


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
    from hardship.models import User

    actor_ids = {event.pgh_context["user"] for event in events if event.pgh_context and event.pgh_context.get("user")}
    actors = User.objects.in_bulk(actor_ids)
    labels = _related_labels(events)
    rows = []
    for event in events:
        model = apps.get_model(event.pgh_obj_model)
        context = event.pgh_context or {}
        rows.append(HistoryRow(
            at=event.pgh_created_at,
            actor=actors.get(context.get("user")),
            action=str(ACTION_LABELS.get(event.pgh_label, event.pgh_label)),
            subject=f"{model._meta.verbose_name}：{_display_name(event.pgh_data)}",
            url=context.get("url", ""),
            changes=_changes(model, event, labels),
            source=context.get("import_file") or "",
        ))
    return rows


def _display_name(data: dict) -> str:
    for key in ("file_number", "name", "full_name", "username", "id"):
        if data.get(key):
            return str(data[key])
    return ""


def _changes(model, event, labels) -> list[FieldChange]:
    if event.pgh_label == "insert":
        pairs = {key: [None, value] for key, value in (event.pgh_data or {}).items() if value not in EMPTY_VALUES}
    else:
        pairs = event.pgh_diff or {}
    changes = []
    for column, (old, new) in sorted(pairs.items()):
        model_field = _field_for_column(model, column)
        if model_field is None or column in HIDDEN_COLUMNS or _same_secret(model_field, old, new):
            continue
        changes.append(FieldChange(
            field=str(model_field.verbose_name),
            old=_display_value(model_field, old, labels),
            new=_display_value(model_field, new, labels),
        ))
    return changes


def _same_secret(model_field, old, new) -> bool:
    """Encrypted values differ on every save (random salt): compare what they hide."""
    from hardship.fields import EncryptedTextField

    if not isinstance(model_field, EncryptedTextField) or old is None or new is None:
        return False
    return model_field.from_db_value(old, None, None) == model_field.from_db_value(new, None, None)


def _field_for_column(model, column: str):
    for model_field in model._meta.concrete_fields:
        if model_field.column == column:
            return model_field
    return None


def _related_labels(events) -> dict[tuple, str]:
    """One query per related model for every foreign key value that the events mention."""
    wanted: dict[type, set] = {}
    for event in events:
        model = apps.get_model(event.pgh_obj_model)
        values = dict(event.pgh_data or {})
        for column, pair in (event.pgh_diff or {}).items():
            values[f"__old__{column}"] = pair[0]
        for column, value in values.items():
            model_field = _field_for_column(model, column.removeprefix("__old__"))
            if model_field is not None and model_field.is_relation and value is not None:
                wanted.setdefault(model_field.related_model, set()).add(value)
    labels = {}
    for related_model, pks in wanted.items():
        for pk, obj in related_model.objects.in_bulk(pks).items():
            labels[(related_model, str(pk))] = str(obj)
    return labels


def _display_value(model_field, value, labels) -> str:
    from hardship.fields import EncryptedTextField
    from hardship.idnumbers import mask

    if value is None or value == "":
        return "—"
    if isinstance(model_field, EncryptedTextField):
        return str(_("（加密保存，不显示）"))
    if model_field.column in ID_NUMBER_COLUMNS:
        return mask(str(value))
    if isinstance(value, list):
        choices = dict(getattr(model_field, "base_field", model_field).flatchoices or [])
        return "、".join(str(choices.get(item, item)) for item in value) or "—"
    if model_field.is_relation:
        return labels.get((model_field.related_model, str(value)), f"#{value}")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(model_field, models.DateTimeField):
        return date_format(localtime(parse_datetime(value)), "Y-m-d H:i")
    return str(value)
