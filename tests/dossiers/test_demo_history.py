"""The demo's history names the person who did each step, as a real request would (the demo walks its files through
the register with no request around it), and dates each step when the demo's clock made it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dossiers.legacy.demo import REGISTER_FILE
from dossiers.models import Household
from hardship.history import file_history
from hardship.models import User
from reporting.demo import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    load_demo()


def changed(row, field: str) -> bool:
    return any(change.field == field for change in row.changes)


def test_it_names_the_person_of_every_step_of_the_demo_files(demo):
    for household in Household.objects.filter(import_batch__isnull=True):
        rows = file_history(household)
        assert rows and all(row.actor is not None for row in rows), household.file_number
        events = {event.transition: event for event in household.register_events.select_related("actor")}
        if "first_review" in events:
            reviewed = next(row for row in rows if changed(row, "初审人"))
            assert reviewed.actor == events["first_review"].actor != household.filed_by
        if "finish_notice" in events:
            registered = next(row for row in rows if changed(row, "入档日期"))
            assert registered.actor == events["finish_notice"].actor


def test_it_dates_each_step_when_the_demo_clock_made_it(demo):
    household = Household.objects.filter(import_batch__isnull=True, registered_on__isnull=False).first()
    rows = file_history(household)
    events = {event.transition: event for event in household.register_events.all()}

    created = next(row for row in rows if row.initial and row.model is Household)
    reviewed = next(row for row in rows if changed(row, "初审人"))
    assert timezone.localdate(created.at) == timezone.localdate(events["submit"].at) < timezone.localdate()
    assert abs(reviewed.at - events["first_review"].at).total_seconds() < 60
    assert [row.at for row in rows] == sorted((row.at for row in rows), reverse=True)


def test_it_credits_the_import_and_the_roster_to_who_uploaded_them(demo):
    admin, caseworker = User.objects.get(username="admin"), User.objects.get(username="caseworker")
    imported = Household.objects.filter(import_batch__isnull=False).first()
    rows = file_history(imported)
    assert {(row.actor, row.source) for row in rows} == {(admin, REGISTER_FILE)}

    matched = [row for household in Household.objects.filter(civil_entries__isnull=False).distinct()
               for row in file_history(household) if row.subject.startswith("民政名册记录")]
    assert matched and {row.actor for row in matched} == {caseworker}
