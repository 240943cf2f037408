"""The auditor's home page: the audit trail of their subtree (changes to files and members, register steps, imports
and roster uploads, revealed ID numbers and exports, units and accounts), filtered by who, what and Beijing dates,
50 rows a page, each row linking to its object; nobody else's subtree and no other role."""

from __future__ import annotations

import datetime

import pghistory
import pytest
import time_machine
from django.urls import reverse

from dossiers.choices import Status
from dossiers.legacy.models import CivilRoster, ImportBatch
from hardship.models import AccessRecord, Role
from reporting.audit import PAGE_SIZE, Filters, trail_page
from tests.dossiers.conftest import at_beijing
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def trail(client, **params):
    response = client.get(reverse("home"), params)
    assert response.status_code == 200
    return response


def rows(client, **params) -> list:
    return trail(client, **params).context["events"]


def reveal(user, union, subject: str) -> AccessRecord:
    return AccessRecord.objects.create(user=user, action=AccessRecord.Action.REVEAL, union=union, subject=subject)


def request_by(user):
    """The history context a request of the user sets. Inside a test's one transaction it stays on every later write
    (pghistory sets it per transaction), so a test that uses it makes every later write in a context of its own."""
    return pghistory.context(user=user.pk, url="/")


@pytest.fixture
def files(make_household, caseworker, outsider, unions, walk, county_admin):
    """A 中原区 file walked to 初审 with an edited member and a revealed ID number, its county's import batch and
    roster, a renamed station, an edited account; and a 金水区 file."""
    zhongyuan = make_household(by=caseworker, union=unions["410102-C01"])
    walk(zhongyuan, Status.FIRST_REVIEWED)
    jinshui = make_household(by=outsider, union=unions["410105-C01"])
    reveal(caseworker, zhongyuan.union, f"{zhongyuan.file_number} 李秀英 410102********0000")
    batch = ImportBatch.objects.create(union=unions["410102"], uploaded_by=county_admin, file_name="旧台账.xlsx",
                                       sha256="0" * 64, size=1, state=ImportBatch.State.DONE,
                                       report={"households_created": 3, "rejected_rows_total": 1})
    CivilRoster.objects.create(union=unions["410102-C01"], uploaded_by=caseworker, file_name="低保名册.xlsx",
                               total_rows=9)
    with request_by(caseworker):
        member = zhongyuan.members.get(is_primary=False)
        member.employer = "郑州市第二纺织厂"
        member.save()
    with request_by(county_admin):
        station = unions["410102-S01"]
        station.name = "林山寨街道帮扶工作站"
        station.save()
    with request_by(county_admin):
        caseworker.phone = "13800002222"
        caseworker.save()
    return {"zhongyuan": zhongyuan, "jinshui": jinshui, "batch": batch}


def test_it_shows_every_kind_of_record_in_the_subtree_with_a_link_to_it(client_for, auditor, files, caseworker):
    shown = rows(client_for(auditor))
    by_kind = {}
    for row in shown:
        by_kind.setdefault(row.kind, []).append(row)

    assert set(by_kind) == {"档案信息", "家庭成员", "档案流转", "导入与比对", "查看与导出", "单位与用户", "低保标准"}
    file_url = reverse("dossiers:detail", args=[files["zhongyuan"].file_number])
    assert {row.link for row in by_kind["档案流转"]} == {file_url}
    assert file_url in {row.link for row in by_kind["档案信息"]}
    assert file_url in {row.link for row in by_kind["家庭成员"]}
    assert any(row.summary == "初审通过" and row.actor.username == "reviewer" for row in by_kind["档案流转"])
    member = next(row for row in by_kind["家庭成员"] if row.subject == "家庭成员：李秀英（配偶）" and not row.initial)
    assert member.actor == caseworker and [(c.field, c.new) for c in member.changes] == [("工作单位或学校",
                                                                                          "郑州市第二纺织厂")]
    assert reverse("admin:dossiers_importbatch_batch", args=[files["batch"].pk]) in {
        row.link for row in by_kind["导入与比对"]}
    assert reverse("admin:hardship_user_change", args=[caseworker.pk]) in {row.link for row in by_kind["单位与用户"]}
    assert reverse("union_detail", args=["410102-S01"]) in {row.link for row in by_kind["单位与用户"]}
    assert [row.link for row in by_kind["查看与导出"]] == [file_url]
    assert any(row.link == reverse("dossiers:detail", args=[files["jinshui"].file_number]) for row in shown)


