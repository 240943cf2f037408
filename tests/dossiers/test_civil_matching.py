"""Civil-affairs 低保 roster matching (数据比对): reading rosters, matching them against the files in the
user's subtree, the result page, and accepting a match into a file."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers import civil
from dossiers.choices import Status
from dossiers.legacy.models import CivilRoster, CivilRosterEntry
from dossiers.legacy.reading import UnreadableFile
from dossiers.models import Household, RegisterEvent
from hardship import idnumbers
from hardship.history import file_history
from tests.dossiers import legacy_files as lf
from tests.dossiers.conftest import default_members, new_id_number

pytestmark = pytest.mark.django_db

HEADER = ["序号", "姓名", "身份证号码", "低保状态", "月保障金额（元）"]


def xlsx(rows: list[list], *, sheets: dict[str, list[list]] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "低保名册"
    for row in rows:
        sheet.append(row)
    for title, extra in (sheets or {}).items():
        other = workbook.create_sheet(title)
        for row in extra:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], *, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def person(household, *, primary: bool = True):
    return household.members.get(is_primary=primary)


def upload(client, data: bytes, name: str = "名册.xlsx"):
    return client.post(reverse("dossiers:civil_upload"), {"file": SimpleUploadedFile(name, data)})


def roster_of(client, rows: list[list], name: str = "名册.xlsx") -> CivilRoster:
    response = upload(client, xlsx([HEADER, *rows]), name)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    return CivilRoster.objects.latest("pk")


def detail(client, roster, show: str = "differences", **params):
    return client.get(reverse("dossiers:civil_detail", args=[roster.pk]), {"show": show, **params})


def accept_url(roster, entry) -> str:
    return reverse("dossiers:civil_accept", args=[roster.pk, entry.pk])


# --- reading ---------------------------------------------------------------------------------------------------

def test_it_reads_header_synonyms_and_messy_values():
    with_x, _birth = new_id_number()
    while not with_x.endswith("X"):
        with_x, _birth = new_id_number()
    plain, _birth = new_id_number()
    full_width = plain.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    data = xlsx([
        ["郑州市中原区城市低保名册"],
        ["保障对象姓名", "户主姓名", "公民身份号码", "是否享受低保", "低保金额（元）"],
        [" 张 三 ", "张三", with_x.lower().replace("x", " x "), "在保", "1,200元"],
        ["李四", "张三", f"  {full_width[:6]} {full_width[6:]}  ", "享受", "0.12万"],
        [None, None, None, None, None],
        ["合计", None, None, None, "2400"],
    ])
    parsed = civil.read_roster(data, "roster.xlsx")
    assert parsed.rejected == []
    assert parsed.total_rows == 2
    assert [(r.row, r.name, r.id_number, r.on_dibao, r.amount) for r in parsed.rows] == [
        (3, "张 三", with_x, True, Decimal("1200.00")),
        (4, "李四", plain, True, Decimal("1200.00")),
    ]


@pytest.mark.parametrize("status, on_dibao", [("停保", False), ("退保", False), ("否", False), ("是", True),
                                              ("在保", True), (" 保障中 ", True), ("×", False)])
def test_it_reads_the_status_words_of_civil_affairs_rosters(status, on_dibao):
    number, _birth = new_id_number()
    parsed = civil.read_roster(xlsx([["姓名", "身份证号", "保障状态", "保障金额"], ["王五", number, status, "560"]]),
                               "r.xlsx")
    assert [(r.on_dibao, r.amount) for r in parsed.rows] == [(on_dibao, Decimal("560.00") if on_dibao else 0)]


def test_it_treats_everyone_on_a_roster_without_status_column_as_on_dibao():
    number, _birth = new_id_number()
    parsed = civil.read_roster(xlsx([["姓名", "身份证号", "低保金"], ["王五", number, 480]]), "r.xlsx")
    assert parsed.rows[0].on_dibao is True and parsed.rows[0].amount == Decimal("480.00")


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_it_reads_csv_rosters_in_utf8_and_gbk(encoding):
    number, _birth = new_id_number()
    data = csv_bytes([["姓名", "身份证号码", "救助状态", "低保金额"], ["赵六", number, "在保", "¥650.00"]],
                     encoding=encoding)
    parsed = civil.read_roster(data, "民政名册.csv")
    assert [(r.name, r.id_number, r.amount) for r in parsed.rows] == [("赵六", number, Decimal("650.00"))]


def test_it_rejects_bad_rows_with_reasons_and_keeps_the_good_ones():
    good, _birth = new_id_number()
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    others = [new_id_number()[0] for _ in range(3)]
    data = xlsx([
        HEADER,
        [1, "甲", 4.10102198503071E+17, "在保", 500],
        [2, "乙", bad_check, "在保", 500],
        [3, "丙", good, "不知道", 500],
        [4, "丁", others[0], "在保", "五百"],
        [5, None, others[1], "在保", 500],
        [6, "戊", others[2], "在保", 500],
        [7, "戊", others[2], "在保", 500],
    ])
    parsed = civil.read_roster(data, "r.xlsx")
    assert [r.row for r in parsed.rows] == [7]
    reasons = {problem["row"]: problem for problem in parsed.rejected}
    assert set(reasons) == {2, 3, 4, 5, 6, 8}
    assert "科学计数法" in reasons[2]["reason"] and reasons[2]["column"] == "身份证号码"
    assert "校验位" in reasons[3]["reason"]
    assert reasons[4]["column"] == "低保状态" and "无法识别" in reasons[4]["reason"]
    assert reasons[5]["column"] == "月保障金额（元）" and "五百" in reasons[5]["reason"]
    assert reasons[6]["reason"] == "姓名不能为空"
    assert reasons[8]["reason"] == "身份证号码与第 7 行重复"
    assert parsed.total_rows == 7


@pytest.mark.parametrize("rows, message", [
    ([["序号", "工作单位"], [1, "某厂"]], "没有找到表头"),
    ([["姓名", "身份证号码", "低保状态"], ["甲", "410102198503070011", "在保"]], "低保金额"),
    ([HEADER, [None] * 5], "没有数据行"),
])
def test_it_refuses_a_roster_it_cannot_use(rows, message):
    with pytest.raises(civil.RosterError) as caught:
        civil.read_roster(xlsx(rows), "r.xlsx")
    assert message in caught.value.message


def test_it_refuses_a_roster_split_over_sheets():
    data = xlsx([HEADER, [1, "甲", new_id_number()[0], "在保", 500]],
                sheets={"二七区": [HEADER, [1, "乙", new_id_number()[0], "在保", 500]]})
    with pytest.raises(civil.RosterError, match="多个工作表"):
        civil.read_roster(data, "r.xlsx")


# --- matching --------------------------------------------------------------------------------------------------

@pytest.fixture
def files(make_household, caseworker, outsider, unions):
    """Two files of the caseworker's subtree and one of the sibling county."""
    return {
        "plain": make_household(by=caseworker, union=unions["410102-C01"]),
        "dibao": make_household(by=caseworker, union=unions["410102-S01"], receives_dibao=True,
                                dibao_amount=Decimal("600.00")),
        "theirs": make_household(by=outsider, union=unions["410105-C01"]),
    }


