"""Background jobs of the household file: the legacy-register import of an ImportBatch.

preview_batch and import_batch do the work (the admin pages call preview_batch inline for a small file); the Celery
tasks below are thin: load the batch by id, call them, and report progress through the result backend
(update_state), because the import runs in one transaction and a progress column on the batch would stay invisible
until it commits.
"""

from __future__ import annotations

import datetime
import logging
import traceback
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dossiers.legacy.importer import ImportReport, import_running, run_import
from dossiers.legacy.mapping import Mapping
from dossiers.legacy.models import ImportBatch
from dossiers.legacy.reading import UnreadableFile
from hardship import idnumbers

logger = logging.getLogger(__name__)

LISTED = 500  # rejected and skipped rows kept for the pages; the totals say how many more there are

State = ImportBatch.State
Progress = Callable[[int, int], None]


def summary(report: ImportReport) -> dict:
    """What the preview and report pages show of a run: the counts, the first LISTED problems and the first
    households created and updated (the totals are the counts), with every ID and bank-card number masked (reasons
    and samples can quote a cell; these stay on the batch for good)."""
    data = report.as_json()
    kept = ("id", "file_number")  # issued by the system, not personal; a file number would pass for a long number
    households = {name: [{**masked(entry), **{key: entry[key] for key in kept if key in entry}}
                         for entry in entries[:LISTED]]
                  for name, entries in (("created", report.created), ("updated", report.updated))}
    return {**masked({
        **data,
        "rejected": data["rejected"][:LISTED], "rejected_total": len(data["rejected"]),
        "skipped": data["skipped"][:LISTED], "skipped_total": len(data["skipped"]),
        "rejected_rows_total": len(report.rejected_rows),
        "total_rows": report.total_rows, "refused": report.refused,
    }), **households}


def masked(value):
    """value (JSON: dicts, lists, strings…) with idnumbers.mask_numbers applied to every string in it."""
    if isinstance(value, str):
        return idnumbers.mask_numbers(value)
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(item) for item in value]
    return value


def _run(batch: ImportBatch, data: bytes, *, dry_run: bool, progress: Progress | None) -> ImportReport:
    with translation.override(batch.language or settings.LANGUAGE_CODE):  # a worker has no request language
        return _run_import(batch, data, dry_run=dry_run, progress=progress)


def _run_import(batch: ImportBatch, data: bytes, *, dry_run: bool, progress: Progress | None) -> ImportReport:
    return run_import(data, batch.file_name, union=batch.union, user=batch.uploaded_by, mode=batch.mode,
                      dry_run=dry_run, batch=None if dry_run else batch, progress=progress,
                      mapping=Mapping.from_json(batch.mapping))


def _upload(batch: ImportBatch) -> bytes:
    with batch.file.open("rb") as stored:
        return stored.read()


def preview_batch(batch: ImportBatch, *, data: bytes | None = None, progress: Progress | None = None) -> ImportBatch:
    """Classify every row without writing anything (run_import's dry run) and keep the result on the batch."""
    try:
        report = _run(batch, _upload(batch) if data is None else data, dry_run=True, progress=progress)
    except UnreadableFile as error:
        batch.preview = {"error": error.message}
        return finish(batch, State.UNREADABLE, {})
    except PermissionDenied as error:  # e.g. the union has no region to number the files with
        return finish(batch, State.FAILED, {"failure": "permission", "error": str(error)})
    except Exception as error:
        _log_failure(batch, error)
        return finish(batch, State.FAILED, {"failure": "system"})
    batch.preview = summary(report)
    batch.save(update_fields=["preview"])
    return batch


def import_batch(batch: ImportBatch, *, progress: Progress | None = None) -> ImportBatch:
    """Run the confirmed import; the report keeps the rejected rows (to download) once the upload is deleted."""
    try:
        report = _run(batch, _upload(batch), dry_run=False, progress=progress)
    except UnreadableFile as error:
        return finish(batch, State.FAILED, {"failure": "unreadable", "error": error.message})
    except PermissionDenied as error:
        return finish(batch, State.FAILED, {"failure": "permission", "error": str(error)})
    except Exception as error:
        _log_failure(batch, error)
        return finish(batch, State.FAILED, {"failure": "system"})
    state = State.REFUSED if report.refused else State.DONE
    return finish(batch, state, {**summary(report), "rejected_rows": report.rejected_rows})


