"""The caseworker's pages: every page from the right and the wrong role and subtree."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers.choices import Status
from dossiers.models import Household
from hardship.models import AccessRecord
from tests.dossiers.conftest import default_members, new_member, search

pytestmark = pytest.mark.django_db


def detail_url(household) -> str:
    return reverse("dossiers:detail", args=[household.file_number])


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_it_lists_only_households_in_scope(client_for, make_household, caseworker, outsider, unions, supervisor):
    mine = make_household(by=caseworker, union=unions["410102-S01"])
    theirs = make_household(by=outsider, union=unions["410105-C01"])
    listed = {h.pk for h in client_for(caseworker).get(reverse("dossiers:list")).context["page"].rows}
    assert listed == {mine.pk}
    listed = {h.pk for h in client_for(supervisor).get(reverse("dossiers:list")).context["page"].rows}
    assert listed == {mine.pk, theirs.pk}


def test_it_masks_id_numbers_in_the_list(client_for, household, caseworker):
    page = client_for(caseworker).get(reverse("dossiers:list")).content.decode()
    assert household.head_id_number not in page
    assert household.masked_head_id in page


@pytest.mark.parametrize("field", ["id", "name", "file"])
def test_it_finds_a_household_by_id_number_name_or_file_number(client_for, household, caseworker, field):
    head = household.members.get(is_primary=True)
    text = {"id": head.id_number.lower().replace("x", "ｘ") + " ", "name": head.name[:1],
            "file": household.file_number}[field]
    rows = search(client_for(caseworker), {"q": text}).context["page"].rows
    assert [h.pk for h in rows] == [household.pk]


def test_it_finds_by_a_spouse_id_number_and_not_by_a_stranger(client_for, household, caseworker):
    spouse = household.members.get(is_primary=False)
    client = client_for(caseworker)
    assert [h.pk for h in search(client, {"q": spouse.id_number}).context["page"].rows] == [household.pk]
    assert not search(client, {"q": "11010519491231002X"}).context["page"].rows


def test_it_finds_a_member_by_full_name_in_the_users_subtree_only(client_for, make_household, caseworker, outsider,
                                                                  unions, supervisor):
    # 李秀英 is every default household's spouse: two here, one in another county.
    mine = [make_household(by=caseworker, union=unions["410102-C01"]) for _ in range(2)]
    theirs = make_household(by=outsider, union=unions["410105-C01"])
    make_household(by=caseworker, union=unions["410102-C01"], members=[new_member(name="王建军")])

    page = search(client_for(caseworker), {"q": "李秀英"}).context["page"]
    assert {h.pk for h in page.rows} == {h.pk for h in mine} and (page.total, page.capped) == (2, False)
    page = search(client_for(supervisor), {"q": "李秀英"}).context["page"]
    assert {h.pk for h in page.rows} == {*(h.pk for h in mine), theirs.pk} and page.total == 3


def test_it_counts_the_matches_of_a_search_beyond_one_page(client_for, make_household, caseworker, unions):
    for _ in range(27):
        make_household(by=caseworker, union=unions["410102-C01"])
    client = client_for(caseworker)
    first = search(client, {"q": "李秀英"}).context["page"]
    assert (len(first.rows), first.total, first.has_next, first.last) == (25, 27, True, 2)
    second = search(client, {"q": "李秀英", "page": 2}).context["page"]
    assert (len(second.rows), second.total, second.has_next) == (2, 27, False)
    beyond = search(client, {"q": "李秀英", "page": 5}).context["page"]
    assert (beyond.rows, beyond.total) == ([], 27)


def test_it_filters_by_status_and_saved_view(client_for, make_household, caseworker, unions, walk):
    draft = make_household(by=caseworker, union=unions["410102-C01"])
    in_notice = walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.IN_NOTICE)
    client = client_for(caseworker)
    assert [h.pk for h in client.get(reverse("dossiers:list"),
                                     {"status": "draft"}).context["page"].rows] == [draft.pk]
    assert [h.pk for h in client.get(reverse("dossiers:list"),
                                     {"view": "in_notice"}).context["page"].rows] == [in_notice.pk]


def test_it_keeps_list_queries_constant(client_for, make_household, caseworker, unions):
    client = client_for(caseworker)
    make_household(by=caseworker, union=unions["410102-C01"])
    before = count_queries(client, reverse("dossiers:list"))
    for _ in range(6):
        make_household(by=caseworker, union=unions["410102-S01"])
    assert count_queries(client, reverse("dossiers:list")) == before <= 8


def test_it_keeps_detail_queries_constant(client_for, make_household, caseworker, unions, walk):
    client = client_for(caseworker)
    small = walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
    members = [*default_members(), *(new_member(relationship="child", name=f"子女{n}") for n in range(4))]
    large = walk(make_household(by=caseworker, union=unions["410102-C01"], members=members), Status.REGISTERED)
    assert count_queries(client, detail_url(small)) == count_queries(client, detail_url(large)) <= 30


def test_it_answers_404_for_a_household_of_a_sibling_county(client_for, household, outsider):
    client = client_for(outsider)
    for url in (detail_url(household), reverse("dossiers:edit", args=[household.file_number]),
                reverse("dossiers:history", args=[household.file_number]),
                reverse("dossiers:print", args=[household.file_number]),
                reverse("dossiers:transition", args=[household.file_number, "submit"])):
        assert client.get(url).status_code == 404
    member = household.members.first()
    assert client.post(reverse("dossiers:reveal", args=[household.file_number, member.pk])).status_code == 404


def test_it_refuses_editing_to_supervisors_and_auditors(client_for, household, supervisor, auditor):
    for user in (supervisor, auditor):
        assert client_for(user).get(detail_url(household)).status_code == 200
        assert client_for(user).get(reverse("dossiers:edit", args=[household.file_number])).status_code == 403


def test_it_refuses_new_files_to_non_caseworkers(client_for, supervisor, county_admin):
    for user in (supervisor, county_admin):
        assert client_for(user).get(reverse("dossiers:create")).status_code == 403


def test_it_reveals_an_id_number_only_on_request_and_records_it(client_for, household, caseworker):
    member = household.members.get(is_primary=True)
    client = client_for(caseworker)
    assert member.id_number not in client.get(detail_url(household)).content.decode()
    response = client.post(reverse("dossiers:reveal", args=[household.file_number, member.pk]))
    assert member.id_number in response.content.decode()
    record = AccessRecord.objects.get(action=AccessRecord.Action.REVEAL)
    assert record.user == caseworker and household.file_number in record.subject
    assert member.id_number not in record.subject


def test_it_does_not_reveal_to_an_admin(client_for, household, county_admin):
    member = household.members.first()
    response = client_for(county_admin).post(reverse("dossiers:reveal", args=[household.file_number, member.pk]))
    assert response.status_code == 404  # 三员分立: the files do not exist for the system administrator


def test_it_moves_a_file_through_a_transition_with_a_reason(client_for, household, caseworker, reviewer):
    register_url = reverse("dossiers:transition", args=[household.file_number, "submit"])
    assert client_for(caseworker).post(register_url, {"reason": "", "version": 0}).status_code == 302
    url = reverse("dossiers:transition", args=[household.file_number, "return_for_correction"])
    response = client_for(reviewer).post(url, {"reason": "", "version": 1})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    client_for(reviewer).post(url, {"reason": "缺少工资流水", "version": 1})
    household.refresh_from_db()
    assert household.status == Status.RETURNED
    assert household.register_events.first().reason == "缺少工资流水"


def test_it_shows_why_a_transition_is_refused(client_for, household, caseworker):
    url = reverse("dossiers:transition", args=[household.file_number, "submit"])
    client_for(caseworker).post(url, {"reason": "", "version": 0})
    response = client_for(caseworker).post(url, {"reason": "", "version": 0}, follow=True)
    assert response.redirect_chain[-1][0] == detail_url(household)
    assert "当前状态为“待初审”，不能提交初审" in response.content.decode()


def test_it_offers_only_allowed_transitions(client_for, household, caseworker, reviewer, walk):
    walk(household, Status.SUBMITTED)

    def names(user):
        return [t.name for t in client_for(user).get(detail_url(household)).context["transitions"]]

    assert "first_review" not in names(caseworker)
    assert "first_review" in names(reviewer)


def test_it_prints_the_a4_form(client_for, household, caseworker):
    response = client_for(caseworker).get(reverse("dossiers:print", args=[household.file_number]))
    page = response.content.decode()
    assert "困难职工家庭档案表" in page and household.file_number in page
    assert household.head_id_number in page  # the paper file carries it; the view is recorded
    assert AccessRecord.objects.filter(action=AccessRecord.Action.REVEAL).count() == 1


@pytest.mark.parametrize("page", ["detail", "print", "history", "edit"])
def test_it_does_not_open_a_file_for_the_system_or_security_administrator(client_for, household, county_admin,
                                                                           security_admin, page):
    for user in (county_admin, security_admin):
        response = client_for(user).get(reverse(f"dossiers:{page}", args=[household.file_number]))
        assert response.status_code == 404 and household.head_name not in response.content.decode()
        assert client_for(user).get(reverse("dossiers:list")).status_code == 403


def test_it_tells_of_a_file_elsewhere_without_showing_it(client_for, household, outsider, unions):
    head = household.members.get(is_primary=True)
    response = client_for(outsider).post(reverse("dossiers:lookup"), {"id_number": head.id_number})
    page = response.content.decode()
    assert "已在其他单位建档" in page and "中原区困难职工帮扶中心" in page
    assert household.file_number not in page
    assert head.id_number not in page.replace(f'value="{head.id_number}"', "")  # only echoed in her own input


def test_it_explains_an_excel_mangled_id_number(client_for, caseworker, unions):
    response = client_for(caseworker).post(reverse("dossiers:lookup"), {"id_number": "4.10102198503071E+17"})
    assert "科学计数法" in response.content.decode()


def test_it_shows_the_queues_on_my_work(client_for, household, caseworker, reviewer, walk):
    walk(household, Status.SUBMITTED)
    queues = {q.label: q for q in client_for(reviewer).get(reverse("home")).context["queues"]}
    assert queues["待我审核"].count == 1 and queues["待我审核"].rows[0].pk == household.pk
    queues = {q.label: q for q in client_for(caseworker).get(reverse("home")).context["queues"]}
    assert queues["待我审核"].count == 0  # her own file waits for someone else


def test_it_exports_nothing_for_an_out_of_scope_union_filter(client_for, household, caseworker):
    rows = client_for(caseworker).get(reverse("dossiers:list"), {"union": "410105-C01"}).context["page"].rows
    assert rows == []
    assert Household.objects.count() == 1


def test_it_shows_member_changes_in_the_file_history(client_for, household, caseworker):
    member = household.members.get(is_primary=False)
    member.employer = "郑州市第二纺织厂"
    member.save()
    history = client_for(caseworker).get(reverse("dossiers:history", args=[household.file_number])).context["rows"]
    changes = [(c.field, c.new) for row in history for c in row.changes]
    assert ("工作单位或学校", "郑州市第二纺织厂") in changes
    assert any(row.subject.startswith("困难职工家庭档案") for row in history)


def test_it_shows_the_auditor_household_changes_in_scope(client_for, household, auditor, make_household, outsider,
                                                         unions):
    make_household(by=outsider, union=unions["410105-C01"])
    household.address = "郑州市中原区建设路 10 号"
    household.save()
    rows = client_for(auditor).get(reverse("home")).context["events"]
    subjects = [row.subject for row in rows]
    assert f"困难职工家庭档案：{household.file_number}" in subjects
    assert any(("家庭住址", "郑州市中原区建设路 10 号") in [(c.field, c.new) for c in row.changes] for row in rows)


def test_it_keeps_the_hubei_auditor_out_of_henan_files(client_for, household, unions):
    from tests.factories import UserFactory

    hubei = UserFactory(username="hubei-auditor", role="auditor", home_union=unions["420000"])
    events = client_for(hubei).get(reverse("home")).context["events"]
    assert not any(row.subject.startswith(("困难职工家庭档案", "家庭成员")) for row in events)
    assert client_for(hubei).get(detail_url(household)).status_code == 404


def test_a_search_text_never_goes_into_a_url(client_for, household, caseworker):
    client = client_for(caseworker)
    number = household.members.get(is_primary=True).id_number
    response = client.post(reverse("dossiers:list"), {"q": number, "status": "draft"})
    assert response.status_code == 302 and number not in response["Location"] and "s=" in response["Location"]
    page = client.get(response["Location"])
    assert [h.pk for h in page.context["page"].rows] == [household.pk]
    assert number not in page.context["query"] and "status=draft" not in page.context["query"]
    htmx = client.post(reverse("dossiers:list"), {"q": number}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and number not in htmx["HX-Push-Url"]
    assert household.file_number in htmx.content.decode()
    # A text in the URL (an old bookmark, a typed address) is not searched for.
    other = client.get(reverse("dossiers:list"), {"q": "不存在的人"}).context["page"]
    assert [h.pk for h in other.rows] == [household.pk]
