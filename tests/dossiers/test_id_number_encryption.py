"""ID numbers at rest: Fernet ciphertext in the files, the rosters and their history, found by a keyed digest;
key rotation with `manage.py rotate_keys`."""

import io

import pytest
from cryptography.fernet import InvalidToken
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef
from django.test import override_settings
from django.urls import reverse

from dossiers.filing import FilingError
from dossiers.legacy.models import CivilRoster, CivilRosterEntry
from dossiers.models import Household, Member
from hardship import fields
from hardship.history import file_history
from tests.dossiers.conftest import new_member, search

pytestmark = pytest.mark.django_db

OLD_KEYS = {"FIELD_ENCRYPTION_KEYS": ["old encryption key"], "ID_NUMBER_DIGEST_KEY": "old digest key"}
NEW_KEYS = {"FIELD_ENCRYPTION_KEYS": ["new encryption key"], "ID_NUMBER_DIGEST_KEY": "new digest key"}
ROTATING = {"FIELD_ENCRYPTION_KEYS": ["new encryption key", "old encryption key"],
            "ID_NUMBER_DIGEST_KEY": "new digest key"}


def stored(table: str, column: str, where: str = "", params=()) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column}, {column}_digest FROM {table} {where}", params)
        return [(value, bytes(digest)) for value, digest in cursor.fetchall()]


def test_the_tables_and_their_history_hold_ciphertext_and_the_keyed_digest(household):
    head = household.members.get(is_primary=True)
    for table, column in [("dossiers_member", "id_number"), ("dossiers_memberevent", "id_number"),
                          ("dossiers_household", "head_id_number"), ("dossiers_householdevent", "head_id_number")]:
        rows = stored(table, column)
        assert rows, table
        numbers = {fields.decrypt(value) for value, _digest in rows}
        assert head.id_number in numbers, table
        for value, digest in rows:
            assert len(value) > 18 and not value[:17].isdigit()  # no number in plain
            assert digest == fields.id_digest(fields.decrypt(value))


def test_a_roster_entry_is_encrypted_too(caseworker, unions, household):
    head = household.members.get(is_primary=True)
    roster = CivilRoster.objects.create(union=unions["410102"], uploaded_by=caseworker, file_name="名册.xlsx")
    CivilRosterEntry.objects.bulk_create([CivilRosterEntry(roster=roster, row=2, id_number=head.id_number,
                                                           name=head.name, on_dibao=True)])
    ((value, digest),) = stored("dossiers_civilrosterentry", "id_number")
    assert fields.decrypt(value) == head.id_number and digest == fields.id_digest(head.id_number)
    assert roster.entries.get(id_number=head.id_number).name == head.name


def test_exact_and_in_lookups_compare_digests_and_nothing_else_compares(household):
    head = household.members.get(is_primary=True)
    assert Member.objects.get(id_number=head.id_number) == head
    assert Member.objects.get(id_number=head.id_number.lower()) == head  # a final x is an X
    assert list(Member.objects.filter(id_number__in=[head.id_number, "110101199001011237"])) == [head]
    assert Household.objects.get(head_id_number=head.id_number) == household
    assert Household.objects.filter(members__id_number=head.id_number).get() == household
    for lookup in ("startswith", "contains", "gt", "icontains"):
        with pytest.raises(FieldError, match="encrypted"):
            Member.objects.filter(**{f"id_number__{lookup}": head.id_number[:6]})
    with pytest.raises(FieldError, match="digest"):
        Member.objects.filter(id_number=OuterRef("id_number"))


def test_saving_an_unchanged_number_keeps_its_ciphertext_and_writes_no_history(household):
    member = household.members.get(is_primary=False)
    before = stored("dossiers_member", "id_number", "WHERE id = %s", [member.pk])
    events = Member.pgh_event_model.objects.count()

    Member.objects.get(pk=member.pk).save()

    assert stored("dossiers_member", "id_number", "WHERE id = %s", [member.pk]) == before
    assert Member.pgh_event_model.objects.count() == events


def test_one_open_file_per_person_holds_on_the_digest(make_household, caseworker, unions, household):
    head = household.members.get(is_primary=True)
    with pytest.raises(FilingError):
        make_household(by=caseworker, union=unions["410102-C01"],
                       members=[new_member(id_number=head.id_number, name=head.name)])
    twin = new_member(id_number=head.id_number.lower(), name=head.name, household=household, is_primary=False,
                      relationship="other")
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()  # once per household, whatever the case of the X


def test_the_file_history_shows_the_numbers_masked(household):
    rows = file_history(household)
    shown = [change.new for row in rows for change in row.changes if change.field == "身份证号"]
    head = household.members.get(is_primary=True)
    assert f"{head.id_number[:6]}********{head.id_number[-4:]}" in shown


def test_an_id_search_is_kept_encrypted_in_the_session(client_for, caseworker, household):
    head = household.members.get(is_primary=True)
    client = client_for(caseworker)
    response = search(client, {"q": head.id_number})
    assert household.file_number in response.content.decode()
    session = client.session
    remembered = session["household_searches"]
    assert head.id_number not in str(remembered)
    assert [fields.decrypt(search["q"]) for search in remembered.values()] == [head.id_number]


def test_rotation_re_encrypts_and_re_digests_everything(make_household, caseworker, unions, client_for):
    with override_settings(**OLD_KEYS):
        household = make_household(by=caseworker, union=unions["410102-C01"], bank_card="6222020200112233445")
        head = household.members.get(is_primary=True)
        member = household.members.get(is_primary=False)
        Member.objects.filter(pk=member.pk).update(health_notes="高血压")
    with override_settings(**ROTATING):
        call_command("rotate_keys", stdout=io.StringIO())
    with override_settings(**NEW_KEYS):
        assert Member.objects.get(id_number=head.id_number) == head
        assert Household.objects.get(head_id_number=head.id_number).bank_card == "6222020200112233445"
        assert Member.objects.get(pk=member.pk).health_notes == "高血压"
        for value, digest in stored("dossiers_memberevent", "id_number"):
            assert digest == fields.id_digest(fields.decrypt(value))
        assert file_history(household)
        response = search(client_for(caseworker), {"q": head.id_number})
        assert household.file_number in response.content.decode()
        assert client_for(caseworker).get(reverse("dossiers:detail", args=[household.file_number])).status_code == 200
    with override_settings(**OLD_KEYS), pytest.raises(InvalidToken):
        fields.decrypt(stored("dossiers_member", "id_number")[0][0])


def test_rotation_without_the_old_key_stops_and_changes_nothing(household):
    before = stored("dossiers_member", "id_number")
    with override_settings(**NEW_KEYS), pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS"):
        call_command("rotate_keys", stdout=io.StringIO())
    assert stored("dossiers_member", "id_number") == before


def test_a_number_read_under_a_retiring_key_is_saved_under_the_current_one(make_household, caseworker, unions):
    with override_settings(**OLD_KEYS):
        household = make_household(by=caseworker, union=unions["410102-C01"])
        member = household.members.get(is_primary=False)
    with override_settings(**{**ROTATING, "ID_NUMBER_DIGEST_KEY": OLD_KEYS["ID_NUMBER_DIGEST_KEY"]}):
        loaded = Member.objects.get(pk=member.pk)
        loaded.save()
    with override_settings(**NEW_KEYS):
        ((value, _digest),) = stored("dossiers_member", "id_number", "WHERE id = %s", [member.pk])
        assert fields.decrypt(value) == member.id_number
