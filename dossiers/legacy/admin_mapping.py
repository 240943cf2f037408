"""The mapping step of the import preview: every column with what it was taken to be, which the admin can change
(map an unknown column, ignore one, settle an ambiguous one), and the unreadable values grouped so that one mapping
fixes every row with the value. Applying re-runs the preview; the mapping can be saved for the union's next file.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dossiers.legacy import fields
from dossiers.legacy.mapping import FIELD_LABELS, HOW_LABELS, Mapping, MappingError
from dossiers.legacy.models import ImportBatch, ImportMapping
from hardship.models import Union

KEEP = "__keep"  # a value left as the engine read it


def saved_mapping(union: Union) -> ImportMapping | None:
    """The mapping saved for this union, or else for the nearest union above it."""
    chain = [union, *reversed(list(union.ancestors()))]
    found = {saved.union_id: saved for saved in
             ImportMapping.objects.filter(union__in=chain).select_related("union", "updated_by")}
    return next((found[unit.pk] for unit in chain if unit.pk in found), None)


def field_options() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in FIELD_LABELS.items()]


def columns_for_page(result: dict) -> list[dict]:
    """The preview's columns with their labels, for the mapping table."""
    rows = []
    for number, column in enumerate(result.get("columns") or []):
        candidates = [str(FIELD_LABELS.get(key, key)) for key in column.get("candidates") or ()]
        rows.append({**column, "number": number, "how_label": HOW_LABELS.get(column["how"], ""),
                     "candidate_labels": candidates, "changed": column["how"] in ("mapped", "ignored")})
    return rows


def values_for_page(result: dict) -> list[dict]:
    rows = []
    for number, group in enumerate(result.get("unreadable") or []):
        rows.append({**group, "number": number, "field_label": FIELD_LABELS.get(group["field"], group["field"]),
                     "choices": fields.vocabulary(group["field"]) or []})
    return rows


def mapping_from_form(batch: ImportBatch, post) -> Mapping:
    """The batch's mapping with the form's changes on top. Keys come from the stored preview, never the form."""
    result = batch.preview or {}
    changed: dict[str, str] = {}
    for number, column in enumerate(result.get("columns") or []):
        chosen = post.get(f"column-{number}")
        if chosen is not None and chosen != column["field"]:
            changed[column["header"]] = chosen
    tables: dict[str, dict[str, str]] = {}
    for number, group in enumerate(result.get("unreadable") or []):
        chosen = post.get(f"value-{number}", KEEP)
        if chosen != KEEP:
            tables.setdefault(group["field"], {})[group["value"]] = chosen
    return Mapping.from_json(batch.mapping).merged(Mapping.from_json({"columns": changed, "values": tables}))


def _save(union: Union, mapping: Mapping, user) -> None:
    """The union's saved mapping becomes this one (an empty one removes it)."""
    if not mapping:
        ImportMapping.objects.filter(union=union).delete()
        return
    ImportMapping.objects.update_or_create(union=union, defaults={
        "mapping": mapping.as_json(), "updated_by": user, "updated_at": timezone.now()})


@require_POST
def mapping_view(request: HttpRequest, pk: int) -> HttpResponse:
    from dossiers.legacy import admin as import_admin  # the pages' helpers; they import this module's views

    batch = import_admin._batch(request, pk)
    if not request.user.has_perm("dossiers.import_household", batch.union):
        return HttpResponse(status=403)
    if import_admin.stage(batch) != "preview" or not batch.file:
        messages.warning(request, _("这份文件已确认导入或已处理完，不能再修改列映射。"))
        return redirect(import_admin.batch_url(batch))
    try:
        mapping = Mapping() if request.POST.get("action") == "clear" else mapping_from_form(batch, request.POST)
    except MappingError as error:
        messages.error(request, error.message)
        return redirect(import_admin.batch_url(batch))
    rows = (batch.preview or {}).get("total_rows") or 0
    with transaction.atomic():
        applied = ImportBatch.objects.filter(pk=batch.pk, state=ImportBatch.State.PREVIEWED).exclude(preview={}) \
            .update(mapping=mapping.as_json() if mapping else {}, preview={})
        if applied and request.POST.get("save"):
            _save(batch.union, mapping, request.user)
    if not applied:
        messages.warning(request, _("这份文件已确认导入或正在重新预览，未修改列映射。"))
        return redirect(import_admin.batch_url(batch))
    batch.refresh_from_db()
    import_admin.preview_again(batch, rows=rows)
    if request.POST.get("save") and mapping:
        messages.success(request, _("已按新的映射重新预览，并保存为“%(union)s”的映射：该单位下次导入时自动套用。")
                         % {"union": batch.union})
    else:
        messages.success(request, _("已按新的映射重新预览。"))
    return redirect(import_admin.batch_url(batch))
