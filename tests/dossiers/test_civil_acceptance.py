"""Who works a civil-affairs 低保 roster: a roster belongs to the union it was uploaded for, the caseworkers at
and below it see it and accept its differences (each those of their own files), the page tells anyone else who
may, and accepted rows keep a tab of their own."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dossiers import civil
from dossiers.choices import Status
from dossiers.legacy.models import CivilRoster, CivilRosterEntry
from dossiers.models import Household, RegisterEvent
from hardship.models import Role, Union
from tests.dossiers.conftest import new_id_number
from tests.dossiers.test_civil_matching import HEADER, detail, upload, xlsx
from tests.dossiers.test_register_rules import race
from tests.factories import UnionFactory, UserFactory

pytestmark = pytest.mark.django_db


def head(household):
    return household.members.get(is_primary=True)


def row(household, amount, status="在保") -> list:
    person = head(household)
    return [1, person.name, person.id_number, status, amount]


def roster_by(client, rows: list[list]) -> CivilRoster:
    assert upload(client, xlsx([HEADER, *rows])).status_code == 302
    return CivilRoster.objects.latest("pk")


def accept(client, roster, entry):
    return client.post(reverse("dossiers:civil_accept", args=[roster.pk, entry.pk]))


@pytest.fixture
def station_worker(unions):
    """A caseworker of the 林山寨 help station, below the 中原区 help centre."""
    return UserFactory(username="station", role=Role.CASEWORKER, home_union=unions["410102-S01"], full_name="郭丽")


@pytest.fixture
def files(make_household, caseworker, unions):
    return {
        "centre": make_household(by=caseworker, union=unions["410102-C01"]),
        "station": make_household(by=caseworker, union=unions["410102-S01"]),
    }


@pytest.fixture
def county_roster(client_for, county_admin, files) -> CivilRoster:
    """The 中原区 admin's roster: both files now on 低保, and one person on no file."""
    stranger, _birth = new_id_number()
    return roster_by(client_for(county_admin), [row(files["centre"], 500), row(files["station"], 650),
                                                [3, "无档案人", stranger, "在保", 480]])


def test_it_lets_the_caseworkers_below_a_county_roster_see_and_accept_it(client_for, county_roster, caseworker,
                                                                        files):
    assert county_roster.union.code == "410102"  # the admin's home union, above the caseworker's
    client = client_for(caseworker)
    listed = client.get(reverse("dossiers:civil_list")).context["page"].rows
    assert [(r.pk, r.matched_count, r.pending_count, r.accepted_count) for r in listed] == [
        (county_roster.pk, 2, 2, 0)]
    response = detail(client, county_roster)
    assert response.status_code == 200 and response.context["can_accept"]
    page = response.content.decode()
    assert "不能采纳" not in page
    assert page.count(reverse("dossiers:civil_detail", args=[county_roster.pk]) + "entries/") == 2  # two buttons

    entry = county_roster.entries.get(household=files["centre"])
    assert accept(client, county_roster, entry).status_code == 302
    centre = Household.objects.get(pk=files["centre"].pk)
    assert (centre.receives_dibao, centre.dibao_amount) == (True, Decimal("500.00"))
    assert RegisterEvent.objects.get(household=centre, transition="civil_match").actor == caseworker


def test_it_tells_an_admin_why_not_and_who_may_accept(client_for, county_roster, county_admin, caseworker,
                                                      station_worker, outsider):
    response = detail(client_for(county_admin), county_roster)
    assert response.status_code == 200 and not response.context["can_accept"]
    assert response.context["acceptors"] == [caseworker, station_worker]  # not the sibling county's
    page = response.content.decode()
    assert "您的角色是系统管理员：可以查看比对结果，但不能采纳。" in page
    assert "王芳" in page and "郭丽" in page and "林山寨街道帮扶站" in page and "李强" not in page
    assert "civil_accept" not in page and "/accept/" not in page  # no button that would only answer 403


def test_it_says_so_when_nobody_may_accept(client_for, county_roster, county_admin, caseworker, station_worker):
    for user in (caseworker, station_worker):
        user.is_active = False
        user.save()
    response = detail(client_for(county_admin), county_roster)
    assert response.context["acceptors"] == []
    assert "还没有帮扶工作人员账号，差异无人能采纳" in response.content.decode()


