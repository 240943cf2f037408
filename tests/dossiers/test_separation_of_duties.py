"""三员分立: the system administrator runs accounts and reference data but never reads a file, a role or unit it
gives takes effect only when a security administrator (another person) approves it, and reference data and units
stay inside the administrator's own subtree."""

import datetime
from decimal import Decimal

import pghistory.models
import pytest
from django.db import ProgrammingError, transaction
from django.test import Client
from django.urls import reverse

from dossiers.models import LocalStandard
from hardship import roles
from hardship.models import AccessRecord, Region, Role, Union, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Xy7!long-enough"


def signs_in(username: str) -> bool:
    response = Client().post(reverse("login"), {"username": username, "password": PASSWORD})
    return response.status_code == 302


def create_account(client, unions, username="newcaseworker", role=Role.CASEWORKER, union="410102-S01"):
    return client.post(reverse("admin:hardship_user_add"), {
        "username": username, "full_name": "新同事", "role": role, "home_union": unions[union].pk,
        "password1": PASSWORD, "password2": PASSWORD,
    })


def test_an_account_the_admin_creates_cannot_sign_in_until_a_security_admin_approves_it(
        client_for, county_admin, security_admin, unions, household):
    assert create_account(client_for(county_admin), unions).status_code == 302
    account = User.objects.get(username="newcaseworker")
    assert (account.is_active, account.pending_role, account.pending_requested_by) == (False, Role.CASEWORKER,
                                                                                       county_admin)
    assert not signs_in("newcaseworker")

    page = client_for(security_admin).get(reverse("role_requests")).content.decode()
    assert "newcaseworker" in page and "刘洋" in page
    response = client_for(security_admin).post(reverse("role_request_decide", args=[account.pk, "approve"]))
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.is_active, account.role, account.pending_role, account.pending_requested_by) == (
        True, Role.CASEWORKER, "", None)
    approval = pghistory.models.Events.objects.tracks(account).order_by("pgh_created_at", "pgh_id").last()
    assert approval.pgh_context["user"] == security_admin.pk  # the audit trail says who approved
    assert approval.pgh_diff["is_active"] == [False, True]
    assert signs_in("newcaseworker")


def test_a_role_change_waits_and_the_account_keeps_its_role_until_then(client_for, county_admin, security_admin,
                                                                     caseworker, unions):
    url = reverse("admin:hardship_user_change", args=[caseworker.pk])
    form = client_for(county_admin).get(url).context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None and key != "password"}
    data.update(role=Role.SUPERVISOR, home_union=caseworker.home_union_id, is_active="on",
                last_login="", date_joined="")
    response = client_for(county_admin).post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    caseworker.refresh_from_db()
    assert (caseworker.role, caseworker.pending_role, caseworker.is_active) == (Role.CASEWORKER, Role.SUPERVISOR, True)
    roles.approve(caseworker.pk, by=security_admin)
    caseworker.refresh_from_db()
    assert (caseworker.role, caseworker.pending_role) == (Role.SUPERVISOR, "")


def test_a_rejected_account_stays_disabled(client_for, county_admin, security_admin, unions):
    create_account(client_for(county_admin), unions)
    account = User.objects.get(username="newcaseworker")
    client_for(security_admin).post(reverse("role_request_decide", args=[account.pk, "reject"]))
    account.refresh_from_db()
    assert (account.is_active, account.pending_role) == (False, "")


def test_nobody_but_another_security_admin_in_scope_approves(client_for, county_admin, security_admin, caseworker,
                                                             auditor, unions):
    create_account(client_for(county_admin), unions)
    account = User.objects.get(username="newcaseworker")
    for user in (county_admin, caseworker, auditor):
        assert client_for(user).get(reverse("role_requests")).status_code == 403
        response = client_for(user).post(reverse("role_request_decide", args=[account.pk, "approve"]))
        assert response.status_code == 403
    elsewhere = UserFactory(username="security2", role=Role.SECURITY, home_union=unions["410105"])
    assert "newcaseworker" not in client_for(elsewhere).get(reverse("role_requests")).content.decode()
    with pytest.raises(roles.ApprovalError):
        roles.approve(account.pk, by=elsewhere)
    # A security administrator does not approve a request she made herself, nor her own account.
    User.objects.filter(pk=account.pk).update(pending_requested_by=security_admin)
    with pytest.raises(roles.ApprovalError, match="申请人不能审批"):
        roles.approve(account.pk, by=security_admin)
    User.objects.filter(pk=security_admin.pk).update(pending_role=Role.ADMIN, pending_requested_by=county_admin)
    with pytest.raises(roles.ApprovalError):
        roles.approve(security_admin.pk, by=security_admin)
    assert not User.objects.get(pk=account.pk).is_active


