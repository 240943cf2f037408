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
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from dossiers.legacy.importer import ImportReport, run_import
from dossiers.legacy.mapping import Mapping
from dossiers.legacy.models import ImportBatch
from dossiers.legacy.reading import UnreadableFile

logger = logging.getLogger(__name__)

LISTED = 500  # rejected and skipped rows kept for the pages; the totals say how many more there are

State = ImportBatch.State
Progress = Callable[[int, int], None]


def summary(report: ImportReport) -> dict:
    """What the preview and report pages show of a run: the counts and the first LISTED problems."""
    data = report.as_json()
    return {
        **data,
        "rejected": data["rejected"][:LISTED], "rejected_total": len(data["rejected"]),
        "skipped": data["skipped"][:LISTED], "skipped_total": len(data["skipped"]),
        "rejected_rows_total": len(report.rejected_rows),
        "total_rows": report.total_rows, "refused": report.refused,
    }


def _run(batch: ImportBatch, data: bytes, *, dry_run: bool, progress: Progress | None) -> ImportReport:
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
    if not ImportBatch.objects.filter(pk=batch_id, state=State.QUEUED).update(state=State.RUNNING):
        return ImportBatch.objects.values_list("state", flat=True).get(pk=batch_id)
    batch = import_batch(_load(batch_id), progress=progress_reporter(self))
    return batch.state


STALE_PREVIEW_HOURS = 24


@shared_task
def purge_stale_uploads() -> int:
    """An upload previewed but never confirmed holds ID numbers and bank cards: it goes after a day."""
    cutoff = timezone.now() - datetime.timedelta(hours=STALE_PREVIEW_HOURS)
    stale = ImportBatch.objects.filter(state=State.PREVIEWED, created_at__lt=cutoff).exclude(file="")
    for batch in stale:
        finish(batch, State.FAILED, {"failure": "expired",
                                     "error": f"预览后 {STALE_PREVIEW_HOURS} 小时内未确认导入，上传的文件已删除；"
                                              "如需导入请重新上传"})
    return len(stale)