def test_it_names_a_few_acceptors_and_counts_the_rest(client_for, county_roster, county_admin, unions, monkeypatch):
    monkeypatch.setattr("dossiers.civil_views.NAMED_ACCEPTORS", 2)
    for n in range(3):
        UserFactory(username=f"cw{n}", role=Role.CASEWORKER, home_union=unions["410102-C01"])
    response = detail(client_for(county_admin), county_roster)
    assert (len(response.context["acceptors"]), response.context["more_acceptors"]) == (2, 2)  # and 王芳
    assert "另有 2 人" in response.content.decode()


def test_it_shows_a_caseworker_below_only_her_own_files(client_for, county_roster, station_worker, files):
    client = client_for(station_worker)
    response = detail(client, county_roster)
    assert response.context["work_union"] == station_worker.home_union
    assert [e.household_id for e in response.context["page"].rows] == [files["station"].pk]
    counts = response.context["counts"]
    assert (counts["differences"], counts["unmatched"], counts["entries"]) == (1, 1, 3)
    page = response.content.decode()
    assert files["centre"].file_number not in page and "这里只显示林山寨街道帮扶站及其下属单位的档案" in page
    [listed] = client.get(reverse("dossiers:civil_list")).context["page"].rows
    assert (listed.matched_count, listed.pending_count) == (1, 1)

    theirs = county_roster.entries.get(household=files["centre"])
    assert accept(client, county_roster, theirs).status_code == 404
    assert client.post(reverse("dossiers:civil_accept_all", args=[county_roster.pk])).status_code == 302
    assert CivilRosterEntry.objects.get(pk=theirs.pk).accepted_at is None
    assert county_roster.entries.get(household=files["station"]).accepted_by == station_worker


def test_it_hides_a_county_roster_from_the_sibling_county_and_other_roles(client_for, county_roster, outsider,
                                                                         supervisor, auditor):
    entry = county_roster.entries.first()
    client = client_for(outsider)
    assert detail(client, county_roster).status_code == 404
    assert accept(client, county_roster, entry).status_code == 404
    assert client.post(reverse("dossiers:civil_accept_all", args=[county_roster.pk])).status_code == 404
    assert client.get(reverse("dossiers:civil_list")).context["page"].rows == []
    for user in (supervisor, auditor):
        assert detail(client_for(user), county_roster).status_code == 403
        assert accept(client_for(user), county_roster, entry).status_code == 403
    assert not CivilRosterEntry.objects.filter(accepted_at__isnull=False).exists()


def test_it_keeps_a_station_roster_from_the_caseworkers_beside_it(client_for, make_household, station_worker,
                                                                 caseworker, unions):
    """A roster uploaded at the help station is its own: the help centre above sees it, a unit beside it not."""
    other_station = UnionFactory(code="410102-S02", name="棉纺路街道帮扶站", kind=Union.Kind.HELP_STATION,
                                 parent=unions["410102-C01"], region=unions["410102"].region)
    beside = UserFactory(username="beside", role=Role.CASEWORKER, home_union=other_station)
    mine = make_household(by=caseworker, union=unions["410102-S01"])
    roster = roster_by(client_for(station_worker), [row(mine, 300)])
    assert roster.union == unions["410102-S01"]
    assert detail(client_for(caseworker), roster).status_code == 200
    assert civil.visible_rosters(station_worker).get() == roster
    assert not civil.visible_rosters(beside).exists()
    assert detail(client_for(beside), roster).status_code == 404


