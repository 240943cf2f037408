"""走访: follow-up visits recorded on the file (入户 / 电话 / 来访, with what was found and agreed), and the queue of
visits due, each quarter or each month for 深度困难, at the edges of a Beijing day."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from dossiers import pairing, visits
from dossiers.choices import Status
from dossiers.models import Helper, Household, Visit
from dossiers.queues import work_queues
from hardship.history import file_history

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def beijing(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=BEIJING)


@pytest.fixture
def registered(make_household, caseworker, unions, walk) -> Household:
    return walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)


def visit_data(**overrides) -> dict:
    data = {"visited_on": timezone.localdate().isoformat(), "kind": "phone", "helper": "", "companions": "",
            "findings": "电话回访：户主已参加培训", "agreed": "下周到厂里面试", "follow_up": "面试后再联系"}
    return {**data, **overrides}


def test_a_follow_up_visit_is_recorded_on_the_file_and_in_its_history(client_for, caseworker, registered, unions):
    helper = Helper.objects.create(name="王建国", helping_unit="区总工会", union=unions["410102"])
    pairing.pair(registered, helper, by=caseworker)
    answer = client_for(caseworker).post(reverse("dossiers:visit_new", args=[registered.file_number]),
                                         visit_data(helper=helper.pk))
    assert answer.status_code == 302
    visit = registered.visits.get(is_initial=False)
    assert (visit.kind, visit.helper, visit.visitor, visit.agreed) == ("phone", helper, caseworker, "下周到厂里面试")
    page = client_for(caseworker).get(reverse("dossiers:detail", args=[registered.file_number])).content.decode()
    assert "下周到厂里面试" in page and "电话" in page
    assert any(row.actor == caseworker and "回访" in str(row.subject) for row in file_history(registered))


@pytest.mark.parametrize(("change", "message"), [
    ({"visited_on": "2099-01-01"}, "不能晚于今天"),
    ({"visited_on": "2026-02-30"}, "有效的日期"),
    ({"findings": ""}, "这个字段是必填项"),
    ({"kind": "carrier-pigeon"}, "选择一个有效的选项"),
])
def test_a_wrong_visit_is_refused_and_nothing_is_saved(client_for, caseworker, registered, change, message):
    answer = client_for(caseworker).post(reverse("dossiers:visit_new", args=[registered.file_number]),
                                         visit_data(**change))
    assert answer.status_code == 422 and message in answer.content.decode()
    assert not registered.visits.filter(is_initial=False).exists()


def test_a_helper_of_another_household_cannot_be_named(client_for, caseworker, registered, unions):
    stranger = Helper.objects.create(name="陌生人", helping_unit="某单位", union=unions["410102"])
    answer = client_for(caseworker).post(reverse("dossiers:visit_new", args=[registered.file_number]),
                                         visit_data(helper=stranger.pk))
    assert answer.status_code == 422 and not registered.visits.filter(is_initial=False).exists()


def test_only_the_files_caseworkers_record_visits(client_for, registered, outsider, supervisor, auditor):
    for user, status in ((outsider, 404), (supervisor, 403), (auditor, 403)):
        answer = client_for(user).post(reverse("dossiers:visit_new", args=[registered.file_number]), visit_data())
        assert answer.status_code == status, user.username
    assert not Visit.objects.filter(is_initial=False).exists()


def _due_files(user) -> set[str]:
    [queue] = [queue for queue in work_queues(user) if str(queue.label) == "走访到期"]
    return {household.file_number for household in queue.rows}


@pytest.mark.parametrize("category_months", ["VISIT_INTERVAL_MONTHS", "VISIT_INTERVAL_MONTHS_DEEP"])
def test_a_visit_falls_due_at_midnight_beijing_time(make_household, caseworker, unions, walk, settings,
                                                     category_months):
    # The same interval for both categories in one run, so the household's category does not matter.
    settings.VISIT_INTERVAL_MONTHS = settings.VISIT_INTERVAL_MONTHS_DEEP = getattr(settings, category_months)
    with time_machine.travel(beijing(2026, 11, 8, 10, 0), tick=False):
        household = walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
        Visit.objects.create(household=household, visitor=caseworker, visited_on=timezone.localdate(),
                             findings="入户回访")
    next_visit = datetime.date(2026, 11, 8) + relativedelta(months=visits.interval_months(household.category))
    first_due_day = next_visit - datetime.timedelta(days=settings.VISIT_DUE_AHEAD_DAYS)
    evening_before = datetime.datetime.combine(first_due_day - datetime.timedelta(days=1), datetime.time(23, 30),
                                               tzinfo=BEIJING)
    with time_machine.travel(evening_before, tick=False):
        assert household.file_number not in _due_files(caseworker)
    with time_machine.travel(evening_before + datetime.timedelta(hours=1), tick=False):  # 00:30 the next day
        assert household.file_number in _due_files(caseworker)


def test_a_file_off_the_register_is_never_due(make_household, caseworker, unions):
    draft = make_household(by=caseworker, union=unions["410102-C01"])
    with time_machine.travel(timezone.now() + datetime.timedelta(days=400), tick=False):
        assert draft.file_number not in _due_files(caseworker)
        assert visits.next_visit_on(draft, None) is None
