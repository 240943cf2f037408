"""Fixtures of the assistance tests: the household-file fixtures, supervisors, registered households with a bank
card, schedules and budgets."""

import datetime
from decimal import Decimal

import pytest

from assistance import subsidies
from assistance.models import FundBudget, Schedule
from dossiers.choices import Status
from hardship.models import Role
from tests.dossiers.conftest import (  # noqa: F401
    build_household,
    household,
    make_household,
    reviewer,
    second_reviewer,
    standard,
    walk,
)
from tests.factories import UserFactory

CARD = "6222021234567890123"


@pytest.fixture
def county_supervisor(unions):
    """A supervisor of the 中原区 union (the batches' union in these tests)."""
    return UserFactory(username="county_supervisor", role=Role.SUPERVISOR, home_union=unions["410102"],
                       full_name="孙志强")


@pytest.fixture
def checker(unions):
    """A second supervisor of 中原区: approves what the first one generated."""
    return UserFactory(username="checker", role=Role.SUPERVISOR, home_union=unions["410102"], full_name="钱芳")


@pytest.fixture
def registered(make_household, walk, caseworker, unions):
    """registered(**fields): a household of 410102-C01 on the register, with a bank card."""

    def make(**fields):
        fields.setdefault("bank_card", CARD)
        fields.setdefault("bank_name", "中国工商银行")
        household = make_household(by=caseworker, union=unions["410102-C01"], **fields)
        return walk(household, Status.REGISTERED)

    return make


@pytest.fixture
def schedule_for(county_supervisor):
    """schedule_for(household, **fields): a saved schedule (monthly 300 yuan of living aid from December 2026)."""

    def make(household, **fields):
        by = fields.pop("by", county_supervisor)
        values = dict(kind="living", amount=Decimal("300.00"), frequency="monthly",
                      first_period=datetime.date(2026, 12, 1), fund_source="central")
        schedule = Schedule(household=household, **{**values, **fields})
        return subsidies.save_schedule(schedule, by=by)

    return make


@pytest.fixture
def budgets(unions):
    """Ample 2026 and 2027 budgets of every source for the 中原区 help centre (the paying union)."""
    return [FundBudget.objects.create(union=unions["410102-C01"], year=year, fund_source=source,
                                      amount=Decimal("1000000.00"))
            for year in (2026, 2027) for source in ("central", "local", "union", "donation")]
