"""Demo household files in the two demo counties, in every status and category.

Every file is walked through the real register functions, so its events and history are real. Each step runs as
the signed-in request that makes it would (`acting`): the history names the person who did it and the page it came
from, and after the load `stamp_history` dates each step's history rows by the demo's clock, like its register events.
"""

from __future__ import annotations

import contextlib
import datetime
import random
import sys
from decimal import Decimal

import pghistory
import pghistory.core
import pghistory.models
import time_machine
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from dossiers import register
from dossiers.choices import AreaBand, Category, Cause, HousingType, MedicalInsurance, Relationship, Status, WorkStatus
from dossiers.filing import assess_household, save_household
from dossiers.models import ExitKind, Household, LocalStandard, Member
from hardship import idnumbers
from hardship.models import Region, Union, User

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["建国", "秀英", "桂兰", "志强", "丽娟", "海燕", "国庆", "红梅", "卫东", "淑珍", "振华", "玉兰", "明", "静",
         "磊", "洋", "婷", "浩然", "子涵", "雨桐"]
STREETS = ["建设路", "棉纺路", "伏牛路", "桐柏路", "嵩山路", "文化路", "经三路", "花园路", "农业路", "黄河路"]

# (status to reach, income profile) — enough files that every status and category shows up.
PLAN = [
    (Status.DRAFT, "deep"), (Status.RETURNED, "relative"), (Status.SUBMITTED, "deep"),
    (Status.FIRST_REVIEWED, "relative"), (Status.VISITED, "deep"), (Status.REVIEWED, "accident"),
    (Status.CIVIL_CHECKED, "relative"), (Status.IN_NOTICE, "deep"),
    (Status.REGISTERED, "deep"), (Status.REGISTERED, "relative"), (Status.REGISTERED, "accident"),
    (Status.REGISTERED, "deep"), (Status.REGISTERED, "relative"), (Status.EXIT_PROPOSED, "relative"),
    (Status.EXITED, "relative"), (Status.RELIEVED, "deep"), (Status.REMOVED, "relative"),
    (Status.WITHDRAWN, "relative"), (Status.DECLINED, "relative"),
]
# Files that reach the register were filed and put on notice this many days ago (the notice is then over).
NOTICE_STARTED_DAYS_AGO = 40
LIFECYCLE = [Status.SUBMITTED, Status.FIRST_REVIEWED, Status.VISITED, Status.REVIEWED, Status.CIVIL_CHECKED,
             Status.IN_NOTICE, Status.REGISTERED]


def ensure_standards() -> None:
    """Demo figures for 郑州市 and 河南省 (replace with the published figures in production)."""
    for code, line, wage in (("410000", "750.00", "1900.00"), ("410100", "850.00", "2100.00")):
        LocalStandard.objects.get_or_create(
            region=Region.objects.get(code=code), effective_from=datetime.date(2025, 7, 1),
            defaults={"poverty_line": Decimal(line), "min_wage": Decimal(wage), "source": "演示数据"},
        )


@transaction.atomic
def load_dossier_demo(*, seed: int = 2026) -> int:
    ensure_standards()
    rng = random.Random(seed)
    made = 0
    for county, caseworker, reviewer in (("410102", "caseworker", "reviewer"), ("410105", "caseworker2", "reviewer2")):
        filer, checker = User.objects.get(username=caseworker), User.objects.get(username=reviewer)
        units = list(Union.objects.subtree_of(filer.home_union).order_by("code"))
        supervisor = User.objects.get(username="supervisor")
        people = {"filer": filer, "checker": checker, "supervisor": supervisor}
        for index, (status, profile) in enumerate(PLAN):
            with _clock_for(status):  # files on the register were filed and noticed weeks ago, by the real register
                household = _new_household(rng, units[index % len(units)], filer, profile, county, index)
                _walk(household, status, profile=profile, **people)
            _finish(household, status, **people)
            made += 1
    return made


def _clock_for(status: str):
    if status in (Status.DRAFT, Status.RETURNED) or status in LIFECYCLE[:-1]:
        return contextlib.nullcontext()
    return time_machine.travel(timezone.now() - datetime.timedelta(days=NOTICE_STARTED_DAYS_AGO), tick=True)


