"""一户一计划、一户一措施: the plan page inside the file, its rules (one plan, the zero-employment family's job
measure, amounts, outcomes), its versions in the history, and who may read and write it."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance import plans
from assistance.models import Measure, MeasureType, Plan
from dossiers.choices import Cause, Status
from hardship.history import file_history
from tests.dossiers.conftest import new_member

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def type_pk(code: str) -> int:
    return MeasureType.objects.get(code=code).pk


def plan_post(**overrides) -> dict:
    year = timezone.localdate().year + 1
    data = {
        "goal": "一年内实现户主再就业，家庭人均收入超过当地低保标准",
        "target_year": str(year), "deadline": f"{year}-12-31", "responsible": "中原区总工会帮扶中心 王芳",
        "m-measure_type": str(type_pk("job_referral")), "m-description": "推荐到郑州市第二纺织厂做挡车工",
        "m-responsible": "王芳", "m-due_on": f"{year}-03-31", "m-status": "planned",
        "m-outcome": "", "m-amount": "", "m-monthly_income": "", "m-evidence": "",
    }
    return {**data, **overrides}


def measure_post(**overrides) -> dict:
    year = timezone.localdate().year + 1
    data = {"m-measure_type": str(type_pk("medical_mutual_aid")), "m-description": "申请职工医疗互助金",
            "m-responsible": "李明", "m-due_on": f"{year}-02-28", "m-status": "planned", "m-outcome": "",
            "m-amount": "3000", "m-monthly_income": "", "m-evidence": ""}
    return {**data, **{f"m-{key}": value for key, value in overrides.items()}}


@pytest.fixture
def registered(make_household, caseworker, unions, walk):
    household = make_household(by=caseworker, union=unions["410102-C01"], main_cause=Cause.LAID_OFF)
    return walk(household, Status.REGISTERED)


def url(name: str, household, *args) -> str:
    return reverse(f"assistance:{name}", args=[household.file_number, *args])


def test_a_caseworker_writes_the_plan_with_its_first_measure(client_for, caseworker, registered):
    client = client_for(caseworker)
    page = client.get(url("plan", registered))
    assert page.status_code == 200 and "制定帮扶计划" in page.content.decode()
    assert "职业介绍" in page.content.decode()  # suggested for 下岗失业

    response = client.post(url("plan", registered), plan_post())

    assert response.status_code == 302
    plan = Plan.objects.get(household=registered)
    assert (plan.version, plan.created_by, plan.responsible) == (1, caseworker, "中原区总工会帮扶中心 王芳")
    assert [m.measure_type.code for m in plan.measures.all()] == ["job_referral"]
    shown = client.get(url("plan", registered)).content.decode()
    assert "推荐到郑州市第二纺织厂做挡车工" in shown and "第 1 版" in shown
    assert "查看计划与措施" in client.get(reverse("dossiers:detail", args=[registered.file_number])).content.decode()


def test_a_file_not_yet_on_the_register_gets_no_plan(client_for, caseworker, household):
    client = client_for(caseworker)
    assert client.post(url("plan", household), plan_post()).status_code == 403
    with pytest.raises(plans.PlanError, match="在档"):
        plans.create_plan(household, Plan(goal="x", target_year=2027, deadline=datetime.date(2027, 6, 30),
                                          responsible="王芳"), [], by=caseworker)
    assert not Plan.objects.exists()


@pytest.mark.parametrize("field, value, message", [
    ("goal", "", "这个字段是必填项"),
    ("deadline", "2031-01-01", "计划脱困日期应在计划脱困年度"),
    ("m-due_on", "", "这个字段是必填项"),
    ("m-measure_type", "99999", "选择一个有效的选项"),
])
def test_wrong_or_missing_input_is_refused_and_nothing_is_written(client_for, caseworker, registered, field, value,
                                                                   message):
    response = client_for(caseworker).post(url("plan", registered), plan_post(**{field: value}))
    assert response.status_code == 422 and message in response.content.decode()
    assert not Plan.objects.exists() and not Measure.objects.exists()


def test_a_measure_with_money_needs_its_amount_and_a_closed_one_its_outcome(client_for, caseworker, registered):
    client = client_for(caseworker)
    client.post(url("plan", registered), plan_post())
    response = client.post(url("measure_new", registered), measure_post(amount=""))
    assert response.status_code == 422 and "请填写金额" in response.content.decode()
    response = client.post(url("measure_new", registered), measure_post(status="done"))
    assert response.status_code == 422 and "请写明落实情况" in response.content.decode()
    response = client.post(url("measure_new", registered), measure_post(amount="-5"))
    assert response.status_code == 422
    assert Measure.objects.count() == 1


def test_a_zero_employment_family_able_to_work_needs_an_employment_measure(client_for, caseworker, registered):
    registered.zero_employment = True
    registered.save()
    client = client_for(caseworker)
    medical = {key.removeprefix("m-"): value for key, value in measure_post().items()}
    response = client.post(url("plan", registered), plan_post(**{f"m-{k}": v for k, v in medical.items()}))
    assert response.status_code == 422 and "零就业家庭至少要有一项就业创业类措施" in response.content.decode()
    assert not Plan.objects.exists()

    assert client.post(url("plan", registered), plan_post()).status_code == 302
    job = Measure.objects.get()
    failed = {"measure_type": str(job.measure_type_id), "description": job.description, "responsible": "王芳",
              "due_on": job.due_on.isoformat(), "status": "failed", "outcome": "企业不再招工", "amount": "",
              "monthly_income": "", "evidence": ""}
    response = client.post(url("measure_edit", registered, job.pk), {f"m-{k}": v for k, v in failed.items()})
    assert response.status_code == 422 and "零就业家庭" in response.content.decode()
    assert Measure.objects.get().status == Measure.Status.PLANNED


def test_no_one_able_to_work_needs_no_employment_measure(make_household, caseworker, unions, walk):
    household = make_household(by=caseworker, union=unions["410102-C01"], zero_employment=True,
                               members=[new_member(able_to_work=False, work_status="unable")])
    assert not plans.needs_employment(household)


def test_measures_are_added_and_edited_in_place(client_for, caseworker, registered):
    client = client_for(caseworker)
    client.post(url("plan", registered), plan_post())
    form = client.get(url("measure_new", registered), **HTMX)
    assert form.status_code == 200 and 'id="plan-section"' in form.content.decode()
    assert "<html" not in form.content.decode()  # the section alone

    saved = client.post(url("measure_new", registered), measure_post(), **HTMX)

    assert saved.status_code == 200 and "已保存" in saved.content.decode()
    assert "申请职工医疗互助金" in saved.content.decode() and "<html" not in saved.content.decode()
    medical = Measure.objects.get(measure_type__code="medical_mutual_aid")
    assert medical.amount == Decimal("3000.00") and medical.created_by == caseworker
    edited = client.post(url("measure_edit", registered, medical.pk),
                         measure_post(status="done", outcome="已发放互助金 3000 元"), **HTMX)
    assert edited.status_code == 200
    medical.refresh_from_db()
    assert medical.status == Measure.Status.DONE and medical.outcome == "已发放互助金 3000 元"


def test_changing_the_plan_keeps_every_version_readable(client_for, caseworker, registered):
    client = client_for(caseworker)
    client.post(url("plan", registered), plan_post())
    edit = plan_post(goal="两年内实现户主和配偶稳定就业")
    response = client.post(url("plan_edit", registered), {k: v for k, v in edit.items() if not k.startswith("m-")})
    assert response.status_code == 302
    plan = Plan.objects.get()
    assert plan.version == 2 and plan.goal == "两年内实现户主和配偶稳定就业"
    changes = [(change.old, change.new) for row in file_history(registered) for change in row.changes
               if change.field == "帮扶目标"]
    assert ("一年内实现户主再就业，家庭人均收入超过当地低保标准", "两年内实现户主和配偶稳定就业") in changes


def test_the_plan_shows_the_path_to_the_line_with_the_measures_income(client_for, caseworker, registered):
    client = client_for(caseworker)
    client.post(url("plan", registered), plan_post(**{"m-monthly_income": "2800"}))
    plan = Plan.objects.get()
    path = plans.income_path(plan, registered.assessments.first())
    assert path.added_monthly == Decimal("2800.00")
    assert path.per_capita_with_measures == path.per_capita_now + Decimal("1400.00")  # two people
    page = client.get(url("plan", registered)).content.decode()
    assert "脱困路径" in page and "2800.00" in page


def test_a_second_plan_is_refused_and_two_at_once_make_one(client_for, caseworker, registered, reviewer):
    assert client_for(caseworker).post(url("plan", registered), plan_post()).status_code == 302
    again = client_for(reviewer).post(url("plan", registered), plan_post())
    assert again.status_code == 422 and "该户已有帮扶计划" in again.content.decode()
    assert Plan.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_caseworkers_writing_the_first_plan_at_once_make_one(make_household, caseworker, reviewer, unions, walk):
    household = walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    barrier, statuses = threading.Barrier(2), []

    def write(user):
        client = Client()
        client.force_login(user)
        barrier.wait()
        statuses.append(client.post(url("plan", household), plan_post()).status_code)
        connection.close()

    threads = [threading.Thread(target=write, args=(user,)) for user in (caseworker, reviewer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 422] and Plan.objects.count() == 1


def test_who_may_read_and_write_the_plan(client_for, caseworker, outsider, supervisor, county_admin, auditor,
                                         registered):
    client_for(caseworker).post(url("plan", registered), plan_post())
    for user, read in ((outsider, 404), (supervisor, 200), (county_admin, 404), (auditor, 200)):
        client = client_for(user)
        assert client.get(url("plan", registered)).status_code == read, user.username
        allowed_write = 404 if read == 404 else 403
        assert client.post(url("plan_edit", registered), plan_post(goal="改")).status_code == allowed_write
        assert client.post(url("measure_new", registered), measure_post()).status_code == allowed_write
    assert Plan.objects.get().goal.startswith("一年内")
    assert Measure.objects.count() == 1


def test_the_plan_page_reads_a_bounded_number_of_queries(client_for, caseworker, registered,
                                                        django_assert_max_num_queries):
    client = client_for(caseworker)
    client.post(url("plan", registered), plan_post())
    for _n in range(3):
        client.post(url("measure_new", registered), measure_post())
    with django_assert_max_num_queries(16):
        assert client.get(url("plan", registered)).status_code == 200
