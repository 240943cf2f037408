"""Every URL the project resolves, for every kind of user and every HTTP method, answers as the access matrix says.

The matrix below has one row per URL name. A URL without a row fails the suite, so each new page adds its row.
Each row gives the status of a GET and of a POST (an empty, CSRF-valid form) for: anonymous, the filer's
caseworker (in scope), a caseworker of the sibling county (out of scope), the city supervisor, the county's
system administrator, its security administrator and the city auditor. PUT, PATCH and DELETE never succeed.
Nothing here changes data: a POST with an empty form is refused or re-shows the form.
"""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from assistance.models import (
    BankReturn,
    Campaign,
    Discrepancy,
    Measure,
    MeasureType,
    Payment,
    PaymentBatch,
    Plan,
    Schedule,
    SkippedSchedule,
)
from dossiers.legacy.models import CivilRoster, CivilRosterEntry
from dossiers.models import Helper, Objection, Transfer
from hardship.models import Heartbeat
from tests.conftest import _pass_second_factor as pass_second_factor
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PRINCIPALS = ["anonymous", "caseworker", "outsider", "supervisor", "county_admin", "security_admin", "auditor"]

# name: ((GET for each principal), (POST for each principal)), in the order of PRINCIPALS:
#          anonymous, caseworker, outsider, supervisor, county_admin, security_admin, auditor
# 302 sign-in, or a redirect after a form (a move that cannot be made now, a decision taken); 403 the role may
# not; 404 out of the user's scope, or a file the system and security administrators never see (三员分立);
# 405 the method is not the page's. The file is a draft of 中原区 filed by `caseworker`, in transfer to 金水区.
MATRIX = {
    "account_security": ((302, 200, 200, 200, 200, 200, 200), (302, 405, 405, 405, 405, 405, 405)),
    "assistance:measure_edit": ((302, 403, 404, 403, 404, 404, 403), (302, 403, 404, 403, 404, 404, 403)),
    "assistance:measure_new": ((302, 403, 404, 403, 404, 404, 403), (302, 403, 404, 403, 404, 404, 403)),
    "assistance:plan": ((302, 200, 404, 200, 404, 404, 200), (302, 403, 404, 403, 404, 404, 403)),
    "assistance:plan_edit": ((302, 403, 404, 403, 404, 404, 403), (302, 403, 404, 403, 404, 404, 403)),
    "audit_export": ((302, 403, 403, 403, 403, 403, 200), (302, 405, 405, 405, 405, 405, 405)),
    "dossiers:assessment_preview": ((302, 405, 405, 405, 405, 405, 405), (302, 200, 200, 403, 403, 403, 403)),
    "dossiers:civil_accept": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 404, 403, 403, 403, 403)),
    "dossiers:civil_accept_all": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 404, 403, 403, 403, 403)),
    "dossiers:civil_detail": ((302, 200, 404, 403, 200, 403, 403), (302, 405, 405, 405, 405, 405, 405)),
    "dossiers:civil_list": ((302, 200, 200, 403, 200, 403, 403), (302, 405, 405, 405, 405, 405, 405)),
    "dossiers:civil_upload": ((302, 200, 200, 403, 200, 403, 403), (302, 200, 200, 403, 200, 403, 403)),
    "dossiers:create": ((302, 200, 200, 403, 403, 403, 403), (302, 200, 200, 403, 403, 403, 403)),
    "dossiers:detail": ((302, 200, 404, 200, 404, 404, 200), (302, 405, 405, 405, 405, 405, 405)),
    "dossiers:edit": ((302, 200, 404, 403, 404, 404, 403), (302, 200, 404, 403, 404, 404, 403)),
    "dossiers:export": ((302, 200, 200, 200, 403, 403, 200), (302, 405, 405, 405, 405, 405, 405)),
    "dossiers:history": ((302, 200, 404, 200, 404, 404, 200), (302, 405, 405, 405, 405, 405, 405)),
    "dossiers:list": ((302, 200, 200, 200, 403, 403, 200), (302, 302, 302, 302, 403, 403, 302)),
    "dossiers:lookup": ((302, 200, 200, 403, 403, 403, 403), (302, 200, 200, 403, 403, 403, 403)),
    "dossiers:member_row": ((302, 200, 200, 403, 403, 403, 403), (302, 405, 405, 405, 405, 405, 405)),
    "dossiers:objection_decide": ((302, 200, 404, 200, 404, 404, 403), (302, 200, 404, 200, 404, 404, 403)),
    "dossiers:objection_new": ((302, 302, 404, 302, 404, 404, 403), (302, 302, 404, 302, 404, 404, 403)),
    "dossiers:override_category": ((302, 200, 404, 403, 404, 404, 403), (302, 200, 404, 403, 404, 404, 403)),
    "dossiers:print": ((302, 200, 404, 200, 404, 404, 200), (302, 405, 405, 405, 405, 405, 405)),
    "dossiers:reveal": ((302, 405, 405, 405, 405, 405, 405), (302, 200, 404, 200, 404, 404, 200)),
    "dossiers:transfer_decide": ((302, 404, 404, 404, 404, 404, 404), (302, 404, 302, 302, 404, 404, 404)),
    "dossiers:transfers": ((302, 200, 200, 200, 403, 403, 403), (302, 405, 405, 405, 405, 405, 405)),
    "dossiers:transition": ((302, 200, 404, 403, 404, 404, 403), (302, 200, 404, 403, 404, 404, 403)),
    "dossiers:pairing": ((302, 200, 404, 200, 404, 404, 200), (302, 422, 404, 403, 404, 404, 403)),
    "dossiers:visit_new": ((302, 200, 404, 403, 404, 404, 403), (302, 422, 404, 403, 404, 404, 403)),
    "subsidies:approve": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 404, 302, 404, 404, 403)),
    "subsidies:batch": ((302, 403, 404, 200, 404, 404, 200), (302, 405, 405, 405, 405, 405, 405)),
    "subsidies:batches": ((302, 403, 403, 200, 403, 403, 200), (302, 405, 405, 405, 405, 405, 405)),
    "subsidies:budgets": ((302, 403, 403, 200, 403, 403, 200), (302, 403, 403, 422, 403, 403, 403)),
    "subsidies:campaign": ((302, 200, 404, 200, 403, 403, 200), (302, 405, 405, 405, 405, 405, 405)),
    "subsidies:campaign_run": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 404, 302, 403, 403, 403)),
    "subsidies:campaign_visit": ((302, 200, 404, 403, 403, 403, 403), (302, 422, 404, 403, 403, 403, 403)),
    "subsidies:campaigns": ((302, 200, 200, 200, 403, 403, 200), (302, 403, 403, 422, 403, 403, 403)),
    "subsidies:disclosure": ((302, 403, 404, 200, 404, 404, 200), (302, 405, 405, 405, 405, 405, 405)),
    "subsidies:export": ((302, 403, 404, 302, 404, 404, 403), (302, 405, 405, 405, 405, 405, 405)),
    "subsidies:hold": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 404, 302, 404, 404, 403)),
    "subsidies:household": ((302, 200, 404, 200, 404, 404, 200), (302, 403, 404, 422, 404, 404, 403)),
    "subsidies:reissue": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 404, 302, 404, 404, 403)),
    "subsidies:release": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 404, 302, 404, 404, 403)),
    "subsidies:resolve": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 404, 302, 404, 404, 403)),
    "subsidies:return": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 404, 302, 404, 404, 403)),
    "subsidies:run": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 403, 403, 403)),
    "subsidies:schedule_status": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 404, 302, 404, 404, 403)),
    "subsidies:send": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 404, 302, 404, 404, 403)),
    "helpers:detail": ((302, 200, 404, 200, 404, 404, 200), (302, 405, 405, 405, 405, 405, 405)),
    "helpers:edit": ((302, 200, 404, 403, 404, 404, 403), (302, 422, 404, 403, 404, 404, 403)),
    "helpers:list": ((302, 200, 200, 200, 403, 403, 200), (302, 405, 405, 405, 405, 405, 405)),
    "helpers:new": ((302, 200, 200, 403, 403, 403, 403), (302, 422, 422, 403, 403, 403, 403)),
    "helpers:proposal": ((302, 200, 200, 403, 403, 403, 403), (302, 405, 405, 405, 405, 405, 405)),
    "helpers:proposal_confirm": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 302, 403, 403, 403, 403)),
    "health": ((200, 200, 200, 200, 200, 200, 200), (405, 405, 405, 405, 405, 405, 405)),
    "home": ((302, 200, 200, 200, 200, 302, 200), (302, 405, 405, 405, 405, 405, 405)),
    "login": ((200, 302, 302, 302, 302, 302, 302), (200, 302, 302, 302, 302, 302, 302)),
    "logout": ((405, 405, 405, 405, 405, 405, 405), (302, 302, 302, 302, 302, 302, 302)),
    "otp_disable": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 302, 302, 302, 302, 302)),
    "otp_setup": ((302, 200, 200, 200, 302, 302, 302), (302, 200, 200, 200, 302, 302, 302)),
    "otp_verify": ((302, 302, 302, 302, 302, 302, 302), (302, 302, 302, 302, 302, 302, 302)),
    "password_change": ((302, 200, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200, 200)),
    "reporting:dashboard": ((302, 403, 403, 200, 403, 403, 403), (302, 405, 405, 405, 405, 405, 405)),
    "reporting:data": ((302, 403, 403, 200, 403, 403, 403), (302, 405, 405, 405, 405, 405, 405)),
    "reporting:export": ((302, 403, 403, 200, 403, 403, 403), (302, 405, 405, 405, 405, 405, 405)),
    "reporting:print": ((302, 403, 403, 200, 403, 403, 403), (302, 405, 405, 405, 405, 405, 405)),
    "reporting:targets": ((302, 403, 403, 200, 403, 403, 403), (302, 403, 403, 302, 403, 403, 403)),
    "role_request_decide": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 403, 403, 403, 302, 403)),
    "role_requests": ((302, 403, 403, 403, 403, 200, 403), (302, 405, 405, 405, 405, 405, 405)),
    "set_language": ((302, 302, 302, 302, 302, 302, 302), (302, 302, 302, 302, 302, 302, 302)),
    "union_detail": ((302, 200, 404, 200, 200, 200, 200), (302, 405, 405, 405, 405, 405, 405)),
    "union_export": ((302, 200, 404, 200, 200, 200, 200), (302, 405, 405, 405, 405, 405, 405)),
}

