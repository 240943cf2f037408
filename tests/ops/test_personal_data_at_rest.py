"""A dump of the database holds no ID number, bank card or health note in plain: not in the files, their history,
the civil roster, an import's rejected rows, the access record or a remembered search."""

import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from dossiers.legacy.admin import receive_upload
from dossiers.legacy.models import CivilRoster, CivilRosterEntry, ImportBatch
from dossiers.models import Member
from dossiers.tasks import import_batch
from hardship.management.commands.backup_db import client_program, connection_arguments
from tests.dossiers import legacy_files as lf
from tests.dossiers.conftest import search

# pg_dump sees committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)

CARD = "6222020200112233445"
HEALTH_NOTE = "腰椎间盘突出术后三年"


def dump() -> str:
    arguments, environment = connection_arguments()
    result = subprocess.run([client_program("pg_dump"), "--data-only", *arguments], env=environment,
                            capture_output=True, text=True, check=True)
    return result.stdout


def test_a_dump_holds_no_id_number_card_or_health_note(make_household, caseworker, county_admin, unions,
                                                       client_for):
    household = make_household(by=caseworker, union=unions["410102-C01"], bank_card=CARD)
    spouse = household.members.get(is_primary=False)
    Member.objects.filter(pk=spouse.pk).update(health_notes=HEALTH_NOTE)
    numbers = list(household.members.values_list("id_number", flat=True))

    roster = CivilRoster.objects.create(union=unions["410102"], uploaded_by=caseworker, file_name="名册.xlsx")
    outsider = lf.person("孙丽", sex="女")
    CivilRosterEntry.objects.create(roster=roster, row=2, id_number=outsider.id_number, name="孙丽", on_dibao=True)
    numbers.append(outsider.id_number)

    good, bad = lf.family("王建军", children=1), lf.family("赵秀兰", sex="女", children=1)
    tables = lf.two_sheet_tables([good, bad])
    wrong = lf.bad_check_digit(bad.members[1].id_number)
    tables[1].record_for(bad.members[1].id_number)["id_number"] = wrong
    upload = SimpleUploadedFile("汇总.xlsx", lf.to_xlsx(tables))
    batch = import_batch(receive_upload(upload, union=unions["410102"], mode=ImportBatch.Mode.SKIP_INVALID,
                                        user=county_admin))
    assert batch.report["households_created"] == 1 and batch.report["rejected_rows"]
    numbers += [person.id_number for person in good.people + bad.people] + [wrong]

    client = client_for(caseworker)
    assert household.file_number in search(client, {"q": numbers[0]}).content.decode()
    detail = client.get(reverse("dossiers:detail", args=[household.file_number]))
    assert detail.status_code == 200

    text = dump()
    assert household.file_number in text and "王建军" in text  # the dump is of these rows
    for secret in [*numbers, CARD, HEALTH_NOTE]:
        assert secret not in text, secret
    assert connection.settings_dict["NAME"].startswith("test_")
