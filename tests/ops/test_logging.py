"""Logs as the real LOGGING configuration writes them: JSON lines tagged with the request's id, and no ID number
or bank card number anywhere in them, whatever path logged (404, 403, a refused sign-in, a database error)."""

import io
import json
import logging
import re
import sys

import pytest
from django.db import IntegrityError
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

from dossiers import tasks
from dossiers.legacy.models import ImportBatch
from dossiers.models import Member
from dossiers.tasks import preview_batch
from hardship.logging import PersonalDataFilter, mask
from tests.dossiers.conftest import new_id_number

pytestmark = pytest.mark.django_db

CARD = "6222021702000123456"
GROUPED_CARD = "6222 0217 0200 0123"
OLD_ID = "410102750102003"

# Found independently of hardship.logging's own pattern: digit runs an ID number or a card number could be.
# Standalone digit runs, as the filter reads them: a run inside a token (a request id's hex, a ciphertext) is not a
# number anyone typed, and a uuid4's 32 hex characters hold 16 digits in a row about once in a hundred.
LEAKS = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15,19}|\d{4}(?:[ -]\d{4}){3,4})(?![0-9A-Za-z])")


def duplicate_member(request, pk):
    """Files a member twice in one household: the IntegrityError quotes the ID number (Key (...)=(...))."""
    member = Member.objects.get(pk=pk)
    member.pk = None
    member.save()
    return HttpResponse()


urlpatterns = [path("ops-test/duplicate/<int:pk>/", duplicate_member), path("", include("hardship.urls"))]


def import_fails_on(monkeypatch, id_number: str) -> None:
    def duplicate(*args, **kwargs):
        raise IntegrityError(f"duplicate key value\nDETAIL:  Key (id_number)=({id_number}) already exists.")

    monkeypatch.setattr(tasks, "run_import", duplicate)


@pytest.fixture
def emitted():
    """What the configured handlers write (the handlers carrying the masking filter), instead of stderr."""
    handlers = {handler for logger in (logging.getLogger(), logging.getLogger("django")) for handler in logger.handlers
                if any(isinstance(f, PersonalDataFilter) for f in handler.filters)}
    assert handlers, "settings.LOGGING has no handler that masks personal data"
    buffer = io.StringIO()
    previous = {handler: handler.setStream(buffer) for handler in handlers}
    yield buffer
    for handler, stream in previous.items():
        handler.setStream(stream)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_requests_that_log_leave_no_id_or_card_number(emitted, settings, client_for, caseworker, monkeypatch,
                                                      make_household, unions):
    settings.ROOT_URLCONF = __name__
    household = make_household(by=caseworker, union=unions["410102-C01"])
    id_number = household.members.first().id_number
    anonymous = Client(raise_request_exception=False, enforce_csrf_checks=True)

    signed_in = client_for(caseworker)
    assert signed_in.get(f"/households/{id_number}/").status_code == 404
    assert signed_in.get(f"/households/{id_number}/{CARD}/x/").status_code == 404
    assert signed_in.get("/security/requests/").status_code == 403
    assert anonymous.post("/accounts/login/", {"username": id_number, "password": CARD}).status_code == 403
    assert Client().post("/accounts/login/", {"username": id_number, "password": "x"}).status_code == 200
    import_fails_on(monkeypatch, id_number)
    preview_batch(ImportBatch.objects.create(union=unions["410102-C01"], uploaded_by=caseworker, file_name="台账.xlsx",
                                             sha256="0" * 64, size=1), data=b"-")
    # Last: the failed INSERT leaves the test's transaction unusable.
    assert anonymous.get(f"/ops-test/duplicate/{household.members.first().pk}/").status_code == 500
    logging.getLogger("dossiers").warning("lookup %s, card %s, old %s: %s", id_number, GROUPED_CARD, OLD_ID,
                                          {"bank_card": CARD})

    written = emitted.getvalue()
    assert "already exists" in written and "IntegrityError" in written  # the database error was logged
    assert "Import batch" in written
    assert id_number[-4:] in written
    assert LEAKS.findall(written) == []
    assert id_number not in written and CARD not in written and GROUPED_CARD not in written


def test_every_line_is_json_with_the_requests_id(emitted, client):
    response = client.get("/no-such-page/")

    [entry] = [entry for entry in lines(emitted) if entry["logger"] == "django.request"]
    assert entry["request_id"] == response["X-Request-ID"]
    assert entry["level"] == "WARNING" and entry["status"] == 404 and entry["message"] == "Not Found: /no-such-page/"


def test_an_incoming_request_id_is_kept_only_if_it_is_plain(client):
    assert client.get("/no-such-page/", headers={"X-Request-ID": "edge-7f3a9c21"})["X-Request-ID"] == "edge-7f3a9c21"
    for hostile in ("short", "evil\r\nSet-Cookie: x=1", "a" * 65, "<script>alert(1)</script>", "有中文的编号123"):
        generated = client.get("/no-such-page/", headers={"X-Request-ID": hostile})["X-Request-ID"]
        assert generated != hostile and re.fullmatch(r"[0-9a-f]{32}", generated)


def test_records_outside_a_request_have_no_id(emitted):
    logging.getLogger("hardship").warning("beat started")

    assert lines(emitted)[-1]["request_id"] == "-"


@pytest.mark.parametrize("text, expected", [
    ("ID 41010219750102003X ok", "ID **************003X ok"),
    ("lower x 41010219750102003x", "lower x **************003x"),
    ("old 410102750102003.", "old ***********2003."),
    ("card 6222021702000123456", "card ***************3456"),
    ("card 6222 0217 0200 0123", "card ***************0123"),
    ("phone 13800001111, file 410102-2026-000123", "phone 13800001111, file 410102-2026-000123"),
])
def test_mask(text, expected):
    assert mask(text) == expected


def test_the_filter_masks_arguments_and_exceptions():
    id_number, _ = new_id_number()
    try:
        raise ValueError(f"Key (id_number)=({id_number}) already exists.")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "for %s", (id_number,), sys.exc_info())

    PersonalDataFilter().filter(record)

    assert id_number not in record.getMessage() and id_number not in record.exc_text