# The URLs' arguments: the objects the fixture `world` makes.
ARGUMENTS = {
    "file_number": "household", "member_id": "member", "pk": None, "entry_pk": "entry", "user_id": "pending",
    "code": "union", "file_format": "csv", "name": "transition", "decision": "approve",
}


def url_names(patterns=None, namespace=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # the admin site: tests/hardship/test_admin_scoping.py
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def test_every_url_has_a_row_in_the_matrix():
    missing = sorted(name for name, _pattern in url_names() if name not in MATRIX)
    assert not missing, f"URLs without a row in the access matrix: {missing}"


@pytest.fixture
def world(make_household, caseworker, outsider, supervisor, county_admin, security_admin, auditor, unions):
    household = make_household(by=caseworker, union=unions["410102-C01"])
    member = household.members.first()
    objection = Objection.objects.create(household=household, received_on="2026-12-01", content="邻居反映",
                                         recorded_by=caseworker)
    transfer = Transfer.objects.create(household=household, from_union=unions["410102-C01"],
                                       to_union=unions["410105-C01"], reason="搬迁", requested_by=caseworker)
    roster = CivilRoster.objects.create(union=unions["410102"], uploaded_by=county_admin, file_name="名册.xlsx",
                                        total_rows=1, rejected=[])
    entry = CivilRosterEntry.objects.create(roster=roster, row=2, id_number=member.id_number, name=member.name,
                                            on_dibao=True, household=household, member=member)
    plan = Plan.objects.create(household=household, goal="稳定就业", target_year=2027, deadline="2027-12-31",
                               responsible="中原区总工会", created_by=caseworker, updated_by=caseworker)
    measure = Measure.objects.create(plan=plan, measure_type=MeasureType.objects.get(code="job_referral"),
                                     description="推荐就业", responsible="帮扶中心", due_on="2027-03-31",
                                     created_by=caseworker)
    helper = Helper.objects.create(name="王建国", helping_unit="中原区总工会", union=unions["410102-C01"])
    subsidy = subsidy_objects(household, unions, supervisor)
    Heartbeat.objects.create(name="beat")  # the Celery heartbeat /health/ looks for
    pending = UserFactory(username="pending", home_union=unions["410102-C01"], is_active=False,
                          pending_role="caseworker", pending_home_union=unions["410102-C01"],
                          pending_requested_by=county_admin)
    users = {"caseworker": caseworker, "outsider": outsider, "supervisor": supervisor, "county_admin": county_admin,
             "security_admin": security_admin, "auditor": auditor}
    objects = {"household": household.file_number, "member": member.pk, "entry": entry.pk, "pending": pending.pk,
               "union": "410102-C01", "transition": "submit", "roster": roster.pk, "objection": objection.pk,
               "transfer": transfer.pk, "measure": measure.pk, "helper": helper.pk, **subsidy}
    return users, objects


def subsidy_objects(household, unions, supervisor) -> dict:
    """A draft batch of the file's union with one payment, a skipped schedule and a discrepancy, and a campaign."""
    month = datetime.date(2026, 12, 1)
    schedule = Schedule.objects.create(household=household, union=household.union, amount="300.00",
                                       first_period=month, fund_source="central", approved_by=supervisor,
                                       created_by=supervisor)
    batch = PaymentBatch.objects.create(union=household.union, period=month)
    payment = Payment.objects.create(batch=batch, household=household, schedule=schedule, kind="living",
                                     period=month, amount="300.00", fund_source="central", account_name="张建国",
                                     account="6222021234567890123", memo="2026年12月生活补贴")
    skip = SkippedSchedule.objects.create(batch=batch, household=household, schedule=None, reason="no_bank_card")
    bank_return = BankReturn.objects.create(batch=batch, filename="回盘.csv", lines=1, paid=0, failed=0,
                                            recorded_by=supervisor)
    discrepancy = Discrepancy.objects.create(batch=batch, bank_return=bank_return, kind="unknown_account")
    campaign = Campaign.objects.create(name="春节送温暖", union=unions["410102"], starts_on="2027-01-20",
                                       ends_on="2027-02-20", categories=["relative"], amounts={"relative": "500.00"},
                                       fund_source="union", created_by=supervisor)
    return {"batch": batch.pk, "payment": payment.pk, "skip": skip.pk, "discrepancy": discrepancy.pk,
            "campaign": campaign.pk, "schedule": schedule.pk}


PK_KINDS = {"dossiers:objection_decide": "objection", "dossiers:transfer_decide": "transfer",
            "assistance:measure_edit": "measure", "helpers:detail": "helper", "helpers:edit": "helper",
            **{f"subsidies:{name}": "batch" for name in ("batch", "approve", "send", "return", "export", "disclosure")},
            "subsidies:hold": "payment", "subsidies:reissue": "payment", "subsidies:release": "skip",
            "subsidies:resolve": "discrepancy", "subsidies:schedule_status": "schedule",
            "subsidies:campaign": "campaign", "subsidies:campaign_run": "campaign",
            "subsidies:campaign_visit": "campaign"}


def address(name: str, pattern: URLPattern, objects: dict) -> str:
    kwargs = {}
    for argument in pattern.pattern.converters:
        kind = ARGUMENTS[argument]
        if argument == "pk":
            kind = PK_KINDS.get(name, "roster")
        kwargs[argument] = objects.get(kind, kind)
    return reverse(name, kwargs=kwargs)


def client_of(principal: str, users: dict) -> Client:
    client = Client()
    if principal != "anonymous":
        client.force_login(users[principal])
        pass_second_factor(client, users[principal])  # the roles that need it have passed it
    return client


def history_rows() -> int:
    """The rows of every history table. A GET writes none: the history middleware gives GETs no context
    (PGHISTORY_MIDDLEWARE_METHODS), so a change made by one would be recorded without its user."""
    import pghistory

    tables = [model._meta.db_table for model in pghistory.core.event_models()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " + ".join(f"(SELECT count(*) FROM {table})" for table in tables))
        return cursor.fetchone()[0]


def observed(world) -> dict:
    users, objects = world
    result = {}
    for name, pattern in url_names():
        url = address(name, pattern, objects)
        gets, posts = [], []
        for principal in PRINCIPALS:
            client = client_of(principal, users)
            written = history_rows()
            gets.append(client.get(url).status_code)
            assert history_rows() == written, f"GET {name} as {principal} changed a tracked record"
            posts.append(client.post(url, {}).status_code)
            for method in (client.put, client.patch, client.delete):
                assert method(url).status_code in (302, 400, 403, 404, 405), (name, principal, method.__name__)
        result[name] = (tuple(gets), tuple(posts))
    return result


def test_every_url_answers_every_user_and_method_as_the_matrix_says(world):
    found = observed(world)
    wrong = {name: (found[name], MATRIX.get(name)) for name in found if found[name] != MATRIX.get(name)}
    assert not wrong, "\n".join(f"{name}: found {got}, matrix {want}" for name, (got, want) in wrong.items())
