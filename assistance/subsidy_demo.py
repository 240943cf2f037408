"""Demo subsidies: budgets, monthly living subsidies for some of the demo files on the register, and the batches a
county would have by now — October paid and closed, November returned by the bank with one failure, December
approved (中原区) or waiting for approval (金水区) — and a Spring Festival 送温暖 campaign that has not run yet.

Everything goes through the functions the pages and the monthly run use, as the demo's two supervisors: the
郑州市 supervisor generates, the provincial supervisor (another person) approves.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.urls import reverse

from assistance import batches, runs, subsidies
from assistance.subsidy_models import Campaign, FundBudget, FundSource, Schedule
from dossiers.choices import ON_REGISTER_STATUSES
from dossiers.demo import acting
from dossiers.models import Household
from hardship.models import Union, User

BUDGETS = {FundSource.CENTRAL: Decimal("200000.00"), FundSource.LOCAL: Decimal("80000.00"),
           FundSource.UNION: Decimal("60000.00"), FundSource.DONATION: Decimal("10000.00")}
AMOUNTS = [Decimal("300.00"), Decimal("450.00"), Decimal("600.00")]
# What a bank writes back for a card it could not pay (data, as a return file holds it).
FAILURE = "账户已冻结"
CAMPAIGN = {"name": "2027年元旦春节送温暖", "goods": "米、面、油各一份"}


def load_subsidy_demo() -> str:
    maker, checker = User.objects.get(username="supervisor"), User.objects.get(username="province")
    this_month = subsidies.current_period()
    months = [this_month - relativedelta(months=2), this_month - relativedelta(months=1), this_month]
    schedules = 0
    for code in ("410102-C01", "410105-C01"):
        union = Union.objects.get(code=code)
        _budgets(union, {month.year for month in months}, checker)
        schedules += _schedules(union, maker, first_period=months[0])
        for index, month in enumerate(months):
            _month(union, month, maker, checker, fail_one=index == 1,
                   last=index == len(months) - 1, approve_last=code == "410102-C01")
    _campaign(maker)
    return f"，补助计划 {schedules} 项，发放批次 {len(months) * 2} 个"


def _budgets(union: Union, years: set[int], by: User) -> None:
    with acting(by, reverse("subsidies:budgets")):
        for year in sorted(years):
            for source, amount in BUDGETS.items():
                FundBudget.objects.get_or_create(union=union, year=year, fund_source=source,
                                                 defaults={"amount": amount})


def _schedules(union: Union, by: User, *, first_period: datetime.date) -> int:
    files = Household.objects.filter(union=union, status__in=ON_REGISTER_STATUSES).exclude(bank_card="")
    made = 0
    for index, household in enumerate(files.order_by("pk")[:3]):
        schedule = Schedule(household=household, kind="living", amount=AMOUNTS[index % len(AMOUNTS)],
                            frequency="monthly", first_period=first_period, fund_source=FundSource.CENTRAL)
        with acting(by, reverse("subsidies:household", args=[household.file_number])):
            try:
                subsidies.save_schedule(schedule, by=by)
            except subsidies.SubsidyError:
                continue  # over this household's cap: the demo leaves it out, as the page would refuse it
        made += 1
    return made


def _month(union: Union, month: datetime.date, maker: User, checker: User, *, fail_one: bool, last: bool,
           approve_last: bool) -> None:
    with acting(maker, reverse("subsidies:run")):
        batch = runs.generate(union.pk, month, by=maker).batch
    if not batch.count or (last and not approve_last):
        return
    with acting(checker, reverse("subsidies:approve", args=[batch.pk])):
        batches.approve(batch, by=checker)
    if last:
        return
    with acting(checker, reverse("subsidies:send", args=[batch.pk])):
        batches.mark_sent(batch, by=checker)
    lines = [batches.ReturnLine(line=n, account=str(p.account), name=p.account_name, amount=p.amount,
                                paid=not (fail_one and n == 2), reason=FAILURE if fail_one and n == 2 else "")
             for n, p in enumerate(batch.payments.order_by("pk"), start=2)]
    with acting(checker, reverse("subsidies:return", args=[batch.pk])):
        batches.record_return(batch, lines, by=checker, filename=f"回盘-{union.code}-{month:%Y%m}.csv")


def _campaign(by: User) -> None:
    today = subsidies.current_period()
    starts = datetime.date(today.year, 12, 20) if today.month == 12 else today
    with acting(by, reverse("subsidies:campaigns")):
        Campaign.objects.get_or_create(name=CAMPAIGN["name"], defaults={
            "union": Union.objects.get(code="410100"), "starts_on": starts, "ends_on": starts + relativedelta(
                months=2), "categories": ["deep", "relative"], "key_groups": [], "goods": CAMPAIGN["goods"],
            "amounts": {"deep": "800.00", "relative": "500.00"}, "fund_source": FundSource.UNION, "created_by": by})


