"""`manage.py import_households FILE --union CODE [--dry-run] [--skip-invalid] [--json] [--user NAME]`:
exit 0 when it wrote what it was asked to (or a dry run would go ahead), 1 when all-or-nothing refused,
2 when the file cannot be read; --json prints one JSON object (ImportReport.as_json)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from dossiers.models import Household, Member, RegisterEvent
from tests.dossiers import legacy_files as lf

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
JSON_KEYS = {"households_created", "households_updated", "households_unchanged", "members_created",
             "members_updated", "rejected", "skipped", "unknown_columns", "columns", "unreadable", "warnings"}


def counts() -> tuple[int, int, int]:
    return Household.objects.count(), Member.objects.count(), RegisterEvent.objects.count()


@pytest.fixture
def register(tmp_path):
    """register(families, bad=False): an .xlsx of these families on disk; with bad=True the last family's
    spouse has a wrong check digit. Returns the path and the tables."""

    def write(families: list[lf.Family], *, bad: bool = False, name: str = "中原区困难职工档案.xlsx"):
        tables = lf.two_sheet_tables(families)
        if bad:
            spouse = families[-1].members[0]
            tables[1].record_for(spouse.id_number)["id_number"] = lf.bad_check_digit(spouse.id_number)
        path = tmp_path / name
        path.write_bytes(lf.to_xlsx(tables))
        return path, tables

    return write


@pytest.fixture
def admin_args(county_admin, standard):
    return ["--union", "410102-C01", "--user", county_admin.username]


def test_it_imports_and_prints_one_json_object(register, admin_args, county_admin):
    families = [lf.family("张建国", children=1), lf.family("王秀兰", sex="女")]
    path, _tables = register(families)

    result = lf.call_import_command(path, *admin_args, "--json")

    assert result.code == 0
    report = result.json()
    assert set(report) == JSON_KEYS
    assert (report["households_created"], report["members_created"], report["rejected"]) == (2, 5, [])
    assert report["unknown_columns"] == [f"家庭档案：{lf.UNKNOWN_HEADER}"]
    assert {"sheet", "row", "reason"} <= set(report["skipped"][0])
    assert Household.objects.filter(head_id_number__in=[f.head.id_number for f in families]).count() == 2
    event = RegisterEvent.objects.filter(transition="import").first()
    assert event.actor == county_admin and path.name in event.reason


def test_a_dry_run_exits_0_and_writes_nothing(register, admin_args):
    path, _tables = register([lf.family("张建国"), lf.family("王秀兰", sex="女")])
    result = lf.call_import_command(path, *admin_args, "--dry-run", "--json")
    assert result.code == 0
    assert result.json()["households_created"] == 2
    assert counts() == (0, 0, 0)


def test_a_dry_run_that_would_refuse_exits_1_and_lists_the_rows(register, admin_args):
    families = [lf.family("张建国"), lf.family("王秀兰", sex="女")]
    path, tables = register(families, bad=True)

    result = lf.call_import_command(path, *admin_args, "--dry-run", "--json")

    assert result.code == 1
    rejected = result.json()["rejected"]
    spouse_row = tables[1].row_for(families[-1].members[0].id_number)
    assert ("家庭成员", spouse_row, "身份证号码") in {(r["sheet"], r["row"], r["column"]) for r in rejected}
    assert all(CHINESE.search(r["reason"]) for r in rejected)
    assert counts() == (0, 0, 0)


def test_all_or_nothing_refuses_with_exit_1(register, admin_args):
    path, _tables = register([lf.family("张建国"), lf.family("王秀兰", sex="女")], bad=True)
    result = lf.call_import_command(path, *admin_args)
    assert result.code == 1
    assert CHINESE.search(result.out)
    assert counts() == (0, 0, 0)


def test_skip_invalid_writes_the_valid_households_and_exits_0(register, admin_args):
    good, bad = lf.family("张建国"), lf.family("王秀兰", sex="女")
    path, _tables = register([good, bad], bad=True)

    result = lf.call_import_command(path, *admin_args, "--skip-invalid", "--json")

    assert result.code == 0
    report = result.json()
    assert report["households_created"] == 1 and len(report["rejected"]) == 2  # the spouse's row and the head's
    assert list(Household.objects.values_list("head_id_number", flat=True)) == [good.head.id_number]


def test_it_prints_a_chinese_summary_without_json(register, admin_args):
    path, _tables = register([lf.family("张建国")])
    result = lf.call_import_command(path, *admin_args)
    assert result.code == 0
    assert "新建 1 户" in result.out
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.out)


@pytest.mark.parametrize("as_json", [False, True])
def test_an_unreadable_file_exits_2_with_a_chinese_message(tmp_path, admin_args, as_json):
    path = tmp_path / "汇总.xlsx"
    path.write_bytes(lf.csv_text_named_xlsx())

    result = lf.call_import_command(path, *admin_args, *(["--json"] if as_json else []))

    assert result.code == 2
    message = json.loads(result.out)["error"] if as_json else result.err
    assert "扩展名" in message
    assert counts() == (0, 0, 0)


def test_a_missing_file_exits_2(tmp_path, admin_args):
    result = lf.call_import_command(tmp_path / "没有这个文件.xlsx", *admin_args)
    assert result.code == 2
    assert CHINESE.search(result.err)


@pytest.mark.parametrize(("user", "union"), [("caseworker", "410102-C01"), ("countyadmin", "410105")],
                         ids=["caseworker", "other-county"])
def test_it_refuses_a_user_without_the_right_to_import_there(register, county_admin, caseworker, user, union):
    path, _tables = register([lf.family("张建国")])
    with pytest.raises(CommandError) as refused:
        lf.call_import_command(path, "--union", union, "--user", user)
    assert refused.value.returncode == 3  # not 1: that means all-or-nothing refused the file's rows
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("args", [["--union", "999999"], ["--union", "410102-C01", "--user", "nobody"]],
                         ids=["unknown-union", "unknown-user"])
def test_it_names_an_unknown_union_or_user(register, unions, args):
    path, _tables = register([lf.family("张建国")])
    with pytest.raises(CommandError, match="没有") as refused:
        lf.call_import_command(path, *args)
    assert refused.value.returncode == 3


def test_without_user_it_imports_as_the_system_account(register, unions, standard):
    path, _tables = register([lf.family("张建国")])
    result = lf.call_import_command(path, "--union", "410102-C01", "--json")
    assert result.code == 0
    event = RegisterEvent.objects.get(transition="import")
    assert event.actor.username == "system-import"
    assert not event.actor.has_usable_password()


@pytest.mark.django_db(transaction=True)
def test_the_real_command_line_imports_into_the_test_database(register, admin_args):
    """Once through `.venv/bin/python manage.py` in a child process, on the test database (committed data)."""
    from tests.celery_worker import database_url

    python = ROOT / ".venv" / "bin" / "python"
    path, _tables = register([lf.family("刘德华"), lf.family("赵小兰", sex="女")])

    done = subprocess.run([str(python if python.exists() else sys.executable), "manage.py", "import_households",
                           str(path), *admin_args, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": database_url()})

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["households_created"] == 2
    assert Household.objects.count() == 2


def test_it_tells_in_the_summary_when_it_could_not_assess(register, county_admin, unions):
    """No 低保 standard in force: the files are written without an assessment, and the summary says so."""
    path, _tables = register([lf.family("张建国")])

    result = lf.call_import_command(path, "--union", "410102-C01", "--user", county_admin.username)

    assert result.code == 0
    assert "提示" in result.out and "低保标准" in result.out