def _new_household(rng: random.Random, union: Union, filer: User, profile: str, county: str, index: int) -> Household:
    surname = rng.choice(SURNAMES)
    head_birth = datetime.date(rng.randint(1966, 1988), rng.randint(1, 12), rng.randint(1, 28))
    members = [
        _member(surname + rng.choice(GIVEN), Relationship.SELF, head_birth, county, index * 4, "M",
                WorkStatus.SICK_LEAVE if profile == "deep" else WorkStatus.EMPLOYED, primary=True),
        _member(rng.choice(SURNAMES) + rng.choice(GIVEN), Relationship.SPOUSE,
                head_birth.replace(year=head_birth.year + 2), county, index * 4 + 1, "F",
                WorkStatus.NONE if profile == "deep" else WorkStatus.EMPLOYED),
        _member(surname + rng.choice(GIVEN), Relationship.CHILD, datetime.date(2012, 5, 1 + index % 27), county,
                index * 4 + 2, "M", WorkStatus.STUDENT),
    ]
    members[1].able_to_work = profile != "deep"
    members[1].health = "serious" if profile != "relative" else "healthy"
    income = {"deep": "14000", "relative": "42000", "accident": "30000"}[profile]
    household = Household(
        union=union, region=union.region,
        address=f"郑州市{rng.choice(STREETS)}{rng.randint(1, 300)}号院{rng.randint(1, 20)}号楼",
        phone=f"139{rng.randint(10000000, 99999999)}", housing_type=rng.choice(HousingType.values),
        area_band=rng.choice(AreaBand.values),
        main_cause=Cause.SERIOUS_ILLNESS if profile == "accident" else Cause.LAID_OFF,
        secondary_causes=[Cause.SCHOOLING], accident=profile == "accident", zero_employment=profile == "deep",
        consent_basis="本人签字的申请书和家庭经济状况核对授权书", income_wages=Decimal(income),
        income_transfers=Decimal("3600"), cost_illness=Decimal("26000" if profile == "accident" else "4000"),
        cost_schooling=Decimal("2400"), bank_name="中国工商银行", bank_branch="郑州中原支行",
        bank_card=f"6222{rng.randint(10**11, 10**12 - 1)}",
    )
    with acting(filer, reverse("dossiers:create")):
        return save_household(household, members, by=filer)


def acting(user: User, url: str) -> pghistory.context:
    """The history context of a signed-in request to `url`, as pghistory's middleware sets it: the demo has no
    request, and a write outside any context is credited to no one (系统) or, within the demo's one transaction, to
    the last context's user. It also notes the demo clock's time (time-machine moves Python's clock, not the
    database's NOW() that the history triggers use) for stamp_history."""
    return pghistory.context(user=user.pk, url=url, demo_clock=timezone.now().isoformat())


def _by(user: User, step, household: Household, *, url: str = "", **kwargs):
    """A register step (or another function taking `by`) as the user's request to its page makes it."""
    with acting(user, url or reverse("dossiers:transition", args=[household.file_number, step.__name__])):
        return step(household, by=user, **kwargs)


def stamp_history() -> None:
    """Date the demo's history rows by the demo clock's time of their step (see acting), one UPDATE per history
    table. The whole demo is one transaction, so every row would otherwise carry the load's one NOW(): a file filed
    and reviewed weeks ago would show it all as done just now, in no particular order."""
    with connection.cursor() as cursor:
        for event_model in pghistory.core.event_models():
            cursor.execute(f"""
                UPDATE "{event_model._meta.db_table}" AS event
                SET pgh_created_at = (context.metadata ->> 'demo_clock')::timestamptz
                FROM "{pghistory.models.Context._meta.db_table}" AS context
                WHERE context.id = event.pgh_context_id AND context.metadata ? 'demo_clock'
            """)  # a join, planned as one even on tables the planner has no statistics for yet (the tests)


def _member(name, relationship, birth, county, seq, sex, work_status, primary=False) -> Member:
    return Member(
        name=name, relationship=relationship, birth_date=birth, sex=sex, is_primary=primary,
        id_number=idnumbers.generate(county, birth, 100 + seq % 400, sex),
        medical_insurance=MedicalInsurance.EMPLOYEE if primary else MedicalInsurance.RESIDENT,
        work_status=work_status, employer="郑州第一棉纺厂" if primary else "",
        monthly_income=Decimal("0"),
    )


