"""The project itself: production settings pass the deploy check, migrations are complete, the
embedded PostgreSQL starts from nothing, the demo loads the real union tree."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from hardship.models import Region, Union, User

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
        env={**environment, **(env or {})}, timeout=120,
    )


def test_it_passes_the_deploy_check_with_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": "f3K9pL2xQ7vR8sT1uW4yZ6aB0cD5eG7hJ9kM2nP4qS6tV8wX1zY3",
        "DJANGO_ALLOWED_HOSTS": "bangfu.example.org",
        "FIELD_ENCRYPTION_KEYS": "v2-9f8e7d6c5b4a39281706f5e4d3c2b1a0,v1-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "ID_NUMBER_DIGEST_KEY": "Zq8xW3vN6mB1cL4kJ7hG0fD9sA2pO5iU",
    })
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_wants_keys_of_their_own_for_the_personal_data():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": "f3K9pL2xQ7vR8sT1uW4yZ6aB0cD5eG7hJ9kM2nP4qS6tV8wX1zY3",
        "DJANGO_ALLOWED_HOSTS": "bangfu.example.org",
    })
    assert result.returncode != 0
    assert "hardship.W001" in result.stderr + result.stdout and "hardship.W002" in result.stderr + result.stdout


def test_it_refuses_the_deploy_check_with_development_defaults():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0


def test_it_has_no_missing_migrations():
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_runs_on_postgresql():
    assert connection.vendor == "postgresql"


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="DATABASE_URL chooses another server")
def test_it_uses_the_embedded_server_in_the_project_folder_by_default():
    assert settings.DATABASES["default"]["HOST"].startswith(str(ROOT))


def test_it_starts_an_embedded_server_in_an_empty_folder(tmp_path):
    from hardship.embedded_db import embedded_database, stop_embedded_database

    data_dir = tmp_path / "pgdata"
    database = embedded_database(data_dir)
    try:
        with psycopg.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                             dbname=database["NAME"]) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == "hardship"
            assert conn.info.server_version >= 180000
    finally:
        assert stop_embedded_database(data_dir)


@pytest.mark.django_db
def test_it_loads_the_real_union_tree_as_demo_data():
    call_command("load_demo", verbosity=0)
    assert Region.objects.filter(level=Region.Level.PROVINCE).count() == 31
    assert Union.objects.filter(kind=Union.Kind.PROVINCE).count() == 31
    assert Union.objects.filter(kind=Union.Kind.CITY).count() > 300
    assert Union.objects.filter(kind=Union.Kind.COUNTY).count() > 2800
    zhengzhou = Union.objects.get(code="410100")
    assert zhengzhou.name == "郑州市总工会" and zhengzhou.parent.code == "410000"
    assert Union.objects.get(code="110101").parent.code == "110000"  # 东城区 sits under 北京市 directly
    roles = {"caseworker", "supervisor", "admin", "security", "auditor"}
    assert set(User.objects.values_list("role", flat=True)) == roles
    for union in Union.objects.filter(code__in=["410102-S01", "110101", "100000"]):
        assert union.path == union.compute_path()


@pytest.mark.django_db
def test_it_loads_the_demo_only_once():
    call_command("load_demo", "--if-empty", verbosity=0)
    before = Union.objects.count()
    call_command("load_demo", "--if-empty", verbosity=0)
    call_command("load_demo", verbosity=0)  # forced: still idempotent
    assert Union.objects.count() == before


@pytest.mark.django_db
def test_it_builds_the_regional_union_tree_idempotently():
    call_command("load_unions", verbosity=0)
    count = Union.objects.count()
    assert count == Region.objects.count() + 1  # one per region, plus the national union
    call_command("load_unions", verbosity=0)
    assert Union.objects.count() == count


FEATURE_APPS = {"dossiers", "assistance", "reporting"}


def test_it_keeps_the_core_free_of_feature_apps():
    """hardship/ is the shared core: the feature apps depend on it, never the other way round."""
    offending = []
    for path in sorted((ROOT / "hardship").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            offending += [f"{path.relative_to(ROOT)}:{node.lineno} imports {module}"
                          for module in modules if module.split(".")[0] in FEATURE_APPS]
    assert not offending, "\n".join(offending)


@pytest.mark.django_db
def test_it_walks_the_demo_files_into_every_status_through_the_register():
    """Every status shows in the demo, reached by the real transitions with the clock moved, never backdated."""
    from dossiers.choices import Status
    from dossiers.models import Household

    call_command("load_demo", verbosity=0)
    demo = Household.objects.filter(import_batch__isnull=True)
    assert set(demo.values_list("status", flat=True)) == set(Status.values)
    for household in demo.filter(registered_on__isnull=False):
        events = {event.transition: event for event in household.register_events.all()}
        notice = events["start_notice"]
        assert notice.data["starts_on"] >= timezone.localdate(events["record_civil_check"].at).isoformat()
        assert household.registered_on > household.notice_ends_on
        assert events["first_review"].actor != events["review"].actor
