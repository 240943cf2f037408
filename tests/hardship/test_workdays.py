"""China's working calendar (hardship/workdays.py): statutory holidays and make-up working days
from chinese-calendar, the national table administrators fill in, and who may edit it."""

import datetime

import pytest
from django.urls import reverse

from hardship import workdays
from hardship.models import CalendarDay
from hardship.workdays import CalendarError, add_working_days, covered_until, is_working_day

pytestmark = pytest.mark.django_db

D = datetime.date


def test_it_reads_the_package_for_2004_to_2026():
    assert (workdays.PACKAGE_FIRST_YEAR, workdays.PACKAGE_LAST_YEAR) == (2004, 2026)
    assert covered_until() == D(2026, 12, 31)


def test_it_counts_the_national_day_week_2025_as_holidays_and_the_make_up_saturday_as_work():
    assert is_working_day(D(2025, 9, 29)) and is_working_day(D(2025, 9, 30))
    assert not any(is_working_day(D(2025, 10, day)) for day in range(1, 9))  # 国庆 and 中秋: 10-01..10-08
    assert is_working_day(D(2025, 10, 11))  # Saturday, 调休上班
    assert not is_working_day(D(2025, 10, 12))  # an ordinary Sunday


def test_it_ends_a_notice_from_2025_09_29_on_the_fifth_real_working_day():
    # 9-29, 9-30, (10-01..10-08 off), 10-09, 10-10, 10-11 (make-up Saturday); Monday–Friday said 10-03.
    assert add_working_days(D(2025, 9, 29), 5) == D(2025, 10, 11)


def test_it_skips_the_spring_festival_and_counts_its_make_up_saturday():
    # 2026: 02-14 (Saturday) is worked, 02-15..02-23 off.
    assert is_working_day(D(2026, 2, 14)) and not is_working_day(D(2026, 2, 16))
    assert add_working_days(D(2026, 2, 12), 5) == D(2026, 2, 25)  # 02-12, 02-13, 02-14, 02-24, 02-25


def test_it_starts_counting_a_notice_begun_on_a_holiday_at_the_next_working_day():
    assert add_working_days(D(2025, 10, 1), 5) == D(2025, 10, 14)  # 10-09, 10-10, 10-11, 10-13, 10-14
    assert add_working_days(D(2025, 1, 28), 1) == D(2025, 2, 5)  # 除夕 2025: first working day after 春节
    assert add_working_days(D(2025, 10, 12), 1) == D(2025, 10, 13)  # an ordinary Sunday


def test_it_counts_the_start_day_when_it_is_a_working_day():
    assert add_working_days(D(2025, 10, 10), 1) == D(2025, 10, 10)
    assert add_working_days(D(2025, 10, 11), 1) == D(2025, 10, 11)  # a make-up Saturday is a working day


def test_it_lets_an_entered_holiday_override_the_package():
    CalendarDay.objects.create(day=D(2025, 10, 9), is_working_day=False, name="国庆节（更正）")
    assert not is_working_day(D(2025, 10, 9))
    assert add_working_days(D(2025, 9, 29), 5) == D(2025, 10, 13)  # 9-29, 9-30, 10-10, 10-11, 10-13


def test_it_lets_an_entered_working_day_override_the_package():
    CalendarDay.objects.create(day=D(2025, 10, 4), is_working_day=True, name="调休上班（更正）")
    assert is_working_day(D(2025, 10, 4))
    assert add_working_days(D(2025, 9, 29), 5) == D(2025, 10, 10)  # 9-29, 9-30, 10-04, 10-09, 10-10


def test_it_refuses_a_day_beyond_the_package_and_the_table_with_a_clear_message():
    with pytest.raises(CalendarError) as raised:
        is_working_day(D(2027, 1, 4))
    message = str(raised.value)
    assert "2027-01-04" in message and "2026 年" in message and "“工作日历”" in message
    assert raised.value.day == D(2027, 1, 4) and raised.value.covered_until == D(2026, 12, 31)


def test_it_refuses_a_notice_that_runs_past_the_calendar_rather_than_guessing_monday_to_friday():
    with pytest.raises(CalendarError) as raised:
        add_working_days(D(2026, 12, 28), 5)  # 12-28..12-31 are four working days; 2027 is unknown
    assert raised.value.day == D(2027, 1, 1)
    assert "2027-01-01" in str(raised.value)


def test_it_refuses_a_day_before_the_package():
    with pytest.raises(CalendarError, match="2003-06-02.*2004 年"):
        is_working_day(D(2003, 6, 2))


def test_it_covers_a_year_entered_in_the_table():
    CalendarDay.objects.create(day=D(2027, 1, 1), is_working_day=False, name="元旦")
    CalendarDay.objects.create(day=D(2027, 1, 2), is_working_day=False, name="元旦")
    assert covered_until() == D(2027, 12, 31)
    assert not is_working_day(D(2027, 1, 1))
    assert is_working_day(D(2027, 1, 4))  # not entered: an ordinary Monday of an entered year
    assert not is_working_day(D(2027, 1, 9))  # an ordinary Saturday
    assert add_working_days(D(2026, 12, 28), 5) == D(2027, 1, 4)
    with pytest.raises(CalendarError, match="2027 年"):
        add_working_days(D(2027, 12, 29), 5)  # into 2028, which nobody entered