def test_an_approval_twice_is_refused_without_an_error_page(client_for, county_admin, security_admin, unions):
    create_account(client_for(county_admin), unions)
    account = User.objects.get(username="newcaseworker")
    client = client_for(security_admin)
    client.post(reverse("role_request_decide", args=[account.pk, "approve"]))
    response = client.post(reverse("role_request_decide", args=[account.pk, "reject"]), follow=True)
    assert response.status_code == 200 and "已经处理过了" in response.content.decode()
    assert User.objects.get(pk=account.pk).is_active


def test_re_enabling_an_account_is_a_request_too(client_for, county_admin, security_admin, caseworker):
    User.objects.filter(pk=caseworker.pk).update(is_active=False)
    caseworker.refresh_from_db()
    before = User.objects.get(pk=caseworker.pk)
    caseworker.is_active = True
    assert roles.hold_for_approval(caseworker, by=county_admin, before=before)
    assert (caseworker.is_active, caseworker.pending_role) == (False, Role.CASEWORKER)


def test_the_security_admin_reads_no_file_either(client_for, security_admin, household):
    client = client_for(security_admin)
    assert client.get(reverse("home")).url == reverse("role_requests")
    assert client.get(reverse("dossiers:list")).status_code == 403
    assert client.get(reverse("dossiers:detail", args=[household.file_number])).status_code == 404


# --- reference data and units inside the administrator's subtree ----------------------------------------------

def standard_form(region: str, day: str = "2027-01-01") -> dict:
    return {"region": region, "effective_from": day, "poverty_line": "900.00", "min_wage": "2100.00",
            "source": "豫民〔2026〕1 号"}


def test_a_county_admin_adds_a_standard_for_its_own_county_only(client_for, county_admin, unions):
    client = client_for(county_admin)
    url = reverse("admin:dossiers_localstandard_add")
    for region in ("410000", "410105", "110000"):  # its province, a sibling county, another province
        response = client.post(url, standard_form(region))
        assert response.status_code == 200 and response.context["adminform"].form.errors["region"], region
    assert client.post(url, standard_form("410102")).status_code == 302
    assert LocalStandard.objects.filter(region_id="410102").count() == 1
    search = client.get(reverse("admin:autocomplete"), {"app_label": "dossiers", "model_name": "localstandard",
                                                       "field_name": "region", "term": ""}).json()
    assert {row["id"] for row in search["results"]} == {"410102"}


def test_a_standard_is_never_edited_in_place(client_for, county_admin, national_admin):
    Region.objects.get_or_create(code="410102")
    standard = LocalStandard.objects.create(region_id="410102", effective_from=datetime.date(2026, 1, 1),
                                            poverty_line=Decimal("800.00"), min_wage=Decimal("2000.00"))
    url = reverse("admin:dossiers_localstandard_change", args=[standard.pk])
    for admin in (county_admin, national_admin):
        response = client_for(admin).post(url, standard_form("410102", "2026-01-01"))
        assert response.status_code == 403
    assert LocalStandard.objects.get(pk=standard.pk).poverty_line == Decimal("800.00")


def test_a_new_unit_lies_inside_the_admins_subtree(client_for, county_admin, unions):
    client = client_for(county_admin)
    url = reverse("admin:hardship_union_add")
    base = {"name": "新单位", "kind": Union.Kind.HELP_STATION, "region": "", "contact_person": "",
            "contact_phone": "", "address": "", "is_active": "on"}
    for code, parent in (("999999", ""), ("410105-S09", unions["410105"].pk)):  # a second root; a sibling's
        response = client.post(url, {**base, "code": code, "parent": parent})
        assert response.status_code == 200 and response.context["adminform"].form.errors["parent"], code
        assert not Union.objects.filter(code=code).exists()
    assert client.post(url, {**base, "code": "410102-S09", "parent": unions["410102-C01"].pk}).status_code == 302


def test_the_access_record_cannot_be_changed_or_deleted(caseworker):
    record = AccessRecord.objects.create(user=caseworker, action=AccessRecord.Action.VIEW, subject="410102-2026-1")
    for change in (lambda: AccessRecord.objects.filter(pk=record.pk).update(subject="x"),
                   lambda: AccessRecord.objects.filter(pk=record.pk).delete()):
        with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
            change()
    assert AccessRecord.objects.get(pk=record.pk).subject == "410102-2026-1"
