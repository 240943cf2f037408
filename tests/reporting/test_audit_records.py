"""The access record: every refusal, file opened, import confirmed, export and reveal, each with the client's address;
an append-only table that only the retention task deletes from; and the auditor's trail and export of it, in the
auditor's subtree only."""

from __future__ import annotations

import csv
import datetime
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import ProgrammingError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from dossiers.legacy.models import ImportBatch
from dossiers.models import HouseholdEvent
from hardship import audit
from hardship.models import AccessRecord, Role
from hardship.tasks import purge_old_access_records
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

Action = AccessRecord.Action


def record(user, union, action=Action.REVEAL, subject="档案", **fields) -> AccessRecord:
    return AccessRecord.objects.create(user=user, action=action, union=union, subject=subject, **fields)


# --- the address --------------------------------------------------------------------------------------------------

def request_from(user=None, **meta):
    request = RequestFactory().get("/", **meta)
    request.user = user or AnonymousUser()
    return request


def test_it_takes_the_address_from_remote_addr_by_default(caseworker):
    request = request_from(caseworker, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="6.6.6.6")

    written = audit.record(request, Action.REVEAL, "410102-2026-000001", union=caseworker.home_union)

    written.refresh_from_db()
    assert (written.address, written.user, written.username, written.succeeded) == ("10.1.2.3", caseworker,
                                                                                    "caseworker", True)


