"""pg_restore of a backup_db file into a new database on the default connection's server.

    python manage.py restore_db /backups/hardship-2026-12-01.dump hardship_restored

The database is created if it does not exist; one that already has tables is refused unless --force (which
drops the objects in the backup before recreating them).
"""

from pathlib import Path

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _
from psycopg import sql

from hardship.management.commands.backup_db import client_program, connection_arguments, run


def connect(database: str) -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(dbname=database, user=db["USER"] or "postgres", password=db["PASSWORD"] or None,
                           host=db["HOST"] or None, port=db["PORT"] or None, autocommit=True)


def database_exists(database: str) -> bool:
    with connect(connection.settings_dict["NAME"]) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone() is not None


def table_count(database: str) -> int:
    with connect(database) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()[0]


def create_database(database: str) -> None:
    with connect(connection.settings_dict["NAME"]) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


class Command(BaseCommand):
    help = "Restore a backup_db file into a new (empty) database."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="a file written by backup_db")
        parser.add_argument("database", help="the database to restore into: created if it does not exist")
        parser.add_argument("--force", action="store_true", help="restore even if the database has tables")

    def handle(self, *args, path: Path, database: str, force: bool, **options):
        if not path.is_file():
            raise CommandError(_("找不到备份文件 %(path)s。") % {"path": path})
        if not database_exists(database):
            create_database(database)
        elif table_count(database) and not force:
            raise CommandError(_("数据库 %(database)s 中已有数据表，不予覆盖；确需覆盖请加 --force。")
                               % {"database": database})
        arguments, environment = connection_arguments(database)
        # Objects belong to the restoring user (the application's), whoever owned them where the backup was made.
        restore_options = ["--no-owner", "--exit-on-error"] + (["--clean", "--if-exists"] if force else [])
        run([client_program("pg_restore"), *restore_options, *arguments, str(path)], environment)
        self.stdout.write(self.style.SUCCESS(_("已恢复到数据库 %(database)s") % {"database": database}))
