"""Legacy registers the import engine's authors have never seen (tests/dossiers/registers): does it read them as a
careful caseworker would?

Each (dialect, format) is built with seed 1 (REGISTER_SEED overrides it); the generator states row by row which
households must be created with how many members, which rows must be refused, and which rows are not data. These
tests measure the engine; a failure prints a short summary of what it made of the register.

    TEST_DATABASE_NAME=test_hardship_blind .venv/bin/python -m pytest tests/dossiers/test_unseen_registers.py -q
"""

from __future__ import annotations

import os

import pytest

from dossiers.legacy.importer import run_import
from dossiers.models import Household, Member
from tests.dossiers.registers import Register, build, variants

pytestmark = pytest.mark.django_db

SEED = int(os.environ.get("REGISTER_SEED", "1"))
VARIANTS = variants()

Key = tuple[str | None, int]


@pytest.fixture(params=VARIANTS, ids=[f"{dialect}-{fmt}" for dialect, fmt in VARIANTS])
def register(request) -> Register:
    dialect, fmt = request.param
    return build(dialect, seed=SEED, fmt=fmt)


def _import(register: Register, unions, user, *, dry_run: bool = True):
    return run_import(register.data, register.file_name, union=unions["410102"], user=user, mode="skip_invalid",
                      dry_run=dry_run)


def _key(register: Register, sheet, row) -> Key:
    """A CSV has one sheet, named however the engine likes: match its rows on the row number alone."""
    return (None if register.fmt == "csv" else str(sheet), int(row))


def _rejected(register: Register, report) -> dict[Key, list[str]]:
    rejected: dict[Key, list[str]] = {}
    for entry in report.rejected_rows:
        rejected.setdefault(_key(register, entry["sheet"], entry["row"]), []).append(str(entry["reason"]))
    return rejected


def _bad(register: Register) -> dict[Key, str]:
    return {_key(register, sheet, row): kind for sheet, row, kind in register.expected.rejected}


def _skipped(register: Register, report) -> set[Key]:
    return {_key(register, entry.sheet, entry.row) for entry in report.skipped if entry.row is not None}


def _summary(register: Register, report) -> str:
    """What the engine made of the register, printed so that a failure explains itself."""
    expected, rejected, bad = register.expected, _rejected(register, report), _bad(register)
    unexpected = [(key, reasons) for key, reasons in rejected.items() if key not in bad]
    missed = [(key, kind) for key, kind in bad.items() if key not in rejected]
    heads = len(expected.households)
    lines = [
        f"{register.dialect} ({register.fmt}, seed {SEED}): households created {report.households_created} / "
        f"expected {heads}; members created {report.members_created} (expected {expected.members_total} with heads, "
        f"{expected.members_total - heads} without); bad rows rejected {len(bad) - len(missed)} / {len(bad)}; "
        f"unexpected rejections {len(unexpected)}; rows skipped {len(report.skipped)}",
        *(f"  unexpected rejection {sheet}!{row}: {reasons[0]}" for (sheet, row), reasons in unexpected[:5]),
        *(f"  not rejected {sheet}!{row} ({kind})" for (sheet, row), kind in missed[:5]),
    ]
    if report.unknown_columns:
        lines.append(f"  unknown columns: {', '.join(report.unknown_columns[:8])}")
    text = "\n".join(lines)
    print(text)
    return text


def test_dry_run_counts_the_households(register, unions, county_admin):
    report = _import(register, unions, county_admin)
    summary = _summary(register, report)
    assert report.households_created == len(register.expected.households), summary


def test_real_run_creates_each_household_with_its_members(register, unions, county_admin):
    report = _import(register, unions, county_admin, dry_run=False)
    summary = _summary(register, report)
    missing, wrong = [], []
    for head, others in register.expected.households.items():
        households = list(Household.objects.filter(head_id_number=head))
        if len(households) != 1:
            missing.append(f"{head[:6]}…{head[-4:]}: {len(households)} households")
            continue
        members = Member.objects.filter(household=households[0]).count()
        if members != 1 + others:
            wrong.append(f"{households[0].head_name}: {members} members, expected {1 + others}")
    assert not missing, f"{summary}\nhouseholds missing or doubled: {missing[:10]}"
    assert not wrong, f"{summary}\nhouseholds with the wrong members: {wrong[:10]}"
    assert Household.objects.count() == len(register.expected.households), summary
    assert Member.objects.count() == register.expected.members_total, summary


def test_every_bad_row_is_rejected(register, unions, county_admin):
    report = _import(register, unions, county_admin)
    summary = _summary(register, report)
    rejected = _rejected(register, report)
    missed = [f"{sheet}!{row} ({kind})" for (sheet, row), kind in _bad(register).items()
              if (sheet, row) not in rejected]
    assert not missed, f"{summary}\nbad rows not rejected: {missed}"


def test_no_row_of_a_valid_household_is_rejected(register, unions, county_admin):
    report = _import(register, unions, county_admin)
    summary = _summary(register, report)
    rejected = _rejected(register, report)
    wrongly = [f"{sheet}!{row}: {rejected[key][0]}" for sheet, row in register.expected.valid_rows
               if (key := _key(register, sheet, row)) in rejected]
    assert not wrongly, f"{summary}\nrows of valid households rejected: {wrongly[:10]}"


def test_nothing_else_is_rejected(register, unions, county_admin):
    """Titles, headers, notes sheets, 合计 rows: nothing but the bad rows may come back as rejected."""
    report = _import(register, unions, county_admin)
    summary = _summary(register, report)
    bad = _bad(register)
    extra = [f"{sheet}!{row}: {reasons[0]}" for (sheet, row), reasons in _rejected(register, report).items()
             if (sheet, row) not in bad]
    assert not extra, f"{summary}\nrejected rows that are not bad rows: {extra[:10]}"


def test_non_data_rows_are_not_rejected(register, unions, county_admin):
    report = _import(register, unions, county_admin)
    summary = _summary(register, report)
    rejected = _rejected(register, report)
    wrongly = [f"{sheet}!{row}: {rejected[key][0]}" for sheet, row in register.expected.skipped_rows
               if (key := _key(register, sheet, row)) in rejected]
    assert not wrongly, f"{summary}\n合计 / signature / note rows rejected as data: {wrongly}"


def test_non_data_rows_are_reported_as_skipped(register, unions, county_admin):
    report = _import(register, unions, county_admin)
    summary = _summary(register, report)
    skipped = _skipped(register, report)
    unreported = [f"{sheet}!{row}" for sheet, row in register.expected.skipped_rows
                  if _key(register, sheet, row) not in skipped]
    assert not unreported, f"{summary}\n合计 / signature / note rows not reported as skipped: {unreported}"
