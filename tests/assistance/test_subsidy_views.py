"""The subsidy pages through the test client: a sibling county's supervisor finds nothing (404) — not the batch,
its bank file, its disclosure list nor a household's payments —, the bank file is the supervisors' alone and every
export is in the access log, the pages' query counts are bounded, maker-checker holds on the page, a broken
return file changes nothing, and a run queued while the broker is down says so."""

from __future__ import annotations

import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from assistance import batches, runs
from assistance.models import Payment, PaymentBatch
from hardship.models import AccessRecord, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
DEC = datetime.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime.datetime(2026, 12, 2, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")),
                             tick=False):
        yield


@pytest.fixture
def sibling_supervisor(unions):
    return UserFactory(username="jinshui_supervisor", role=Role.SUPERVISOR, home_union=unions["410105"])


@pytest.fixture
def batch(registered, schedule_for, budgets, county_supervisor):
    for card in ("6222021234567890123", "6217000010012345678"):
        schedule_for(registered(bank_card=card))
    return runs.generate(unions_paying(), DEC, by=county_supervisor).batch


def unions_paying() -> int:
    return runs.unions_due(DEC)[0]


def urls(batch: PaymentBatch) -> list[str]:
    household = batch.payments.first().household
    return [reverse("subsidies:batch", args=[batch.pk]), reverse("subsidies:disclosure", args=[batch.pk]),
            reverse("subsidies:export", args=[batch.pk, "xlsx"]),
            reverse("subsidies:household", args=[household.file_number])]


def test_a_sibling_countys_supervisor_finds_none_of_it(batch, client_for, sibling_supervisor):
    client = client_for(sibling_supervisor)
    assert [client.get(url).status_code for url in urls(batch)] == [404, 404, 404, 404]
    payment = batch.payments.first()
    assert client.post(reverse("subsidies:approve", args=[batch.pk])).status_code == 404
    assert client.post(reverse("subsidies:hold", args=[payment.pk]), {"note": "x"}).status_code == 404
    assert PaymentBatch.objects.get(pk=batch.pk).status == "draft" and Payment.objects.filter(pk=payment.pk).exists()


def test_the_bank_file_is_the_supervisors_and_each_export_is_logged(batch, client_for, checker, auditor,
                                                                   caseworker):
    batches.approve(batch, by=checker)
    url = reverse("subsidies:export", args=[batch.pk, "xlsx"]) + "?layout=ccb"
    assert client_for(auditor).get(url).status_code == 403
    assert client_for(caseworker).get(url).status_code == 403
    before = AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT).count()
    response = client_for(checker).get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0] == ("账号", "户名", "金额", "证件号码", "摘要")
    assert {row[0] for row in rows[1:]} == {"6222021234567890123", "6217000010012345678"}
    assert AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT).count() == before + 1
    assert client_for(checker).get(reverse("subsidies:export", args=[batch.pk, "pdf"])).status_code == 404


def test_the_disclosure_list_masks_names_and_id_numbers(batch, client_for, county_supervisor):
    page = client_for(county_supervisor).get(reverse("subsidies:disclosure", args=[batch.pk])).content.decode()
    household = batch.payments.first().household
    number = str(household.head_id_number)
    assert number not in page and f"{number[:4]}{'*' * 10}{number[-4:]}" in page
    assert household.head_name not in page and "张*国" in page and "600.00" in page


def test_the_generator_is_told_to_find_another_approver(batch, client_for, county_supervisor, checker):
    client = client_for(county_supervisor)
    page = client.get(reverse("subsidies:batch", args=[batch.pk])).content.decode()
    assert "须由另一位审核人审批" in page and "审批通过" not in page
    response = client.post(reverse("subsidies:approve", args=[batch.pk]), follow=True)
    assert "不能审批本批次" in response.content.decode()
    assert PaymentBatch.objects.get(pk=batch.pk).status == "draft"
    client_for(checker).post(reverse("subsidies:approve", args=[batch.pk]))
    assert PaymentBatch.objects.get(pk=batch.pk).status == "approved"


