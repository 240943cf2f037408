"""Hostile and broken files through the whole import (run_import and the import_households command): each is
refused with UnreadableFile and a Chinese message, writes nothing, and raises nothing else.

The reader's own defences are tested in test_legacy_reading.py; these check that the engine keeps them: no
partial writes, no other exception on the way out, and the command's exit code 2.
"""

from __future__ import annotations

import re

import pytest

from dossiers.legacy.importer import run_import
from dossiers.legacy.reading import MAX_BYTES, UnreadableFile
from dossiers.models import Household, Member, RegisterEvent
from tests.dossiers import legacy_files as lf

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")

# (id, builder, file name, expected UnreadableFile.code or None for "any")
HOSTILE = [
    ("zip-bomb", lambda: lf.zip_bomb(64), "汇总.xlsx", "zip_bomb"),
    ("zip-of-5000-parts", lambda: lf.many_entries_zip(5000), "汇总.xlsx", "zip_bomb"),
    ("billion-laughs", lf.billion_laughs_xlsx, "汇总.xlsx", None),
    ("csv-named-xlsx", lf.csv_text_named_xlsx, "汇总.xlsx", "wrong_type"),
    ("xlsx-named-csv", lf.xlsx_named_csv, "汇总.csv", "wrong_type"),
    ("empty", lambda: b"", "汇总.xlsx", "empty"),
    ("50-mb-garbage", lambda: lf.garbage(50 * 1024 * 1024), "汇总.xlsx", None),
    ("over-the-size-cap", lambda: bytes(MAX_BYTES + 1), "汇总.xlsx", "too_large"),
    ("garbage", lambda: lf.garbage(256 * 1024), "汇总.xlsx", "wrong_type"),
    ("truncated-xlsx", lf.truncated_xlsx, "汇总.xlsx", "corrupt"),
    ("sheet-range-A1-to-XFD1048576", lf.huge_extent_xlsx, "汇总.xlsx", "too_large"),
    ("xls-signature-then-noise", lf.ole_garbage, "汇总.xls", "corrupt"),
    ("xls-8-sheets-each-to-IV65536", lf.far_cells_xls, "汇总.xls", "too_large"),
    ("xls-dimensions-of-4-billion-rows", lf.xls_dimensions_claiming, "汇总.xls", "too_large"),
    ("xls-sheet-listed-3-times", lf.xls_sheet_listed_again, "汇总.xls", "too_large"),
    ("xls-looping-sector-chain", lf.xls_looping_chain, "汇总.xls", "corrupt"),
    ("utf16-csv", lambda: "姓名,身份证号码\r\n张三,11010519491231002X\r\n".encode("utf-16"), "汇总.csv", "wrong_type"),
    ("pdf", lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "汇总.pdf", "wrong_type"),
]


def counts() -> tuple[int, int, int]:
    return Household.objects.count(), Member.objects.count(), RegisterEvent.objects.count()


@pytest.fixture
def seeded(make_household, caseworker, unions):
    """One file already in the database, so that "nothing written" also means "nothing changed"."""
    return make_household(by=caseworker, union=unions["410102-C01"])


@pytest.mark.parametrize(("build", "name", "code"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_run_import_refuses_a_hostile_file_and_writes_nothing(build, name, code, county_admin, unions, seeded):
    data = build()
    before = counts()
    for mode, dry_run in (("all_or_nothing", True), ("skip_invalid", False)):
        with pytest.raises(UnreadableFile) as refused:
            run_import(data, name, union=unions["410102-C01"], user=county_admin, mode=mode, dry_run=dry_run)
        assert CHINESE.search(refused.value.message)
        if code is not None:
            assert refused.value.code == code
    assert counts() == before


@pytest.mark.parametrize(("build", "name", "code"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_the_command_exits_2_on_a_hostile_file(build, name, code, county_admin, tmp_path, seeded):
    path = tmp_path / name
    path.write_bytes(build())
    before = counts()

    result = lf.call_import_command(path, "--union", "410102-C01", "--user", county_admin.username, "--skip-invalid")

    assert result.code == 2
    assert CHINESE.search(result.err + result.out)
    assert "Traceback" not in result.err
    assert counts() == before