def _walk(household: Household, status: str, *, filer, checker, supervisor, profile: str) -> None:
    """The review chain up to the public notice: filed by `filer`, 初审 by `checker`, 复核 by `supervisor`."""
    if status == Status.DRAFT:
        return
    if status in (Status.WITHDRAWN, Status.DECLINED):
        _end_application(household, status, filer=filer, checker=checker)
        return
    if profile == "accident":
        _by(filer, assess_household, household, url=reverse("dossiers:override_category",
                                                             args=[household.file_number]),
            final_category=Category.ACCIDENT, override_reason="家庭成员突发重病，医疗支出占收入八成以上")
    steps = LIFECYCLE[:LIFECYCLE.index(status) + 1] if status in LIFECYCLE else LIFECYCLE
    steps = [step for step in steps if step != Status.REGISTERED]
    for step in (Status.SUBMITTED, *steps[1:]) if status != Status.RETURNED else (Status.SUBMITTED,):
        _step(household, step, filer=filer, checker=checker, supervisor=supervisor)
    if status == Status.RETURNED:
        _by(checker, register.return_for_correction, household, reason="收入证明不全，请补充近 12 个月工资流水")


def _end_application(household: Household, status: str, *, filer, checker) -> None:
    """Applications that never reach the register: one the family withdraws, one a reviewer declines."""
    _by(filer, register.submit, household)
    if status == Status.WITHDRAWN:
        _by(filer, register.withdraw, household, reason="本人来电撤回申请：配偶已重新就业，家庭收入好转")
    else:
        _by(checker, register.first_review, household, reason="材料齐全，同意入户调查")
        _by(checker, register.decline, household, reason="入户调查发现家庭有一辆登记在本人名下的小轿车，不予建档")


def _step(household: Household, step: str, *, filer, checker, supervisor) -> None:
    if step == Status.SUBMITTED:
        _by(filer, register.submit, household)
    elif step == Status.FIRST_REVIEWED:
        _by(checker, register.first_review, household, reason="材料齐全，同意入户调查")
    elif step == Status.VISITED:
        _by(filer, register.record_visit, household, visited_on=timezone.localdate(), signed_application=True,
            finance_authorisation=True, findings="家中陈设简陋，收入情况与申报一致")
    elif step == Status.REVIEWED:
        _by(supervisor, register.review, household, reason="复核属实")
    elif step == Status.CIVIL_CHECKED:
        _by(filer, register.record_civil_check, household, reason="民政核对：未享受低保")
    elif step == Status.IN_NOTICE:
        try:
            _by(filer, register.start_notice, household)
        except register.TransitionError as error:  # a year the working calendar does not cover yet
            print(f"演示档案 {household.file_number} 停在待公示：{error}", file=sys.stderr)


def _finish(household: Household, status: str, *, filer, checker, supervisor) -> None:
    """Today: the notice ends and the file enters the register; exits are proposed and approved."""
    if status in (Status.DRAFT, Status.RETURNED) or status in LIFECYCLE[:-1] or household.status != Status.IN_NOTICE:
        return
    _by(filer, register.finish_notice, household, reason="公示无异议")
    if status in (Status.EXIT_PROPOSED, Status.EXITED, Status.RELIEVED, Status.REMOVED):
        _exit(household, status, filer=filer, supervisor=supervisor)


def _exit(household: Household, status: str, *, filer, supervisor) -> None:
    kind = {Status.RELIEVED: ExitKind.RELIEF, Status.REMOVED: ExitKind.REMOVAL}.get(status, ExitKind.EXIT)
    evidence = {ExitKind.RELIEF: "配偶重病无劳动能力，已纳入低保兜底并享受定期帮扶",
                ExitKind.REMOVAL: "本人已办理退休，家庭收入稳定"}.get(kind, "连续 6 个月人均收入高于当地低保标准")
    months = register.evidence_months()
    incomes = [Decimal("980"), Decimal("1000"), Decimal("1020"), Decimal("990"), Decimal("1050"), Decimal("1100")]
    _by(filer, register.propose_exit, household, kind=kind, reason=evidence,
        removal_reason="retirement" if kind == ExitKind.REMOVAL else "",
        monthly_incomes=incomes[-len(months):] if kind == ExitKind.EXIT else [],
        first_income_month=months[0] if kind == ExitKind.EXIT else None)
    if status != Status.EXIT_PROPOSED:
        _by(supervisor, register.approve_exit, household, reason="同意")
