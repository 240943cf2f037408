"""The change history reads as sentences a caseworker understands: who, when, which field (its label), from what to
what (choice labels, money in yuan, ISO dates, records by name, ID and card numbers masked), and nothing that says
nothing. The file lives under tests/dossiers/ for the household fixtures."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pghistory
import pytest

from dossiers import register
from dossiers.choices import Status
from dossiers.filing import save_household
from dossiers.models import Household, Visit
from hardship.history import file_history, object_history

pytestmark = pytest.mark.django_db

CARD = "6222021234567890123"


def pairs(row) -> list[tuple[str, str, str]]:
    return [(change.field, change.old, change.new) for change in row.changes]


def test_it_names_a_visit_by_its_date_kind_and_visitor(household, caseworker):
    visit = Visit.objects.create(household=household, visited_on=datetime.date(2026, 11, 20), visitor=caseworker,
                                 findings="入户核实", is_initial=True)

    row = object_history(visit)[0]

    assert row.subject == "走访记录：2026-11-20 入户调查，王芳"
    assert row.summary == "新建了走访记录：2026-11-20 入户调查，王芳"
    assert ("走访人", "—", "王芳") in pairs(row)
    assert all(change.field != "household" and change.field != "家庭" for change in row.changes)


def test_it_names_a_member_by_name_and_relationship(household):
    member = household.members.get(is_primary=False)
    member.employer = "郑州市第二纺织厂"
    member.save()

    row = object_history(member)[0]

    assert row.subject == "家庭成员：李秀英（配偶）"
    assert pairs(row) == [("工作单位或学校", "—", "郑州市第二纺织厂")]
    assert row.changes[0].kind == "set"


def test_it_shows_money_in_yuan_with_two_decimals(household):
    household.receives_dibao, household.dibao_amount = True, Decimal("850")
    household.save()

    row = object_history(household)[0]

    assert ("低保金（元/月）", "0.00 元", "850.00 元") in pairs(row)
    assert ("享受低保", "否", "是") in pairs(row)


def test_it_shows_choice_labels_and_dates_as_year_month_day(household, walk):
    walk(household, Status.IN_NOTICE)

    rows = object_history(household)

    changes = [change for row in rows for change in pairs(row)]
    assert ("状态", "待公示", "公示中") in changes
    end = Household.objects.get(pk=household.pk).notice_ends_on.isoformat()
    assert ("公示截止日期", "—", end) in changes


def test_it_masks_bank_card_and_id_numbers(make_household, caseworker, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"], bank_card=CARD)
    head = household.members.get(is_primary=True)

    created = object_history(household)[-1]
    household.bank_card = "6222029876543210987"
    household.save()
    changed = object_history(household)[0]

    assert ("银行卡号", "—", "**** 0123") in pairs(created)
    assert ("建档职工身份证号", "—", head.masked_id_number) in pairs(created)
    assert ("银行卡号", "**** 0123", "**** 0987") in pairs(changed)
    text = str([pairs(row) for row in file_history(household)])
    assert CARD not in text and head.id_number not in text


def test_it_leaves_out_writes_that_change_nothing_a_reader_sees(household, caseworker):
    before = len(file_history(household))
    household.members.update(is_open=False)  # bookkeeping of a closed file
    with pghistory.context(user=caseworker.pk, url=f"/households/{household.file_number}/edit/"):
        save_household(household, list(household.members.all()), by=caseworker)  # saved unchanged

    assert len(file_history(household)) == before


def test_it_reads_two_writes_of_one_request_as_one_change(household, caseworker):
    with pghistory.context(user=caseworker.pk, url="/households/edit/"):
        household.phone = "13900000001"
        household.save()
        household.phone, household.address = "13900000002", "郑州市中原区桐柏路 8 号"
        household.save()

    latest = object_history(household)[0]

    assert latest.actor == caseworker
    assert ("联系电话", "13800001111", "13900000002") in pairs(latest)
    assert [change.field for change in latest.changes].count("联系电话") == 1
    assert object_history(household)[1].action == "新建"


def test_it_names_who_did_a_step_made_in_a_request(client_for, household, reviewer, walk):
    walk(household, Status.SUBMITTED)

    client_for(reviewer).post(f"/households/{household.file_number}/first_review/", {
        "reason": "材料齐全", "version": Household.objects.get(pk=household.pk).register_version})

    assert Household.objects.get(pk=household.pk).status == Status.FIRST_REVIEWED
    review = object_history(household)[0]
    assert review.actor == reviewer
    assert ("状态", "待初审", "待入户调查") in pairs(review) and ("初审人", "—", "赵敏") in pairs(review)


def test_it_credits_no_one_for_a_write_outside_any_request(household):
    register.submit(household, by=household.filed_by)

    assert object_history(household)[0].actor is None  # the template says 系统
