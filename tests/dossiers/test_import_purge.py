"""Uploads that were previewed and never confirmed do not keep personal data on disk."""

import datetime

from django.core.files.base import ContentFile
from django.utils import timezone

from dossiers.legacy.models import ImportBatch
from dossiers.tasks import purge_stale_uploads


def _batch(union, user, *, age_hours: int, state=ImportBatch.State.PREVIEWED) -> ImportBatch:
    batch = ImportBatch(union=union, uploaded_by=user, file_name="旧台账.xlsx", sha256="0" * 64, size=4, state=state,
                        created_at=timezone.now() - datetime.timedelta(hours=age_hours))
    batch.file.save("旧台账.xlsx", ContentFile(b"data"), save=False)
    batch.save()
    return batch


def test_it_deletes_uploads_left_in_preview_for_a_day(unions, county_admin, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    stale = _batch(unions["410102"], county_admin, age_hours=25)
    fresh = _batch(unions["410102"], county_admin, age_hours=1)
    queued = _batch(unions["410102"], county_admin, age_hours=30, state=ImportBatch.State.QUEUED)
    path = stale.file.path
    assert purge_stale_uploads() == 1
    stale.refresh_from_db(), fresh.refresh_from_db(), queued.refresh_from_db()
    assert (stale.state, stale.file.name, stale.report["failure"]) == (ImportBatch.State.FAILED, "", "expired")
    assert not (tmp_path / path).exists()
    assert fresh.file.name and queued.file.name
    assert purge_stale_uploads() == 0
