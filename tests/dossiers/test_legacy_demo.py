"""Demo data of the legacy import and the 低保 roster matching: the real load_demo (with the real union tree)
leaves a finished import batch with rejected rows to download and a roster with differences to accept, once."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from dossiers import civil
from dossiers.choices import Status
from dossiers.legacy.demo import REGISTER_FILE, ROSTER_FILE
from dossiers.legacy.models import CivilRoster, CivilRosterEntry, ImportBatch
from dossiers.models import Household, Member, RegisterEvent
from hardship.models import User
from reporting.demo import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path) -> str:
    settings.MEDIA_ROOT = tmp_path / "media"
    return load_demo()


def test_it_imports_the_demo_register_as_a_finished_batch_with_rejected_rows(demo, client_for):
    batch = ImportBatch.objects.get()
    admin = User.objects.get(username="admin")
    assert (batch.file_name, batch.union.code, batch.uploaded_by, batch.mode, batch.state) == (
        REGISTER_FILE, "410102", admin, ImportBatch.Mode.SKIP_INVALID, ImportBatch.State.DONE)
    assert datetime.timedelta(hours=1) < timezone.now() - batch.created_at < datetime.timedelta(hours=3)
    assert batch.finished_at > batch.created_at and not batch.file
    report = batch.report
    assert (report["households_created"], report["members_created"], report["rejected_rows_total"]) == (12, 32, 2)
    assert (report["households_updated"], report["households_unchanged"]) == (0, 0)
    reasons = [row["reason"] for row in report["rejected_rows"]]
    assert "科学计数法" in reasons[0] and "户主不在本文件中" in reasons[1]
    assert {row["reason"] for row in report["skipped"]} == {"合计行", "合计行之后的内容"}
    imported = Household.objects.filter(import_batch=batch)
    assert sorted(imported.values_list("status", flat=True)) == sorted([Status.REGISTERED] * 10 + [Status.EXITED] * 2)
    assert RegisterEvent.objects.filter(household__import_batch=batch, transition="import").count() == 12
    assert "新建 12 户，有误 2 行" in demo

    response = client_for(admin).get(reverse("admin:dossiers_importbatch_rejected", args=[batch.pk]))
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0].values)
    assert rows[0][-2:] == ("错误原因", "原行号") and len(rows) == 2


def test_it_reads_the_messy_register_cells_into_the_files(demo):
    batch = ImportBatch.objects.get()
    feng = Household.objects.get(import_batch=batch, head_name="冯志强")
    assert feng.head_id_number.endswith("X")  # typed with a lowercase x
    assert feng.main_cause == 3 and feng.secondary_causes == [9]
    zhao = Household.objects.get(import_batch=batch, head_name="赵卫国")
    assert (str(zhao.income_other), zhao.legacy_category, zhao.category) == ("12000.00", "dibao", "deep")
    assert Household.objects.get(import_batch=batch, head_name="孙丽萍").phone == "13803712345"
    zheng = Household.objects.get(import_batch=batch, head_name="郑国庆")  # full-width digits in the file
    assert zheng.head_id_number.isascii() and zheng.members.count() == 2
    assert set(Member.objects.filter(household__import_batch=batch, household__status=Status.EXITED)
               .values_list("is_open", flat=True)) == {False}


def test_it_leaves_a_roster_with_differences_for_the_caseworker_to_accept(demo):
    roster = CivilRoster.objects.get()
    caseworker = User.objects.get(username="caseworker")
    assert (roster.file_name, roster.uploaded_by, roster.union) == (ROSTER_FILE, caseworker, caseworker.home_union)
    counts = civil.section_counts(roster, caseworker)
    assert {key: counts[key] for key in ("differences", "consistent", "unmatched", "not_on_roster", "rejected",
                                         "accepted")} == {"differences": 4, "consistent": 2, "unmatched": 2,
                                                          "not_on_roster": 1, "rejected": 1, "accepted": 0}
    missing = civil.not_on_roster(roster, caseworker).get()
    assert missing.receives_dibao and not CivilRosterEntry.objects.filter(household=missing).exists()
    assert "差异 4 条，未建档 2 人" in demo

    assert civil.accept_all_differences(roster, by=caseworker) == 4
    assert civil.section_counts(roster, caseworker)["differences"] == 0


def test_it_loads_the_demo_only_once(demo):
    def counts() -> list[int]:
        return [model.objects.count() for model in (ImportBatch, CivilRoster, CivilRosterEntry, Household, Member,
                                                     RegisterEvent)]

    before = counts()
    assert load_demo().endswith("家庭档案 0 户")
    assert counts() == before
