"""The restore drill: back up the test database, restore it into a fresh one, and check what came back."""

import re
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from psycopg import sql

from dossiers.models import Household, Member
from hardship import fields
from hardship.management.commands.backup_db import client_program
from hardship.management.commands.restore_db import connect

# pg_dump sees committed rows only: the factories' rows must be committed, not inside the test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

@pytest.fixture
def drill_database():
    name = f"{connection.settings_dict['NAME']}_restore_drill"
    drop_database(name)
    yield name
    drop_database(name)


def drop_database(name: str) -> None:
    with connect(connection.settings_dict["NAME"]) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def row_counts(name: str) -> dict[str, int]:
    with connect(name) as conn:
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
                for table in tables}


def test_backup_restores_into_a_fresh_database(tmp_path, drill_database, make_household, caseworker, unions):
    filed = make_household(by=caseworker, union=unions["410102-C01"])
    backup = tmp_path / "hardship.dump"

    call_command("backup_db", str(backup))
    call_command("restore_db", str(backup), drill_database)

    original = row_counts(connection.settings_dict["NAME"])
    assert original["dossiers_household"] == 1 and original["hardship_user"] == 1
    assert row_counts(drill_database) == original
    with connect(drill_database) as restored:
        assert restored.execute(f"SELECT address FROM {Household._meta.db_table} WHERE id = %s",
                                [filed.pk]).fetchone() == (filed.address,)
        members = restored.execute(f"SELECT name, id_number FROM {Member._meta.db_table} WHERE household_id = %s",
                                   [filed.pk]).fetchall()
        assert sorted((name, fields.decrypt(number)) for name, number in members) == sorted(
            filed.members.values_list("name", "id_number"))
        assert set(restored.execute("SELECT app, name FROM django_migrations")) == applied_migrations()


def applied_migrations() -> set[tuple[str, str]]:
    """Every migration of the code, all applied to the test database (so the restored set must equal it)."""
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    return set(executor.recorder.applied_migrations())


def test_restore_refuses_a_database_that_has_tables_unless_forced(tmp_path, drill_database, unions):
    backup = tmp_path / "hardship.dump"
    call_command("backup_db", str(backup))
    call_command("restore_db", str(backup), drill_database)

    with pytest.raises(CommandError, match="--force"):
        call_command("restore_db", str(backup), drill_database)
    call_command("restore_db", str(backup), drill_database, force=True)

    assert row_counts(drill_database) == row_counts(connection.settings_dict["NAME"])


def test_the_client_programs_are_not_older_than_the_server():
    for program in ("pg_dump", "pg_restore"):
        version = subprocess.run([client_program(program), "--version"], capture_output=True, text=True).stdout
        assert int(re.search(r"\) (\d+)", version).group(1)) >= connection.pg_version // 10000