def test_it_matches_heads_and_members_in_scope_only(client_for, caseworker, files):
    plain, dibao, theirs = files["plain"], files["dibao"], files["theirs"]
    spouse, head, stranger = person(plain, primary=False), person(dibao), person(theirs)
    roster = roster_of(client_for(caseworker), [
        [1, spouse.name, spouse.id_number, "在保", 500],
        [2, head.name, head.id_number, "在保", "600"],
        [3, "外县人", stranger.id_number, "在保", 500],
    ])
    entries = {e.row: e for e in roster.entries.all()}
    assert (entries[2].household_id, entries[2].member_id) == (plain.pk, spouse.pk)
    assert (entries[3].household_id, entries[3].member_id) == (dibao.pk, head.pk)
    assert entries[4].household_id is None and entries[4].member_id is None
    assert roster.union == caseworker.home_union and roster.uploaded_by == caseworker
    assert Household.objects.get(pk=plain.pk).receives_dibao is False  # nothing changes until accepted
    assert not RegisterEvent.objects.filter(transition="civil_match").exists()


def test_it_shows_differences_both_ways_and_hides_what_is_out_of_scope(client_for, caseworker, files):
    plain, dibao, theirs = files["plain"], files["dibao"], files["theirs"]
    client = client_for(caseworker)
    spouse, stranger = person(plain, primary=False), person(theirs)
    roster = roster_of(client, [[1, spouse.name, spouse.id_number, "在保", 500],
                                [2, "外县人", stranger.id_number, "在保", 500]])
    response = detail(client, roster)
    assert response.context["counts"] == {
        "entries": 2, "differences": 1, "consistent": 0, "unmatched": 1, "accepted": 0, "not_on_roster": 1,
        "rejected": 0}
    assert [e.pk for e in response.context["page"].rows] == [roster.entries.get(row=2).pk]
    page = response.content.decode()
    assert plain.file_number in page and spouse.id_number not in page and idnumbers.mask(spouse.id_number) in page

    unmatched = detail(client, roster, "unmatched").content.decode()
    assert idnumbers.mask(stranger.id_number) in unmatched and "外县人" in unmatched
    assert stranger.id_number not in unmatched and theirs.file_number not in unmatched
    assert stranger.name not in unmatched

    missing = detail(client, roster, "not_on_roster")
    assert [h.pk for h in missing.context["page"].rows] == [dibao.pk]
    assert dibao.head_id_number not in missing.content.decode()


