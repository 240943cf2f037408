"""一帮一结对帮扶: one active pairing per household and no helper over capacity (also under concurrency), handover
with no gap and no overlap, the pairing ending with the register, suggestions, the optimal proposal confirmed
atomically, and who may see and do what."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dossiers import pairing, register
from dossiers.choices import Cause, Status
from dossiers.models import EndReason, Helper, Household, Pairing
from hardship.history import file_history
from tests.dossiers.conftest import exit_proposal

pytestmark = pytest.mark.django_db


def make_helper(union, name="王建国", **fields) -> Helper:
    values = {"helping_unit": "郑州市第二纺织厂工会", "capacity": 1, "kinds": ["employment"], **fields}
    return Helper.objects.create(name=name, union=union, **values)


@pytest.fixture
def registered(make_household, caseworker, unions, walk):
    def make(union="410102-C01", **fields) -> Household:
        return walk(make_household(by=caseworker, union=unions[union], **fields), Status.REGISTERED)
    return make


def counts(helper: Helper) -> tuple[int, int]:
    helper.refresh_from_db()
    return helper.active_pairings, helper.pairings.filter(ended_on__isnull=True).count()


def test_a_household_is_paired_once_and_the_helper_counts_it(registered, unions, caseworker):
    household, helper = registered(), make_helper(unions["410102-C01"], capacity=2)
    made = pairing.pair(household, helper, by=caseworker)
    assert made.started_on == timezone.localdate() and counts(helper) == (1, 1)
    with pytest.raises(pairing.PairingError, match="已有结对帮扶责任人"):
        pairing.pair(household, make_helper(unions["410102-C01"], name="李芳"), by=caseworker)
    assert counts(helper) == (1, 1)


def test_a_full_or_off_duty_helper_is_refused_with_a_message(registered, unions, caseworker):
    first, second = registered(), registered()
    helper = make_helper(unions["410102"])
    pairing.pair(first, helper, by=caseworker)
    with pytest.raises(pairing.PairingError, match="名额已满"):
        pairing.pair(second, helper, by=caseworker)
    off_duty = make_helper(unions["410102"], name="赵强", is_active=False)
    with pytest.raises(pairing.PairingError, match="名额已满"):
        pairing.pair(second, off_duty, by=caseworker)
    assert not second.pairings.exists()


def test_the_database_refuses_a_second_active_pairing_and_a_helper_over_capacity(registered, unions, caseworker):
    household, helper = registered(), make_helper(unions["410102-C01"], capacity=3)
    Pairing.objects.create(household=household, helper=helper, started_on="2026-01-05", created_by=caseworker)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(household=household, helper=helper, started_on="2026-02-05", created_by=caseworker)
    with pytest.raises(IntegrityError), transaction.atomic():
        Helper.objects.filter(pk=helper.pk).update(active_pairings=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.filter(household=household).update(ended_on="2026-03-01")  # an end needs its reason


def test_a_file_not_on_the_register_or_in_another_province_is_not_paired(make_household, registered, unions,
                                                                          caseworker):
    draft = make_household(by=caseworker, union=unions["410102-C01"])
    with pytest.raises(pairing.PairingError, match="在档后"):
        pairing.pair(draft, make_helper(unions["410102-C01"]), by=caseworker)
    with pytest.raises(pairing.PairingError, match="同一省份"):
        pairing.pair(registered(), make_helper(unions["420102"], name="武汉的帮扶人"), by=caseworker)


def test_a_handover_ends_the_old_pairing_and_begins_the_new_one_the_same_day(registered, unions, caseworker):
    household = registered()
    old_helper, new_helper = make_helper(unions["410102-C01"]), make_helper(unions["410102"], name="李芳")
    old = pairing.pair(household, old_helper, by=caseworker)
    with pytest.raises(pairing.PairingError, match="移交原因"):
        pairing.hand_over(household, new_helper, by=caseworker, note=" ")
    with pytest.raises(pairing.PairingError, match="相同"):
        pairing.hand_over(household, old_helper, by=caseworker, note="工作调动")
    new = pairing.hand_over(household, new_helper, by=caseworker, note="原责任人工作调动")
    old.refresh_from_db()
    assert (old.ended_on, old.end_reason, old.successor) == (new.started_on, EndReason.HANDOVER, new)
    assert old.end_note == "原责任人工作调动" and old.ended_by == caseworker
    assert counts(old_helper) == (0, 0) and counts(new_helper) == (1, 1)
    assert household.pairings.filter(ended_on__isnull=True).get() == new


def test_a_handover_to_a_full_helper_changes_nothing(registered, unions, caseworker):
    first, second = registered(), registered()
    old_helper, full = make_helper(unions["410102-C01"]), make_helper(unions["410102"], name="李芳")
    pairing.pair(first, old_helper, by=caseworker)
    pairing.pair(second, full, by=caseworker)
    with pytest.raises(pairing.PairingError, match="名额已满"):
        pairing.hand_over(first, full, by=caseworker, note="工作调动")
    assert first.pairings.get().ended_on is None and counts(old_helper) == (1, 1) and counts(full) == (1, 1)


def test_the_pairing_holds_while_the_exit_is_decided_and_ends_when_the_household_leaves(
        registered, unions, caseworker, supervisor):
    household, helper = registered(), make_helper(unions["410102-C01"])
    pairing.pair(household, helper, by=caseworker)
    register.propose_exit(household, by=caseworker, **exit_proposal())
    assert household.pairings.get().ended_on is None
    register.approve_exit(household, by=supervisor, reason="同意脱困")
    ended = household.pairings.get()
    assert (ended.ended_on, ended.end_reason, ended.ended_by) == (timezone.localdate(), EndReason.LEFT_REGISTER,
                                                                  supervisor)
    assert counts(helper) == (0, 0)


def test_an_accepted_transfer_ends_the_pairing_in_the_old_union(registered, unions, caseworker, outsider):
    household, helper = registered(), make_helper(unions["410102-C01"])
    pairing.pair(household, helper, by=caseworker)
    transfer = register.request_transfer(household, by=caseworker, to_union=unions["410105-C01"], reason="搬迁")
    assert household.pairings.get().ended_on is None
    register.decide_transfer(transfer, by=outsider, accept=True)
    assert household.pairings.get().end_reason == EndReason.TRANSFER and counts(helper) == (0, 0)


def test_suggestions_rank_the_nearest_fitting_free_helpers_and_say_why(registered, unions, caseworker):
    household = registered(main_cause=Cause.LAID_OFF)
    same_unit = make_helper(unions["410102-C01"], name="同单位", kinds=["employment"])
    make_helper(unions["410100"], name="市里的", kinds=["employment"])
    make_helper(unions["410102-C01"], name="不对口", kinds=["legal"])
    full = make_helper(unions["410102-C01"], name="已满", kinds=["employment"])
    pairing.pair(registered(), full, by=caseworker)
    make_helper(unions["420102"], name="外省的", kinds=["employment"])
    suggested = pairing.suggestions_for(caseworker, household)
    names = [helper.name for helper, _reasons in suggested]
    assert names[0] == same_unit.name and "已满" not in names and "外省的" not in names
    assert "同一单位" in suggested[0][1] and "专长对应：就业创业" in suggested[0][1]
    assert names.index("市里的") > 0 and len(names) <= 5


def test_the_pairing_page_pairs_from_a_suggestion_and_hands_over(client_for, registered, unions, caseworker):
    household = registered()
    first, second = make_helper(unions["410102-C01"]), make_helper(unions["410102"], name="李芳")
    client = client_for(caseworker)
    page = client.get(reverse("dossiers:pairing", args=[household.file_number]))
    assert page.status_code == 200 and "尚未结对" in page.content.decode() and "与其结对" in page.content.decode()
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]
    answer = client.post(reverse("dossiers:pairing", args=[household.file_number]), {"helper": first.pk})
    assert answer.status_code == 302 and household.pairings.get().helper == first
    refused = client.post(reverse("dossiers:pairing", args=[household.file_number]), {"helper": second.pk})
    assert refused.status_code == 422 and "移交原因" in refused.content.decode()
    client.post(reverse("dossiers:pairing", args=[household.file_number]), {"helper": second.pk, "note": "调动"})
    assert household.pairings.get(ended_on__isnull=True).helper == second
    detail = client.get(reverse("dossiers:detail", args=[household.file_number])).content.decode()
    assert "李芳" in detail


def test_pairings_are_in_the_file_history(registered, unions, caseworker, client_for):
    household = registered()
    helper = make_helper(unions["410102-C01"])
    client_for(caseworker).post(reverse("dossiers:pairing", args=[household.file_number]), {"helper": helper.pk})
    rows = [row for row in file_history(household) if "结对" in str(row.subject)]
    assert rows and rows[0].actor == caseworker


def test_who_may_see_and_pair(client_for, registered, unions, caseworker, outsider, supervisor, county_admin,
                              auditor):
    household = registered()
    helper = make_helper(unions["410102-C01"])
    for user, read in ((outsider, 404), (supervisor, 200), (county_admin, 404), (auditor, 200)):
        client = client_for(user)
        assert client.get(reverse("dossiers:pairing", args=[household.file_number])).status_code == read
        posted = client.post(reverse("dossiers:pairing", args=[household.file_number]), {"helper": helper.pk})
        assert posted.status_code == (404 if read == 404 else 403), user.username
        assert client.get(reverse("helpers:detail", args=[helper.pk])).status_code == read
    assert not Pairing.objects.exists()
    other = make_helper(unions["410105-C01"], name="金水区的")
    answer = client_for(caseworker).post(reverse("dossiers:pairing", args=[household.file_number]),
                                         {"helper": other.pk})
    assert answer.status_code == 422 and not Pairing.objects.exists()  # a helper out of scope is not a choice


def test_the_helpers_page_lists_their_households_with_what_is_due(client_for, registered, unions, caseworker):
    household = registered()
    helper = make_helper(unions["410102-C01"], capacity=2)
    pairing.pair(household, helper, by=caseworker)
    page = client_for(caseworker).get(reverse("helpers:detail", args=[helper.pk]))
    assert household.file_number in page.content.decode()
    [(row, next_visit)] = page.context["rows"]
    assert next_visit is not None and row.open_measures == 0


def test_a_helper_is_registered_with_a_checked_form(client_for, unions, caseworker, outsider):
    client = client_for(caseworker)
    data = {"name": "陈静", "helping_unit": "中原区困难职工帮扶中心", "unit_kind": "union",
            "union": unions["410102-C01"].pk,
            "phone": "138-0000", "capacity": "0", "kinds": ["medical"], "is_active": "on"}
    answer = client.post(reverse("helpers:new"), data)
    assert answer.status_code == 422 and not Helper.objects.exists()
    assert "手机号" in answer.content.decode()
    answer = client.post(reverse("helpers:new"), {**data, "phone": "13800001111", "capacity": "2"})
    assert answer.status_code == 302 and Helper.objects.get().kinds == ["medical"]
    outside = client.post(reverse("helpers:new"), {**data, "phone": "", "union": unions["410102"].pk})  # above
    assert outside.status_code == 422 and Helper.objects.count() == 1
    valid = {**data, "phone": "", "capacity": "1"}
    stranger = client.post(reverse("helpers:new"), {**valid, "user": outsider.pk})  # an account of another county
    assert stranger.status_code == 422 and Helper.objects.count() == 1
    linked = client.post(reverse("helpers:new"), {**valid, "name": "王芳", "user": caseworker.pk})
    assert linked.status_code == 302 and caseworker.helper_profile.name == "王芳"
    again = client.post(reverse("helpers:new"), {**valid, "name": "王芳二", "user": caseworker.pk})
    assert again.status_code == 422 and Helper.objects.count() == 2  # one account, one helper


def test_capacity_cannot_go_below_the_households_paired(client_for, registered, unions, caseworker):
    helper = make_helper(unions["410102-C01"], capacity=2)
    pairing.pair(registered(), helper, by=caseworker)
    pairing.pair(registered(), helper, by=caseworker)
    data = {"name": helper.name, "helping_unit": helper.helping_unit, "unit_kind": "union",
            "union": helper.union_id, "phone": "", "capacity": "1", "kinds": ["employment"], "is_active": "on"}
    answer = client_for(caseworker).post(reverse("helpers:edit", args=[helper.pk]), data)
    assert answer.status_code == 422 and "不能少于" in answer.content.decode()


def test_the_unpaired_queue_lists_files_on_the_register_without_a_helper(client_for, registered, unions,
                                                                         caseworker):
    waiting, paired = registered(), registered()
    pairing.pair(paired, make_helper(unions["410102-C01"]), by=caseworker)
    listed = client_for(caseworker).get(reverse("dossiers:list"), {"view": "unpaired"})
    shown = {h.file_number for h in listed.context["page"].rows}
    assert waiting.file_number in shown and paired.file_number not in shown


def test_the_proposal_is_confirmed_whole_or_not_at_all(client_for, registered, unions, caseworker):
    first, second = registered(main_cause=Cause.LAID_OFF), registered(main_cause=Cause.SERIOUS_ILLNESS)
    worker = make_helper(unions["410102-C01"], name="就业帮扶", kinds=["employment"])
    doctor = make_helper(unions["410102-C01"], name="医疗帮扶", kinds=["medical"])
    client = client_for(caseworker)
    page = client.get(reverse("helpers:proposal"))
    proposed = {household.pk: helper.pk for household, helper, _line in page.context["lines"]}
    assert proposed == {first.pk: worker.pk, second.pk: doctor.pk}
    both_to_one = {"household": [first.file_number, second.file_number],
                   f"helper-{first.file_number}": worker.pk, f"helper-{second.file_number}": worker.pk}
    client.post(reverse("helpers:proposal_confirm"), both_to_one)
    assert not Pairing.objects.exists() and counts(worker) == (0, 0)  # the second line found the helper full
    client.post(reverse("helpers:proposal_confirm"), {**both_to_one, f"helper-{second.file_number}": doctor.pk})
    assert Pairing.objects.filter(ended_on__isnull=True).count() == 2


def _race(users_and_posts) -> list[int]:
    barrier, statuses = threading.Barrier(len(users_and_posts)), []

    def post(user, url, data):
        client = Client()
        client.force_login(user)
        barrier.wait()
        statuses.append(client.post(url, data).status_code)
        connection.close()

    threads = [threading.Thread(target=post, args=args) for args in users_and_posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


@pytest.mark.django_db(transaction=True)
def test_two_caseworkers_pairing_one_household_at_once_make_one_pairing(registered, unions, caseworker, reviewer):
    household = registered()
    first, second = make_helper(unions["410102-C01"]), make_helper(unions["410102"], name="李芳")
    url = reverse("dossiers:pairing", args=[household.file_number])
    assert _race([(caseworker, url, {"helper": first.pk}), (reviewer, url, {"helper": second.pk})]) == [302, 422]
    assert household.pairings.count() == 1
    assert sum(counts(helper)[0] for helper in (first, second)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_households_taking_the_last_slot_at_once_get_one(registered, unions, caseworker, reviewer):
    one, two = registered(), registered()
    helper = make_helper(unions["410102-C01"])
    posts = [(user, reverse("dossiers:pairing", args=[household.file_number]), {"helper": helper.pk})
             for user, household in ((caseworker, one), (reviewer, two))]
    assert _race(posts) == [302, 422]
    assert counts(helper) == (1, 1)
