"""What an import keeps of the personal data it read, and for how long; and an import whose worker died.

- The preview and the report's summary (on the batch for good) never hold a full ID or bank-card number.
- The rejected rows' cells (for the download: fix, import again) are kept for a day after the import, then
  only their sheet, row and reason, masked; the download then says so on the batch page.
- A batch QUEUED or RUNNING for longer than IMPORT_STALE_MINUTES is FAILED ("stale") with its upload kept, and
  "重新导入" runs it again; the upload still goes a day later.

The clock is moved with time_machine; no row is backdated. Tasks run inline (Celery's eager mode) except in the
last test, which uses the real worker.
"""

from __future__ import annotations

import datetime
import io
import json
import time

import openpyxl
import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dossiers import tasks
from dossiers.legacy import admin as import_admin
from dossiers.legacy.importer import rejected_cells
from dossiers.legacy.models import ImportBatch
from dossiers.models import Household
from dossiers.tasks import fail_stale_imports, purge_stale_uploads, run_import_batch
from hardship import idnumbers
from hardship.celery import app as celery_app
from hardship.models import AccessRecord, Role
from tests.dossiers import legacy_files as lf
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

State = ImportBatch.State
SKIP = ImportBatch.Mode.SKIP_INVALID
HEADERS = {**lf.HOUSEHOLD_HEADERS, "bank_card": "银行卡号"}
CARD = "6222 0217 0200 0123 456"
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def inline(settings, tmp_path, monkeypatch, standard):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def other_admin(unions):
    """The administrator of the sibling county 金水区."""
    return UserFactory(username="jinshuiadmin", role=Role.ADMIN, home_union=unions["410105"], full_name="赵勇")


@pytest.fixture
def target(unions):
    return unions["410102-C01"]


@pytest.fixture
def clock():
    """The clock, stopped at a Beijing morning; .shift(timedelta) moves it on."""
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False) as traveller:
        yield traveller


def url(name: str, *args) -> str:
    return reverse(f"admin:dossiers_importbatch_{name}", args=args)


def uploaded(client, data: bytes, *, union, name: str = "中原区困难职工档案.xlsx") -> ImportBatch:
    response = client.post(url("upload"), {"file": SimpleUploadedFile(name, data), "union": union.pk, "mode": SKIP})
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportBatch.objects.latest("pk")


def confirmed(client, batch: ImportBatch, capture) -> ImportBatch:
    with capture(execute=True):
        assert client.post(url("confirm", batch.pk)).status_code == 302
    batch.refresh_from_db()
    return batch


def hostile_families() -> tuple[list[lf.Family], list[str]]:
    """A good family and three whose rejection reasons quote an ID or a card number; and those numbers."""
    bad_id = lf.family("王秀兰", sex="女", spouse=False)
    bad_id.head.id_number = lf.bad_check_digit(bad_id.head.id_number)
    quoted = lf.person_with_x().id_number  # an ID typed into the income column: "金额“…”无法识别"
    families = [lf.family("张建国"), bad_id, lf.family("李红梅", sex="女", spouse=False, annual_income=quoted),
                lf.family("赵刚", spouse=False, bank_card=f"{CARD} 号")]
    return families, [bad_id.head.id_number, quoted, CARD, CARD.replace(" ", "")]


def register(families: list[lf.Family]) -> bytes:
    return lf.to_xlsx(lf.two_sheet_tables(families, household_headers=HEADERS))


def leaks(value, numbers: list[str]) -> list[str]:
    text = json.dumps(value, ensure_ascii=False)
    return [number for number in numbers if number in text]


# --- masking ---------------------------------------------------------------------------------------------------

def test_mask_numbers_masks_id_and_card_numbers_in_free_text():
    assert (idnumbers.mask_numbers("身份证号码“41010219750307001X”校验位错误")
            == "身份证号码“410102********001X”校验位错误")
    assert idnumbers.mask_numbers(f"银行卡号“{CARD}”有误") == "银行卡号“***************3456”有误"
    assert idnumbers.mask_numbers("“４１０１０２１９７５０３０７００１１”") == "“410102********0011”"
    untouched = "电话 13800001111，日期 20240101，第 65536 行，金额 31000.50"
    assert idnumbers.mask_numbers(untouched) == untouched