def test_it_counts_a_changed_amount_and_a_stopped_dibao_as_differences(client_for, caseworker, files):
    dibao = files["dibao"]
    head, spouse = person(dibao), person(dibao, primary=False)
    roster = roster_of(client_for(caseworker), [[1, head.name, head.id_number, "在保", 650]])
    assert civil.section_counts(roster, caseworker)["differences"] == 1
    assert civil.section_counts(roster, caseworker)["not_on_roster"] == 0
    stopped = roster_of(client_for(caseworker), [[1, spouse.name, spouse.id_number, "停保", None]])
    counts = civil.section_counts(stopped, caseworker)
    assert (counts["differences"], counts["not_on_roster"]) == (1, 1)
    same = roster_of(client_for(caseworker), [[1, head.name, head.id_number, "在保", "600元"],
                                              [2, spouse.name, spouse.id_number, "在保", None]])
    counts = civil.section_counts(same, caseworker)
    assert (counts["differences"], counts["consistent"]) == (0, 2)


def test_it_does_not_match_members_of_closed_files(client_for, caseworker, make_household, unions, walk):
    closed = walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.EXITED)
    head = person(closed)
    roster = roster_of(client_for(caseworker), [[1, head.name, head.id_number, "在保", 500]])
    assert roster.entries.get().household_id is None


# --- accepting -------------------------------------------------------------------------------------------------

def test_it_accepts_a_match_into_the_file_with_an_event_and_history(client_for, caseworker, files):
    plain = files["plain"]
    spouse = person(plain, primary=False)
    client = client_for(caseworker)
    roster = roster_of(client, [[1, spouse.name, spouse.id_number, "在保", "1,050"]], name="中原区低保名册.xlsx")
    entry = roster.entries.get()
    response = client.post(accept_url(roster, entry))
    assert response.status_code == 302
    plain.refresh_from_db()
    assert (plain.receives_dibao, plain.dibao_amount) == (True, Decimal("1050.00"))
    event = RegisterEvent.objects.get(household=plain, transition="civil_match")
    assert (event.actor, event.from_status, event.to_status) == (caseworker, plain.status, plain.status)
    assert event.reason == "民政比对：中原区低保名册.xlsx 第2行"
    assert event.data == {"roster": roster.pk, "row": 2, "on_dibao": True, "amount": "1050.00"}
    entry.refresh_from_db()
    assert entry.accepted_by == caseworker and entry.accepted_at is not None
    changed = {change.field for row in file_history(plain) for change in row.changes}
    assert {"享受低保", "低保金（元/月）"} <= changed
    counts = detail(client, roster).context["counts"]
    assert (counts["differences"], counts["consistent"], counts["accepted"]) == (0, 0, 1)  # its own tab