def test_it_moves_an_accepted_row_to_its_own_tab_with_who_and_when(client_for, county_roster, caseworker, files):
    client = client_for(caseworker)
    entry = county_roster.entries.get(household=files["centre"])
    accept(client, county_roster, entry)
    assert entry.pk not in [e.pk for e in detail(client, county_roster).context["page"].rows]
    assert entry.pk not in [e.pk for e in detail(client, county_roster, "consistent").context["page"].rows]
    response = detail(client, county_roster, "accepted")
    [shown] = response.context["page"].rows
    assert (shown.pk, shown.accepted_by, shown.differs_now) == (entry.pk, caseworker, False)
    page = response.content.decode()
    accepted_at = timezone.localtime(CivilRosterEntry.objects.get(pk=entry.pk).accepted_at)
    assert f"王芳 于 {accepted_at:%Y-%m-%d %H:%M} 采纳" in page
    assert response.context["counts"]["accepted"] == 1

    Household.objects.filter(pk=files["centre"].pk).update(dibao_amount=Decimal("520.00"))  # changed again
    [shown] = detail(client, county_roster, "accepted").context["page"].rows
    assert shown.differs_now
    assert "采纳后档案又有改动，现与名册不一致" in detail(client, county_roster, "accepted").content.decode()
    assert accept(client, county_roster, entry).status_code == 302  # accepted once: nothing more happens
    assert Household.objects.get(pk=files["centre"].pk).dibao_amount == Decimal("520.00")
    assert RegisterEvent.objects.filter(transition="civil_match").count() == 1


def test_it_accepts_all_past_a_file_closed_since_the_upload(client_for, make_household, caseworker, county_admin,
                                                           unions, walk):
    closing = walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.EXIT_PROPOSED)
    open_file = make_household(by=caseworker, union=unions["410102-C01"])
    roster = roster_by(client_for(county_admin), [row(closing, 500), row(open_file, 600)])
    walk(closing, Status.EXITED)
    client = client_for(caseworker)
    response = client.post(reverse("dossiers:civil_accept_all", args=[roster.pk]), follow=True)
    assert response.status_code == 200
    notes = [str(message) for message in response.context["messages"]]
    assert "已采纳 1 条差异。" in notes and "还有 1 条差异没有采纳：它们的档案已办结，不能再修改。" in notes
    assert "已办结（已脱困），不能修改" in response.content.decode()
    assert Household.objects.get(pk=open_file.pk).dibao_amount == Decimal("600.00")
    assert not RegisterEvent.objects.filter(household=closing, transition="civil_match").exists()


def test_it_keeps_the_pages_queries_constant_for_an_admin(client_for, county_admin, make_household, caseworker,
                                                          unions, django_assert_max_num_queries):
    client = client_for(county_admin)
    many = [make_household(by=caseworker, union=unions["410102-C01"]) for _ in range(5)]
    roster = roster_by(client, [row(household, 400 + n) for n, household in enumerate(many)])
    for n in range(12):
        UserFactory(username=f"cw{n}", role=Role.CASEWORKER, home_union=unions["410102-C01"])
    for show in ("differences", "accepted", "consistent", "unmatched", "not_on_roster"):
        with django_assert_max_num_queries(14):  # a caseworker's page, and the acceptors named and counted
            assert detail(client, roster, show).status_code == 200
    with django_assert_max_num_queries(8):
        client.get(reverse("dossiers:civil_list"))


# --- at once ---------------------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_it_accepts_once_when_two_caseworkers_click_at_once(county_roster, caseworker, reviewer, files):
    entry = county_roster.entries.get(household=files["centre"])
    people = (caseworker, reviewer)

    results = race(2, lambda i: civil.accept_match(entry, by=people[i]))

    assert sorted(isinstance(result, RegisterEvent) for result in results) == [False, True], results
    assert [result for result in results if not isinstance(result, RegisterEvent)] == [None]
    assert RegisterEvent.objects.filter(household=files["centre"], transition="civil_match").count() == 1
    assert CivilRosterEntry.objects.get(pk=entry.pk).accepted_by in people


@pytest.mark.django_db(transaction=True)
def test_it_accepts_each_difference_once_when_accept_all_runs_twice_at_once(county_roster, caseworker, reviewer,
                                                                            files):
    people = (caseworker, reviewer)

    results = race(2, lambda i: civil.accept_all_differences(CivilRoster.objects.get(pk=county_roster.pk),
                                                             by=people[i]))

    assert sorted(results) in ([0, 2], [1, 1]), results
    assert RegisterEvent.objects.filter(transition="civil_match").count() == 2
    assert not county_roster.entries.filter(household__isnull=False, accepted_at__isnull=True).exists()