def test_it_opens_each_linked_object_for_the_auditor(client_for, auditor, files):
    client = client_for(auditor)
    links = {row.link for row in rows(client) if row.link}

    assert len(links) >= 5
    for link in links:
        assert client.get(link).status_code == 200, link


def test_it_filters_by_who_by_user_name_or_full_name(client_for, auditor, files, reviewer):
    client = client_for(auditor)

    assert {row.actor for row in rows(client, who="reviewer")} == {reviewer}
    assert {row.actor for row in rows(client, who="赵敏")} == {reviewer}
    assert rows(client, who="nobody-at-all") == []


def test_it_filters_by_kind(client_for, auditor, files):
    client = client_for(auditor)

    for kind, label in (("register", "档案流转"), ("access", "查看与导出"), ("import", "导入与比对")):
        assert {row.kind for row in rows(client, kind=kind)} == {label}
    assert len(rows(client, kind="import")) == 2  # the import batch and the roster


@pytest.mark.parametrize("hour", [23, 0])
def test_it_filters_by_beijing_dates_around_midnight(client_for, auditor, caseworker, unions, hour):
    """A record at 23:30 belongs to its Beijing day, one at 00:30 to the next, though both fall on one UTC day."""
    day = datetime.date(2026, 3, 10)
    late, early = at_beijing(day, 23, 30), at_beijing(day + datetime.timedelta(days=1), 0, 30)
    for moment, subject in ((late, "晚上查看"), (early, "凌晨查看")):
        with time_machine.travel(moment, tick=False):
            reveal(caseworker, unions["410102-C01"], subject)
    with time_machine.travel(at_beijing(day + datetime.timedelta(days=1), hour, 30), tick=False):
        client = client_for(auditor)

        def subjects(date_from, date_to) -> list[str]:
            return [row.subject for row in rows(client, kind="access", date_from=date_from, date_to=date_to)]

        assert subjects(day, day) == ["晚上查看"]
        assert subjects(day + datetime.timedelta(days=1), day + datetime.timedelta(days=1)) == ["凌晨查看"]
        assert subjects(day, day + datetime.timedelta(days=1)) == ["凌晨查看", "晚上查看"]
        assert subjects(day, "") == ["凌晨查看", "晚上查看"] and subjects("", day) == ["晚上查看"]


def test_it_refuses_an_end_date_before_the_start_date(client_for, auditor, files):
    response = trail(client_for(auditor), date_from="2026-03-10", date_to="2026-03-09")

    assert response.context["page"] is None and response.context["events"] == []
    assert "截止日期不能早于起始日期。" in response.content.decode()


def test_it_pages_fifty_rows_at_a_time(client_for, auditor, caseworker, unions):
    for number in range(2 * PAGE_SIZE + 7):
        reveal(caseworker, unions["410102-C01"], f"记录 {number:03d}")
    client = client_for(auditor)

    pages = [trail(client, kind="access", page=number).context["page"] for number in (1, 2, 3, 9, "x")]

    assert [len(page.rows) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 7, 7, PAGE_SIZE]
    assert pages[0].total == 2 * PAGE_SIZE + 7 and pages[0].last == 3 and pages[3].number == 3
    assert pages[0].rows[0].subject == f"记录 {2 * PAGE_SIZE + 6:03d}" and pages[2].rows[-1].subject == "记录 000"
    seen = [row.subject for page in pages[:3] for row in page.rows]
    assert len(set(seen)) == len(seen) == 2 * PAGE_SIZE + 7
    assert "kind=access&amp;page=2" in trail(client, kind="access").content.decode()


