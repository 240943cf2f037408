"""The file page, its print and its forms as a caseworker sees them: only the moves that can succeed (the others
disabled with the reason), every form error listed at the top, labels instead of stored codes."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dossiers import register
from dossiers.actions import actions_for
from dossiers.choices import Status
from dossiers.models import Household
from tests.dossiers.conftest import after_the_notice
from tests.dossiers.test_household_form import household_post, three_members

pytestmark = pytest.mark.django_db


def url(name, household, *args) -> str:
    return reverse(f"dossiers:{name}", args=[household.file_number, *args])


def page_of(client, address: str) -> str:
    response = client.get(address)
    assert response.status_code == 200
    return response.content.decode()


def workflow(page: str) -> str:
    """The 办理 section of the file page."""
    match = re.search(r'<section class="card workflow".*?</section>', page, re.S)
    return match.group(0) if match else ""


def moves(household, user) -> dict[str, str]:
    """Each move the page shows this user: its name and why it cannot be made now ("" when it can)."""
    return {action.name: action.refusal for action in actions_for(household, user)}


# --- 3. only what can succeed, or disabled with the date or the reason ------------------------------------------

def test_it_shows_the_end_of_the_notice_disabled_with_its_date(client_for, household, caseworker, walk):
    walk(household, Status.IN_NOTICE)
    section = workflow(page_of(client_for(caseworker), url("detail", household)))
    assert url("transition", household, "finish_notice") not in section
    assert re.search(r"<button[^>]*disabled[^>]*>公示期满，入档</button>", section)
    assert f"公示至 {household.notice_ends_on:%Y-%m-%d}（含）止，期满后方可入档。" in section
    with after_the_notice(household):
        section = workflow(page_of(client_for(caseworker), url("detail", household)))
    assert url("transition", household, "finish_notice") in section


def test_it_sends_an_early_end_of_the_notice_back_to_the_file_saying_when(client_for, household, caseworker, walk):
    walk(household, Status.IN_NOTICE)
    response = client_for(caseworker).get(url("transition", household, "finish_notice"), follow=True)
    assert response.redirect_chain[-1][0] == url("detail", household)
    assert f"公示至 {household.notice_ends_on:%Y-%m-%d}（含）止" in response.content.decode()
    assert Household.objects.get(pk=household.pk).status == Status.IN_NOTICE


def test_it_waits_for_open_objections_before_the_register(client_for, household, caseworker, walk):
    walk(household, Status.IN_NOTICE)
    register.record_objection(household, by=caseworker, content="邻居反映有车", received_on=timezone.localdate())
    with after_the_notice(household):
        assert moves(household, caseworker)["finish_notice"] == "还有未核实的公示异议。"


def test_it_shows_the_filer_her_own_review_disabled_with_the_reason(client_for, household, caseworker, reviewer,
                                                                    walk):
    walk(household, Status.SUBMITTED)
    mine = moves(household, caseworker)
    assert mine["first_review"] == mine["decline"] == mine["return_for_correction"] == "建档人不能审核自己建立的档案。"
    section = workflow(page_of(client_for(caseworker), url("detail", household)))
    assert url("transition", household, "first_review") not in section
    assert url("transition", household, "return_for_correction") not in section
    assert "建档人不能审核自己建立的档案。" in section
    assert moves(household, reviewer)["first_review"] == ""
    assert client_for(caseworker).get(url("transition", household, "first_review")).status_code == 403


def test_it_tells_the_first_reviewer_that_the_review_needs_another_person(household, reviewer, second_reviewer,
                                                                          walk):
    walk(household, Status.VISITED)
    assert moves(household, reviewer)["review"] == "初审和复核须由两个不同的人办理：您已办理本档案的初审。"
    assert moves(household, second_reviewer)["review"] == ""


def test_it_shows_a_submission_disabled_with_what_is_missing(client_for, household, caseworker):
    Household.objects.filter(pk=household.pk).update(consent_basis="")
    household.refresh_from_db()
    assert moves(household, caseworker)["submit"] == "还不能提交：缺少授权与依据。"
    response = client_for(caseworker).get(url("transition", household, "submit"), follow=True)
    assert "还不能提交：缺少授权与依据。" in response.content.decode()


def test_it_shows_the_proposer_of_a_re_grade_that_another_person_confirms_it(household, caseworker, reviewer, walk):
    walk(household, Status.REGISTERED)
    Household.objects.filter(pk=household.pk).update(income_wages=Decimal("6000.00"))  # now 深度困难
    household.refresh_from_db()
    register.reverify(household, by=caseworker, reason="年度复核：收入下降")
    assert moves(household, caseworker)["confirm_regrade"] == "复核调整类别须由另一人确认：您提出了这项调整。"
    assert moves(household, reviewer)["confirm_regrade"] == ""
    assert "reverify" not in moves(household, caseworker)  # waits for the re-grade's decision


def test_it_refuses_a_second_transfer_while_one_waits(household, caseworker, unions):
    register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason="搬家")
    household.refresh_from_db()
    assert moves(household, caseworker)["request_transfer"] == "该档案已有一项待接收的转移申请。"


@pytest.mark.parametrize("who", ["auditor", "supervisor"])
def test_it_shows_no_moves_of_another_role(client_for, household, request, who):
    user = request.getfixturevalue(who)
    assert moves(household, user) == {}
    assert workflow(page_of(client_for(user), url("detail", household))) == ""
    assert client_for(user).get(url("transition", household, "submit")).status_code == 403


def test_it_keeps_the_file_of_another_county_out_of_reach(client_for, household, outsider, walk):
    walk(household, Status.IN_NOTICE)
    client = client_for(outsider)
    for name in ("finish_notice", "return_for_correction"):
        assert client.get(url("transition", household, name)).status_code == 404
    assert client.get(url("objection_new", household)).status_code == 404


def test_it_forbids_deciding_an_objection_to_an_auditor(client_for, household, caseworker, auditor, walk):
    walk(household, Status.IN_NOTICE)
    objection = register.record_objection(household, by=caseworker, content="收入不实",
                                          received_on=timezone.localdate())
    assert client_for(auditor).get(url("objection_decide", household, objection.pk)).status_code == 403


# --- 4. every error at the top of the form, linked to its field; a return's reason at the top of the file ---------

def summary(page: str) -> str:
    match = re.search(r'<div class="form-errors error-summary".*?</div>', page, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def test_it_lists_every_household_form_error_at_the_top_with_a_link_to_its_field(client_for, caseworker, unions,
                                                                                  standard):
    members = three_members()
    members[1]["members-1-id_number"] = "410102198006010000"
    data = household_post(unions, members, address="", main_cause="")
    page = client_for(caseworker).post(reverse("dossiers:create"), data).content.decode()
    top = summary(page)
    assert page.index(top) < page.index('id="id_union"')
    assert 'href="#id_address"' in top and "家庭住址" in top
    assert 'href="#id_main_cause"' in top
    assert 'href="#id_members-1-id_number"' in top and "林秀芳" in top
    assert not Household.objects.exists()


def test_it_lists_the_member_errors_of_the_whole_household_at_the_top(client_for, caseworker, unions, standard):
    members = three_members()
    members[0].pop("members-0-is_primary")
    page = client_for(caseworker).post(reverse("dossiers:create"), household_post(unions, members)).content.decode()
    assert "请在家庭成员中选定一名（且只有一名）建档职工。" in summary(page)


def test_it_asks_for_a_member_in_the_caseworkers_words(client_for, caseworker, unions, standard):
    page = client_for(caseworker).post(reverse("dossiers:create"), household_post(unions, [])).content.decode()
    top = summary(page)
    assert "请至少填写一名家庭成员。" in top and "表单" not in top


def test_it_lists_a_transition_form_error_at_the_top(client_for, household, caseworker, reviewer, walk):
    walk(household, Status.SUBMITTED)
    response = client_for(reviewer).post(url("transition", household, "return_for_correction"),
                                         {"reason": "", "version": household.register_version})
    top = summary(response.content.decode())
    assert 'href="#id_reason"' in top and "意见或理由" in top


def test_it_lists_the_objection_and_category_errors_at_the_top(client_for, household, caseworker, walk):
    client = client_for(caseworker)
    response = client.post(url("override_category", household), {"final_category": "deep", "override_reason": ""})
    assert "调整理由" in summary(response.content.decode())
    walk(household, Status.IN_NOTICE)
    response = client.post(url("objection_new", household), {"received_on": "", "content": ""})
    top = summary(response.content.decode())
    assert 'href="#id_received_on"' in top and 'href="#id_content"' in top


def test_it_shows_why_a_file_was_returned_at_the_top_of_the_file(client_for, household, caseworker, reviewer,
                                                                 walk):
    walk(household, Status.SUBMITTED)
    register.return_for_correction(household, by=reviewer, reason="缺少近 12 个月工资流水")
    page = page_of(client_for(caseworker), url("detail", household))
    note = re.search(r'<div class="[^"]*status-note.*?</div>', page, re.S).group(0)
    assert "缺少近 12 个月工资流水" in note and "赵敏" in note and f"{timezone.localdate():%Y-%m-%d}" in note
    assert page.index(note) < page.index("家庭情况")


# --- 2 and 5. labels, not stored codes; housing shows only what is filled --------------------------------------

def meta_line(page: str) -> str:
    return re.search(r'<p class="meta">.*?</p>', page, re.S).group(0)


def test_it_prints_the_assessed_category_of_a_file_not_yet_on_the_register(client_for, household, caseworker):
    page = page_of(client_for(caseworker), url("print", household))
    meta = meta_line(page)
    assert "relative" not in meta and "相对困难（评估结果，尚未入档）" in meta


def test_it_prints_the_category_of_a_file_on_the_register(client_for, household, caseworker, walk):
    walk(household, Status.REGISTERED)
    meta = meta_line(page_of(client_for(caseworker), url("print", household)))
    assert "困难类别：相对困难" in meta and "尚未入档" not in meta


def test_it_prints_a_file_that_does_not_qualify_as_such(client_for, make_household, caseworker, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"], income_wages=Decimal("240000.00"))
    meta = meta_line(page_of(client_for(caseworker), url("print", household)))
    assert "not_eligible" not in meta and "不符合建档标准" in meta


def test_it_prints_what_the_file_page_holds(client_for, household, caseworker, reviewer, walk):
    walk(household, Status.IN_NOTICE)
    register.record_objection(household, by=caseworker, content="邻居反映有车", received_on=timezone.localdate())
    page = page_of(client_for(caseworker), url("print", household))
    visit = household.visits.get()
    for text in (household.region.name, household.consent_basis, "800.00", visit.findings, "邻居反映有车",
                 "初审人", "赵敏", "性别", "公示中"):
        assert text in page, text


@pytest.mark.parametrize(("housing_type", "area_band", "shown"), [
    ("", "", "未填写"), ("own", "", "自有住房"), ("", "under_15", "人均 15㎡ 以下"),
    ("own", "under_15", "自有住房，人均 15㎡ 以下"),
])
def test_it_shows_only_the_filled_part_of_the_housing(client_for, household, caseworker, housing_type, area_band,
                                                      shown):
    Household.objects.filter(pk=household.pk).update(housing_type=housing_type, area_band=area_band)
    client = client_for(caseworker)
    detail = page_of(client, url("detail", household))
    assert re.search(rf"<dt>住房</dt><dd>{shown}</dd>", detail)
    printed = page_of(client, url("print", household))
    assert re.search(rf"<th>住房</th><td[^>]*>{shown}</td>", printed)


# --- 6. English headings and titles as whole sentences ----------------------------------------------------------

@pytest.fixture
def in_english(client_for, caseworker):
    client = client_for(caseworker)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    return client


def test_it_heads_the_health_column_with_the_field_name_in_english(in_english, household):
    page = page_of(in_english, url("detail", household))
    assert '<th scope="col">Health status</th>' in page and '<th scope="col">Healthy</th>' not in page


def test_it_titles_the_confirmation_as_one_sentence_in_english(in_english, household, walk):
    walk(household, Status.REGISTERED)
    page = page_of(in_english, url("transition", household, "propose_exit"))
    assert "Confirm: " not in page


def test_it_keeps_the_filer_able_to_finish_her_own_notice(client_for, household, caseworker, walk):
    """Entering the register after the notice is not a review: the filer may do it (no refusal for her)."""
    walk(household, Status.IN_NOTICE)
    with after_the_notice(household):
        assert moves(household, caseworker)["finish_notice"] == ""
        response = client_for(caseworker).post(url("transition", household, "finish_notice"),
                                               {"reason": "", "version": household.register_version})
    assert response.status_code == 302
    assert Household.objects.get(pk=household.pk).registered_on == household.notice_ends_on + datetime.timedelta(1)


def test_it_explains_the_assessment_and_punctuates_in_the_language_of_the_page(client_for, household, caseworker):
    client = client_for(caseworker)
    chinese = page_of(client, url("detail", household))
    assert "认定结果：" in chinese and "主要：" in chinese
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    for address in (url("detail", household), url("print", household)):
        english = page_of(client, address)
        reasons = re.search(r'<ul class="reasons">(.*?)</ul>', english, re.S).group(1)
        assert "Per-capita monthly income" in reasons and "Result: " in reasons and "认定结果" not in reasons
        assert "Main: " in english and "主要" not in english
    assert 'lang="en"' in page_of(client, url("print", household))
