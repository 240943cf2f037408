"""Every sheet of an Excel export has a Chinese name (tablib's default is "Tablib Dataset"), in either UI language."""

import io

import openpyxl
import pytest
from django.urls import reverse

from dossiers.filing import save_household
from dossiers.models import Household
from hardship.models import AccessRecord
from tests.dossiers.conftest import default_members, household_fields, standard  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.content))


def test_it_names_the_union_sheet(client_for, supervisor, unions):
    book = workbook(client_for(supervisor).get(reverse("union_export", args=["410100", "xlsx"])))
    assert book.sheetnames == ["工会单位"]


def test_it_names_the_sheet_and_logs_the_export_in_chinese_for_an_english_session(client_for, supervisor, unions):
    client = client_for(supervisor)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    book = workbook(client.get(reverse("union_export", args=["410100", "xlsx"])))
    assert book.sheetnames == ["工会单位"]
    record = AccessRecord.objects.get(action=AccessRecord.Action.EXPORT)
    assert record.subject.startswith("工会单位 × 6（工会单位_410100_")


@pytest.mark.usefixtures("standard")
def test_it_names_both_household_sheets(client_for, caseworker, unions):
    save_household(Household(**household_fields(unions["410102-C01"])), default_members(), by=caseworker)
    book = workbook(client_for(caseworker).get(reverse("dossiers:export", args=["xlsx"])))
    assert book.sheetnames == ["家庭档案", "家庭成员"]


def test_it_exports_no_unit_outside_the_users_subtree(client_for, outsider, unions):
    assert client_for(outsider).get(reverse("union_export", args=["410102", "xlsx"])).status_code == 404