def test_a_broken_return_file_changes_nothing_and_says_which_lines(batch, client_for, checker):
    batches.approve(batch, by=checker)
    batches.mark_sent(batch, by=checker)
    content = "账号,户名,金额,处理结果\n6222021234567890123,张建国,300.00,成功\n6217000010012345678,张建国,三百,成功\n"
    upload = io.BytesIO(content.encode())
    upload.name = "回盘.csv"
    response = client_for(checker).post(reverse("subsidies:return", args=[batch.pk]), {"file": upload}, follow=True)
    assert "第 3 行" in response.content.decode()
    assert set(batch.payments.values_list("status", flat=True)) == {"sent"}
    assert not batch.returns.exists()


def test_the_pages_query_counts_are_bounded(batch, client_for, county_supervisor, registered, schedule_for,
                                            django_assert_max_num_queries):
    client = client_for(county_supervisor)
    household = batch.payments.first().household
    for url, bound in ((reverse("subsidies:batches"), 12), (reverse("subsidies:batch", args=[batch.pk]), 25),
                       (reverse("subsidies:household", args=[household.file_number]), 22),
                       (reverse("subsidies:disclosure", args=[batch.pk]), 10), (reverse("home"), 40)):
        with django_assert_max_num_queries(bound):
            assert client.get(url).status_code == 200


def test_the_approval_queue_on_the_home_page_leaves_out_the_users_own_batches(batch, client_for,
                                                                             county_supervisor, checker):
    own = client_for(county_supervisor).get(reverse("home")).content.decode()
    assert reverse("subsidies:batch", args=[batch.pk]) not in own and "没有待您审批的发放批次" in own
    page = client_for(checker).get(reverse("home")).content.decode()
    assert reverse("subsidies:batch", args=[batch.pk]) in page


def test_a_run_while_the_broker_is_down_says_so_and_queues_nothing(client_for, county_supervisor, registered,
                                                                  schedule_for):
    """What the page does when queuing fails (test_subsidy_celery shows that queuing to a Redis that is down raises
    this error within seconds; the app's shared connection pool is not pointed at a dead port here)."""
    from unittest import mock

    from kombu.exceptions import OperationalError

    from assistance.tasks import run_subsidies

    schedule_for(registered())
    down = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch.object(run_subsidies, "apply_async", side_effect=down):
        response = client_for(county_supervisor).post(reverse("subsidies:run"), {"period": "2026-12"}, follow=True)
    assert "任务队列暂时不可用" in response.content.decode()
    assert not PaymentBatch.objects.exists()


def test_a_schedule_is_set_up_on_the_households_page_within_its_cap(client_for, county_supervisor, registered,
                                                                    caseworker):
    household = registered()
    url = reverse("subsidies:household", args=[household.file_number])
    data = {"kind": "living", "amount": "2000.00", "frequency": "monthly", "first_period": "2026-12",
            "fund_source": "central"}
    assert client_for(caseworker).post(url, data).status_code == 403
    refused = client_for(county_supervisor).post(url, data)
    assert refused.status_code == 422 and "超出" in refused.content.decode()
    saved = client_for(county_supervisor).post(url, {**data, "amount": "300.00"})
    assert saved.status_code == 302 and household.subsidy_schedules.get().amount == Decimal("300.00")
    for hostile in ({"amount": "-1"}, {"amount": "300.001"}, {"first_period": "2026-13"}, {"first_period": "2020-01"},
                    {"kind": "bribe"}, {"amount": "1e9999"}):
        assert client_for(county_supervisor).post(url, {**data, **hostile}).status_code == 422, hostile
    assert household.subsidy_schedules.count() == 1


def test_a_budget_is_adjusted_but_never_below_what_it_has_spent(client_for, county_supervisor, unions):
    from assistance.models import FundBudget

    url = reverse("subsidies:budgets")
    data = {"union": unions["410102-C01"].pk, "year": 2026, "fund_source": "central", "amount": "1000.00"}
    client = client_for(county_supervisor)
    assert client.post(url, data).status_code == 302
    FundBudget.objects.update(committed=Decimal("600.00"))
    assert client.post(url, {**data, "amount": "800.00"}).status_code == 302
    assert FundBudget.objects.get().amount == Decimal("800.00")
    refused = client.post(url, {**data, "amount": "599.99"})
    assert refused.status_code == 422 and "600.00" in refused.content.decode()
    assert FundBudget.objects.get().amount == Decimal("800.00")
