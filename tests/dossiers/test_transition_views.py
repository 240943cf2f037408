"""The transition, objection, category and transfer pages, from the right and wrong users."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from dossiers.choices import Status
from dossiers.models import Household, Objection, Transfer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def version(household) -> int:
    """The file's version as the page shows it in its form."""
    return Household.objects.get(pk=household.pk).register_version


def url(name, household, *args):
    return reverse(f"dossiers:{name}", args=[household.file_number, *args])


def test_it_records_a_visit_through_its_form(client_for, household, caseworker, walk):
    walk(household, Status.FIRST_REVIEWED)
    response = client_for(caseworker).post(url("transition", household, "record_visit"), {
        "visited_on": timezone.localdate().isoformat(), "findings": "属实", "companions": "",
        "signed_application": "on", "finance_authorisation": "on", "reason": "", "version": version(household),
    })
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.status == Status.VISITED and household.visits.get().is_initial


def test_it_refuses_a_visit_without_the_signed_papers(client_for, household, caseworker, walk):
    walk(household, Status.FIRST_REVIEWED)
    response = client_for(caseworker).post(url("transition", household, "record_visit"), {
        "visited_on": timezone.localdate().isoformat(), "findings": "属实", "reason": "",
        "version": version(household),
    })
    assert "申请书" in str(response.context["form"].non_field_errors())
    household.refresh_from_db()
    assert household.status == Status.FIRST_REVIEWED and not household.visits.exists()


def test_it_refuses_a_notice_starting_in_the_future(client_for, household, caseworker, walk):
    walk(household, Status.CIVIL_CHECKED)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(caseworker).post(url("transition", household, "start_notice"),
                                           {"starts_on": tomorrow.isoformat(), "reason": "",
                                            "version": version(household)})
    assert "须在民政核对之日" in str(response.context["form"].non_field_errors())
    assert Household.objects.get(pk=household.pk).status == Status.CIVIL_CHECKED


def test_it_404s_an_unknown_transition(client_for, household, caseworker):
    assert client_for(caseworker).get(url("transition", household, "delete_everything")).status_code == 404


def test_it_forbids_an_auditor_any_transition(client_for, household, auditor):
    assert client_for(auditor).get(url("transition", household, "submit")).status_code == 403


def test_it_records_and_decides_an_objection(client_for, household, caseworker, reviewer, walk):
    walk(household, Status.CIVIL_CHECKED)
    from dossiers import register
    register.start_notice(household, by=caseworker)
    client = client_for(caseworker)
    client.post(url("objection_new", household), {"received_on": timezone.localdate().isoformat(),
                                                  "content": "邻居反映其家中有一辆小轿车"})
    objection = Objection.objects.get()
    client_for(reviewer).post(url("objection_decide", household, objection.pk),
                              {"upheld": "yes", "decision": "经核实确有车辆"})
    household.refresh_from_db()
    assert household.status == Status.RETURNED
    assert household.register_events.first().reason.startswith("公示异议成立")


def test_it_hides_objections_of_another_county(client_for, household, outsider, caseworker, walk):
    assert client_for(outsider).get(url("objection_new", household)).status_code == 404


def test_it_overrides_a_category_only_with_a_reason(client_for, household, caseworker):
    client = client_for(caseworker)
    response = client.post(url("override_category", household), {"final_category": "deep", "override_reason": ""})
    assert "理由" in str(response.context["form"].errors["override_reason"])
    client.post(url("override_category", household), {"final_category": "deep", "override_reason": "刚做完大手术"})
    assert household.assessments.first().final_category == "deep"


def test_it_hands_a_file_to_another_county_which_accepts_it(client_for, household, caseworker, outsider, walk, unions):
    walk(household, Status.REGISTERED)
    client_for(caseworker).post(url("transition", household, "request_transfer"),
                                {"to_union": "410105-C01", "reason": "全家搬到金水区居住",
                                 "version": version(household)})
    transfer = Transfer.objects.get()
    assert client_for(outsider).get(reverse("dossiers:transfers")).context["transfers"][0] == transfer
    stranger = UserFactory(username="stranger", role="caseworker", home_union=unions["420102"])
    assert client_for(stranger).post(reverse("dossiers:transfer_decide", args=[transfer.pk]),
                                     {"accept": "yes"}).status_code == 404
    client_for(outsider).post(reverse("dossiers:transfer_decide", args=[transfer.pk]), {"accept": "yes"})
    household.refresh_from_db()
    assert household.union.code == "410105-C01"
    assert client_for(caseworker).get(reverse("dossiers:detail", args=[household.file_number])).status_code == 404
    assert client_for(outsider).get(reverse("dossiers:detail", args=[household.file_number])).status_code == 200


def test_it_refuses_a_transfer_to_an_unknown_unit(client_for, household, caseworker, walk):
    walk(household, Status.REGISTERED)
    response = client_for(caseworker).post(url("transition", household, "request_transfer"),
                                           {"to_union": "999999-X", "reason": "搬家", "version": version(household)})
    assert response.context["form"].errors["to_union"]
    assert not Transfer.objects.exists()