def test_it_accepts_twice_as_once(client_for, caseworker, files):
    dibao = files["dibao"]
    head = person(dibao)
    client = client_for(caseworker)
    roster = roster_of(client, [[1, head.name, head.id_number, "停保", None]])
    entry = roster.entries.get()
    for _ in range(2):
        assert client.post(accept_url(roster, entry)).status_code == 302
    dibao.refresh_from_db()
    assert (dibao.receives_dibao, dibao.dibao_amount) == (False, Decimal("0.00"))
    assert RegisterEvent.objects.filter(household=dibao, transition="civil_match").count() == 1
    assert civil.accept_match(entry, by=caseworker) is None


def test_it_accepts_all_differences_once_per_change(client_for, caseworker, files):
    plain, dibao = files["plain"], files["dibao"]
    spouse, head = person(plain, primary=False), person(dibao)
    client = client_for(caseworker)
    roster = roster_of(client, [[1, spouse.name, spouse.id_number, "在保", 500],
                                [2, person(plain).name, person(plain).id_number, "在保", None],
                                [3, head.name, head.id_number, "在保", 700]])
    assert client.post(reverse("dossiers:civil_accept_all", args=[roster.pk])).status_code == 302
    plain.refresh_from_db()
    dibao.refresh_from_db()
    assert (plain.receives_dibao, plain.dibao_amount, dibao.dibao_amount) == (True, Decimal("500.00"),
                                                                             Decimal("700.00"))
    assert RegisterEvent.objects.filter(transition="civil_match").count() == 2  # row 3 became moot
    client.post(reverse("dossiers:civil_accept_all", args=[roster.pk]))
    assert RegisterEvent.objects.filter(transition="civil_match").count() == 2


def test_it_refuses_to_change_a_closed_file(client_for, caseworker, make_household, unions, walk):
    household = walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.EXIT_PROPOSED)
    head = person(household)
    client = client_for(caseworker)
    roster = roster_of(client, [[1, head.name, head.id_number, "在保", 500]])
    walk(household, Status.EXITED)
    response = client.post(accept_url(roster, roster.entries.get()), follow=True)
    assert "不能再修改" in response.content.decode()
    household.refresh_from_db()
    assert household.receives_dibao is False
    assert not RegisterEvent.objects.filter(transition="civil_match").exists()
    assert roster.entries.get().accepted_at is None


def test_it_answers_404_for_an_unmatched_entry(client_for, caseworker, files):
    stranger = person(files["theirs"])
    client = client_for(caseworker)
    roster = roster_of(client, [[1, "外县人", stranger.id_number, "在保", 500]])
    assert client.post(accept_url(roster, roster.entries.get())).status_code == 404
    assert not RegisterEvent.objects.filter(transition="civil_match").exists()


# --- roles and scope -------------------------------------------------------------------------------------------

@pytest.fixture
def roster(client_for, caseworker, files) -> CivilRoster:
    spouse = person(files["plain"], primary=False)
    return roster_of(client_for(caseworker), [[1, spouse.name, spouse.id_number, "在保", 500]])


def test_it_refuses_acceptance_to_supervisors_and_admins(client_for, roster, supervisor, county_admin):
    entry = roster.entries.get()
    for user in (supervisor, county_admin):
        assert client_for(user).post(accept_url(roster, entry)).status_code == 403
        assert client_for(user).post(reverse("dossiers:civil_accept_all", args=[roster.pk])).status_code == 403
    assert CivilRosterEntry.objects.get(pk=entry.pk).accepted_at is None
    assert detail(client_for(county_admin), roster).status_code == 200  # an admin may review the result


def test_it_refuses_upload_to_auditors_and_supervisors(client_for, auditor, supervisor):
    data = xlsx([HEADER, [1, "甲", new_id_number()[0], "在保", 500]])
    for user in (auditor, supervisor):
        assert upload(client_for(user), data).status_code == 403
        assert client_for(user).get(reverse("dossiers:civil_list")).status_code == 403
    assert not CivilRoster.objects.exists()


def test_it_lets_an_admin_upload_and_match_in_scope(client_for, county_admin, files):
    spouse = person(files["plain"], primary=False)
    roster = roster_of(client_for(county_admin), [[1, spouse.name, spouse.id_number, "在保", 500]])
    assert roster.entries.get().household_id == files["plain"].pk