def _log_failure(batch: ImportBatch, error: Exception) -> None:
    # Database errors quote the offending values (ID numbers): log where it failed, never the message.
    logger.error("Import batch %s failed with %s:\n%s", batch.pk, type(error).__name__,
                 "".join(traceback.format_tb(error.__traceback__)))


def finish(batch: ImportBatch, state: str, report: dict) -> ImportBatch:
    """The final state; the upload holds personal data, so it goes once the run is over (the report stays)."""
    stored = batch.file.name
    batch.state, batch.report, batch.finished_at, batch.file = state, report, timezone.now(), ""
    batch.save(update_fields=["state", "report", "preview", "finished_at", "file"])
    if stored:
        batch.file.storage.delete(stored)
    return batch


def progress_reporter(task) -> Progress | None:
    """Rows done / total into the result backend, once per percent at most."""
    if task.request.is_eager or not task.request.id:
        return None  # inline (no Redis): the page only ever sees the finished batch
    last = -1

    def report(done: int, total: int) -> None:
        nonlocal last
        percent = done * 100 // total if total else 100
        if percent != last:
            last = percent
            task.update_state(state="PROGRESS", meta={"done": done, "total": total})

    return report


def _load(batch_id: int) -> ImportBatch:
    return ImportBatch.objects.select_related("union", "uploaded_by").get(pk=batch_id)


@shared_task(bind=True)
def preview_import(self, batch_id: int) -> str:
    """The preview of a large upload."""
    batch = _load(batch_id)
    if batch.state == State.PREVIEWED and not batch.preview:  # a redelivered task finds the preview done
        preview_batch(batch, progress=progress_reporter(self))
    return batch.state


@shared_task(bind=True)
def run_import_batch(self, batch_id: int) -> str:
    """The confirmed import; only the run that moves the batch from QUEUED to RUNNING does it."""
    started = {"started_at": timezone.now().isoformat()}  # until the report replaces it: see fail_stale_imports
    if not ImportBatch.objects.filter(pk=batch_id, state=State.QUEUED).update(state=State.RUNNING, report=started):
        return ImportBatch.objects.values_list("state", flat=True).get(pk=batch_id)
    batch = import_batch(_load(batch_id), progress=progress_reporter(self))
    return batch.state


STALE_PREVIEW_HOURS = 24
KEPT_HOURS = STALE_PREVIEW_HOURS  # the rejected rows' cells, and an interrupted import's upload, after it ended


# The jobs below run with no request: their messages are written in the language of the batch's uploader.
def stale_error(batch: ImportBatch) -> str:
    with translation.override(batch.language):
        return _("导入中断（后台任务超时未完成），没有写入任何数据；请点“重新导入”")


def stale_purged_error(batch: ImportBatch) -> str:
    with translation.override(batch.language):
        return _("导入中断（后台任务超时未完成），没有写入任何数据；上传的文件已在 %(hours)d 小时后删除，"
                 "如需导入请重新上传") % {"hours": KEPT_HOURS}


def expired_preview_error(batch: ImportBatch) -> str:
    with translation.override(batch.language):
        return _("预览后 %(hours)d 小时内未确认导入，上传的文件已删除；如需导入请重新上传") % {
            "hours": STALE_PREVIEW_HOURS}


def rejected_rows_expiry(batch: ImportBatch) -> datetime.datetime | None:
    """When the full rejected rows (ID numbers, bank cards) of a finished batch go: KEPT_HOURS after it ended."""
    return batch.finished_at + datetime.timedelta(hours=KEPT_HOURS) if batch.finished_at else None


