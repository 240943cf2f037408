#!/bin/sh
# Web service entrypoint: wait for PostgreSQL, apply migrations and reference data, then run
# the command (gunicorn). Worker and beat do not use it, so only one container migrates.
set -eu

: "${DATABASE_URL:?DATABASE_URL must be set (otherwise settings start an embedded PostgreSQL)}"

python - <<'PY'
import os, sys, time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hardship.settings")
django.setup()
from django.db import connection
from django.db.utils import OperationalError

deadline = time.monotonic() + 60
while True:
    try:
        connection.ensure_connection()
        break
    except OperationalError as exc:
        if time.monotonic() > deadline:
            sys.exit(f"Database not reachable after 60 s: {exc}")
        print("Waiting for the database...", file=sys.stderr)
        time.sleep(2)
PY

python manage.py migrate --no-input
python manage.py load_regions

exec "$@"