def test_the_preview_and_the_summary_never_hold_a_full_id_or_card_number(
        inline, client_for, county_admin, target, django_capture_on_commit_callbacks):
    families, numbers = hostile_families()
    client = client_for(county_admin)
    batch = uploaded(client, register(families), union=target)
    reasons = " ".join(problem["reason"] for problem in batch.preview["rejected"])
    assert "校验" in reasons and "无法识别" in reasons and "银行卡号" in reasons  # the three rows are rejected
    assert "410102" in reasons and "*" * 8 in reasons  # …with their numbers masked
    assert leaks(batch.preview, numbers) == []
    assert leaks(client.get(url("batch", batch.pk)).content.decode(), numbers) == []

    batch = confirmed(client, batch, django_capture_on_commit_callbacks)
    assert batch.state == State.DONE
    summary = {key: value for key, value in batch.report.items() if key != "rejected_rows"}
    assert leaks(summary, numbers) == [] and leaks(batch.preview, numbers) == []
    assert leaks(batch.report["rejected_rows"], numbers) == []  # the cells sealed, the reasons masked
    cells = [rejected_cells(row) for row in batch.report["rejected_rows"]]
    assert len(leaks(cells, numbers)) >= 3  # the cells, for the download, for a day


# --- the rejected rows: download, fix, import again; a day later, gone ---------------------------------------

def _fixed(workbook_bytes: bytes, wrong: str, right: str) -> bytes:
    """The downloaded rejected rows with one cell corrected, as an admin would save them."""
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes))
    for sheet in workbook:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value == wrong:
                    cell.value = right
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_rejected_rows_are_downloaded_fixed_and_imported_again_within_the_day(
        inline, client_for, county_admin, target, clock, django_capture_on_commit_callbacks):
    good, bad = lf.family("张建国"), lf.family("王秀兰", sex="女", spouse=False)
    right = bad.head.id_number
    bad.head.id_number = wrong = lf.bad_check_digit(right)
    client = client_for(county_admin)
    batch = confirmed(client, uploaded(client, register([good, bad]), union=target),
                      django_capture_on_commit_callbacks)
    assert batch.state == State.DONE and Household.objects.count() == 1

    clock.shift(23 * HOUR)
    client = client_for(county_admin)  # a new session: one lasts 8 hours
    assert purge_stale_uploads() == 0  # within the day: kept
    page = client.get(url("batch", batch.pk)).content.decode()
    assert url("rejected", batch.pk) in page and "删除（保留" not in page
    first = client.get(url("rejected", batch.pk))
    second = client.get(url("rejected", batch.pk))
    assert first.status_code == second.status_code == 200 and first.content
    records = AccessRecord.objects.filter(user=county_admin, action=AccessRecord.Action.EXPORT)
    assert records.count() == 2  # each download is in the access log
    assert all("有误的行 × 1" in record.subject and wrong not in record.subject for record in records)

    again = uploaded(client, _fixed(first.content, wrong, right), union=target, name="有误的行.xlsx")
    assert again.preview["households_created"] == 1 and again.preview["rejected_rows_total"] == 0
    again = confirmed(client, again, django_capture_on_commit_callbacks)
    assert again.state == State.DONE
    assert set(Household.objects.values_list("head_id_number", flat=True)) == {good.head.id_number, right}


def test_a_day_after_the_import_only_masked_reasons_are_left_and_the_page_says_so(
        inline, client_for, county_admin, target, clock, django_capture_on_commit_callbacks):
    families, numbers = hostile_families()
    client = client_for(county_admin)
    batch = confirmed(client, uploaded(client, register(families), union=target),
                      django_capture_on_commit_callbacks)
    rows = len(batch.report["rejected_rows"])
    gone_at = timezone.localtime(batch.finished_at + 24 * HOUR).strftime("%Y-%m-%d %H:%M")
    message = f"有误的行已于 {gone_at} 删除（保留 24 小时）；请重新上传原文件预览"

    clock.shift(24 * HOUR + datetime.timedelta(minutes=1))  # due, but the hourly purge has not run yet
    client = client_for(county_admin)  # a new session: one lasts 8 hours
    page = client.get(url("batch", batch.pk)).content.decode()
    assert message in page and url("rejected", batch.pk) not in page
    response = client.get(url("rejected", batch.pk), follow=True)
    assert response.redirect_chain == [(url("batch", batch.pk), 302)]
    assert message in response.content.decode()
    assert not AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT).exists()  # nothing was given out

    assert purge_stale_uploads() == 1
    batch.refresh_from_db()
    kept = batch.report["rejected_rows"]
    assert len(kept) == rows and all(set(row) == {"sheet", "row", "reason"} for row in kept)
    assert any("410102********" in row["reason"] for row in kept)
    assert leaks(batch.report, numbers) == [] and leaks(batch.preview, numbers) == []
    assert batch.report["households_created"] == 1 and batch.report["rejected_rows_total"] == rows
    assert message in client.get(url("batch", batch.pk)).content.decode()
    assert client.get(url("rejected", batch.pk)).status_code == 302
    assert purge_stale_uploads() == 0


