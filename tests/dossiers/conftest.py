"""Fixtures for household-file (dossiers) tests: the local standard, households with members,
a second caseworker to review, and `walk_to` to drive a file through the register.

    def test_it_...(make_household, caseworker, walk):
        household = make_household(by=caseworker, union=unions["410102-C01"])
        walk(household, Status.REGISTERED)
"""

from __future__ import annotations

import datetime
import itertools
import zoneinfo
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from dossiers import register
from dossiers.choices import (
    AreaBand,
    Cause,
    Health,
    HousingType,
    MedicalInsurance,
    Relationship,
    Sex,
    Status,
    WorkStatus,
)
from dossiers.filing import save_household
from dossiers.models import ExitKind, Household, LocalStandard, Member
from hardship import idnumbers
from hardship.models import Region
from tests.factories import UserFactory

POVERTY_LINE = Decimal("800.00")
MIN_WAGE = Decimal("2100.00")

# Distinct ID numbers across calls: each takes the next birth date and order code.
_people = itertools.count(1)


def new_id_number(*, sex: str = Sex.MALE, region: str = "410102", birth: datetime.date | None = None
                  ) -> tuple[str, datetime.date]:
    """A fresh valid ID number and the birth date it encodes."""
    n = next(_people)
    birth = birth or datetime.date(1975, 1, 1) + datetime.timedelta(days=n)
    return idnumbers.generate(region, birth, n % 500, str(sex)), birth


def new_member(*, relationship: str = Relationship.SELF, sex: str = Sex.MALE, name: str | None = None,
               id_number: str | None = None, birth: datetime.date | None = None, **fields) -> Member:
    """An unsaved member with a valid ID number matching birth date and sex."""
    if id_number is None:
        id_number, birth = new_id_number(sex=sex, birth=birth)
    else:
        birth = birth or idnumbers.parse(id_number).birth_date
    defaults = dict(
        name=name or ("张建国" if relationship == Relationship.SELF else "李秀英"),
        sex=sex, relationship=relationship, id_number=id_number, birth_date=birth,
        is_primary=relationship == Relationship.SELF,
        medical_insurance=MedicalInsurance.EMPLOYEE, work_status=WorkStatus.EMPLOYED,
        health=Health.HEALTHY, able_to_work=True,
    )
    return Member(**{**defaults, **fields})


def default_members() -> list[Member]:
    """The primary worker (本人) and a spouse, both employed."""
    return [
        new_member(relationship=Relationship.SELF, sex=Sex.MALE, name="张建国"),
        new_member(relationship=Relationship.SPOUSE, sex=Sex.FEMALE, name="李秀英"),
    ]


def household_fields(union, **fields) -> dict:
    """Valid household fields; the default income (24 000 a year for two) is 相对困难 at an 800 line."""
    defaults = dict(
        union=union, region=union.region,
        address="郑州市中原区建设路 12 号院 3 号楼 2 单元 501",
        phone="13800001111",
        housing_type=HousingType.PRIVATE_RENTAL,
        area_band=AreaBand.UNDER_15,
        main_cause=Cause.LAID_OFF,
        consent_basis="本人签字的申请书和家庭经济状况核对授权书（2026-01-05）",
        income_wages=Decimal("24000.00"),
    )
    return {**defaults, **fields}


@pytest.fixture
def standard(unions) -> LocalStandard:
    """郑州市's standard: applies to both counties (中原区, 金水区) that have none of their own."""
    return LocalStandard.objects.create(
        region=Region.objects.get(code="410100"), effective_from=datetime.date(2020, 1, 1),
        poverty_line=POVERTY_LINE, min_wage=MIN_WAGE, source="郑州市民政局文件",
    )


@pytest.fixture
def build_household(unions):
    """An unsaved household and its members, for tests that call save_household themselves."""

    def build(*, union, members=None, **fields) -> tuple[Household, list[Member]]:
        return Household(**household_fields(union, **fields)), default_members() if members is None else members

    return build


@pytest.fixture
def make_household(build_household, standard):
    """File a household through dossiers.filing.save_household (which also assesses it)."""

    def make(*, by, union, members=None, **fields) -> Household:
        household, people = build_household(union=union, members=members, **fields)
        return save_household(household, people, by=by)

    return make


@pytest.fixture
def reviewer(unions):
    """A second caseworker at the 中原区 help centre: the filer may not review their own file."""
    return UserFactory(username="reviewer", role="caseworker", home_union=unions["410102-C01"],
                       full_name="赵敏")


@pytest.fixture
def household(make_household, caseworker, unions) -> Household:
    """A draft file of the 中原区 help centre, filed by `caseworker`."""
    return make_household(by=caseworker, union=unions["410102-C01"])


def past_monday(weeks_ago: int = 3) -> datetime.date:
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday() + 7 * weeks_ago)


BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def at_beijing(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment of a Beijing calendar day, for time_machine.travel (date rules are tested at 23:30 and 00:30)."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=BEIJING)


def after_the_notice(household: Household):
    """The clock moved to the morning after the file's notice ended."""
    return time_machine.travel(at_beijing(household.notice_ends_on + datetime.timedelta(days=1), 9), tick=False)


def initial_visit(**fields) -> dict:
    """The keyword arguments of register.record_visit for a complete home visit."""
    return {"visited_on": timezone.localdate(), "findings": "入户核实：租住 40㎡ 私房，夫妻二人，收入属实。",
            "signed_application": True, "finance_authorisation": True, **fields}


def exit_proposal(kind: str = ExitKind.EXIT, **fields) -> dict:
    """The keyword arguments of register.propose_exit: 脱困 with the last six months above the 800 line."""
    months = register.evidence_months()
    defaults = dict(kind=kind, reason="连续六个月工资流水", monthly_incomes=[POVERTY_LINE + 100] * len(months),
                    first_income_month=months[0])
    if kind != ExitKind.EXIT:
        defaults.update(monthly_incomes=[], first_income_month=None)
    return {**defaults, **fields}


LIFECYCLE = [
    Status.DRAFT, Status.SUBMITTED, Status.FIRST_REVIEWED, Status.VISITED, Status.REVIEWED,
    Status.CIVIL_CHECKED, Status.IN_NOTICE, Status.REGISTERED, Status.EXIT_PROPOSED, Status.EXITED,
]
# A file walked onto the register went through review and its notice this long ago (the clock is moved back for
# those steps, then forward to now to finish the notice: no record is backdated).
NOTICE_STARTED_DAYS_AGO = 30


def walk_to(household: Household, status: str, *, filer, reviewer, second_reviewer, supervisor) -> Household:
    """Drive a file forward with the real register functions until it has `status`."""
    steps = {
        Status.DRAFT: lambda: register.submit(household, by=filer),
        Status.RETURNED: lambda: register.submit(household, by=filer),
        Status.SUBMITTED: lambda: register.first_review(household, by=reviewer, reason="材料齐全"),
        Status.FIRST_REVIEWED: lambda: register.record_visit(household, by=filer, **initial_visit()),
        Status.VISITED: lambda: register.review(household, by=second_reviewer, reason="复核属实"),
        Status.REVIEWED: lambda: register.record_civil_check(household, by=filer, reason="民政核对：未享受低保"),
        Status.CIVIL_CHECKED: lambda: register.start_notice(household, by=filer),
        Status.IN_NOTICE: lambda: _finish_notice(household, by=filer),
        Status.REGISTERED: lambda: register.propose_exit(household, by=filer, **exit_proposal()),
        Status.EXIT_PROPOSED: lambda: register.approve_exit(household, by=supervisor, reason="同意脱困"),
    }
    if status not in LIFECYCLE:
        raise ValueError(f"walk_to cannot reach {status!r}")
    past_the_notice = LIFECYCLE.index(status) > LIFECYCLE.index(Status.IN_NOTICE)
    guard = 0
    while household.status != status:
        if household.status not in steps or guard > len(LIFECYCLE):
            raise ValueError(f"walk_to cannot go from {household.status!r} to {status!r}")
        if past_the_notice and household.status in LIFECYCLE[:LIFECYCLE.index(Status.IN_NOTICE)]:
            with time_machine.travel(timezone.now() - datetime.timedelta(days=NOTICE_STARTED_DAYS_AGO), tick=False):
                steps[household.status]()
        else:
            steps[household.status]()
        guard += 1
    return household


def _finish_notice(household: Household, *, by) -> None:
    """Today if the notice is over; else (a file put on notice today by an earlier walk) the day after it ends."""
    if timezone.localdate() > household.notice_ends_on:
        register.finish_notice(household, by=by)
    else:
        with after_the_notice(household):
            register.finish_notice(household, by=by)


@pytest.fixture
def second_reviewer(unions):
    """A caseworker of the 中原区 union: 复核 after `reviewer`'s 初审 (two different people)."""
    return UserFactory(username="reviewer2", role="caseworker", home_union=unions["410102"], full_name="孙丽")


@pytest.fixture
def walk(caseworker, reviewer, second_reviewer, supervisor):
    """walk(household, status): walk_to with the usual people (filer `caseworker`)."""

    def go(household: Household, status: str) -> Household:
        return walk_to(household, status, filer=caseworker, reviewer=reviewer, second_reviewer=second_reviewer,
                       supervisor=supervisor)

    return go


def search_params(client, query: dict) -> dict:
    """The list's GET parameters for a query: a search text is posted first (it never goes in the URL) and the
    page is then asked for by the token the post answers with."""
    if not query.get("q"):
        return dict(query)
    response = client.post(reverse("dossiers:list"), {"q": query["q"]})
    assert response.status_code == 302, response.status_code
    token = parse_qs(urlsplit(response["Location"]).query)["s"][0]
    return {**{key: value for key, value in query.items() if key != "q"}, "s": token}


def search(client, query: dict):
    """The list page for a query with a search text, as the search form asks for it."""
    return client.get(reverse("dossiers:list"), search_params(client, query))