def test_it_does_not_extend_the_coverage_over_a_missing_year():
    CalendarDay.objects.create(day=D(2028, 1, 1), is_working_day=False, name="元旦")
    assert covered_until() == D(2026, 12, 31)
    assert is_working_day(D(2028, 1, 3))
    with pytest.raises(CalendarError, match="2027-03-01.*2026 年"):
        is_working_day(D(2027, 3, 1))


def test_it_refuses_a_notice_of_no_working_days():
    with pytest.raises(ValueError):
        add_working_days(D(2025, 9, 29), 0)


def test_it_reads_the_table_once_per_call(django_assert_max_num_queries):
    CalendarDay.objects.create(day=D(2025, 10, 9), is_working_day=False, name="更正")
    CalendarDay.objects.create(day=D(2027, 1, 1), is_working_day=False, name="元旦")
    with django_assert_max_num_queries(1):
        assert add_working_days(D(2025, 9, 29), 5) == D(2025, 10, 13)
    with django_assert_max_num_queries(1):
        assert add_working_days(D(2025, 1, 2), 600).year == 2027  # through 2026 into the entered 2027
    with django_assert_max_num_queries(1):
        assert not is_working_day(D(2025, 10, 9))
    with django_assert_max_num_queries(1):
        assert covered_until() == D(2027, 12, 31)


# The table in the admin: national, every signed-in admin-site user reads it, only the national
# union's administrators write it.

ADD_URL = "admin:hardship_calendarday_add"
NEW_DAY = {"day": "2027-01-01", "name": "元旦", "note": "国务院办公厅2027年部分节假日安排的通知"}


def test_it_lets_a_national_admin_enter_a_day_and_keeps_it_in_the_history(client_for, national_admin):
    response = client_for(national_admin).post(reverse(ADD_URL), NEW_DAY)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    entered = CalendarDay.objects.get(day=D(2027, 1, 1))
    assert (entered.name, entered.is_working_day) == ("元旦", False)
    assert entered.events.filter(pgh_label="insert").count() == 1
    assert not is_working_day(D(2027, 1, 1))


def test_it_lets_a_national_admin_change_and_delete_a_day(client_for, national_admin):
    entered = CalendarDay.objects.create(day=D(2027, 2, 6), is_working_day=False, name="春节")
    client = client_for(national_admin)
    response = client.post(reverse("admin:hardship_calendarday_change", args=[entered.pk]),
                           {"day": "2027-02-06", "name": "春节调休上班", "is_working_day": "on", "note": ""})
    assert response.status_code == 302
    entered.refresh_from_db()
    assert entered.is_working_day and entered.name == "春节调休上班"
    response = client.post(reverse("admin:hardship_calendarday_delete", args=[entered.pk]), {"post": "yes"})
    assert response.status_code == 302 and not CalendarDay.objects.exists()
    labels = set(CalendarDay.pgh_event_model.objects.filter(pgh_obj_id=entered.pk).values_list("pgh_label", flat=True))
    assert labels == {"insert", "update", "delete"}


def test_it_lets_a_county_admin_read_but_not_write_the_calendar(client_for, county_admin):
    entered = CalendarDay.objects.create(day=D(2027, 2, 6), is_working_day=False, name="春节")
    client = client_for(county_admin)
    assert client.get(reverse("admin:hardship_calendarday_changelist")).status_code == 200
    change_url = reverse("admin:hardship_calendarday_change", args=[entered.pk])
    assert client.get(change_url).status_code == 200  # read-only
    assert client.get(reverse(ADD_URL)).status_code == 403
    assert client.post(reverse(ADD_URL), NEW_DAY).status_code == 403
    assert client.post(change_url, {"day": "2027-02-06", "name": "改", "is_working_day": "on"}).status_code == 403
    delete_url = reverse("admin:hardship_calendarday_delete", args=[entered.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert list(CalendarDay.objects.values_list("day", "name", "is_working_day")) == [(D(2027, 2, 6), "春节", False)]
    assert not county_admin.has_perm("hardship.add_calendarday")
    assert county_admin.has_perm("hardship.view_calendarday")


def test_it_keeps_caseworkers_out_of_the_calendar_admin_but_lets_them_read_it(client_for, caseworker):
    client = client_for(caseworker)
    for response in (client.get(reverse("admin:hardship_calendarday_changelist")),
                     client.post(reverse(ADD_URL), NEW_DAY)):
        assert response.status_code == 302 and "login" in response["Location"]
    assert not CalendarDay.objects.exists()
    assert caseworker.has_perm("hardship.view_calendarday")
    assert not caseworker.has_perm("hardship.add_calendarday")


def test_it_gives_no_calendar_rights_to_a_national_caseworker_or_supervisor(unions):
    from hardship.models import Role
    from tests.factories import UserFactory

    for role in (Role.CASEWORKER, Role.SUPERVISOR, Role.AUDITOR):
        user = UserFactory(username=f"national-{role}", role=role, home_union=unions["100000"])
        assert user.has_perm("hardship.view_calendarday")
        assert not any(user.has_perm(f"hardship.{action}_calendarday") for action in ("add", "change", "delete"))