def test_the_purges_are_in_the_beat_schedule():
    schedule = {entry["task"]: entry["schedule"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["dossiers.tasks.purge_stale_uploads"] <= 3600
    assert schedule["dossiers.tasks.fail_stale_imports"] <= django_settings.IMPORT_STALE_MINUTES * 60
    assert django_settings.IMPORT_STALE_MINUTES == 60


# --- an import whose worker died ---------------------------------------------------------------------------

class WorkerDied(BaseException):
    """What the test makes of a worker killed mid-import: nothing after it runs (no finish, no except)."""


def died_running(client, batch: ImportBatch, capture, monkeypatch) -> ImportBatch:
    """Confirm the batch and let its task die after QUEUED → RUNNING, as a killed worker leaves it."""
    def killed(batch, progress=None):
        raise WorkerDied

    with monkeypatch.context() as patched, pytest.raises(WorkerDied):
        patched.setattr(tasks, "import_batch", killed)
        confirmed(client, batch, capture)
    batch.refresh_from_db()
    assert batch.state == State.RUNNING
    return batch


def test_a_batch_left_running_fails_after_the_timeout_and_runs_again(
        inline, client_for, county_admin, target, clock, monkeypatch, django_capture_on_commit_callbacks):
    client = client_for(county_admin)
    families = [lf.family("张建国"), lf.family("李红梅", sex="女")]
    batch = died_running(client, uploaded(client, register(families), union=target),
                         django_capture_on_commit_callbacks, monkeypatch)
    stored = batch.file.name
    assert run_import_batch.delay(batch.pk).get() == State.RUNNING  # a redelivered task does not take it over

    clock.shift(59 * datetime.timedelta(minutes=1))
    assert fail_stale_imports() == 0
    clock.shift(2 * datetime.timedelta(minutes=1))
    assert fail_stale_imports() == 1
    batch.refresh_from_db()
    assert (batch.state, batch.report) == (State.FAILED, {"failure": "stale", "error": tasks.stale_error(batch)})
    assert batch.finished_at == timezone.now() and default_storage.exists(stored)  # kept, to run it again
    assert fail_stale_imports() == 0
    client = client_for(county_admin)  # a new session: an hour idle ended the first one
    page = client.get(url("batch", batch.pk)).content.decode()
    assert "导入中断（后台任务超时未完成），没有写入任何数据；请点“重新导入”" in page
    assert url("restart", batch.pk) in page and "重新导入" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("restart", batch.pk))
    assert response.status_code == 302 and response["Location"] == url("batch", batch.pk)
    batch.refresh_from_db()
    assert batch.state == State.DONE and batch.report["households_created"] == 2
    assert Household.objects.filter(import_batch=batch).count() == 2
    assert not batch.file and not default_storage.exists(stored)
    assert not import_admin.restart_batch(batch)  # once only
    assert client.post(url("restart", batch.pk), follow=True).status_code == 200
    assert Household.objects.count() == 2


def test_an_import_still_writing_is_not_taken_for_stale(
        inline, client_for, county_admin, unions, target, clock, monkeypatch, django_capture_on_commit_callbacks):
    """Its union's import lock, held by another connection (another worker's import transaction), says so."""
    import psycopg
    from django.db import connection

    from dossiers.legacy import importer

    client = client_for(county_admin)
    batch = died_running(client, uploaded(client, register([lf.family()]), union=target),
                         django_capture_on_commit_callbacks, monkeypatch)
    clock.shift(2 * HOUR)
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                         dbname=db["NAME"], autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", importer._lock_key(target))
        assert importer.import_running(target) and not importer.import_running(unions["410102-S01"])
        assert fail_stale_imports() == 0
        other.execute("SELECT pg_advisory_unlock(%s, %s)", importer._lock_key(target))
    assert fail_stale_imports() == 1
    assert ImportBatch.objects.get(pk=batch.pk).state == State.FAILED


def test_a_batch_whose_task_never_came_fails_too_but_not_one_confirmed_late(
        inline, client_for, county_admin, target, clock, django_capture_on_commit_callbacks):
    client = client_for(county_admin)
    lost = uploaded(client, register([lf.family("张建国")]), union=target)
    with django_capture_on_commit_callbacks(execute=False):  # the message never reaches a worker
        client.post(url("confirm", lost.pk))
    clock.shift(3 * HOUR)
    client = client_for(county_admin)  # a new session each time: three idle hours end one
    late = uploaded(client, register([lf.family("李红梅", sex="女")]), union=target)
    clock.shift(3 * HOUR)  # uploaded 3 hours ago, confirmed just now
    client = client_for(county_admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url("confirm", late.pk))
    assert fail_stale_imports() == 1
    lost.refresh_from_db(), late.refresh_from_db()
    assert (lost.state, lost.report["failure"], late.state) == (State.FAILED, "stale", State.QUEUED)
    assert lost.file and default_storage.exists(lost.file.name)


def test_a_stale_batchs_upload_still_goes_after_a_day(
        inline, client_for, county_admin, target, clock, monkeypatch, django_capture_on_commit_callbacks):
    client = client_for(county_admin)
    batch = died_running(client, uploaded(client, register([lf.family()]), union=target),
                         django_capture_on_commit_callbacks, monkeypatch)
    stored = batch.file.name
    clock.shift(2 * HOUR)
    assert fail_stale_imports() == 1
    clock.shift(23 * HOUR)
    assert purge_stale_uploads() == 0
    clock.shift(2 * HOUR)
    assert purge_stale_uploads() == 1
    client = client_for(county_admin)  # a new session: one lasts 8 hours
    batch.refresh_from_db()
    assert (batch.state, batch.report["failure"], batch.file.name) == (State.FAILED, "stale", "")
    assert not default_storage.exists(stored) and "上传的文件已在 24 小时后删除" in batch.report["error"]
    page = client.get(url("batch", batch.pk)).content.decode()
    assert "如需导入请重新上传" in page and url("restart", batch.pk) not in page
    response = client.post(url("restart", batch.pk), follow=True)
    assert "不能再重新导入" in response.content.decode()
    assert ImportBatch.objects.get(pk=batch.pk).state == State.FAILED and not Household.objects.exists()


@pytest.fixture
def stale(inline, client_for, county_admin, target, clock, monkeypatch, django_capture_on_commit_callbacks):
    batch = died_running(client_for(county_admin), uploaded(client_for(county_admin), register([lf.family()]),
                                                            union=target),
                         django_capture_on_commit_callbacks, monkeypatch)
    clock.shift(2 * HOUR)
    assert fail_stale_imports() == 1
    return batch


@pytest.mark.parametrize(("role", "status"), [("caseworker", 403), ("auditor", 403), ("other_admin", 404)])
def test_only_an_importer_in_scope_may_run_it_again(request, client_for, stale, role, status):
    client = client_for(request.getfixturevalue(role))
    assert client.post(url("restart", stale.pk)).status_code == status
    assert ImportBatch.objects.get(pk=stale.pk).state == State.FAILED
    if role == "auditor":
        assert url("restart", stale.pk) not in client.get(url("batch", stale.pk)).content.decode()


def test_an_admin_above_may_run_it_again(client_for, national_admin, stale, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(national_admin).post(url("restart", stale.pk)).status_code == 302
    assert ImportBatch.objects.get(pk=stale.pk).state == State.DONE


def test_the_restart_must_be_a_post(client_for, county_admin, stale):
    assert client_for(county_admin).get(url("restart", stale.pk)).status_code == 405


# --- in the real worker --------------------------------------------------------------------------------------

@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_lost_import_runs_again_in_the_worker(celery_worker, client_for, county_admin, unions, standard,
                                                monkeypatch):
    client = client_for(county_admin)
    families = [lf.family("张建国", children=1), lf.family("李红梅", sex="女")]
    batch = uploaded(client, register(families), union=unions["410102-C01"])
    stored = batch.file.name
    with time_machine.travel(timezone.now() - 2 * HOUR, tick=False), monkeypatch.context() as lost:
        lost.setattr(import_admin.run_import_batch, "apply_async", lambda *args, **kwargs: None)  # never delivered
        assert client.post(url("confirm", batch.pk)).status_code == 302
    assert ImportBatch.objects.get(pk=batch.pk).state == State.QUEUED
    assert fail_stale_imports() == 1

    assert client.post(url("restart", batch.pk)).status_code == 302
    deadline = time.monotonic() + 60
    while not batch.is_finished or batch.state == State.FAILED and batch.report.get("failure") == "stale":
        assert time.monotonic() < deadline, f"batch still {batch.state}"
        time.sleep(0.1)
        batch.refresh_from_db()
    assert batch.state == State.DONE and batch.report["households_created"] == 2
    assert Household.objects.filter(import_batch=batch).count() == 2
    assert not default_storage.exists(stored)
