"""The administrator's import pages in the admin: upload → preview → confirm → report, every page scoped and by role.

The import task runs inline here (Celery's eager mode, as `./dev serve` without Redis); tests/dossiers/
test_import_task.py runs it in a real worker.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers.legacy import admin as import_admin
from dossiers.legacy.importer import run_import
from dossiers.legacy.models import ImportBatch
from dossiers.models import Household, RegisterEvent
from hardship.celery import app as celery_app
from hardship.models import AccessRecord, Role
from tests.dossiers import legacy_files as lf
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

State = ImportBatch.State
SKIP = ImportBatch.Mode.SKIP_INVALID
ALL = ImportBatch.Mode.ALL_OR_NOTHING


@pytest.fixture(autouse=True)
def inline_tasks(settings, tmp_path, monkeypatch, standard):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def other_admin(unions):
    """The administrator of the sibling county 金水区."""
    return UserFactory(username="jinshuiadmin", role=Role.ADMIN, home_union=unions["410105"], full_name="赵勇")


def url(name: str, *args) -> str:
    return reverse(f"admin:dossiers_importbatch_{name}", args=args)


def register(*families: lf.Family) -> bytes:
    return lf.to_xlsx(lf.two_sheet_tables(list(families)))


def upload(client, data: bytes, *, union, mode: str = SKIP, name: str = "中原区困难职工档案.xlsx"):
    return client.post(url("upload"), {"file": SimpleUploadedFile(name, data), "union": union.pk, "mode": mode})


def uploaded(client, data: bytes, *, union, mode: str = SKIP) -> ImportBatch:
    response = upload(client, data, union=union, mode=mode)
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = ImportBatch.objects.latest("pk")
    assert response["Location"] == url("batch", batch.pk)
    return batch


def confirm(client, batch: ImportBatch, capture):
    with capture(execute=True):
        return client.post(url("confirm", batch.pk))


def bad_family() -> lf.Family:
    fam = lf.family("王秀兰", sex="女")
    fam.head.id_number = lf.bad_check_digit(fam.head.id_number)
    return fam


@pytest.fixture
def admin_client(client_for, county_admin):
    return client_for(county_admin)


@pytest.fixture
def target(unions):
    return unions["410102-C01"]


def test_it_previews_the_upload_and_imports_it_once_confirmed(admin_client, target, django_capture_on_commit_callbacks):
    families = [lf.family("张建国", children=1), lf.family("李红梅", sex="女")]
    batch = uploaded(admin_client, register(*families), union=target)
    assert batch.state == State.PREVIEWED and batch.file and batch.size and len(batch.sha256) == 64
    assert batch.preview["households_created"] == 2 and batch.preview["rejected_rows_total"] == 0
    assert not Household.objects.exists()  # the preview writes nothing
    page = admin_client.get(url("batch", batch.pk))
    assert page.context["stage"] == "preview" and "确认导入" in page.content.decode()
    assert page.context["result"]["households_created"] == 2

    stored = batch.file.name
    response = confirm(admin_client, batch, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == url("batch", batch.pk)
    batch.refresh_from_db()
    assert batch.state == State.DONE and batch.finished_at and batch.task_id
    assert batch.report["households_created"] == 2
    households = Household.objects.filter(import_batch=batch)
    assert {h.head_id_number for h in households} == {f.head.id_number for f in families}
    assert not batch.file and not default_storage.exists(stored)  # the upload held personal data
    page = admin_client.get(url("batch", batch.pk)).content.decode()
    assert "导入完成" in page and url("rejected", batch.pk) not in page


def test_it_refuses_the_whole_file_in_all_or_nothing_mode(admin_client, target, django_capture_on_commit_callbacks):
    batch = uploaded(admin_client, register(lf.family(), bad_family()), union=target, mode=ALL)
    assert batch.preview["refused"] and batch.preview["rejected_rows_total"] >= 1
    assert "确认后不会导入任何数据" in admin_client.get(url("batch", batch.pk)).content.decode()
    confirm(admin_client, batch, django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert batch.state == State.REFUSED and not Household.objects.exists()
    assert batch.report["rejected_rows"] and not batch.file
    assert "未导入" in admin_client.get(url("batch", batch.pk)).content.decode()


def test_it_imports_the_valid_rows_and_offers_the_rejected_ones_to_fix(
        admin_client, target, county_admin, django_capture_on_commit_callbacks):
    good, bad = lf.family("张建国"), bad_family()
    batch = uploaded(admin_client, register(good, bad), union=target, mode=SKIP)
    page = admin_client.get(url("batch", batch.pk))
    rejected = page.context["result"]["rejected"]
    assert ("家庭档案", "身份证号码") in [(p["sheet"], p["column"]) for p in rejected if "校验" in p["reason"]]
    assert "校验" in page.content.decode()  # the reason, as the engine words it, is on the page

    confirm(admin_client, batch, django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert batch.state == State.DONE
    assert list(Household.objects.values_list("head_id_number", flat=True)) == [good.head.id_number]
    assert url("rejected", batch.pk) in admin_client.get(url("batch", batch.pk)).content.decode()

    response = admin_client.get(url("rejected", batch.pk))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook["家庭档案"]
    header = [cell.value for cell in sheet[1]]
    assert "身份证号码" in header and "错误原因" in header
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert [row[header.index("身份证号码")] for row in rows] == [bad.head.id_number]
    assert "校验" in rows[0][header.index("错误原因")]
    assert AccessRecord.objects.filter(user=county_admin, action=AccessRecord.Action.EXPORT).count() == 1


def test_it_imports_a_batch_only_once_however_often_it_is_confirmed(
        admin_client, target, django_capture_on_commit_callbacks):
    batch = uploaded(admin_client, register(lf.family()), union=target)
    confirm(admin_client, batch, django_capture_on_commit_callbacks)
    events = RegisterEvent.objects.count()
    finished = ImportBatch.objects.get(pk=batch.pk).finished_at
    response = confirm(admin_client, batch, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    again = ImportBatch.objects.get(pk=batch.pk)
    assert (again.state, again.finished_at) == (State.DONE, finished)
    assert RegisterEvent.objects.count() == events and Household.objects.count() == 1
    assert not import_admin.confirm_batch(again)
    page = admin_client.get(url("batch", batch.pk)).content.decode()
    assert "不会重复导入" in page


def test_it_does_not_confirm_a_batch_whose_preview_is_still_running(admin_client, target, county_admin):
    batch = ImportBatch.objects.create(union=target, uploaded_by=county_admin, file_name="大文件.xlsx",
                                       sha256="0" * 64, size=1, task_id="t")
    assert not import_admin.confirm_batch(batch)
    assert ImportBatch.objects.get(pk=batch.pk).state == State.PREVIEWED


def test_it_shows_the_form_again_for_an_unreadable_file(admin_client, target):
    response = upload(admin_client, lf.garbage(3000), union=target, name="台账.xlsx")
    assert response.status_code == 200
    assert "不是 Excel 或 CSV 文件" in str(response.context["form"].errors["file"])
    batch = ImportBatch.objects.get()
    assert batch.state == State.UNREADABLE and not batch.file and batch.file_name == "台账.xlsx"
    assert not Household.objects.exists()
    listed = admin_client.get(url("changelist")).content.decode()
    assert "文件无法读取" in listed and "台账.xlsx" in listed


def test_it_refuses_an_xls_whose_sheets_add_up_to_too_many_cells(admin_client, target, settings):
    """Eight sheets each reaching IV65536 (5,632 bytes): a form error at once, not a 500 or a dead worker."""
    response = upload(admin_client, lf.far_cells_xls(), union=target, name="台账.xls")
    assert response.status_code == 200
    assert "表格范围过大" in str(response.context["form"].errors["file"])
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.file.name, batch.report) == (State.UNREADABLE, "", {})
    assert "表格范围过大" in batch.preview["error"]
    assert not Household.objects.exists()
    assert not any(path.is_file() for path in settings.MEDIA_ROOT.rglob("*"))  # nothing kept of the upload


def test_it_refuses_an_oversized_file_before_reading_it(admin_client, target, monkeypatch):
    monkeypatch.setattr(import_admin, "MAX_BYTES", 1024)
    response = upload(admin_client, lf.garbage(2048), union=target)
    assert response.status_code == 200 and "文件太大" in str(response.context["form"].errors["file"])
    assert not ImportBatch.objects.exists()


def test_it_offers_only_unions_in_the_admins_subtree(admin_client, unions, county_admin):
    form = admin_client.get(url("upload")).context["form"]
    assert {u.code for u in form.fields["union"].queryset} == {"410102", "410102-C01", "410102-S01"}
    assert form.fields["union"].initial == county_admin.home_union_id
    response = upload(admin_client, register(lf.family()), union=unions["410105-C01"])
    assert response.status_code == 200 and response.context["form"].errors["union"]
    assert not ImportBatch.objects.exists()


def test_it_previews_a_large_file_in_the_background(
        admin_client, target, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(import_admin, "LARGE_ROWS", 3)
    with django_capture_on_commit_callbacks() as queued:
        batch = uploaded(admin_client, register(lf.family(), lf.family("李红梅", sex="女")), union=target)
    assert batch.task_id and not batch.preview and len(queued) == 1
    page = admin_client.get(url("batch", batch.pk))
    assert page.context["stage"] == "previewing" and 'hx-trigger="every 1s"' in page.content.decode()
    progress = admin_client.get(url("progress", batch.pk), headers={"HX-Request": "true"})
    assert progress.status_code == 200 and "正在预览" in progress.content.decode()

    queued[0]()  # the transaction commits: the preview task runs (inline here)
    batch.refresh_from_db()
    assert batch.state == State.PREVIEWED and batch.preview["households_created"] == 2
    progress = admin_client.get(url("progress", batch.pk), headers={"HX-Request": "true"})
    assert progress["HX-Refresh"] == "true"


def test_it_gives_an_example_workbook_that_imports_cleanly(admin_client, target, county_admin):
    response = admin_client.get(url("example"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    report = run_import(response.content, "示例.xlsx", union=target, user=county_admin, dry_run=True)
    assert (report.households_created, report.members_created) == (2, 5)
    assert report.rejected == [] and report.unknown_columns == [] and report.skipped == []


def test_it_lists_only_batches_in_scope_with_their_results(client_for, county_admin, other_admin, unions, target,
                                                           django_capture_on_commit_callbacks):
    mine = uploaded(client_for(county_admin), register(lf.family()), union=target)
    confirm(client_for(county_admin), mine, django_capture_on_commit_callbacks)
    theirs = uploaded(client_for(other_admin), register(lf.family("刘志强")), union=unions["410105-C01"])
    response = client_for(county_admin).get(url("changelist"))
    assert [b.pk for b in response.context["cl"].result_list] == [mine.pk]
    page = response.content.decode()
    assert "新建 1" in page and "已完成" in page and url("batch", mine.pk) in page and url("upload") in page
    listed = client_for(other_admin).get(url("changelist")).context["cl"].result_list
    assert [b.pk for b in listed] == [theirs.pk]


def test_it_keeps_the_list_queries_constant(admin_client, target, county_admin):
    def batch(n: int) -> ImportBatch:
        return ImportBatch.objects.create(
            union=target, uploaded_by=county_admin, file_name=f"第{n}批.xlsx", sha256="0" * 64, size=1,
            state=State.DONE, preview={"households_created": 1}, report={"households_created": n,
                                                                          "rejected_rows": [{"cells": ["x"] * 50}]})

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url("changelist")).status_code == 200
        return len(captured)

    batch(1)
    before = queries()
    for n in range(2, 8):
        batch(n)
    assert queries() == before <= 12


def test_it_hides_another_countys_batches(client_for, county_admin, other_admin, target,
                                          django_capture_on_commit_callbacks):
    batch = uploaded(client_for(county_admin), register(lf.family(), bad_family()), union=target)
    confirm(client_for(county_admin), batch, django_capture_on_commit_callbacks)
    client = client_for(other_admin)
    for name in ("batch", "progress", "rejected"):
        assert client.get(url(name, batch.pk)).status_code == 404, name
    assert client.post(url("confirm", batch.pk)).status_code == 404
    assert client.get(url("change", batch.pk), follow=True).status_code == 404


@pytest.mark.parametrize("role", ["caseworker", "supervisor"])
def test_it_keeps_casework_roles_out(request, client_for, county_admin, target, role):
    batch = uploaded(client_for(county_admin), register(lf.family()), union=target)
    client = client_for(request.getfixturevalue(role))
    for page in (url("upload"), url("example"), url("batch", batch.pk), url("progress", batch.pk),
                 url("rejected", batch.pk)):
        assert client.get(page).status_code == 403, page
    assert client.post(url("confirm", batch.pk)).status_code == 403
    assert client.post(url("upload"), {}).status_code == 403
    response = client.get(url("changelist"))  # the admin site itself sends them to its login
    assert response.status_code == 302 and "login" in response["Location"]
    assert ImportBatch.objects.get(pk=batch.pk).state == State.PREVIEWED


def test_it_lets_the_auditor_read_but_not_import(client_for, county_admin, auditor, target,
                                                 django_capture_on_commit_callbacks):
    batch = uploaded(client_for(county_admin), register(lf.family(), bad_family()), union=target)
    client = client_for(auditor)
    page = client.get(url("batch", batch.pk))
    assert page.status_code == 200 and url("confirm", batch.pk) not in page.content.decode()
    assert client.post(url("confirm", batch.pk)).status_code == 403
    assert ImportBatch.objects.get(pk=batch.pk).state == State.PREVIEWED
    assert client.get(url("upload")).status_code == 403
    listed = client.get(url("changelist"))
    assert [b.pk for b in listed.context["cl"].result_list] == [batch.pk]
    assert url("upload") not in listed.content.decode()
    confirm(client_for(county_admin), batch, django_capture_on_commit_callbacks)
    assert client.get(url("rejected", batch.pk)).status_code == 200


def test_it_sends_anonymous_visitors_to_sign_in(client, county_admin, target):
    response = client.get(url("upload"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_it_links_the_import_from_the_admin_home(admin_client):
    assert url("upload") in admin_client.get(reverse("home")).content.decode()


@pytest.mark.django_db(transaction=True)  # on_commit runs inside the view, as in production
def test_it_says_so_when_the_task_cannot_be_queued(admin_client, target, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is not answering")

    batch = uploaded(admin_client, register(lf.family()), union=target)
    monkeypatch.setattr(import_admin.run_import_batch, "apply_async", broker_down)
    response = admin_client.post(url("confirm", batch.pk), follow=True)
    assert "后台任务服务暂时不可用" in response.content.decode()
    batch.refresh_from_db()
    assert batch.state == State.PREVIEWED and batch.file and not batch.task_id  # to be confirmed again later

    monkeypatch.setattr(import_admin, "LARGE_ROWS", 1)
    monkeypatch.setattr(import_admin.preview_import, "apply_async", broker_down)
    large = uploaded(admin_client, register(lf.family()), union=target)
    large.refresh_from_db()
    assert large.state == State.FAILED and not large.file
    assert "未能开始预览" in admin_client.get(url("batch", large.pk)).content.decode()


def test_it_keeps_the_batch_page_queries_constant(admin_client, target, county_admin):
    def batch(problems: int) -> ImportBatch:
        rejected = [{"sheet": "家庭档案", "row": n, "column": "身份证号码", "reason": "校验位错误"}
                    for n in range(problems)]
        report = {"households_created": 1, "households_updated": 0, "households_unchanged": 0, "members_created": 2,
                  "members_updated": 0, "rejected": rejected, "rejected_total": problems, "skipped": [],
                  "skipped_total": 0, "rejected_rows_total": problems, "total_rows": problems + 1,
                  "unknown_columns": [], "refused": False, "rejected_rows": [{"cells": ["x"] * 40}] * problems}
        return ImportBatch.objects.create(union=target, uploaded_by=county_admin, file_name="台账.xlsx",
                                          sha256="0" * 64, size=1, state=State.DONE, report=report)

    def queries(batch: ImportBatch) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url("batch", batch.pk))
        assert response.status_code == 200 and "rejected_rows" not in response.context["result"]
        return len(captured)

    assert queries(batch(1)) == queries(batch(300)) <= 10


def test_it_says_on_the_preview_when_no_standard_lets_it_assess(admin_client, target, standard):
    """Imported files are assessed against the local line; without one the admin is told once, not silently."""
    from dossiers.models import LocalStandard

    LocalStandard.objects.all().delete()
    batch = uploaded(admin_client, register(lf.family("张建国")), union=target)

    page = admin_client.get(url("batch", batch.pk)).content.decode()
    assert batch.preview["warnings"] and batch.preview["warnings"][0] in page