def test_it_keeps_the_trail_to_the_auditors_subtree(client_for, files, unions):
    jinshui = UserFactory(username="jinshui-auditor", role=Role.AUDITOR, home_union=unions["410105"])
    hubei = UserFactory(username="hubei-auditor", role=Role.AUDITOR, home_union=unions["420000"])
    zhongyuan_file = reverse("dossiers:detail", args=[files["zhongyuan"].file_number])

    seen = rows(client_for(jinshui))
    assert seen and zhongyuan_file not in {row.link for row in seen}
    assert not any("410102" in row.subject or "旧台账" in row.subject for row in seen)
    hubei_rows = rows(client_for(hubei))
    assert hubei_rows and {row.kind for row in hubei_rows} == {"单位与用户"}  # its own units, nothing of 河南
    assert not any("河南" in row.subject or "郑州" in row.subject or "410" in row.link for row in hubei_rows)
    assert rows(client_for(hubei), who="caseworker") == []
    assert trail_page(hubei, Filters(kind="household"), 1).total == 0


@pytest.mark.parametrize("role", ["caseworker", "supervisor", "county_admin"])
def test_it_gives_other_roles_their_own_home_page(request, client_for, files, role):
    response = client_for(request.getfixturevalue(role)).get(reverse("home"), {"kind": "access"})

    assert "events" not in response.context and "审计首页" not in response.content.decode()


def test_it_reloads_the_filters_and_the_trail_alone_for_htmx(client_for, auditor, files):
    response = client_for(auditor).get(reverse("home"), {"kind": "register"}, headers=HTMX)

    page = response.content.decode()
    assert page.lstrip().startswith('<div id="trail">') and "<html" not in page
    assert "初审通过" in page and 'value="register" selected' in page


def test_it_reads_each_page_in_a_bounded_number_of_queries(client_for, auditor, files, make_household, caseworker,
                                                           county_admin, unions, walk, django_assert_max_num_queries):
    """One query for the page's keys, one for the total, one per source on the page and one per kind of record
    the page names: never one per row. Pages of one kind read the same number of queries for few rows or many."""
    client = client_for(auditor)
    pages = [{}, {"page": 2}, {"who": "caseworker"}, {"kind": "household"}, {"kind": "member"},
             {"kind": "register"}, {"kind": "access"}, {"kind": "import"}]

    def counts() -> list[int]:
        measured = []
        for params in pages:
            trail(client, **params)  # warm the per-process caches
            with django_assert_max_num_queries(20) as captured:
                trail(client, **params)
            measured.append(len(captured))
        return measured

    few = counts()
    for number in range(30):
        with request_by(caseworker):
            household = make_household(by=caseworker, union=unions["410102-S01" if number % 2 else "410102-C01"])
        with request_by(caseworker):
            walk(household, Status.SUBMITTED)
        reveal(caseworker, household.union, f"{household.file_number} 张建国 410102********0000")
        ImportBatch.objects.create(union=unions["410102"], uploaded_by=county_admin, file_name=f"台账{number}.xlsx",
                                   sha256="0" * 64, size=1)
    many = counts()

    assert [len(rows(client, **params)) for params in pages[:2]] == [PAGE_SIZE, PAGE_SIZE]
    assert many[3:] == few[3:]


def test_it_shows_the_standards_added_for_the_regions_of_the_subtree(client_for, auditor, files, unions, county_admin):
    from dossiers.models import LocalStandard
    from hardship.models import Region

    with request_by(county_admin):
        LocalStandard.objects.create(region=Region.objects.get(code="410102"), effective_from=datetime.date(2026, 7, 1),
                                     poverty_line="880.00", min_wage="2100.00", source="中原区民政局文件")
    jinshui = UserFactory(username="jinshui-auditor", role=Role.AUDITOR, home_union=unions["410105"])
    hubei = UserFactory(username="hubei-auditor", role=Role.AUDITOR, home_union=unions["420000"])

    added = [row for row in rows(client_for(auditor), kind="standard") if "2026-07-01" in row.subject]
    assert len(added) == 1 and added[0].kind == "低保标准" and added[0].actor == county_admin
    assert any(change.new == "880.00 元" for change in added[0].changes)
    assert not [row for row in rows(client_for(jinshui), kind="standard") if "2026-07-01" in row.subject]
    assert rows(client_for(hubei), kind="standard") == []
