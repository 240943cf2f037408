"""The import runs in a real Celery worker (Redis, the test database): confirmed from the admin page, it reports its
progress through the result backend, and a second delivery of the task changes nothing."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dossiers.legacy import admin as import_admin
from dossiers.legacy.models import ImportBatch
from dossiers.models import Household
from dossiers.tasks import run_import_batch
from hardship.celery import app as celery_app
from tests.dossiers import legacy_files as lf

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

State = ImportBatch.State


def url(name: str, *args) -> str:
    return reverse(f"admin:dossiers_importbatch_{name}", args=args)


def upload(client, families: list[lf.Family], union) -> ImportBatch:
    data = lf.to_xlsx(lf.two_sheet_tables(families))
    response = client.post(url("upload"), {"file": SimpleUploadedFile("台账.xlsx", data), "union": union.pk,
                                           "mode": ImportBatch.Mode.SKIP_INVALID})
    assert response.status_code == 302
    return ImportBatch.objects.latest("pk")


def wait_for(batch: ImportBatch, done, timeout: float = 60) -> ImportBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if done(batch):
            return batch
        time.sleep(0.1)
    raise AssertionError(f"batch still {batch.state} after {timeout}s")


@pytest.fixture
def results():
    """Every state the tasks store in the result backend, as published on its channels (PROGRESS included,
    which the stored value only holds until the task's final state replaces it)."""
    pubsub = redis.Redis.from_url(settings.CELERY_RESULT_BACKEND).pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("celery-task-meta-*")
    pubsub.get_message(timeout=1)  # the subscription confirmation

    def states_of(task_id: str, timeout: float = 5) -> list[dict]:
        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.2)
            if message and message["channel"].decode().endswith(task_id):
                seen.append(json.loads(message["data"]))
                if seen[-1]["status"] in ("SUCCESS", "FAILURE"):
                    break
        return seen

    yield states_of
    pubsub.close()


def test_it_imports_in_the_worker_and_reports_its_progress(celery_worker, client_for, county_admin, unions,
                                                           standard, results):
    client = client_for(county_admin)
    families = [lf.family("张建国", children=1), lf.family("李红梅", sex="女")]
    batch = upload(client, families, unions["410102-C01"])
    stored = batch.file.name
    assert batch.state == State.PREVIEWED and default_storage.exists(stored)

    assert client.post(url("confirm", batch.pk)).status_code == 302
    batch = wait_for(batch, lambda b: b.is_finished)
    assert batch.state == State.DONE and batch.report["households_created"] == 2
    assert set(Household.objects.filter(import_batch=batch).values_list("head_id_number", flat=True)) == {
        f.head.id_number for f in families}
    assert not batch.file and not default_storage.exists(stored)

    states = results(batch.task_id)
    progress = [state["result"] for state in states if state["status"] == "PROGRESS"]
    assert progress and progress[-1]["done"] == progress[-1]["total"] > 0
    assert all(0 <= step["done"] <= step["total"] for step in progress)
    assert states[-1]["status"] == "SUCCESS" and states[-1]["result"] == State.DONE


def test_it_shows_the_progress_the_task_reported(client_for, county_admin, unions):
    batch = ImportBatch.objects.create(union=unions["410102-C01"], uploaded_by=county_admin, file_name="台账.xlsx",
                                       sha256="0" * 64, size=1, state=State.RUNNING, task_id=uuid.uuid4().hex,
                                       preview={"households_created": 1})
    celery_app.backend.store_result(batch.task_id, {"done": 120, "total": 480}, "PROGRESS")
    client = client_for(county_admin)
    fragment = client.get(url("progress", batch.pk), headers={"HX-Request": "true"}).content.decode()
    assert "已处理 120 / 480 行（25%）" in fragment and 'aria-valuenow="120"' in fragment
    page = client.get(url("batch", batch.pk)).content.decode()
    assert "正在导入" in page and 'hx-trigger="every 1s"' in page


def test_it_previews_a_large_file_in_the_worker(celery_worker, client_for, county_admin, unions, standard,
                                                monkeypatch):
    monkeypatch.setattr(import_admin, "LARGE_ROWS", 3)
    batch = upload(client_for(county_admin), [lf.family(), lf.family("李红梅", sex="女")], unions["410102-C01"])
    try:
        batch = wait_for(batch, lambda b: bool(b.preview))
        assert batch.state == State.PREVIEWED and batch.preview["households_created"] == 2
        assert not Household.objects.exists()
    finally:
        batch.file.delete(save=False)


def test_it_changes_nothing_when_the_task_is_delivered_again(celery_worker, client_for, county_admin, unions,
                                                             standard):
    client = client_for(county_admin)
    batch = upload(client, [lf.family()], unions["410102-C01"])
    client.post(url("confirm", batch.pk))
    batch = wait_for(batch, lambda b: b.is_finished)
    assert run_import_batch.delay(batch.pk).get(timeout=30) == State.DONE
    again = ImportBatch.objects.get(pk=batch.pk)
    assert (again.state, again.finished_at, again.task_id) == (State.DONE, batch.finished_at, batch.task_id)
    assert Household.objects.count() == 1
