"""The import's preview and report name the households it will create and update, and those it did, with links
to their files (scoped as the file page is), the head's ID masked, a few hundred at most with the totals."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from dossiers.legacy import importer
from dossiers.legacy.models import ImportBatch
from dossiers.models import Household
from hardship import idnumbers
from hardship.celery import app as celery_app
from hardship.models import Role
from tests.dossiers import legacy_files as lf
from tests.dossiers.test_import_admin import bad_family, confirm, register, uploaded, url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ALL = ImportBatch.Mode.ALL_OR_NOTHING


@pytest.fixture(autouse=True)
def inline_tasks(settings, tmp_path, monkeypatch, standard):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def admin_client(client_for, county_admin):
    return client_for(county_admin)


@pytest.fixture
def target(unions):
    return unions["410102-C01"]


@pytest.fixture
def imported(admin_client, target, django_capture_on_commit_callbacks):
    """Two families imported; returns them and the batch."""
    families = [lf.family("张建国", children=1), lf.family("李红梅", sex="女")]
    batch = uploaded(admin_client, register(*families), union=target)
    confirm(admin_client, batch, django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    return families, batch


def test_it_lists_what_a_preview_will_create_and_update(admin_client, target, imported):
    (zhang, li), _first = imported
    zhang.cells["address"] = "郑州市中原区桐柏路 8 号院"
    wang = lf.family("王秀兰", sex="女")
    batch = uploaded(admin_client, register(zhang, li, wang), union=target)
    [created], [updated] = batch.preview["created"], batch.preview["updated"]

    assert (created["head_name"], created["head_id"], created["union"]) == (
        "王秀兰", idnumbers.mask(wang.head.id_number), target.name)
    assert created["sheet"] and created["row"] and "file_number" not in created
    file = Household.objects.get(head_id_number=zhang.head.id_number)
    assert (updated["id"], updated["file_number"], updated["head_name"], updated["union"]) == (
        file.pk, file.file_number, "张建国", target.name)
    assert updated["changes"] == {"fields": ["家庭住址"], "members_added": 0, "members_changed": 0}
    stored = json.dumps(batch.preview, ensure_ascii=False)
    assert wang.head.id_number not in stored and zhang.head.id_number not in stored

    page = admin_client.get(url("batch", batch.pk)).content.decode()
    assert "将新建的户" in page and "将更新的户" in page and "导入后编号" in page
    assert file.file_number in page and "家庭住址" in page
    assert reverse("dossiers:detail", args=[file.file_number]) not in page  # 三员分立: no way into the file
    assert idnumbers.mask(wang.head.id_number) in page and wang.head.id_number not in page


def test_it_lists_the_households_an_import_created_with_links_for_who_may_open_them(admin_client, imported,
                                                                                  client_for, auditor):
    families, batch = imported
    files = {h.head_id_number: h for h in Household.objects.filter(import_batch=batch)}
    listed = batch.report["created"]
    assert [(entry["id"], entry["file_number"]) for entry in listed] == [
        (files[f.head.id_number].pk, files[f.head.id_number].file_number) for f in families]
    assert batch.report["updated"] == []

    page = admin_client.get(url("batch", batch.pk)).content.decode()
    assert "新建的户" in page and "将新建的户" not in page
    links = [reverse("dossiers:detail", args=[entry["file_number"]]) for entry in listed]
    assert not any(link in page for link in links)  # the system administrator opens no file
    page = client_for(auditor).get(url("batch", batch.pk)).content.decode()
    assert all(link in page for link in links)
    assert all(client_for(auditor).get(link).status_code == 200 for link in links)


def test_it_keeps_the_links_to_the_county_that_imported(client_for, imported, unions):
    _families, batch = imported
    jinshui = UserFactory(username="jinshuiadmin", role=Role.ADMIN, home_union=unions["410105"])
    client = client_for(jinshui)
    assert client.get(url("batch", batch.pk)).status_code == 404
    for entry in batch.report["created"]:
        assert client.get(reverse("dossiers:detail", args=[entry["file_number"]])).status_code == 404


def test_it_names_only_the_first_households_of_a_long_file_with_the_total(admin_client, target, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    monkeypatch.setattr(importer, "LISTED_HOUSEHOLDS", 2)
    batch = uploaded(admin_client, register(*(lf.family(f"职工{n}") for n in range(3))), union=target)
    assert (batch.preview["households_created"], len(batch.preview["created"])) == (3, 2)
    assert "共 3 户，下面列出前 2 户" in admin_client.get(url("batch", batch.pk)).content.decode()
    confirm(admin_client, batch, django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert [bool(entry["file_number"]) for entry in batch.report["created"]] == [True, True]
    assert "共 3 户，下面列出前 2 户" in admin_client.get(url("batch", batch.pk)).content.decode()


def test_it_lists_nothing_to_create_when_the_file_will_be_refused(admin_client, target,
                                                                  django_capture_on_commit_callbacks):
    batch = uploaded(admin_client, register(lf.family(), bad_family()), union=target, mode=ALL)
    assert batch.preview["refused"] and batch.preview["created"]  # what it would be, were it fixed
    assert "将新建的户" not in admin_client.get(url("batch", batch.pk)).content.decode()
    confirm(admin_client, batch, django_capture_on_commit_callbacks)
    assert "新建的户" not in admin_client.get(url("batch", batch.pk)).content.decode()


def test_it_keeps_the_batch_page_queries_constant(admin_client, target, monkeypatch, django_assert_max_num_queries,
                                                  django_capture_on_commit_callbacks):
    batch = uploaded(admin_client, register(*(lf.family(f"职工{n}") for n in range(6))), union=target)
    with django_assert_max_num_queries(12):
        admin_client.get(url("batch", batch.pk))
    confirm(admin_client, batch, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(12):
        admin_client.get(url("batch", batch.pk))


def test_it_lists_the_files_without_links_for_a_system_administrator(client_for, imported, county_admin):
    _families, batch = imported
    page = client_for(county_admin).get(url("batch", batch.pk)).content.decode()
    for entry in batch.report["created"]:  # 三员分立: the numbers, but no way into the files
        assert entry["file_number"] in page
        assert reverse("dossiers:detail", args=[entry["file_number"]]) not in page
