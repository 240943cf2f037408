"""Demo plans and measures, helpers, pairings and follow-up visits for the demo files on the register.

Of the files the demo walked onto the register, one in each county is left without a plan and one without a helper
(the imported files have neither), so the caseworker's queues 在档无计划 and 在档未结对 have something in them; one
measure is overdue. Everything goes through the same
functions as the pages (assistance.plans, dossiers.pairing) under the acting user's history context.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from assistance import plans
from assistance.models import Measure, MeasureType, Plan
from dossiers import pairing
from dossiers.demo import acting
from dossiers.models import Helper, Household, Visit
from hardship.models import Union, User

HELPERS = {
    # county: (name, helping unit, unit kind, union code, capacity, kinds)
    "410102": [("周卫国", "中原区总工会", "union", "410102", 2, ["employment", "social_insurance"]),
               ("吴丽华", "郑州第一棉纺厂工会", "employer", "410102-C01", 1, ["employment", "education"]),
               ("郑海涛", "中原区人民医院", "government", "410102-C01", 2, ["medical", "relief"])],
    "410105": [("冯志刚", "金水区总工会", "union", "410105", 2, ["employment", "legal"]),
               ("何雅琴", "金水区卫生健康委员会", "government", "410105-C01", 2, ["medical", "education"])],
}


# The demo's measures (data a caseworker would have typed, not interface text).
JOB = {"description": "推荐到郑州第一棉纺厂做挡车工", "responsible": "帮扶中心就业专干"}
MUTUAL_AID = {"description": "申请职工医疗互助金，报销住院自付部分", "responsible": "区总工会保障部"}


def load_assistance_demo() -> str:
    helpers = _helpers()
    planned = paired = 0
    for county, username in (("410102", "caseworker"), ("410105", "caseworker2")):
        caseworker = User.objects.get(username=username)
        # The files the demo walked; the imported ones wait in 在档无计划 / 在档未结对 like a real legacy register.
        files = list(Household.objects.filter(status__in=pairing.PAIRABLE_STATUSES, import_batch__isnull=True,
                                              union__path__contains=f"/{county}/").order_by("pk"))
        for index, household in enumerate(files):
            if index != 1:
                _plan(household, caseworker, overdue=index == 0)
                planned += 1
            if index != 2:
                paired += _pair(household, caseworker)
            if index == 0:  # the others count from their intake visit: the 深度困难 ones are due (monthly)
                _follow_up_visit(household, caseworker)
    return f"，帮扶计划 {planned} 份，帮扶责任人 {helpers} 名，结对 {paired} 户"


def _helpers() -> int:
    made = 0
    for rows in HELPERS.values():
        for name, unit, kind, code, capacity, kinds in rows:
            Helper.objects.get_or_create(name=name, union=Union.objects.get(code=code), defaults={
                "helping_unit": unit, "unit_kind": kind, "capacity": capacity, "kinds": kinds,
                "phone": f"1390371{made:04d}"})
            made += 1
    return made


def _plan(household: Household, caseworker: User, *, overdue: bool) -> None:
    today = timezone.localdate()
    employment = MeasureType.objects.get(code="job_referral")
    medical = MeasureType.objects.get(code="medical_mutual_aid")
    plan = Plan(goal="户主稳定就业，家庭人均月收入连续 6 个月高于当地低保标准", target_year=today.year + 1,
                deadline=datetime.date(today.year + 1, 12, 31), responsible=f"{household.union.name} 帮扶中心")
    job = Measure(measure_type=employment, **JOB,
                  due_on=today - datetime.timedelta(days=10) if overdue else today + datetime.timedelta(days=60),
                  status=Measure.Status.IN_PROGRESS, monthly_income=Decimal("2800.00"))
    with acting(caseworker, reverse("assistance:plan", args=[household.file_number])):
        plan = plans.create_plan(household, plan, [job], by=caseworker)
        plans.save_measure(plan, Measure(measure_type=medical, **MUTUAL_AID, due_on=today + datetime.timedelta(days=30),
                                         amount=Decimal("3000.00")), by=caseworker)


def _pair(household: Household, caseworker: User) -> int:
    suggested = pairing.suggestions_for(caseworker, household, limit=1)
    if not suggested:
        return 0
    with acting(caseworker, reverse("dossiers:pairing", args=[household.file_number])):
        pairing.pair(household, suggested[0][0], by=caseworker)
    return 1


def _follow_up_visit(household: Household, caseworker: User) -> None:
    current = pairing.active_pairing(household)
    with acting(caseworker, reverse("dossiers:visit_new", args=[household.file_number])):
        Visit.objects.create(household=household, visitor=caseworker, helper=current.helper if current else None,
                             visited_on=timezone.localdate(), kind=Visit.Kind.HOME,
                             findings="户主身体恢复中，配偶在家照顾孩子，生活基本稳定",
                             agreed="下月到区总工会参加技能培训", follow_up="跟进培训报名情况")