def rejected_rows_gone(batch: ImportBatch, report: dict) -> bool:
    """Whether the rejected rows can no longer be downloaded (purged, or due to be at the next purge)."""
    expiry = rejected_rows_expiry(batch)
    return "rejected_rows_deleted_at" in report or (expiry is not None and timezone.now() >= expiry)


@shared_task
def purge_stale_uploads() -> int:
    """Personal data of imports goes after a day: the upload of a preview never confirmed, the upload of an
    interrupted import (kept to run it again) and the rejected rows' cells (kept to download, fix and import
    again). Returns the number of batches purged."""
    return _expire_previews() + _expire_interrupted() + _expire_rejected_rows()


def _expire_previews() -> int:
    cutoff = timezone.now() - datetime.timedelta(hours=STALE_PREVIEW_HOURS)
    stale = ImportBatch.objects.filter(state=State.PREVIEWED, created_at__lt=cutoff).exclude(file="")
    for batch in stale:
        finish(batch, State.FAILED, {"failure": "expired", "error": expired_preview_error(batch)})
    return len(stale)


def _expire_interrupted() -> int:
    cutoff = timezone.now() - datetime.timedelta(hours=KEPT_HOURS)
    purged = 0
    for batch in ImportBatch.objects.filter(state=State.FAILED, report__failure="stale",
                                            finished_at__lt=cutoff).exclude(file=""):
        stored = batch.file.name  # unless "重新导入" has just queued it again
        if ImportBatch.objects.filter(pk=batch.pk, state=State.FAILED, file=stored).update(
                file="", report={**batch.report, "error": stale_purged_error(batch)}):
            batch.file.storage.delete(stored)
            purged += 1
    return purged


def _expire_rejected_rows() -> int:
    """The rejected rows keep their sheet, row number and reason, masked; their cells and headers go."""
    cutoff = timezone.now() - datetime.timedelta(hours=KEPT_HOURS)
    due = (ImportBatch.objects.filter(finished_at__lt=cutoff, report__has_key="rejected_rows")
           .exclude(report__has_key="rejected_rows_deleted_at").only("pk", "report"))
    purged = 0
    for batch in due.iterator(chunk_size=20):
        report = batch.report
        kept = [{"sheet": row.get("sheet"), "row": row.get("row"), "reason": row.get("reason", "")}
                for row in report["rejected_rows"]]
        report = {**masked({**report, "rejected_rows": kept, "rejected_rows_deleted_at": timezone.now().isoformat()}),
                  "created": report.get("created", []), "updated": report.get("updated", [])}  # file links
        purged += ImportBatch.objects.filter(pk=batch.pk).update(report=report)
    return purged


def _since(batch: ImportBatch) -> datetime.datetime:
    """When the batch was queued or started (confirm_batch and run_import_batch note it in the report)."""
    noted = (batch.report or {}).get("started_at") or (batch.report or {}).get("queued_at")
    try:
        return datetime.datetime.fromisoformat(noted) if noted else batch.created_at
    except (TypeError, ValueError):
        return batch.created_at


@shared_task
def fail_stale_imports() -> int:
    """A batch QUEUED or RUNNING for longer than IMPORT_STALE_MINUTES has lost its task (a worker killed mid-import,
    a broker that lost the message): FAILED, its upload kept so that "重新导入" can run it again. An import still
    writing (its union's import lock held) is left alone. Returns the number of batches failed."""
    cutoff = timezone.now() - datetime.timedelta(minutes=settings.IMPORT_STALE_MINUTES)
    failed = 0
    for batch in ImportBatch.objects.filter(state__in=[State.QUEUED, State.RUNNING]).select_related("union"):
        if _since(batch) >= cutoff or (batch.state == State.RUNNING and import_running(batch.union)):
            continue
        failed += ImportBatch.objects.filter(pk=batch.pk, state=batch.state, report=batch.report).update(
            state=State.FAILED, report={"failure": "stale", "error": stale_error(batch)}, finished_at=timezone.now())
    if failed:
        logger.warning("Marked %s stale import batch(es) as failed", failed)
    return failed