def test_it_reads_the_client_behind_the_configured_number_of_proxies(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    behind_one = request_from(REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert audit.client_address(behind_one) == "203.0.113.9"  # what the proxy saw, not what the client wrote
    settings.AXES_IPWARE_PROXY_COUNT = 2
    assert audit.client_address(behind_one) == "6.6.6.6"
    assert audit.client_address(request_from(REMOTE_ADDR="172.18.0.2")) == "172.18.0.2"  # no header: the peer


def test_it_writes_no_address_it_cannot_read(caseworker):
    assert audit.client_address(request_from(REMOTE_ADDR="not-an-address")) is None
    written = audit.record(request_from(REMOTE_ADDR=""), Action.DENIED, "x" * 400, succeeded=False)
    assert written.address is None and written.user is None and len(written.subject) == 300


# --- what is recorded ---------------------------------------------------------------------------------------------

def test_a_refusal_is_recorded_with_its_path_without_the_query_string(client_for, unions):
    roleless = UserFactory(username="roleless", role="", home_union=unions["410102-C01"])
    url = reverse("dossiers:export", args=["csv"])

    response = client_for(roleless).get(url, {"q": "410102199001011234"})

    assert response.status_code == 403 and "无权进行此操作" in response.content.decode()
    denied = AccessRecord.objects.get(action=Action.DENIED)
    assert (denied.action, denied.user, denied.union, denied.succeeded) == (Action.DENIED, roleless,
                                                                            unions["410102-C01"], False)
    assert denied.subject == f"GET {url}" and denied.address == "127.0.0.1"


def test_opening_the_file_page_or_the_print_is_one_record_each(client_for, make_household, caseworker, unions,
                                                               supervisor):
    household = make_household(by=caseworker, union=unions["410102-C01"])
    client = client_for(caseworker)

    client.get(reverse("dossiers:detail", args=[household.file_number]))
    client.get(reverse("dossiers:history", args=[household.file_number]), headers={"HX-Request": "true"})
    client.get(reverse("dossiers:print", args=[household.file_number]))

    records = list(AccessRecord.objects.exclude(action=Action.LOGIN).order_by("at", "pk"))
    assert [(r.action, r.subject, r.union, r.address) for r in records] == [
        (Action.VIEW, household.file_number, household.union, "127.0.0.1"),
        (Action.REVEAL, f"{household.file_number} 打印档案表", household.union, "127.0.0.1"),  # full ID numbers
    ]


def test_confirming_an_import_is_recorded_with_its_file_and_result(client_for, county_admin, unions):
    batch = ImportBatch.objects.create(union=unions["410102-C01"], uploaded_by=county_admin, file_name="旧台账.xlsx",
                                       sha256="0" * 64, size=1, preview={"households": 1})
    client = client_for(county_admin)
    confirm = reverse("admin:dossiers_importbatch_confirm", args=[batch.pk])

    client.post(confirm)
    client.post(confirm)  # a second confirmation imports nothing

    records = list(AccessRecord.objects.filter(action=Action.IMPORT).order_by("pk"))
    assert [(r.user, r.union, r.succeeded) for r in records] == [(county_admin, batch.union, True),
                                                                 (county_admin, batch.union, False)]
    assert records[0].subject == "历史档案导入：旧台账.xlsx（确认导入）" and records[0].address == "127.0.0.1"


def test_exports_and_reveals_carry_the_address(client_for, make_household, caseworker, unions, supervisor):
    household = make_household(by=caseworker, union=unions["410102-C01"])
    member = household.members.get(is_primary=True)
    client_for(caseworker).post(reverse("dossiers:reveal", args=[household.file_number, member.pk]),
                                REMOTE_ADDR="10.9.8.7")
    client_for(supervisor).get(reverse("union_export", args=["410000", "csv"]), REMOTE_ADDR="10.9.8.6")

    assert dict(AccessRecord.objects.exclude(action=Action.LOGIN).values_list("action", "address")) == {
        Action.REVEAL: "10.9.8.7",
                                                                           Action.EXPORT: "10.9.8.6"}


# --- append-only, and the retention ---------------------------------------------------------------------------

def test_the_database_refuses_to_change_or_delete_a_record(caseworker, unions):
    written = record(caseworker, unions["410102-C01"])

    for change in (lambda: AccessRecord.objects.filter(pk=written.pk).update(subject="改过"),
                   lambda: AccessRecord.objects.filter(pk=written.pk).delete()):
        with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
            change()
    assert AccessRecord.objects.get().subject == "档案"


def test_the_retention_task_deletes_only_records_older_than_the_retention(settings, caseworker, unions,
                                                                          make_household):
    settings.AUDIT_RETENTION_DAYS = 183
    now = timezone.now()
    old = record(caseworker, unions["410102-C01"], at=now - datetime.timedelta(days=184), subject="旧")
    kept = record(caseworker, unions["410102-C01"], at=now - datetime.timedelta(days=182), subject="新")
    household = make_household(by=caseworker, union=unions["410102-C01"])
    HouseholdEvent.objects.filter(pgh_obj=household).update(pgh_created_at=now - datetime.timedelta(days=400))
    events = HouseholdEvent.objects.count()

    assert purge_old_access_records() == 1

    assert list(AccessRecord.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not AccessRecord.objects.filter(pk=old.pk).exists()
    assert HouseholdEvent.objects.count() == events > 0  # the files' history is not the access record's to purge
    refused = pytest.raises(ProgrammingError, match="Cannot update or delete")
    with refused, transaction.atomic():  # and the table is append-only again afterwards
        AccessRecord.objects.filter(pk=kept.pk).delete()


def test_the_retention_task_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-old-access-records"]
    assert entry["task"] == "hardship.tasks.purge_old_access_records" and entry["schedule"] == 86400.0


@pytest.mark.parametrize("days, refused", [("182", True), ("183", False), ("400", False)])
def test_settings_refuse_a_retention_below_six_months(days, refused):
    code = "import hardship.settings as s; print(s.AUDIT_RETENTION_DAYS)"
    env = {"AUDIT_RETENTION_DAYS": days, "PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://x/y"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert (result.returncode != 0) is refused, result.stderr
    assert ("AUDIT_RETENTION_DAYS must be at least 183" in result.stderr) is refused
    if not refused:
        assert result.stdout.strip() == days


# --- the auditor's trail and its export ---------------------------------------------------------------------------

@pytest.fixture
def records(caseworker, outsider, unions):
    """In 中原区: a view, a refusal, a failed sign-in with hostile values; a view in 金水区 (郑州 too) and in 湖北."""
    zhongyuan = unions["410102-C01"]
    return {
        "view": record(caseworker, zhongyuan, Action.VIEW, "410102-2026-000001", address="10.0.0.7"),
        "denied": record(caseworker, zhongyuan, Action.DENIED, "GET /admin/", address="10.0.0.8", succeeded=False),
        "failed": record(None, zhongyuan, Action.LOGIN_FAILED, "=HYPERLINK(\"http://x\")", username="@cmd",
                         address="10.0.0.9", succeeded=False),
        "jinshui": record(outsider, unions["410105-C01"], Action.VIEW, "410105-2026-000001"),
        "hubei": record(UserFactory(username="hubei", home_union=unions["420102"]), unions["420102"], Action.VIEW,
                        "420102-2026-000001"),
    }


def trail_rows(client, **params):
    response = client.get(reverse("home"), params)
    assert response.status_code == 200
    return response.context["events"]


def test_the_trail_shows_the_new_actions_with_address_and_result(client_for, auditor, records):
    rows = trail_rows(client_for(auditor), kind="access")

    notes = {row.summary: row.note for row in rows}
    assert notes["拒绝访问：GET /admin/"] == "来源地址：10.0.0.8；失败"
    assert notes["查看档案：410102-2026-000001"] == "来源地址：10.0.0.7；成功"
    assert notes['登录失败：=HYPERLINK("http://x")'] == "登录名：@cmd；来源地址：10.0.0.9；失败"
    assert "查看档案：420102-2026-000001" not in notes  # 湖北 is not 郑州's


def test_the_trail_filters_by_action(client_for, auditor, records):
    client = client_for(auditor)

    assert {row.summary for row in trail_rows(client, action="denied")} == {"拒绝访问：GET /admin/"}
    assert {row.subject for row in trail_rows(client, action="view")} == {"410102-2026-000001", "410105-2026-000001"}
    assert 'value="denied" selected' in client.get(reverse("home"), {"action": "denied"}).content.decode()


def export(client, file_format: str, **params):
    return client.get(reverse("audit_export", args=[file_format]), params)


def exported_rows(response, file_format: str) -> list[list]:
    """The header and the rows, but for the sign-ins the test client's force_login writes."""
    if file_format == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    return [row for row in rows if row[4] != "登录"]


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_the_auditor_exports_a_period_of_their_subtree(client_for, auditor, records, file_format):
    today = timezone.localdate().isoformat()
    response = export(client_for(auditor), file_format, date_from=today, date_to=today)

    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    rows = exported_rows(response, file_format)
    assert rows[0] == ["时间", "用户", "登录名", "来源地址", "操作", "对象", "结果", "所属单位"]
    by_subject = {row[5]: row for row in rows[1:]}
    assert set(by_subject) == {"410102-2026-000001", "GET /admin/", "'=HYPERLINK(\"http://x\")", "410105-2026-000001"}
    failed = by_subject["'=HYPERLINK(\"http://x\")"]
    assert failed[1:5] == ["", "'@cmd", "10.0.0.9", "登录失败"] and failed[6] == "失败"
    assert by_subject["GET /admin/"][7] == "410102-C01 中原区困难职工帮扶中心"
    written = AccessRecord.objects.get(action=Action.EXPORT)
    assert written.user == auditor and written.union == auditor.home_union and written.address == "127.0.0.1"
    assert written.subject.startswith("访问记录 × ") and written.subject.endswith(f".{file_format}）")


def test_the_export_follows_the_period_and_the_action(client_for, auditor, records):
    client = client_for(auditor)
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()

    assert len(exported_rows(export(client, "csv", date_from=yesterday, date_to=yesterday), "csv")) == 1
    denied = exported_rows(export(client, "csv", action="denied"), "csv")
    assert [row[5] for row in denied[1:]] == ["GET /admin/"]


def test_the_export_of_another_subtree_shows_none_of_zhengzhou(client_for, unions, records):
    hubei_auditor = UserFactory(username="hubei-auditor", role=Role.AUDITOR, home_union=unions["420000"])

    rows = exported_rows(export(client_for(hubei_auditor), "csv"), "csv")

    assert [row[5] for row in rows[1:]] == ["420102-2026-000001"]


@pytest.mark.parametrize("role", ["caseworker", "supervisor", "national_admin"])
def test_no_other_role_may_export_the_trail(request, client_for, records, role):
    user = request.getfixturevalue(role)

    response = export(client_for(user), "xlsx")

    assert response.status_code == 403
    assert not AccessRecord.objects.filter(action=Action.EXPORT).exists()
    assert AccessRecord.objects.filter(action=Action.DENIED, user=user).exists()


def test_the_trail_offers_the_export_with_its_filters(client_for, auditor, records):
    page = client_for(auditor).get(reverse("home"), {"action": "view", "page": "2"}).content.decode()

    assert f'href="{reverse("audit_export", args=["xlsx"])}?' in page
    link = page.split(reverse("audit_export", args=["csv"]))[1].split('"')[0]
    assert "action=view" in link and "page=" not in link


def test_an_unknown_format_is_not_found(client_for, auditor):
    assert export(client_for(auditor), "pdf").status_code == 404


def test_a_form_sent_without_its_csrf_token_is_refused_and_recorded(caseworker):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(caseworker, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(reverse("dossiers:list"), {"q": "张建国"})
    assert response.status_code == 403
    record = AccessRecord.objects.get(action=AccessRecord.Action.DENIED)
    assert (record.user, record.subject, record.succeeded) == (caseworker, "POST /households/", False)