def test_it_answers_404_to_another_subtree(client_for, roster, outsider, unions):
    client = client_for(outsider)
    entry = roster.entries.get()
    assert detail(client, roster).status_code == 404
    assert client.post(accept_url(roster, entry)).status_code == 404
    assert client.post(reverse("dossiers:civil_accept_all", args=[roster.pk])).status_code == 404
    assert roster.pk not in [r.pk for r in client.get(reverse("dossiers:civil_list")).context["page"].rows]
    assert CivilRosterEntry.objects.get(pk=entry.pk).accepted_at is None


def test_it_answers_404_for_an_entry_of_another_roster(client_for, caseworker, roster, files):
    head = person(files["dibao"])
    other = roster_of(client_for(caseworker), [[1, head.name, head.id_number, "在保", 900]])
    assert client_for(caseworker).post(accept_url(roster, other.entries.get())).status_code == 404


# --- hostile files ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, name, message", [
    (b"", "名册.xlsx", "文件是空的"),
    (b"%PDF-1.7\n" + b"\x00" * 100, "名册.xlsx", "不是 Excel"),
    (b"PK\x03\x04" + b"garbage" * 50, "名册.xlsx", "损坏"),
    (xlsx([["序号", "备注"], [1, "无"]]), "名册.xlsx", "没有找到表头"),
    (lf.far_cells_xls(), "名册.xls", "表格范围过大"),  # 5 KB, eight sheets each reaching IV65536
])
def test_it_shows_unreadable_files_on_the_form_and_saves_nothing(client_for, caseworker, data, name, message):
    response = upload(client_for(caseworker), data, name)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors["file"])
    assert message in response.content.decode()
    assert not CivilRoster.objects.exists() and not CivilRosterEntry.objects.exists()


def test_the_reader_raises_unreadable_for_wrong_magic_bytes():
    with pytest.raises(UnreadableFile):
        civil.read_roster(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "roster.csv")


# --- pages -----------------------------------------------------------------------------------------------------

def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


def test_it_keeps_result_page_queries_constant(client_for, caseworker, make_household, unions):
    client = client_for(caseworker)

    def roster_with(n: int) -> CivilRoster:
        rows = []
        for index in range(n):
            household = make_household(by=caseworker, union=unions["410102-C01"], receives_dibao=True,
                                       members=default_members())
            rows += [[index, "张建国", person(household).id_number, "在保", 100 + index],
                     [index, "某人", new_id_number()[0], "在保", 300]]
        return roster_of(client, rows)

    small, large = roster_with(1), roster_with(6)
    from dossiers.civil_views import SECTION_LABELS

    for show in SECTION_LABELS:
        url = reverse("dossiers:civil_detail", args=[small.pk])
        before = count_queries(client, url, {"show": show})
        after = count_queries(client, reverse("dossiers:civil_detail", args=[large.pk]), {"show": show})
        assert after == before <= 12, show
    list_before = count_queries(client, reverse("dossiers:civil_list"))
    roster_with(2)
    assert count_queries(client, reverse("dossiers:civil_list")) == list_before <= 8


def test_it_lists_rosters_with_their_counts(client_for, caseworker, files):
    spouse = person(files["plain"], primary=False)
    client = client_for(caseworker)
    roster = roster_of(client, [[1, spouse.name, spouse.id_number, "在保", 500],
                                [2, "某人", new_id_number()[0], "在保", 300],
                                [3, "某人", "123", "在保", 300]])
    client.post(accept_url(roster, roster.entries.get(row=2)))
    [row] = client.get(reverse("dossiers:civil_list")).context["page"].rows
    assert (row.pk, row.entry_count, row.matched_count, row.accepted_count, row.rejected_count) == (
        roster.pk, 2, 1, 1, 1)


def test_it_links_the_page_from_the_caseworker_and_admin_homes(client_for, caseworker, county_admin):
    for user in (caseworker, county_admin):
        assert reverse("dossiers:civil_list") in client_for(user).get(reverse("home")).content.decode()
